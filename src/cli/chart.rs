//! Small text charts for a terminal: a trust curve in a few lines, and the
//! share of promises kept as first promised, month by month.

use crate::projections::audit::{AuditRow, Outcome};

/// A curve of `values` (0–100) as `height` lines of at most `width`
/// columns, oldest left. Values are resampled to fit the width.
pub fn curve(values: &[f64], width: usize, height: usize) -> String {
    if values.is_empty() || width == 0 || height == 0 {
        return String::new();
    }
    let cols = values.len().min(width);
    let sample: Vec<f64> = (0..cols)
        .map(|c| values[c * values.len() / cols].clamp(0.0, 100.0))
        .collect();
    let mut out = String::new();
    for row in (0..height).rev() {
        let lo = 100.0 * row as f64 / height as f64;
        let label = if row == height - 1 {
            "100 ┤"
        } else if row == 0 {
            "  0 ┤"
        } else if row == height / 2 {
            " 50 ┤"
        } else {
            "    │"
        };
        out.push_str(label);
        for v in &sample {
            let hi = lo + 100.0 / height as f64;
            out.push(if *v >= hi {
                '█'
            } else if *v > lo {
                '▄'
            } else {
                ' '
            });
        }
        out.push('\n');
    }
    out
}

/// One month of the audit: promises whose ORIGINAL due falls in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthRate {
    /// `2026-11`, in local time.
    pub month: String,
    pub kept_on_time: u64,
    /// The audit's denominator: all but released and still-open (not yet
    /// due) promises, so broken and open-overdue ones count as misses.
    pub decided: u64,
    pub total: u64,
}

impl MonthRate {
    /// kept on time / decided; `None` when nothing is decided yet.
    pub fn rate(&self) -> Option<f64> {
        (self.decided > 0).then(|| self.kept_on_time as f64 / self.decided as f64)
    }
}

/// The audit's rows grouped by the month of their original due (local
/// time), oldest first; months without promises are left out.
pub fn on_time_by_month(rows: &[AuditRow]) -> Vec<MonthRate> {
    let mut months: std::collections::BTreeMap<String, MonthRate> = Default::default();
    for r in rows {
        let month = match r.original_due.to_local() {
            Some(t) => t.format("%Y-%m").to_string(),
            None => continue,
        };
        let m = months.entry(month.clone()).or_insert(MonthRate {
            month,
            kept_on_time: 0,
            decided: 0,
            total: 0,
        });
        m.total += 1;
        if !matches!(r.outcome, Outcome::Released | Outcome::Open) {
            m.decided += 1;
        }
        if r.outcome == Outcome::KeptOnTime {
            m.kept_on_time += 1;
        }
    }
    months.into_values().collect()
}

/// The months as horizontal bars of `width` cells, the last `max_months`:
///
/// ```text
/// 2026-09  ████████████████░░░░   80%  4 of 5
/// 2026-10  ██████████░░░░░░░░░░   50%  2 of 4
/// 2026-11  ·                      n/a  nothing decided yet (1 open)
/// ```
pub fn month_bars(months: &[MonthRate], width: usize, max_months: usize) -> String {
    let mut out = String::new();
    if months.is_empty() || width == 0 {
        return out;
    }
    let shown = &months[months.len().saturating_sub(max_months)..];
    if shown.len() < months.len() {
        out.push_str(&format!(
            "(the last {} of {} months)\n",
            shown.len(),
            months.len()
        ));
    }
    for m in shown {
        match m.rate() {
            Some(r) => {
                let full = ((r * width as f64).round() as usize).min(width);
                out.push_str(&format!(
                    "{}  {}{}  {:>4.0}%  {} of {}\n",
                    m.month,
                    "█".repeat(full),
                    "░".repeat(width - full),
                    r * 100.0,
                    m.kept_on_time,
                    m.decided
                ));
            }
            None => out.push_str(&format!(
                "{}  ·{}   n/a  nothing decided yet ({} open or released)\n",
                m.month,
                " ".repeat(width - 1),
                m.total
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_one_column_per_value() {
        let c = curve(&[0.0, 50.0, 100.0], 10, 2);
        let lines: Vec<&str> = c.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], "100 ┤  █");
        assert_eq!(lines[1], "  0 ┤ ██");
    }

    fn row(due: &str, outcome: Outcome) -> AuditRow {
        let t = crate::events::Timestamp::from_datetime(
            &chrono::DateTime::parse_from_rfc3339(due).unwrap(),
        );
        AuditRow {
            promise: 1,
            client: "acme".into(),
            what: "x".into(),
            original_due: t,
            original_due_date_only: false,
            last_due: t,
            last_due_date_only: false,
            moves: 0,
            outcome,
            days_late: None,
            closed_at: None,
        }
    }

    #[test]
    fn months_count_like_the_audit_and_draw_as_bars() {
        // Mid-month instants: the month is the same in any time zone.
        let rows = [
            row("2026-09-15T12:00:00Z", Outcome::KeptOnTime),
            row("2026-09-15T12:00:00Z", Outcome::KeptLate),
            row("2026-09-16T12:00:00Z", Outcome::Broken),
            row("2026-09-16T12:00:00Z", Outcome::KeptOnTime),
            row("2026-09-16T12:00:00Z", Outcome::Released),
            row("2026-10-15T12:00:00Z", Outcome::OpenOverdue),
            row("2026-11-15T12:00:00Z", Outcome::Open),
        ];
        let m = on_time_by_month(&rows);
        assert_eq!(m.len(), 3);
        assert_eq!(
            (
                m[0].month.as_str(),
                m[0].kept_on_time,
                m[0].decided,
                m[0].total
            ),
            ("2026-09", 2, 4, 5)
        );
        assert_eq!(m[1].rate(), Some(0.0), "open overdue is a miss");
        assert_eq!(m[2].rate(), None, "open is not decided");
        let bars = month_bars(&m, 10, 12);
        let lines: Vec<&str> = bars.lines().collect();
        assert_eq!(lines[0], "2026-09  █████░░░░░    50%  2 of 4");
        assert_eq!(lines[1], "2026-10  ░░░░░░░░░░     0%  0 of 1");
        assert!(
            lines[2].starts_with("2026-11  ·") && lines[2].contains("n/a"),
            "{bars}"
        );
        let last = month_bars(&m, 10, 2);
        assert!(
            last.starts_with("(the last 2 of 3 months)\n2026-10"),
            "{last}"
        );
    }
}
