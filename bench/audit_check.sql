-- The rest of SPEC.md's audit that can be counted, from the same events as
-- bench/audit_counts.sql (same rules; see there): moves by cause, moves
-- recorded after the due they moved had passed, and the number of flags of
-- each kind. bench/compare.sh checks these against `trustlog audit --json`
-- once (not timed).
-- - A move counts when it counts for the promise's last due: not retracted,
--   of a promise that exists, before the promise's close. A move to a due
--   earlier than the one in force (a pull-in) is not a slip: it is in no
--   cause count and no blame pattern (`moves.earlier` in trustlog).
-- - after_due: its recorded_at is after the due in force before it (the
--   previous counted move's due, else the original due).
-- - backdated_keep: a keep whose occurred_at is on time against the last
--   or the original due, recorded after that due had passed.
-- - blame_pattern: a client with at least 2 client-caused moves making up
--   more than half of its moves (README).
-- - retracted: one flag per retraction.
WITH
retracted AS (SELECT target FROM events WHERE kind = 'Retracted'),
clients AS (
  SELECT client, MIN(seq) AS added FROM events
  WHERE kind = 'ClientAdded' AND seq NOT IN retracted GROUP BY client
),
made AS (
  SELECT m.promise, m.seq, m.client, m.due AS original_due
  FROM events m JOIN clients c ON c.client = m.client AND c.added < m.seq
  WHERE m.kind = 'PromiseMade' AND m.seq NOT IN retracted
),
closes AS (
  SELECT promise, MIN(seq) AS seq FROM events
  WHERE kind IN ('PromiseKept', 'PromiseBroken', 'PromiseReleased') AND seq NOT IN retracted
  GROUP BY promise
),
moves AS (
  SELECT mv.promise, mv.seq, mv.cause, mv.recorded_at, mv.due, p.client,
         LAG(mv.due, 1, p.original_due) OVER (PARTITION BY mv.promise ORDER BY mv.seq) AS moved_from
  FROM events mv JOIN made p ON p.promise = mv.promise
  LEFT JOIN closes c ON c.promise = mv.promise
  WHERE mv.kind = 'PromiseMoved' AND mv.seq NOT IN retracted
    AND mv.seq > p.seq AND (c.seq IS NULL OR mv.seq < c.seq)
),
last_due AS (
  SELECT promise, due FROM moves m
  WHERE seq = (SELECT MAX(seq) FROM moves x WHERE x.promise = m.promise)
),
kept AS (
  SELECT p.original_due, COALESCE(l.due, p.original_due) AS last_due, e.occurred_at, e.recorded_at
  FROM made p JOIN closes c ON c.promise = p.promise
  JOIN events e ON e.seq = c.seq AND e.kind = 'PromiseKept'
  LEFT JOIN last_due l ON l.promise = p.promise
),
blame AS (
  SELECT client FROM moves WHERE due >= moved_from GROUP BY client
  HAVING SUM(cause = 'client') >= 2 AND 2 * SUM(cause = 'client') > COUNT(*)
)
SELECT printf(
  'us=%d client=%d external=%d after_due=%d move_after_due=%d backdated_keep=%d blame_pattern=%d retracted=%d',
  (SELECT COUNT(*) FROM moves WHERE cause = 'us' AND due >= moved_from),
  (SELECT COUNT(*) FROM moves WHERE cause = 'client' AND due >= moved_from),
  (SELECT COUNT(*) FROM moves WHERE cause = 'external' AND due >= moved_from),
  (SELECT COUNT(*) FROM moves WHERE recorded_at > moved_from),
  (SELECT COUNT(*) FROM moves WHERE recorded_at > moved_from),
  (SELECT COUNT(*) FROM kept
     WHERE (occurred_at <= last_due AND last_due < recorded_at)
        OR (occurred_at <= original_due AND original_due < recorded_at)),
  (SELECT COUNT(*) FROM blame),
  (SELECT COUNT(*) FROM events WHERE kind = 'Retracted'));
