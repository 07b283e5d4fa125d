//! `due [--within 7d]`: the open promises, soonest first, overdue ones marked
//! with how many days they are overdue.
//!
//! API:
//! - [`DueList`]: the projection (a thin wrapper over [`State`], so the
//!   promise lifecycle is decided in one place);
//! - [`DueList::report`]`(now, within) -> DueReport`;
//! - [`report`]`(&State, now, within)`: the same query over a `State` the
//!   caller already replayed (e.g. for `status`).
//!
//! Overdue means the due in force has passed: `due < now`, strictly, as in
//! the audit's `open_overdue` (a promise due at 23:59:59 is not overdue at
//! 23:59:59). Days overdue are whole days rounded up.

use serde::Serialize;

use super::state::{PromiseStatus, State};
use super::{days_after, ser, ClientKey, Projection};
use crate::events::{EnvelopeRef, PromiseId, Timestamp};

/// The open promises; see the module docs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DueList {
    state: State,
}

impl DueList {
    pub fn new() -> Self {
        Self::default()
    }

    /// The state this list is read from.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Open promises due by `now + within` (all open promises when `within`
    /// is `None`), overdue ones always included; soonest first.
    pub fn report(&self, now: Timestamp, within_seconds: Option<i64>) -> DueReport {
        report(&self.state, now, within_seconds)
    }
}

impl Projection for DueList {
    fn apply(&mut self, env: &EnvelopeRef<'_>) {
        self.state.apply(env)
    }
    fn skip(&mut self, env: &EnvelopeRef<'_>) {
        self.state.skip(env)
    }
    fn apply_keyed(&mut self, env: &EnvelopeRef<'_>, key: Option<ClientKey>) {
        self.state.apply_keyed(env, key)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueReport {
    #[serde(serialize_with = "ser::ts")]
    pub now: Timestamp,
    /// The `--within` window in seconds; `null` = no window.
    pub within_seconds: Option<i64>,
    pub promises: Vec<DueItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueItem {
    pub promise: PromiseId,
    pub client: String,
    pub what: String,
    /// The due in force (after any moves).
    #[serde(serialize_with = "ser::ts")]
    pub due: Timestamp,
    /// The user gave a day, not a time (the instant is that day's 23:59:59).
    pub date_only: bool,
    #[serde(serialize_with = "ser::ts")]
    pub original_due: Timestamp,
    pub moves: u32,
    pub overdue: bool,
    /// Whole days past the due, rounded up; 0 when not overdue.
    pub days_overdue: i64,
    /// Seconds from now to the due (negative when overdue).
    pub seconds_left: i64,
    /// The client is currently lost (the promise still counts).
    pub client_lost: bool,
}

/// See [`DueList::report`]. Promises of clients the state does not know (their
/// `ClientAdded` was retracted) are left out.
pub fn report(state: &State, now: Timestamp, within_seconds: Option<i64>) -> DueReport {
    let horizon = within_seconds.map(|w| now.plus_seconds(w));
    let mut promises: Vec<DueItem> = state
        .promises
        .values()
        .filter(|p| p.status == PromiseStatus::Open)
        .filter_map(|p| {
            let client = state.clients.get(&p.client)?;
            let overdue = p.due.at < now;
            if !overdue && horizon.is_some_and(|h| p.due.at > h) {
                return None;
            }
            Some(DueItem {
                promise: p.id,
                client: p.client.clone(),
                what: p.what.clone(),
                due: p.due.at,
                date_only: p.due.date_only,
                original_due: p.original_due.at,
                moves: p.moves,
                overdue,
                days_overdue: if overdue {
                    days_after(p.due.at, now)
                } else {
                    0
                },
                seconds_left: now.seconds_until(p.due.at),
                client_lost: client.lost.is_some(),
            })
        })
        .collect();
    promises.sort_by_key(|d| (d.due, d.promise));
    DueReport {
        now,
        within_seconds,
        promises,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projections::testkit::*;

    const DAY: i64 = 86_400;

    #[test]
    fn soonest_first_overdue_marked_and_window_applied() {
        // Given three open promises, one overdue by 36 h, one due in 2 days,
        // one due in 10 days, and one kept
        let now = t(100 * DAY);
        let mut g = Given::new();
        g.client("acme");
        g.promise(1, "acme", now.plus_seconds(10 * DAY));
        g.promise(2, "acme", now.plus_seconds(-36 * 3600));
        g.promise(3, "acme", now.plus_seconds(2 * DAY));
        g.promise(4, "acme", now.plus_seconds(DAY));
        g.keep(4, now);
        let d: DueList = g.replay();
        // When listing within 7 days
        let r = d.report(now, Some(7 * DAY));
        // Then the overdue one comes first with 2 days overdue (36 h rounds
        // up), then the one due in 2 days; the 10-day one is outside
        let got: Vec<_> = r
            .promises
            .iter()
            .map(|i| (i.promise, i.overdue, i.days_overdue))
            .collect();
        assert_eq!(got, vec![(2, true, 2), (3, false, 0)]);
        // And without a window every open promise is listed
        assert_eq!(d.report(now, None).promises.len(), 3);
    }

    #[test]
    fn due_exactly_now_is_not_overdue() {
        let now = t(50 * DAY);
        let mut g = Given::new();
        g.client("acme");
        g.promise(1, "acme", now);
        let d: DueList = g.replay();
        let r = d.report(now, Some(0));
        assert_eq!(r.promises.len(), 1);
        assert!(!r.promises[0].overdue);
        let later = d.report(now.plus_seconds(1), Some(0));
        assert!(later.promises[0].overdue);
        assert_eq!(later.promises[0].days_overdue, 1);
    }

    #[test]
    fn moved_promise_is_listed_at_its_new_due() {
        let now = t(10 * DAY);
        let mut g = Given::new();
        g.client("acme");
        g.promise(1, "acme", now.plus_seconds(-DAY));
        g.moved(1, now.plus_seconds(DAY), crate::events::Cause::Client, true);
        let d: DueList = g.replay();
        let r = d.report(now, None);
        assert_eq!(r.promises[0].due, now.plus_seconds(DAY));
        assert_eq!(r.promises[0].original_due, now.plus_seconds(-DAY));
        assert!(!r.promises[0].overdue);
        assert_eq!(r.promises[0].moves, 1);
    }

    #[test]
    fn orphan_promise_of_a_retracted_client_is_not_listed() {
        let mut g = Given::new();
        let added = g.client("ghost");
        g.promise(1, "ghost", t(DAY));
        g.retract(added, "wrong client");
        let d: DueList = g.replay();
        assert!(d.report(t(0), None).promises.is_empty());
    }
}
