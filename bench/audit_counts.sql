-- The seven outcome counts of SPEC.md's deadline audit ("The deadline audit
-- (precise)"), computed by SQLite from the raw events that examples/synth.rs
-- writes to events.sql: the same events as the journal, one row each.
-- bench/compare.sh times this query against `trustlog audit --json` and
-- checks that both give the same numbers.
--
-- Following SPEC (and README's rules) step by step:
-- - Retracted events do not count: every event some `Retracted` row points
--   at is left out (a retraction itself can never be retracted).
-- - A promise is its `PromiseMade`, for a client whose `ClientAdded` counts
--   (trustlog ignores events about clients that do not exist).
-- - Original due: the due of the `PromiseMade`.
-- - The close: the first (by seq) keep, break or release that counts; a
--   promise is closed once.
-- - Last due: the due of the last move (by seq) that counts and came before
--   the close (moves only change an open promise); else the original due.
-- - Kept: the keep's occurred_at (the delivery) <= original due and <= last
--   due -> kept_on_time (pulled in and then missed is not on time); else
--   <= last due -> kept_after_move; else kept_late.
-- - Open: last due < now -> open_overdue; else open. `now` is meta.now, the
--   `--now` that trustlog is given.
-- Times are microseconds since the epoch, as in the journal. events.sql
-- indexes events(kind, promise, seq) and the retraction targets, so each
-- step reads only the rows of its kind (without them this query takes
-- minutes, not seconds, on 1M events).
WITH
retracted AS (SELECT target FROM events WHERE kind = 'Retracted'),
clients AS (
  SELECT client, MIN(seq) AS added FROM events
  WHERE kind = 'ClientAdded' AND seq NOT IN retracted GROUP BY client
),
made AS (
  SELECT m.promise, m.seq, m.due AS original_due
  FROM events m JOIN clients c ON c.client = m.client AND c.added < m.seq
  WHERE m.kind = 'PromiseMade' AND m.seq NOT IN retracted
),
closes AS (
  SELECT promise, MIN(seq) AS seq FROM events
  WHERE kind IN ('PromiseKept', 'PromiseBroken', 'PromiseReleased') AND seq NOT IN retracted
  GROUP BY promise
),
last_move AS (
  SELECT mv.promise, MAX(mv.seq) AS seq
  FROM events mv JOIN made p ON p.promise = mv.promise
  LEFT JOIN closes c ON c.promise = mv.promise
  WHERE mv.kind = 'PromiseMoved' AND mv.seq NOT IN retracted
    AND mv.seq > p.seq AND (c.seq IS NULL OR mv.seq < c.seq)
  GROUP BY mv.promise
),
promises AS (
  SELECT p.original_due AS original_due,
         COALESCE(m.due, p.original_due) AS last_due,
         e.kind AS close,
         e.occurred_at AS closed_at
  FROM made p
  LEFT JOIN closes c ON c.promise = p.promise
  LEFT JOIN events e ON e.seq = c.seq
  LEFT JOIN last_move lm ON lm.promise = p.promise
  LEFT JOIN events m ON m.seq = lm.seq
)
SELECT printf(
  'kept_on_time=%d kept_after_move=%d kept_late=%d broken=%d released=%d open_overdue=%d open=%d total=%d',
  COUNT(*) FILTER (WHERE close = 'PromiseKept' AND closed_at <= original_due AND closed_at <= last_due),
  COUNT(*) FILTER (WHERE close = 'PromiseKept' AND closed_at > original_due AND closed_at <= last_due),
  COUNT(*) FILTER (WHERE close = 'PromiseKept' AND closed_at > last_due),
  COUNT(*) FILTER (WHERE close = 'PromiseBroken'),
  COUNT(*) FILTER (WHERE close = 'PromiseReleased'),
  COUNT(*) FILTER (WHERE close IS NULL AND last_due < (SELECT now FROM meta)),
  COUNT(*) FILTER (WHERE close IS NULL AND last_due >= (SELECT now FROM meta)),
  COUNT(*))
FROM promises;
