//! Folds behind the views of one thing (`status <handle>`, `promise show`,
//! issue 12.1): what a client's page and a promise's history need beyond
//! the state, trust and audit projections, kept small so that the journal
//! streams through them. Rendering is `cli::show`'s.

use std::collections::VecDeque;

use serde::Serialize;

use super::state::{Promise, PromiseStatus};
use super::{ser, Projection};
use crate::events::{EnvelopeRef, EventRef, Fit, PromiseId, Seq, Timestamp};

/// How many recent contacts (and trust changes) a client's page shows.
pub const RECENT: usize = 5;

/// One interaction, for `status <handle>`.
#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    pub seq: Seq,
    #[serde(serialize_with = "ser::ts")]
    pub at: Timestamp,
    pub kind: &'static str,
    pub mood: i8,
    pub minutes: Option<u32>,
    /// `us` or `client`.
    pub by: &'static str,
    pub note: String,
}

/// A change of fit, for `status <handle>`.
#[derive(Debug, Clone, Serialize)]
pub struct FitChange {
    pub seq: Seq,
    #[serde(serialize_with = "ser::ts")]
    pub at: Timestamp,
    #[serde(serialize_with = "ser::fit")]
    pub fit: Fit,
    pub reason: String,
}

/// What `status <handle>` folds besides state and trust: the client's fit
/// changes and its last contacts.
pub struct ClientFold {
    pub handle: String,
    pub note: String,
    pub fit_changes: Vec<FitChange>,
    pub contacts: VecDeque<Contact>,
    pub contacts_total: u64,
}

impl Projection for ClientFold {
    fn apply(&mut self, env: &EnvelopeRef<'_>) {
        if env.event.client() != Some(self.handle.as_str()) {
            return;
        }
        match env.event {
            EventRef::ClientAdded { note, .. } => self.note = note.to_string(),
            EventRef::FitChanged { fit, reason, .. } => self.fit_changes.push(FitChange {
                seq: env.seq,
                at: env.occurred_at,
                fit,
                reason: reason.to_string(),
            }),
            EventRef::Interacted {
                kind,
                mood,
                minutes,
                initiated_by,
                note,
                ..
            } => {
                self.contacts_total += 1;
                // Journal order is recording order; the view is by when
                // they happened (sorted at the end), the latest kept.
                self.contacts.push_back(Contact {
                    seq: env.seq,
                    at: env.occurred_at,
                    kind: kind.as_str(),
                    mood,
                    minutes,
                    by: initiated_by.as_str(),
                    note: note.to_string(),
                });
                if self.contacts.len() > 4 * RECENT {
                    self.keep_latest_contacts();
                }
            }
            _ => {}
        }
    }
}

impl ClientFold {
    pub fn keep_latest_contacts(&mut self) {
        let v = self.contacts.make_contiguous();
        v.sort_by_key(|c| (c.at, c.seq));
        while self.contacts.len() > RECENT {
            self.contacts.pop_front();
        }
    }
}

/// One step of a promise's history.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub seq: Seq,
    /// `made`, `moved`, `kept`, `broken` or `released`.
    pub step: &'static str,
    #[serde(serialize_with = "ser::ts")]
    pub occurred_at: Timestamp,
    #[serde(serialize_with = "ser::ts")]
    pub recorded_at: Timestamp,
    pub author: String,
    /// made, moved: the due it set.
    #[serde(serialize_with = "ser::opt_ts")]
    pub due: Option<Timestamp>,
    pub date_only: Option<bool>,
    /// moved: the due it replaced.
    #[serde(serialize_with = "ser::opt_ts")]
    pub from_due: Option<Timestamp>,
    /// moved: `us`, `client` or `external`.
    pub cause: Option<&'static str>,
    pub agreed_by_client: Option<bool>,
    /// moved: recorded after the due it replaced had passed.
    pub after_due: Option<bool>,
    /// The reason or note the step was recorded with.
    pub text: String,
    /// The seq of the retraction that took this step back (it no longer
    /// counts), or `null`.
    pub retracted_by: Option<Seq>,
}

/// Folds one promise's steps (retracted ones included, marked) and the
/// promise itself as `State` would hold it (its rules mirrored: a move or a
/// close of a promise no longer open is not applied), so that a journal of
/// many closed promises is not held whole to show one.
pub struct PromiseFold {
    pub id: PromiseId,
    pub steps: Vec<Step>,
    pub promise: Option<Promise>,
}

impl PromiseFold {
    fn step(&mut self, env: &EnvelopeRef<'_>, retracted: bool) {
        if env.event.promise() != Some(self.id) {
            if let EventRef::Retracted { seq, .. } = env.event {
                if let Some(s) = self.steps.iter_mut().find(|s| s.seq == seq) {
                    s.retracted_by = Some(env.seq);
                }
            }
            return;
        }
        let mut s = Step {
            seq: env.seq,
            step: "made",
            occurred_at: env.occurred_at,
            recorded_at: env.recorded_at,
            author: env.author.to_string(),
            due: None,
            date_only: None,
            from_due: None,
            cause: None,
            agreed_by_client: None,
            after_due: None,
            text: String::new(),
            retracted_by: None,
        };
        let counts = !retracted;
        let open = self
            .promise
            .as_ref()
            .is_some_and(|p| p.status == PromiseStatus::Open);
        let due_now = self.promise.as_ref().map(|p| p.due);
        match env.event {
            EventRef::PromiseMade {
                what, due, client, ..
            } => {
                s.due = Some(due.at);
                s.date_only = Some(due.date_only);
                s.text = what.to_string();
                if counts {
                    self.promise = Some(Promise {
                        id: self.id,
                        client: client.to_string(),
                        what: what.to_string(),
                        made_seq: env.seq,
                        made_at: env.occurred_at,
                        original_due: due,
                        due,
                        moves: 0,
                        status: PromiseStatus::Open,
                        closed: None,
                    });
                }
            }
            EventRef::PromiseMoved {
                due,
                cause,
                agreed_by_client,
                reason,
                ..
            } => {
                // A move of a closed promise is not applied (as in State).
                if counts && !open {
                    return;
                }
                s.step = "moved";
                s.due = Some(due.at);
                s.date_only = Some(due.date_only);
                s.from_due = due_now.map(|d| d.at);
                s.cause = Some(cause.as_str());
                s.agreed_by_client = Some(agreed_by_client);
                s.after_due = due_now.map(|d| env.recorded_at > d.at);
                s.text = reason.to_string();
                if let Some(p) = self.promise.as_mut().filter(|_| counts) {
                    p.due = due;
                    p.moves += 1;
                }
            }
            EventRef::PromiseKept { note: text, .. }
            | EventRef::PromiseBroken { reason: text, .. }
            | EventRef::PromiseReleased { reason: text, .. } => {
                if counts && !open {
                    return;
                }
                let (step, status) = match env.event {
                    EventRef::PromiseKept { .. } => ("kept", PromiseStatus::Kept),
                    EventRef::PromiseBroken { .. } => ("broken", PromiseStatus::Broken),
                    _ => ("released", PromiseStatus::Released),
                };
                s.step = step;
                s.text = text.to_string();
                if let Some(p) = self.promise.as_mut().filter(|_| counts) {
                    p.status = status;
                    p.closed = Some((env.occurred_at, env.seq));
                }
            }
            _ => return,
        }
        self.steps.push(s);
    }
}

impl Projection for PromiseFold {
    fn apply(&mut self, env: &EnvelopeRef<'_>) {
        self.step(env, false)
    }
    fn skip(&mut self, env: &EnvelopeRef<'_>) {
        self.step(env, true)
    }
}
