//! Suppression policy: which events suppress an address, and for how long. It sits at the end
//! of recording: `Store::record` calls [`update_address`] in its transaction for every
//! address a message reports, and `rebound rebuild` (or a changed policy, see [`sync`])
//! re-evaluates every address from its stored events.
//!
//! The rules follow what large senders and Mailman do (Amazon SES, Mailgun, SendGrid, Mailman
//! 3's bounce score): a hard bounce or a complaint suppresses at once and until removed by
//! hand; soft failures that are about the address itself (mailbox full, disabled, over its
//! own limit, a temporary "unknown") count at most once a UTC day and suppress after
//! `soft_threshold` counted days within `soft_window_days`, the count going stale after
//! `soft_stale_days` without one; failures about the sender (spam, block lists, policy,
//! authentication, reputation, rate), delay warnings, auto-replies and success reports never
//! suppress, and a later success report resets the soft count. A suppression is a pure
//! function of the events and the admin's last manual decision, so re-evaluating is always
//! safe: an `unsuppress` ignores every event up to its own time, so the same old bounce can
//! never undo it; only a new one can.

use crate::store::time;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

/// Default soft reasons: failures that are about the address itself (REASONS.md), not about
/// the sender or the path. `userunknown`, `hostunknown`, `hasmoved` and `notaccept` only get
/// here when the report did not make them hard (a 4xx reply, no positive evidence).
const DEFAULT_SOFT_REASONS: &[&str] = &[
    "exceedlimit",
    "hasmoved",
    "hostunknown",
    "mailboxfull",
    "notaccept",
    "suspend",
    "userunknown",
];

/// ARF Feedback-Types that are not a recipient's complaint: `not-spam` says the opposite and
/// `auth-failure` (RFC 6591) reports the sender's SPF/DKIM/DMARC result.
const DEFAULT_COMPLAINT_IGNORE: &[&str] = &["auth-failure", "not-spam"];

/// The policy knobs, config keys `policy.*` (documented in rebound.conf(5), POLICY).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Counted days of soft, address-level failures that suppress; 0 disables soft
    /// suppression (Mailman: bounce_score_threshold 5).
    pub soft_threshold: u32,
    /// Window in days in which the counted days must fall.
    pub soft_window_days: u32,
    /// Days without a counted soft failure after which the count starts again from zero
    /// (Mailman: bounce_info_stale_after 7 days); 0 = never stale within the window.
    pub soft_stale_days: u32,
    /// How long a soft suppression lasts, counted from the failure that triggered it;
    /// 0 = until removed by hand.
    pub soft_suppress_days: u32,
    /// Reasons (REASONS.md names) of non-hard failures that count towards the threshold.
    pub soft_reasons: Vec<String>,
    /// Whether a feedback-loop complaint suppresses at once.
    pub complaints: bool,
    /// Feedback-Types that never suppress.
    pub complaint_ignore: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            soft_threshold: 5,
            soft_window_days: 30,
            soft_stale_days: 7,
            soft_suppress_days: 30,
            soft_reasons: DEFAULT_SOFT_REASONS.iter().map(|s| s.to_string()).collect(),
            complaints: true,
            complaint_ignore: DEFAULT_COMPLAINT_IGNORE
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

impl Policy {
    /// Check the knobs against the reason vocabulary; the message names the bad value.
    pub fn validate(&self) -> Result<(), String> {
        for r in &self.soft_reasons {
            if crate::classify::Reason::parse(r).is_none() {
                return Err(format!("policy.soft_reasons: unknown reason {r:?}"));
            }
        }
        if self.soft_threshold > 0 && self.soft_window_days == 0 {
            return Err("policy.soft_window_days must be at least 1".into());
        }
        Ok(())
    }

    /// Stable text of the policy, stored in `meta` to notice a change of configuration.
    pub fn fingerprint(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn soft_reason(&self, reason: Option<&str>) -> bool {
        reason.is_some_and(|r| self.soft_reasons.iter().any(|s| s.eq_ignore_ascii_case(r)))
    }

    fn complaint_counts(&self, feedback_type: Option<&str>) -> bool {
        self.complaints
            && !feedback_type.is_some_and(|t| {
                self.complaint_ignore
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(t.trim()))
            })
    }
}

/// One stored event as the policy sees it.
#[derive(Debug, Clone, Default)]
pub struct Event {
    pub id: i64,
    pub at: String,
    pub kind: String,
    pub action: Option<String>,
    pub reason: Option<String>,
    pub hard: Option<bool>,
    pub feedback_type: Option<String>,
}

/// How an event weighs in the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    /// Suppresses at once, until removed by hand.
    Hard,
    Complaint,
    /// Counts towards the soft threshold.
    Soft,
    /// A success report: resets the soft count and lifts a soft suppression.
    Success,
    /// Sender-side failures, delays, auto-replies, other mail.
    Nothing,
}

impl Policy {
    /// The weight of one event under this policy.
    pub fn weigh(&self, e: &Event) -> Weight {
        let failed = matches!(e.action.as_deref(), None | Some("failed"));
        match e.kind.as_str() {
            "bounce" if failed && e.hard == Some(true) => Weight::Hard,
            "bounce" if failed && self.soft_reason(e.reason.as_deref()) => Weight::Soft,
            "complaint" if self.complaint_counts(e.feedback_type.as_deref()) => Weight::Complaint,
            "delivered" => Weight::Success,
            _ if e.action.as_deref() == Some("delivered") => Weight::Success,
            _ => Weight::Nothing,
        }
    }
}

/// The outcome for one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// `hard`, `complaint`, `soft` or `manual`.
    pub cause: &'static str,
    pub reason: Option<String>,
    pub since: String,
    pub until: Option<String>,
    pub event: Option<i64>,
    pub note: Option<String>,
}

/// The soft count as it stands after the last event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SoftCount {
    pub days: u32,
    pub first: String,
    pub last: String,
    pub reasons: Vec<String>,
    pub event: Option<i64>,
}

/// Evaluate the events of one address (in time order, already limited to those after a
/// manual unsuppress) at time `now`. Pure: the same events and policy give the same answer.
pub fn evaluate(
    policy: &Policy,
    events: &[Event],
    now: &str,
) -> (Option<Suppression>, Option<SoftCount>) {
    let mut permanent: Option<Suppression> = None;
    let mut soft: Option<Suppression> = None;
    let mut count = SoftCount::default();
    // Distinct UTC days counted in the current run, oldest first.
    let mut days: Vec<String> = Vec::new();
    let window = i64::from(policy.soft_window_days);
    let stale = i64::from(policy.soft_stale_days);
    for e in events {
        match policy.weigh(e) {
            w @ (Weight::Hard | Weight::Complaint) => {
                if permanent.is_none() {
                    permanent = Some(Suppression {
                        cause: if w == Weight::Hard {
                            "hard"
                        } else {
                            "complaint"
                        },
                        // A complaint's reason is its Feedback-Type (`abuse`, `fraud`, ...).
                        reason: if w == Weight::Complaint {
                            e.feedback_type.clone().or_else(|| e.reason.clone())
                        } else {
                            e.reason.clone()
                        },
                        since: e.at.clone(),
                        until: None,
                        event: Some(e.id),
                        note: None,
                    });
                }
            }
            Weight::Success => {
                days.clear();
                count = SoftCount::default();
                soft = None;
            }
            Weight::Soft if policy.soft_threshold > 0 => {
                if stale > 0 && !count.last.is_empty() && gap_days(&count.last, &e.at) > stale {
                    days.clear();
                    count = SoftCount::default();
                }
                let cutoff = time::add_days(&e.at, -window);
                days.retain(|d| d.as_str() > time::day(&cutoff));
                let today = time::day(&e.at).to_string();
                if days.last() != Some(&today) {
                    days.push(today);
                }
                if count.first.is_empty() {
                    count.first = e.at.clone();
                }
                count.last = e.at.clone();
                count.event = Some(e.id);
                if let Some(r) = &e.reason {
                    if !count.reasons.contains(r) {
                        count.reasons.push(r.clone());
                    }
                }
                count.days = days.len() as u32;
                if count.days >= policy.soft_threshold {
                    let reason = e.reason.clone();
                    soft = Some(Suppression {
                        cause: "soft",
                        note: Some(format!(
                            "{} days of soft failures ({}) within {} days, {} .. {}",
                            count.days,
                            count.reasons.join(","),
                            policy.soft_window_days,
                            time::day(&count.first),
                            time::day(&count.last),
                        )),
                        reason,
                        since: e.at.clone(),
                        until: (policy.soft_suppress_days > 0)
                            .then(|| time::add_days(&e.at, i64::from(policy.soft_suppress_days))),
                        event: Some(e.id),
                    });
                    days.clear();
                    count = SoftCount::default();
                }
            }
            Weight::Soft | Weight::Nothing => {}
        }
    }
    let soft = soft.filter(|s| s.until.as_deref().is_none_or(|u| u > now));
    let count =
        (count.days > 0 && (stale == 0 || gap_days(&count.last, now) <= stale) && soft.is_none())
            .then_some(count);
    (permanent.or(soft), count)
}

/// Whole days from `a` to `b` (both stored timestamps); 0 if either does not parse.
fn gap_days(a: &str, b: &str) -> i64 {
    match (time::parse(a), time::parse(b)) {
        (Some(a), Some(b)) => (b - a).div_euclid(86_400),
        _ => 0,
    }
}

/// The domain of an address, lower-cased (`''` when there is no `@`).
pub fn domain_of(address: &str) -> String {
    address
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default()
}

/// An address as the store keys it: trimmed, no angle brackets, `rfc822;` dropped, the
/// domain lower-cased, the local part exactly as given (RFC 5321 section 2.4).
pub fn normalize_address(address: &str) -> String {
    let a = address.trim();
    let a = match a.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("rfc822;") => a[7..].trim(),
        _ => a,
    };
    let a = a.trim_start_matches('<').trim_end_matches('>').trim();
    match a.rsplit_once('@') {
        Some((l, d)) => format!("{l}@{}", d.to_ascii_lowercase()),
        None => a.to_string(),
    }
}

/// The admin's last manual decision about an address (table `overrides`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub action: String,
    pub at: String,
    /// The highest event id when the decision was taken: an event of the same second as
    /// an unsuppress counts only if it was recorded after it.
    pub mark: Option<i64>,
    pub note: Option<String>,
    pub actor: Option<String>,
}

/// Read the override of one address.
pub fn override_of(tx: &rusqlite::Connection, address: &str) -> rusqlite::Result<Option<Override>> {
    tx.query_row(
        "SELECT action, at, note, actor, mark FROM overrides WHERE address = ?1",
        [address],
        |r| {
            Ok(Override {
                action: r.get(0)?,
                at: r.get(1)?,
                note: r.get(2)?,
                actor: r.get(3)?,
                mark: r.get(4)?,
            })
        },
    )
    .optional()
}

/// Re-evaluate the `suppressions` (and `soft_counts`) row of one address from its events:
/// those naming it as final or original recipient, after the admin's last `unsuppress`. A
/// manual `suppress` wins over everything. Called by `Store::record` inside its transaction
/// for every address it recorded (final and original), and by [`rebuild`].
///
/// A permanent suppression (hard, complaint, manual) cannot be lifted by a new event, so it
/// is left as it is without reading the address's history: recording stays fast for an
/// address that keeps bouncing for years. [`reevaluate`] always reads it.
pub fn update_address(
    tx: &Connection,
    policy: &Policy,
    address: &str,
    now: &str,
) -> rusqlite::Result<()> {
    let permanent: Option<i64> = tx
        .prepare_cached(
            "SELECT 1 FROM suppressions WHERE address = ?1 AND until IS NULL
               AND cause IN ('hard', 'complaint', 'manual')",
        )?
        .query_row([address], |r| r.get(0))
        .optional()?;
    if permanent.is_some() {
        return Ok(());
    }
    reevaluate(tx, policy, address, now)
}

/// Evaluate one address from its history (see [`update_address`]). Only the events that
/// can weigh are read: hard bounces and complaints of any age; success reports and failures
/// with a soft reason of the policy from the last `soft_suppress_days + soft_window_days`
/// days (all of them when soft suppressions last until removed by hand); sender-side
/// failures, delays and auto-replies never count.
pub fn reevaluate(
    tx: &Connection,
    policy: &Policy,
    address: &str,
    now: &str,
) -> rusqlite::Result<()> {
    let ov = override_of(tx, address)?;
    let (after, mark) = match &ov {
        Some(o) if o.action == "unsuppress" => (Some(o.at.as_str()), o.mark.unwrap_or(i64::MAX)),
        _ => (None, 0),
    };
    // The soft-reason test is done here rather than in SQL (`lower(reason) IN (SELECT value
    // FROM json_each(?))`): preparing the table-valued function cost every delivery more
    // than reading the few soft events of other reasons this lets through (callgrind).
    let mut stmt = tx.prepare_cached(
        "SELECT id, at, kind, action, reason, hard, feedback_type FROM events
         WHERE (address = ?1 OR original = ?1)
           AND (?2 IS NULL OR at > ?2 OR (at = ?2 AND id > ?3))
           AND (hard = 1 OR kind = 'complaint' OR at >= ?4)
         ORDER BY at, id",
    )?;
    // Soft failures and successes older than a soft suppression could last are forgotten
    // (they could only have caused one that has expired), which bounds the history read.
    let horizon = match policy.soft_suppress_days {
        0 => String::new(),
        d => time::add_days(now, -(i64::from(d) + i64::from(policy.soft_window_days))),
    };
    let events = stmt
        .query_map(params![address, after, mark, horizon], |r| {
            Ok(Event {
                id: r.get(0)?,
                at: r.get(1)?,
                kind: r.get(2)?,
                action: r.get(3)?,
                reason: r.get(4)?,
                hard: r.get::<_, Option<i64>>(5)?.map(|h| h != 0),
                feedback_type: r.get(6)?,
            })
        })?
        .filter(|e| {
            e.as_ref().map_or(true, |e| {
                e.hard == Some(true)
                    || e.kind == "complaint"
                    || e.kind == "delivered"
                    || e.action.as_deref() == Some("delivered")
                    || policy.soft_reason(e.reason.as_deref())
            })
        })
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let (mut decision, count) = evaluate(policy, &events, now);
    if let Some(o) = ov.as_ref().filter(|o| o.action == "suppress") {
        decision = Some(Suppression {
            cause: "manual",
            reason: decision.and_then(|d| d.reason),
            since: o.at.clone(),
            until: None,
            event: None,
            note: o.note.clone(),
        });
    }
    let domain = domain_of(address);
    write_suppression(tx, address, &domain, decision.as_ref())?;
    match count {
        Some(c) => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO soft_counts (address, domain, days, first, last, reasons, event)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                address,
                domain,
                c.days,
                c.first,
                c.last,
                c.reasons.join(","),
                c.event
            ])?;
        }
        None => {
            tx.prepare_cached("DELETE FROM soft_counts WHERE address = ?1")?
                .execute([address])?;
        }
    }
    Ok(())
}

/// Replace the row only when it changes, so an unchanged re-evaluation writes nothing.
fn write_suppression(
    tx: &Connection,
    address: &str,
    domain: &str,
    s: Option<&Suppression>,
) -> rusqlite::Result<()> {
    let current: Option<Suppression> = tx
        .prepare_cached(
            "SELECT cause, reason, since, until, event, note FROM suppressions WHERE address = ?1",
        )?
        .query_row([address], |r| {
            let cause: String = r.get(0)?;
            Ok(Suppression {
                cause: match cause.as_str() {
                    "hard" => "hard",
                    "complaint" => "complaint",
                    "soft" => "soft",
                    _ => "manual",
                },
                reason: r.get(1)?,
                since: r.get(2)?,
                until: r.get(3)?,
                event: r.get(4)?,
                note: r.get(5)?,
            })
        })
        .optional()?;
    if current.as_ref() == s {
        return Ok(());
    }
    match s {
        None => {
            tx.prepare_cached("DELETE FROM suppressions WHERE address = ?1")?
                .execute([address])?;
        }
        Some(s) => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO suppressions (address, domain, cause, reason, since, until, event, note)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                address, domain, s.cause, s.reason, s.since, s.until, s.event, s.note
            ])?;
        }
    }
    Ok(())
}

/// Record a manual decision (`suppress` or `unsuppress`) with its note, audit it, and
/// re-evaluate the address.
pub fn set_override(
    tx: &Transaction,
    policy: &Policy,
    address: &str,
    action: &str,
    note: Option<&str>,
    actor: Option<&str>,
    now: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO overrides (address, action, at, note, actor, mark)
         VALUES (?1, ?2, ?3, ?4, ?5, (SELECT coalesce(max(id), 0) FROM events))",
        params![address, action, now, note, actor],
    )?;
    tx.execute(
        "INSERT INTO audit (at, action, address, note, actor) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![now, action, address, note, actor],
    )?;
    reevaluate(tx, policy, address, now)
}

/// Re-evaluate every address the store knows (events, suppressions, overrides, soft counts)
/// and store the policy's fingerprint. Returns the number of addresses evaluated.
pub fn rebuild(tx: &Transaction, policy: &Policy, now: &str) -> rusqlite::Result<usize> {
    let addresses = tx
        .prepare(
            "SELECT address FROM events
             UNION SELECT original FROM events WHERE original IS NOT NULL AND original <> ''
             UNION SELECT address FROM suppressions
             UNION SELECT address FROM overrides
             UNION SELECT address FROM soft_counts",
        )?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for a in &addresses {
        reevaluate(tx, policy, a, now)?;
    }
    store_fingerprint(tx, policy)?;
    Ok(addresses.len())
}

fn store_fingerprint(tx: &Transaction, policy: &Policy) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('policy', ?1)",
        [policy.fingerprint()],
    )?;
    Ok(())
}

/// The policy fingerprint stored at the last evaluation, if any.
pub fn stored_fingerprint(conn: &rusqlite::Connection) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = 'policy'", [], |r| {
        r.get(0)
    })
    .optional()
}

/// Make the stored suppressions follow `policy`: if the policy differs from the one of the
/// last evaluation, [`rebuild`] (and audit it). An empty store just takes the fingerprint.
/// Returns whether a rebuild ran. Cheap when nothing changed: one indexed read.
pub fn sync(tx: &Transaction, policy: &Policy, now: &str) -> rusqlite::Result<bool> {
    let fp = policy.fingerprint();
    match stored_fingerprint(tx)? {
        Some(stored) if stored == fp => Ok(false),
        stored => {
            let n = rebuild(tx, policy, now)?;
            if stored.is_some() {
                tx.execute(
                    "INSERT INTO audit (at, action, address, note, actor) VALUES (?1, 'rebuild', NULL, ?2, NULL)",
                    params![now, format!("policy changed; {n} addresses re-evaluated")],
                )?;
            }
            Ok(stored.is_some())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: i64, at: &str, kind: &str, reason: Option<&str>, hard: Option<bool>) -> Event {
        Event {
            id,
            at: at.into(),
            kind: kind.into(),
            action: match kind {
                "bounce" => Some("failed".into()),
                "delayed" => Some("delayed".into()),
                "delivered" => Some("delivered".into()),
                _ => None,
            },
            reason: reason.map(str::to_string),
            hard,
            feedback_type: None,
        }
    }

    fn soft(id: i64, day: u32) -> Event {
        ev(
            id,
            &format!("2026-11-{day:02}T10:00:00Z"),
            "bounce",
            Some("mailboxfull"),
            Some(false),
        )
    }

    const NOW: &str = "2026-11-28T12:00:00Z";

    #[test]
    fn hard_and_complaint_suppress_at_once() {
        let p = Policy::default();
        let e = [ev(
            7,
            "2026-11-01T00:00:00Z",
            "bounce",
            Some("userunknown"),
            Some(true),
        )];
        let (s, _) = evaluate(&p, &e, NOW);
        let s = s.unwrap();
        assert_eq!((s.cause, s.event, s.until), ("hard", Some(7), None));
        let mut c = ev(8, "2026-11-02T00:00:00Z", "complaint", None, None);
        c.feedback_type = Some("abuse".into());
        assert_eq!(
            evaluate(&p, &[c.clone()], NOW).0.unwrap().cause,
            "complaint"
        );
        c.feedback_type = Some("not-spam".into());
        assert_eq!(evaluate(&p, &[c], NOW).0, None);
    }

    #[test]
    fn sender_side_delays_autoreplies_never() {
        let p = Policy::default();
        let mut e = Vec::new();
        for (i, r) in ["spamdetected", "blocked", "policyviolation", "authfailure"]
            .iter()
            .enumerate()
        {
            for d in 1..=7 {
                e.push(ev(
                    (i * 10 + d) as i64,
                    &format!("2026-11-{:02}T10:00:00Z", d + 20),
                    "bounce",
                    Some(r),
                    Some(false),
                ));
            }
        }
        e.push(ev(
            99,
            "2026-11-27T10:00:00Z",
            "delayed",
            Some("mailboxfull"),
            None,
        ));
        e.push(ev(
            98,
            "2026-11-27T11:00:00Z",
            "autoreply",
            Some("vacation"),
            None,
        ));
        e.sort_by(|a, b| a.at.cmp(&b.at));
        assert_eq!(evaluate(&p, &e, NOW), (None, None));
    }

    #[test]
    fn soft_counts_once_a_day_then_suppresses() {
        let p = Policy::default();
        let mut e: Vec<Event> = (0..4).map(|i| soft(i, 20 + i as u32)).collect();
        // Three more the same day: still four days.
        e.extend((10..13).map(|i| soft(i, 23)));
        let (s, c) = evaluate(&p, &e, NOW);
        assert_eq!(s, None);
        assert_eq!(c.unwrap().days, 4);
        e.push(soft(20, 24));
        let s = evaluate(&p, &e, NOW).0.unwrap();
        assert_eq!(s.cause, "soft");
        assert_eq!(s.event, Some(20));
        assert_eq!(s.until.as_deref(), Some("2026-12-24T10:00:00Z"));
    }

    #[test]
    fn soft_goes_stale_and_success_resets() {
        let p = Policy::default();
        // Two, a gap of 8 days, then three: the first two are stale.
        let e: Vec<Event> = [1, 2, 10, 11, 12]
            .iter()
            .map(|d| soft(*d as i64, *d))
            .collect();
        let (s, c) = evaluate(&p, &e, "2026-11-13T00:00:00Z");
        assert_eq!(s, None);
        assert_eq!(c.unwrap().days, 3);
        // Stale at `now` too.
        assert_eq!(evaluate(&p, &e, NOW).1, None);
        let mut e: Vec<Event> = (1..=4).map(|d| soft(d as i64, d)).collect();
        e.push(ev(
            50,
            "2026-11-04T12:00:00Z",
            "delivered",
            Some("delivered"),
            None,
        ));
        e.push(soft(5, 5));
        let (s, c) = evaluate(&p, &e, "2026-11-06T00:00:00Z");
        assert_eq!(s, None);
        assert_eq!(c.unwrap().days, 1);
    }

    #[test]
    fn soft_suppression_expires() {
        let p = Policy::default();
        let e: Vec<Event> = (1..=5).map(|d| soft(d as i64, d)).collect();
        assert!(evaluate(&p, &e, "2026-11-20T00:00:00Z").0.is_some());
        assert!(evaluate(&p, &e, "2026-12-06T00:00:00Z").0.is_none());
        let p = Policy {
            soft_suppress_days: 0,
            ..Policy::default()
        };
        assert!(evaluate(&p, &e, "2027-12-06T00:00:00Z").0.is_some());
    }

    #[test]
    fn normalizes_domain_only() {
        assert_eq!(
            normalize_address(" <Joe.Smith@Example.COM> "),
            "Joe.Smith@example.com"
        );
        assert_eq!(
            normalize_address("rfc822; joe@EXAMPLE.com"),
            "joe@example.com"
        );
    }

    #[test]
    fn defaults_validate() {
        assert_eq!(Policy::default().validate(), Ok(()));
        let bad = Policy {
            soft_reasons: vec!["nosuch".into()],
            ..Policy::default()
        };
        assert!(bad.validate().is_err());
    }

    fn db() -> rusqlite::Connection {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        for m in crate::store::schema::MIGRATIONS {
            c.execute_batch(m).unwrap();
        }
        c
    }

    fn add(c: &rusqlite::Connection, id: i64, at: &str, kind: &str, reason: &str, hard: i64) {
        c.execute(
            "INSERT INTO messages (id, file, arrived_at, kind, content_hash) VALUES (?1, 'f', ?2, ?3, ?1)",
            params![id, at, kind],
        )
        .unwrap();
        c.execute(
            "INSERT INTO events (id, message, at, address, original, domain, kind, action, reason, hard)
             VALUES (?1, ?1, ?2, 'x@mail.example.net', 'Joe@example.com', 'mail.example.net', ?3, 'failed', ?4, ?5)",
            params![id, at, kind, reason, hard],
        )
        .unwrap();
    }

    fn cause(c: &rusqlite::Connection, a: &str) -> Option<String> {
        c.query_row(
            "SELECT cause FROM suppressions WHERE address = ?1",
            [a],
            |r| r.get(0),
        )
        .optional()
        .unwrap()
    }

    #[test]
    fn unsuppress_sticks_until_a_new_event() {
        let mut c = db();
        let p = Policy::default();
        add(&c, 1, "2026-11-01T00:00:00Z", "bounce", "userunknown", 1);
        let tx = c.transaction().unwrap();
        update_address(&tx, &p, "Joe@example.com", NOW).unwrap();
        update_address(&tx, &p, "x@mail.example.net", NOW).unwrap();
        tx.commit().unwrap();
        assert_eq!(cause(&c, "Joe@example.com").as_deref(), Some("hard"));
        assert_eq!(cause(&c, "x@mail.example.net").as_deref(), Some("hard"));
        let tx = c.transaction().unwrap();
        set_override(
            &tx,
            &p,
            "Joe@example.com",
            "unsuppress",
            Some("fixed"),
            None,
            NOW,
        )
        .unwrap();
        // Re-evaluating the same old events (a rebuild) does not undo it.
        rebuild(&tx, &p, NOW).unwrap();
        tx.commit().unwrap();
        assert_eq!(cause(&c, "Joe@example.com"), None);
        assert_eq!(cause(&c, "x@mail.example.net").as_deref(), Some("hard"));
        // An event of the same second, recorded after the unsuppress, counts.
        add(&c, 3, NOW, "bounce", "userunknown", 1);
        let tx = c.transaction().unwrap();
        update_address(&tx, &p, "Joe@example.com", NOW).unwrap();
        tx.commit().unwrap();
        assert_eq!(cause(&c, "Joe@example.com").as_deref(), Some("hard"));
        let tx = c.transaction().unwrap();
        set_override(&tx, &p, "Joe@example.com", "unsuppress", None, None, NOW).unwrap();
        tx.commit().unwrap();
        assert_eq!(cause(&c, "Joe@example.com"), None);
        // A new hard bounce after the unsuppress suppresses again.
        add(&c, 2, "2026-11-29T00:00:00Z", "bounce", "userunknown", 1);
        let tx = c.transaction().unwrap();
        update_address(&tx, &p, "Joe@example.com", "2026-11-29T01:00:00Z").unwrap();
        tx.commit().unwrap();
        assert_eq!(cause(&c, "Joe@example.com").as_deref(), Some("hard"));
        let tx = c.transaction().unwrap();
        set_override(
            &tx,
            &p,
            "Joe@example.com",
            "suppress",
            Some("asked"),
            Some("root"),
            NOW,
        )
        .unwrap();
        tx.commit().unwrap();
        assert_eq!(cause(&c, "Joe@example.com").as_deref(), Some("manual"));
        let n: i64 = c
            .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 3);
    }

    #[test]
    fn sync_rebuilds_on_policy_change() {
        let mut c = db();
        for d in 1..=3 {
            add(
                &c,
                d,
                &format!("2026-11-2{d}T00:00:00Z"),
                "bounce",
                "mailboxfull",
                0,
            );
        }
        let tx = c.transaction().unwrap();
        assert!(!sync(&tx, &Policy::default(), NOW).unwrap());
        assert!(!sync(&tx, &Policy::default(), NOW).unwrap());
        tx.commit().unwrap();
        assert_eq!(cause(&c, "Joe@example.com"), None);
        let strict = Policy {
            soft_threshold: 3,
            ..Policy::default()
        };
        let tx = c.transaction().unwrap();
        assert!(sync(&tx, &strict, NOW).unwrap());
        tx.commit().unwrap();
        assert_eq!(cause(&c, "Joe@example.com").as_deref(), Some("soft"));
    }
}
