//! The reason layer: interprets what the formats extracted (status code, SMTP reply code,
//! diagnostic text, remote host) as a `Reason` of corpus REASONS.md and decides `hard`.
//! Formats extract; this layer interprets. `hard` only with positive evidence.
//!
//! Order of evidence, strongest first:
//! 1. the kind of the message (a complaint is `feedback`, a success DSN `delivered`);
//! 2. a provider rule (`rhost.rs`): a code or text whose meaning at that provider is known;
//! 3. a phrase of the diagnostic (`text.rs`), sender-side reasons before mailbox reasons,
//!    then of the recipient's own paragraph in the human-readable notification (weak);
//! 4. for a delay warning, `expired` (the message is still queued);
//! 5. the enhanced status code (`status.rs`), from the Status field or else the text;
//! 6. the SMTP reply code (`replycode.rs`);
//! 7. for a recipient with no diagnostic, what the notification says as a whole (weak);
//! 8. `onhold` when there was a diagnostic nobody understood, `undefined` when there was none.
//!
//! Then the SMTP stage (`stage.rs`, from the diagnostic, the format, or the recipient's
//! lines in the notification) refines a mailbox verdict: "user unknown" answered after DATA
//! is a filter's verdict (`filtered`), and an unknown user or host in reply to MAIL FROM is
//! about the sender (`rejected`), in reply to HELO about the sending host (`blocked`). Every
//! step that decided leaves an evidence string.
//!
//! `hard` is true only for `userunknown`, `hostunknown`, `hasmoved`, and `notaccept`
//! without a temporary (4xx) code, and only for a recipient whose delivery failed in a
//! bounce. An unknown user needs an address-level proof: the recipient refused at RCPT TO,
//! a 5.1.x status, a provider rule, a format that is the recipient's own system, or a
//! directory verdict ("not listed in Domino Directory"). Without one, the unknown-user text
//! is reported as `filtered` (a refusal that may as well come from a filter, as Sisimai
//! reads it) and nothing is suppressed; an X.7.x (policy) status is never such proof. A
//! notification that names only a soft cause vetoes `hard`, and a format's own
//! address-failure verdict yields when the remote reply names another cause.

mod phrases;
pub mod replycode;
pub mod rhost;
pub mod stage;
pub mod status;
pub mod text;

use crate::classify::verdict::{Action, Kind, Reason, Recipient};
use stage::Stage;
use status::Code;

/// What the reason layer may use besides the recipient's own fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hints<'a> {
    /// Kind of the whole message (a `delayed` recipient is never hard).
    pub kind: Kind,
    /// Detector that extracted the recipient (`rfc3464`, `lhost/exim`, ...).
    pub detector: &'a str,
    /// The SMTP command the remote server answered, when the format knows it
    /// (`RCPT`, `DATA`, `MAIL`, `HELO`, `CONN`); else it is read from the diagnostic.
    pub command: Option<&'a str>,
    /// The Reporting-MTA of the report (some providers are known by it alone).
    pub reporting_mta: Option<&'a str>,
    /// The human-readable notification (the DSN's text part, or the body of a
    /// non-standard bounce), where the SMTP stage of each recipient is often told
    /// (Postfix `(in reply to RCPT TO command)`, a Sendmail transcript).
    pub notification: Option<&'a str>,
}

/// Fill `reason` and `hard` where the format left them `None`, appending evidence.
pub fn interpret(rcpt: &mut Recipient, hints: &Hints) {
    let text = text::normalize(rcpt.diagnostic.as_deref().unwrap_or(""));
    let raw = rcpt.diagnostic.as_deref().unwrap_or("");
    let code_text = code_text(rcpt.status.as_deref(), raw);
    let code = code_text.as_deref().and_then(Code::parse);
    let reply = rcpt
        .reply_code
        .clone()
        .or_else(|| replycode::leading(raw).map(str::to_string));
    let stage = hints
        .command
        .and_then(Stage::parse)
        .or_else(|| stage::find(&text))
        .or_else(|| stage::find_for(raw, &rcpt.address))
        .or_else(|| {
            hints
                .notification
                .and_then(|n| stage::find_for(n, &rcpt.address))
        });
    let remote = rcpt
        .remote_mta
        .as_deref()
        .unwrap_or("")
        .to_ascii_lowercase();
    let reporting = hints.reporting_mta.unwrap_or("").to_ascii_lowercase();
    let domain = rcpt
        .address
        .rsplit_once('@')
        .map_or("", |(_, d)| d)
        .to_ascii_lowercase();
    let hosts = rhost::Hosts {
        remote_mta: &remote,
        reporting_mta: &reporting,
        recipient_domain: &domain,
    };
    let facts = Facts {
        text: &text,
        code: code.as_ref(),
        reply: reply.as_deref(),
        stage,
        hosts: &hosts,
        delayed: rcpt.action == Some(Action::Delayed) || hints.kind == Kind::Delayed,
        notification: hints.notification,
        address: &rcpt.address,
        detector: hints.detector,
    };

    let mut evidence = Vec::new();
    let mut address_proof = true;
    let decided_here = rcpt.reason.is_none();
    match rcpt.reason {
        None => {
            let (reason, proof) = decide(rcpt.action, hints.kind, &facts, &mut evidence);
            rcpt.reason = Some(reason);
            address_proof = proof;
        }
        // A format that named an address failure itself is checked against the remote
        // server's own words: a reply naming another cause wins and nothing is suppressed.
        Some(named) if is_address_failure(named) => {
            let mut own = Vec::new();
            let (reason, _) = decide(rcpt.action, hints.kind, &facts, &mut own);
            let stated = own.first().is_some_and(|e| {
                ["phrase", "rhost", "status", "notification"]
                    .iter()
                    .any(|p| e.starts_with(p))
            });
            // An unknown-user text read as `filtered` for want of proof does not contradict
            // a format that knows more (PowerMTA's own bounce category, say).
            let unproven_unknown = reason == Reason::Filtered
                && own
                    .iter()
                    .any(|e| e.starts_with(UNPROVEN) || e.contains(MAILBOX_STATUS));
            if stated && !is_address_failure(reason) && !unproven_unknown {
                evidence.push(format!(
                    "the diagnostic says {} rather than {}",
                    reason.as_str(),
                    named.as_str()
                ));
                evidence.extend(own);
                rcpt.reason = Some(reason);
                rcpt.hard = Some(false);
                address_proof = false;
            }
        }
        Some(_) => {}
    }
    let failed = hints.kind == Kind::Bounce && matches!(rcpt.action, Some(Action::Failed) | None);
    let address_failure = rcpt.reason.is_some_and(is_address_failure);
    let mut vetoed = false;
    if address_failure && (address_proof || rcpt.hard == Some(true)) {
        let said = Reply {
            text: &text,
            raw,
            code: code.as_ref(),
            reply: reply.as_deref(),
            status: rcpt.status.as_deref(),
        };
        if let Some(told) = veto(&said, hints.notification, &mut evidence) {
            vetoed = true;
            // The reporting MTA's own words win over the address-failure reading, where
            // the reason was ours to give.
            if let (true, Some(told)) = (decided_here, told) {
                rcpt.reason = Some(told);
            }
        }
    }
    let would_be_hard = address_failure && address_proof && !vetoed;
    match rcpt.hard {
        // Nothing outside a failed delivery of a bounce may ever suppress an address.
        Some(true) if !failed => rcpt.hard = if facts.delayed { None } else { Some(false) },
        // A format's own hard verdict stands unless the reply itself speaks against it.
        Some(true) if vetoed => rcpt.hard = Some(false),
        Some(_) => {}
        None if failed => rcpt.hard = Some(would_be_hard),
        None if facts.delayed && would_be_hard => rcpt.hard = None,
        None => rcpt.hard = Some(false),
    }
    rcpt.evidence.extend(evidence);
}

/// What a veto on `hard` reads of the recipient's reply.
struct Reply<'a> {
    text: &'a str,
    raw: &'a str,
    code: Option<&'a Code<'a>>,
    reply: Option<&'a str>,
    status: Option<&'a str>,
}

/// Whether the reply speaks against suppressing an address-failure verdict: a temporary
/// code or wording, a code of its own that is not about the address under a Status field
/// that is, or a notification that tells only a soft cause. `Some(told)` vetoes, with the
/// notification's reason when it was the notification.
fn veto(r: &Reply, notification: Option<&str>, ev: &mut Vec<String>) -> Option<Option<Reason>> {
    // A 4xx code, or a reply that calls itself temporary ("550 5.1.1 mailbox temporarily
    // unavailable"), is no proof of a permanent failure.
    if r.code.is_some_and(Code::is_temporary)
        || r.reply.is_some_and(|c| c.starts_with('4'))
        || TEMPORARY.iter().any(|t| r.text.contains(t))
    {
        ev.push("not hard: temporary".into());
        return Some(None);
    }
    // The remote reply's own code outranks the Status field the reporting MTA wrote: a
    // 5.1.1 field over a reply saying 5.7.1 proves nothing about the address.
    let field = r
        .status
        .and_then(|s| Code::parse(s.split_whitespace().next()?));
    if let (Some(field), Some(own)) = (field, status::find_in(r.raw)) {
        if field.rest != own.rest && !own.is_address_level() && !own.is_vague() {
            ev.push(format!(
                "not hard: the reply's own code {}.{} is not about the address",
                own.class, own.rest
            ));
            return Some(None);
        }
    }
    contradicted(notification, ev).map(Some)
}

/// Words by which a reply says it is not final. Sorted.
const TEMPORARY: &[&str] = &[
    "temporarily",     // "mailbox temporarily unavailable", "temporarily deferred"
    "temporary",       // "temporary failure", "temporary local problem"
    "try again later", // RFC 5321 4xx texts quoted with a 5xx code
];

/// Evidence of an unknown-user text read as `filtered` for want of proof.
const UNPROVEN: &str = "no RCPT TO stage or X.1.x status";
const MAILBOX_STATUS: &str = "mailbox status, not address";

/// The reasons that may make an address hard.
fn is_address_failure(reason: Reason) -> bool {
    matches!(
        reason,
        Reason::UserUnknown | Reason::HostUnknown | Reason::HasMoved | Reason::NotAccept
    )
}

/// How much of the human-readable notification is read for a second opinion.
const NOTIFICATION_PREFIX: usize = 4096;

/// A hard verdict needs the human-readable notification not to tell another story: when it
/// names only a soft cause (a full disk, a block) and no failure of the address itself, the
/// two parts of the report disagree and the address is not suppressed (seen in
/// rfc3464-01.eml: "Not enough disk space" above a DSN saying 5.1.1).
fn contradicted(notification: Option<&str>, ev: &mut Vec<String>) -> Option<Reason> {
    match reading(notification?) {
        (Some((reason, phrase)), false) if !is_address_failure(reason) => {
            ev.push(format!(
                "not hard: the notification says {} (phrase {:?})",
                reason.as_str(),
                phrase.trim()
            ));
            Some(reason)
        }
        _ => None,
    }
}

/// A phrase found: the reason of its table and the phrase.
type Found = Option<(Reason, &'static str)>;

/// What the start of a notification says as a whole: the first phrase found (in the
/// decision order of `text.rs`) and whether it names a failure of an address anywhere.
/// Depends on the notification alone, so it is read once per report, not per recipient.
fn reading(notification: &str) -> (Found, bool) {
    let mut end = notification.len().min(NOTIFICATION_PREFIX);
    while !notification.is_char_boundary(end) {
        end -= 1;
    }
    let prefix = &notification[..end];
    READING.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.0 != prefix {
            let n = text::normalize(prefix);
            *cached = (
                prefix.to_string(),
                text::find(&n),
                text::states_address_failure(&n),
            );
        }
        (cached.1, cached.2)
    })
}

thread_local! {
    /// The last notification prefix `reading` read, and what it says.
    static READING: std::cell::RefCell<(String, Found, bool)> =
        const { std::cell::RefCell::new((String::new(), None, false)) };
}

/// Formats whose reports are written by the recipient's own mail system (a gateway or
/// mailbox server that looked the address up itself), so their "unknown user" needs no SMTP
/// stage: Ipswitch IMail (seen in lhost-imailserver-01.eml) and Verizon's SMS/MMS gateway
/// (seen in lhost-verizon-02.eml). Sorted.
const FINAL_SYSTEM_DETECTORS: &[&str] = &["lhost/imailserver", "lhost/verizon"];

/// Everything the decision reads, computed once per recipient.
struct Facts<'a> {
    text: &'a str,
    code: Option<&'a Code<'a>>,
    reply: Option<&'a str>,
    stage: Option<Stage>,
    hosts: &'a rhost::Hosts<'a>,
    delayed: bool,
    /// The human-readable notification and the recipient's address in it.
    notification: Option<&'a str>,
    address: &'a str,
    detector: &'a str,
}

/// A phrase of the recipient's own paragraph in the notification, for a diagnostic that
/// states nothing (seen in rfc3464-65.eml: no Diagnostic-Code, Gmail's text says "the
/// address couldn't be found").
fn notification_phrase(f: &Facts) -> Option<(Reason, String, bool)> {
    let paragraphs = stage::paragraphs_for(f.notification?, f.address);
    paragraphs.iter().find_map(|para| {
        if let Some((reason, why)) = rhost::find(f.hosts, para, f.code) {
            return Some((reason, format!("rhost {why}"), true));
        }
        text::find(para).map(|(reason, p)| (reason, format!("phrase {:?}", p.trim()), false))
    })
}

/// The status code to interpret: the Status field unless it is missing or vague
/// (`5.0.0`), in which case a more precise code quoted in the diagnostic is used.
fn code_text(field: Option<&str>, text: &str) -> Option<String> {
    let field = field
        .map(|s| s.split_whitespace().next().unwrap_or(""))
        .and_then(Code::parse);
    match field {
        Some(c) if !c.is_vague() => Some(format!("{}.{}", c.class, c.rest)),
        other => status::find_in(text)
            .filter(|c| !c.is_vague())
            .or(other)
            .map(|c| format!("{}.{}", c.class, c.rest)),
    }
}

/// The reason, and whether an unknown-address verdict has address-level proof.
fn decide(action: Option<Action>, kind: Kind, f: &Facts, ev: &mut Vec<String>) -> (Reason, bool) {
    match kind {
        Kind::Complaint => {
            ev.push("kind complaint".into());
            return (Reason::Feedback, false);
        }
        Kind::Autoreply => {
            ev.push("kind autoreply".into());
            return (Reason::Vacation, false);
        }
        _ => {}
    }
    if kind == Kind::Delivered
        || matches!(
            action,
            Some(Action::Delivered | Action::Relayed | Action::Expanded)
        )
    {
        ev.push("action delivered".into());
        return (Reason::Delivered, false);
    }

    if let Some((reason, why)) = rhost::find(f.hosts, f.text, f.code) {
        ev.push(format!("rhost {why}"));
        return (reason, true);
    }
    let mut weak = false;
    let mut needs_code = false;
    let (reason, from_phrase) = if let Some((reason, phrase)) = text::find(f.text) {
        ev.push(format!("phrase {:?}", phrase.trim()));
        needs_code = text::NEEDS_ADDRESS_CODE.contains(&phrase);
        (reason, true)
    } else if let Some((reason, why, strong)) = notification_phrase(f) {
        ev.push(format!("notification {why}"));
        if strong {
            return (reason, true);
        }
        if let Some(proof) = local_verdict(reason, f, ev) {
            return proof;
        }
        // The notification's paragraph is weaker than the recipient's own diagnostic:
        // only a provider rule there, or a Status field saying the same, proves an
        // address dead (seen in lhost-sendmail-42.eml: 5.1.2 and "host not found").
        weak = f.code.and_then(status::reason) != Some(reason);
        (reason, true)
    } else if let Some(exit) = sysexits_status(f.text) {
        // The diagnostic is only a local program's exit status (Sendmail `X-Unix; 71`,
        // EX_OSERR, seen in lhost-sendmail-55.eml): the delivery agent failed, even while
        // the message is still queued.
        ev.push(format!("exit status {exit} of the local mailer"));
        (Reason::MailerError, false)
    } else if f.delayed {
        ev.push("action delayed".into());
        (Reason::Expired, false)
    } else if f.reply.is_some_and(|r| r.starts_with('5')) && f.code.is_some_and(|c| c.rest == "4.1")
    {
        // X.4.1 is "no answer from host", yet a server that answered 5xx did answer: the
        // code is used for a refusal by the destination (Exchange Online "Access denied",
        // Zoho "Mail rejected by destination domain").
        ev.push("status X.4.1 in a 5xx reply: refused by the destination".into());
        (Reason::Rejected, false)
    } else if f.code.is_some_and(|c| c.rest == "3.0")
        && f.hosts.remote_mta.is_empty()
        && f.reply.is_none()
    {
        // "Other mail system status" with no remote host and no SMTP reply: the local
        // delivery agent failed (seen in lhost-postfix-43.eml, Postfix local(8) "temporary
        // failure").
        ev.push("status X.3.0 with no remote MTA or reply: the local mailer".into());
        (Reason::MailerError, false)
    } else if abandoned_after_deferrals(action, kind, f) {
        ev.push("action failed with a transient status: given up after deferrals".into());
        (Reason::Expired, false)
    } else if let Some(reason) = f.code.and_then(status::reason) {
        ev.push(format!(
            "status {}.{}",
            f.code.map_or(0, |c| c.class),
            f.code.map_or("", |c| c.rest)
        ));
        (reason, false)
    } else if let Some(reason) = f.reply.and_then(replycode::reason) {
        ev.push(format!("reply {}", f.reply.unwrap_or("")));
        (reason, false)
    } else if let Some((reason, phrase)) = f
        .text
        .is_empty()
        .then_some(f.notification)
        .flatten()
        .and_then(|n| reading(n).0)
    {
        // No diagnostic and no paragraph of its own: what the notification says as a
        // whole (seen in rfc3464-04.eml, a Sendmail transcript naming procmail), never
        // proof enough to suppress.
        ev.push(format!(
            "notification as a whole: phrase {:?}",
            phrase.trim()
        ));
        if let Some(proof) = local_verdict(reason, f, ev) {
            return proof;
        }
        weak = true;
        (reason, true)
    } else if !f.text.is_empty() {
        ev.push("diagnostic not understood".into());
        (Reason::OnHold, false)
    } else {
        ev.push("no diagnostic".into());
        (Reason::Undefined, false)
    };
    let (reason, mut proof) = refine(reason, from_phrase, f, ev);
    let address_code = f.code.is_some_and(Code::is_address_level);
    if proof && needs_code && !address_code {
        ev.push("a generic phrase without an X.1.x status: not proof enough to suppress".into());
        proof = false;
    }
    if proof && reason == Reason::HasMoved {
        // "has moved" is said of servers too: only the codes for a moved mailbox prove it.
        let moved_code = f
            .code
            .is_some_and(|c| matches!(c.rest, "1.6" | "7.17" | "7.18"));
        if !(moved_code || f.reply == Some("551")) {
            ev.push("no X.1.6 status or 551 reply: not proof enough to suppress".into());
            proof = false;
        }
    }
    (reason, proof && !weak)
}

/// An unknown user read from the notification, where the recipient's own local mailer said
/// it has no such user in the transcript line that names this local part (Sendmail's
/// mail.local, seen in rfc3464-06.eml): the final system's verdict, proof on its own.
fn local_verdict(reason: Reason, f: &Facts, ev: &mut Vec<String>) -> Option<(Reason, bool)> {
    let said = reason == Reason::UserUnknown
        && f.notification
            .is_some_and(|n| names_local_verdict(n, f.address));
    said.then(|| {
        ev.push("verdict of the recipient's local mailer".into());
        (reason, true)
    })
}

/// Whether a line of the notification holds a local mailer's unknown-user verdict for the
/// local part of `address` (`mail.local: unknown user: joe`).
fn names_local_verdict(notification: &str, address: &str) -> bool {
    let local = address
        .rsplit_once('@')
        .map_or(address, |(l, _)| l)
        .to_lowercase();
    !local.is_empty()
        && notification.lines().any(|line| {
            let line = text::normalize(line);
            text::is_directory_verdict(&line)
                && line
                    .split(|c: char| c.is_whitespace() || matches!(c, ':' | '<' | '>' | '"'))
                    .any(|w| w == local)
        })
}

/// A diagnostic that is nothing but a sysexits(3) code (64 EX_USAGE to 78 EX_CONFIG), the
/// exit status of the local delivery program that Sendmail reports as `X-Unix; <n>`.
fn sysexits_status(text: &str) -> Option<u8> {
    let t = text.trim();
    if t.len() != 2 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<u8>().ok().filter(|n| (64..=78).contains(n))
}

/// Whether an RFC 3464 report says the delivery was abandoned after temporary failures:
/// `Action: failed` beside a transient (4.x.x) status or a 4xx reply is how an MTA reports a
/// message whose queue lifetime ran out, with the last deferral's code (RFC 3464 2.3.3;
/// Postfix logs it `status=expired`, Sendmail writes 4.4.7). Read only where no phrase named
/// the cause: a status code of its own (a full mailbox or system, a policy code) still tells
/// what kept the message back; a generic code (X.0.0, X.3.0, network X.4.x) does not.
/// An MTA that kept retrying a remote server names it (Remote-MTA); a 4xx reply with no
/// remote host is the reporting system's own answer, not a queue given up (seen in
/// lhost-receivingses-03.eml, Amazon SES inbound "450 4.0.0 Temporary failure").
fn abandoned_after_deferrals(action: Option<Action>, kind: Kind, f: &Facts) -> bool {
    let transient = match f.code {
        Some(c) => c.class == 4,
        None => f.reply.is_some_and(|r| r.starts_with('4')),
    };
    action == Some(Action::Failed)
        && kind == Kind::Bounce
        && f.detector == "rfc3464"
        && transient
        && (f.reply.is_none() || !f.hosts.remote_mta.is_empty())
        && f.code.and_then(status::reason).is_none_or(|r| {
            matches!(
                r,
                Reason::Expired | Reason::NetworkError | Reason::SystemError | Reason::OnHold
            )
        })
}

/// Apply the SMTP stage and the status detail to a mailbox verdict.
fn refine(reason: Reason, from_phrase: bool, f: &Facts, ev: &mut Vec<String>) -> (Reason, bool) {
    let address_code = f.code.is_some_and(Code::is_address_level);
    let mailbox_code = f.code.is_some_and(Code::is_mailbox_level);
    match reason {
        Reason::UserUnknown | Reason::HostUnknown if f.stage == Some(Stage::MailFrom) => {
            ev.push("stage MAIL FROM: the sender's address".into());
            (Reason::Rejected, false)
        }
        Reason::UserUnknown | Reason::HostUnknown
            if matches!(f.stage, Some(Stage::Connect | Stage::Helo)) =>
        {
            // "Invalid domain name" in reply to HELO is about the sending host's name.
            ev.push("stage connection/HELO: the sending host".into());
            (Reason::Blocked, false)
        }
        Reason::UserUnknown => {
            if text::is_directory_verdict(f.text) {
                ev.push("verdict of the recipient's own directory".into());
                return (reason, true);
            }
            if FINAL_SYSTEM_DETECTORS.contains(&f.detector) {
                ev.push(format!(
                    "{}: the recipient's own system answered",
                    f.detector
                ));
                return (reason, true);
            }
            if let Some(provider) = rhost::after_data(f.hosts) {
                ev.push(format!(
                    "rhost {provider}: recipients refused only after DATA"
                ));
                return (Reason::Filtered, false);
            }
            if f.stage == Some(Stage::Data) && !address_code {
                ev.push("stage DATA: refused by a filter".into());
                return (Reason::Filtered, false);
            }
            if mailbox_code && f.stage != Some(Stage::RcptTo) {
                ev.push(format!(
                    "status X.{}: {MAILBOX_STATUS}",
                    f.code.map_or("", |c| c.rest)
                ));
                return (Reason::Filtered, false);
            }
            if let Some(own) = status::find_in(f.text)
                .filter(Code::is_policy_level)
                .filter(|_| !text::is_address_refusal(f.text))
            {
                // A reply that itself carries a security/policy code (X.7.x) speaks of the
                // message or the sender, not the mailbox: its unknown-user text is not proof.
                ev.push(format!("reply code X.{}: policy, not address", own.rest));
                return (reason, false);
            }
            if f.stage == Some(Stage::RcptTo) {
                ev.push("stage RCPT TO".into());
                return (reason, true);
            }
            if address_code {
                if from_phrase {
                    ev.push(format!("status X.{}", f.code.map_or("", |c| c.rest)));
                }
                return (reason, true);
            }
            // A mailbox-lookup phrase alone, with neither the stage nor an address-level
            // code: a refusal that may as well come from a filter (the reading Sisimai
            // gives it too); the address is not proven dead.
            ev.push(format!(
                "{UNPROVEN}: filtered, not proof enough to suppress"
            ));
            (Reason::Filtered, false)
        }
        // Without a phrase, a refusal before the envelope is about the connecting host,
        // and one in reply to MAIL FROM is about the sender.
        _ if !from_phrase && matches!(f.stage, Some(Stage::Connect | Stage::Helo)) => {
            ev.push("stage connection/HELO: the sending host".into());
            (Reason::Blocked, false)
        }
        _ if !from_phrase && f.stage == Some(Stage::MailFrom) => {
            ev.push("stage MAIL FROM: the sender".into());
            (Reason::Rejected, false)
        }
        _ => (reason, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: Kind, action: Option<Action>, status: Option<&str>, diag: &str) -> Recipient {
        let mut r = Recipient {
            address: "user@example.com".into(),
            action,
            status: status.map(str::to_string),
            diagnostic: Some(diag.into()),
            ..Recipient::default()
        };
        interpret(
            &mut r,
            &Hints {
                kind,
                ..Hints::default()
            },
        );
        r
    }

    fn bounce(status: Option<&str>, diag: &str) -> (Option<Reason>, Option<bool>) {
        let r = run(Kind::Bounce, Some(Action::Failed), status, diag);
        (r.reason, r.hard)
    }

    /// A failed recipient of an RFC 3464 report with a transient status, as Postfix and
    /// Sendmail write it when the queue lifetime ran out.
    fn given_up(status: &str, diag: &str, remote: Option<&str>) -> Recipient {
        let mut r = Recipient {
            address: "user@example.net".into(),
            action: Some(Action::Failed),
            status: Some(status.into()),
            diagnostic: Some(diag.into()),
            remote_mta: remote.map(str::to_string),
            ..Recipient::default()
        };
        interpret(
            &mut r,
            &Hints {
                kind: Kind::Bounce,
                detector: "rfc3464",
                ..Hints::default()
            },
        );
        r
    }

    #[test]
    fn sysexits_code_is_the_local_mailer() {
        let r = run(Kind::Delayed, Some(Action::Delayed), Some("4.5.0"), "71");
        assert_eq!(r.reason, Some(Reason::MailerError));
        assert_eq!(sysexits_status(" 75 "), Some(75));
        assert_eq!(sysexits_status("550"), None);
        assert_eq!(sysexits_status("12"), None);
    }

    #[test]
    fn failed_with_transient_status_is_expired() {
        let r = given_up(
            "4.3.0",
            "451 4.3.0 Mail server temporarily rejected message",
            Some("mx.example.net"),
        );
        assert_eq!((r.reason, r.hard), (Some(Reason::Expired), Some(false)));
        let r = given_up("4.4.7", "", None);
        assert_eq!(r.reason, Some(Reason::Expired));
        // A status naming its own cause keeps it.
        let r = given_up("4.2.2", "452 4.2.2 Over quota", Some("mx.example.net"));
        assert_eq!(r.reason, Some(Reason::MailboxFull));
        // The reporting system's own 4xx answer, no remote host: not a queue given up.
        let r = given_up("4.0.0", "450 4.0.0 Temporary failure", None);
        assert_ne!(r.reason, Some(Reason::Expired));
    }

    #[test]
    fn unknown_user_at_rcpt_is_hard() {
        let got = bounce(
            Some("5.1.1"),
            "host mx.example.com[192.0.2.1] said: 550 5.1.1 <user@example.com>: Recipient address rejected: User unknown in local recipient table (in reply to RCPT TO command)",
        );
        assert_eq!(got, (Some(Reason::UserUnknown), Some(true)));
    }

    #[test]
    fn unknown_user_after_data_is_a_filter() {
        let got = bounce(
            Some("5.0.0"),
            "host mx.example.com[192.0.2.1] said: 550 Unknown user user@example.com (in reply to end of DATA command)",
        );
        assert_eq!(got, (Some(Reason::Filtered), Some(false)));
    }

    #[test]
    fn sender_side_text_beats_5_1_1() {
        let got = bounce(
            Some("5.1.1"),
            "550 5.1.1 <user@example.com> - 198.51.100.2 has sent to too many recipients this hour",
        );
        assert_eq!(got, (Some(Reason::Speeding), Some(false)));
        let got = bounce(
            Some("5.1.1"),
            "550 5.1.1 Client host 192.0.2.9 blocked using zen.spamhaus.org",
        );
        assert_eq!(got, (Some(Reason::Blocked), Some(false)));
    }

    #[test]
    fn mailbox_full_text_beats_5_1_1() {
        assert_eq!(
            bounce(Some("5.1.1"), "552 sorry, mailbox is over quota"),
            (Some(Reason::MailboxFull), Some(false))
        );
    }

    #[test]
    fn status_alone_decides() {
        assert_eq!(
            bounce(Some("5.1.1"), ""),
            (Some(Reason::UserUnknown), Some(true))
        );
        assert_eq!(
            bounce(Some("5.2.2"), ""),
            (Some(Reason::MailboxFull), Some(false))
        );
        assert_eq!(
            bounce(Some("5.7.26"), ""),
            (Some(Reason::AuthFailure), Some(false))
        );
    }

    #[test]
    fn unknown_in_reply_to_mail_from_is_the_sender() {
        let got = bounce(
            Some("5.1.7"),
            "SMTP error from remote mail server after MAIL FROM:<a@example.net>: 550 5.1.7 No such domain example.net",
        );
        assert_eq!(got, (Some(Reason::Rejected), Some(false)));
    }

    #[test]
    fn delayed_is_never_hard() {
        let r = run(
            Kind::Delayed,
            Some(Action::Delayed),
            Some("4.4.1"),
            "connect to mx.example.com[192.0.2.1]:25: Connection timed out",
        );
        assert_eq!((r.reason, r.hard), (Some(Reason::Expired), Some(false)));
        let r = run(
            Kind::Delayed,
            Some(Action::Delayed),
            None,
            "No MX found for domain",
        );
        assert_eq!((r.reason, r.hard), (Some(Reason::NotAccept), None));
        let mut r = Recipient {
            reason: Some(Reason::UserUnknown),
            hard: Some(true),
            action: Some(Action::Delayed),
            ..Recipient::default()
        };
        interpret(
            &mut r,
            &Hints {
                kind: Kind::Delayed,
                ..Hints::default()
            },
        );
        assert_eq!(r.hard, None);
    }

    #[test]
    fn complaints_and_successes() {
        let r = run(Kind::Complaint, None, None, "");
        assert_eq!((r.reason, r.hard), (Some(Reason::Feedback), Some(false)));
        let r = run(
            Kind::Delivered,
            Some(Action::Delivered),
            Some("2.0.0"),
            "250 OK",
        );
        assert_eq!((r.reason, r.hard), (Some(Reason::Delivered), Some(false)));
    }

    #[test]
    fn nothing_known() {
        assert_eq!(bounce(None, ""), (Some(Reason::Undefined), Some(false)));
        assert_eq!(
            bounce(None, "something odd happened"),
            (Some(Reason::OnHold), Some(false))
        );
    }

    #[test]
    fn temporary_codes_are_never_hard() {
        assert_eq!(
            bounce(Some("4.1.1"), "450 4.1.1 user unknown"),
            (Some(Reason::UserUnknown), Some(false))
        );
        let got = bounce(
            Some("4.0.0"),
            "DNS Error: lookup of example.org returned Null MX",
        );
        assert_eq!(got, (Some(Reason::NotAccept), Some(false)));
    }

    #[test]
    fn directory_verdicts_are_proof() {
        assert_eq!(
            bounce(
                None,
                "The recipient name is not recognized MSEXCH:IMS:EXAMPLE 0 (000C05A6) Unknown Recipient"
            ),
            (Some(Reason::UserUnknown), Some(true))
        );
        // A relayed "550 User unknown" with no stage and no X.1.x code is not proof.
        assert_eq!(
            bounce(None, "550 User unknown"),
            (Some(Reason::Filtered), Some(false))
        );
    }

    #[test]
    fn a_contradicting_notification_prevents_hard() {
        let mut r = Recipient {
            address: "user@example.com".into(),
            action: Some(Action::Failed),
            status: Some("5.1.1".into()),
            diagnostic: Some("550 5.1.1 <user@example.com>... User Unknown".into()),
            ..Recipient::default()
        };
        let hints = Hints {
            kind: Kind::Bounce,
            notification: Some(
                "Your message to <user> was automatically rejected:\nNot enough disk space\n",
            ),
            ..Hints::default()
        };
        interpret(&mut r, &hints);
        assert_eq!((r.reason, r.hard), (Some(Reason::MailboxFull), Some(false)));
        let mut r2 = Recipient {
            hard: None,
            reason: None,
            ..r.clone()
        };
        let hints = Hints {
            notification: Some(
                "<user@example.com>: host mx.example.com said: 550 5.1.1 User Unknown (in reply to RCPT TO command)",
            ),
            ..hints
        };
        interpret(&mut r2, &hints);
        assert_eq!(r2.hard, Some(true));
    }

    #[test]
    fn a_format_verdict_yields_to_the_remote_reply() {
        let mut r = Recipient {
            address: "user@example.jp".into(),
            action: Some(Action::Failed),
            status: Some("5.1.8".into()),
            reply_code: Some("501".into()),
            diagnostic: Some("501 5.1.8 Sender address rejected".into()),
            reason: Some(Reason::UserUnknown),
            hard: Some(true),
            ..Recipient::default()
        };
        interpret(
            &mut r,
            &Hints {
                kind: Kind::Bounce,
                ..Hints::default()
            },
        );
        assert_eq!((r.reason, r.hard), (Some(Reason::Rejected), Some(false)));
    }

    #[test]
    fn ten_thousand_recipients_share_one_notification() {
        let mut notification = String::from("This is the mail system at host mx.example.net.\n\n");
        for i in 0..10_000 {
            notification.push_str(&format!(
                "<user{i}@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1\n    User unknown (in reply to RCPT TO command)\n\n"
            ));
        }
        let hints = Hints {
            kind: Kind::Bounce,
            notification: Some(&notification),
            ..Hints::default()
        };
        let started = std::time::Instant::now();
        for i in 0..10_000 {
            let mut r = Recipient {
                address: format!("user{i}@example.com"),
                action: Some(Action::Failed),
                diagnostic: Some("550 User unknown".into()),
                ..Recipient::default()
            };
            interpret(&mut r, &hints);
            assert_eq!(r.reason, Some(Reason::UserUnknown));
        }
        // Generous even for an unoptimized build on a busy machine.
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
    }

    proptest::proptest! {
        #[test]
        fn any_input_gets_a_reason_and_no_stray_hard(
            diag in "\\PC{0,160}",
            status in "[245]?\\.?[0-9]{0,3}\\.?[0-9]{0,3}",
            reply in "[0-9]{0,3}",
            note in "\\PC{0,200}",
            kind in 0usize..6,
            action in 0usize..6,
        ) {
            let kinds = [Kind::Bounce, Kind::Delayed, Kind::Delivered, Kind::Complaint, Kind::Autoreply, Kind::Other];
            let actions = [None, Some(Action::Failed), Some(Action::Delayed), Some(Action::Delivered), Some(Action::Relayed), Some(Action::Expanded)];
            let mut r = Recipient {
                address: "user@example.com".into(),
                action: actions[action],
                status: Some(status),
                reply_code: Some(reply),
                diagnostic: Some(format!("{diag} user unknown")),
                ..Recipient::default()
            };
            let hints = Hints { kind: kinds[kind], notification: Some(&note), ..Hints::default() };
            interpret(&mut r, &hints);
            proptest::prop_assert!(r.reason.is_some());
            let failed = kinds[kind] == Kind::Bounce && matches!(actions[action], None | Some(Action::Failed));
            if !failed {
                proptest::prop_assert_ne!(r.hard, Some(true));
            }
        }
    }

    /// Diagnostics as real MTAs and providers write them (addresses and IPs replaced by
    /// example ones): `(status, diagnostic, reason, hard)` for a failed recipient.
    const REAL_WORLD: &[(Option<&str>, &str, Reason, bool)] = &[
        (
            Some("5.1.1"),
            "host mx.example.com[192.0.2.1] said: 550 5.1.1 <a@example.com>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)",
            Reason::UserUnknown,
            true,
        ),
        (
            Some("5.1.1"),
            "SMTP error from remote mail server after RCPT TO:<a@example.com>: 550 5.1.1 <a@example.com>... User unknown",
            Reason::UserUnknown,
            true,
        ),
        (
            Some("5.1.1"),
            "unknown user: \"a\"",
            Reason::UserUnknown,
            true,
        ),
        (
            Some("5.1.1"),
            "Sorry, no mailbox here by that name. (#5.1.1)",
            Reason::UserUnknown,
            true,
        ),
        (
            Some("5.1.1"),
            "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos (in reply to RCPT TO command)",
            Reason::UserUnknown,
            true,
        ),
        (
            Some("5.1.10"),
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
            Reason::UserUnknown,
            true,
        ),
        (
            Some("5.4.4"),
            "Host or domain name not found. Name service error for name=example.net type=A: Host not found",
            Reason::HostUnknown,
            true,
        ),
        (
            Some("4.4.3"),
            "Host or domain name not found. Name service error for name=example.net type=MX: Host not found, try again",
            Reason::NetworkError,
            false,
        ),
        (
            Some("5.1.2"),
            "Sorry, I couldn't find any host named example.net. (#5.1.2)",
            Reason::HostUnknown,
            true,
        ),
        (
            Some("5.4.4"),
            "Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)",
            Reason::NotAccept,
            true,
        ),
        (Some("5.1.10"), "", Reason::NotAccept, true),
        (
            Some("5.1.6"),
            "550 5.1.6 recipient no longer on server: a@example.com",
            Reason::HasMoved,
            true,
        ),
        (
            Some("5.2.2"),
            "552 5.2.2 <a@example.com>: user is over quota (in reply to RCPT TO command)",
            Reason::MailboxFull,
            false,
        ),
        (
            Some("5.2.2"),
            "The email account that you tried to reach is over quota.",
            Reason::MailboxFull,
            false,
        ),
        (
            Some("5.2.1"),
            "550-5.2.1 The email account that you tried to reach is disabled.",
            Reason::Suspend,
            false,
        ),
        (
            Some("5.7.1"),
            "554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org (in reply to RCPT TO command)",
            Reason::Blocked,
            false,
        ),
        (
            Some("5.7.1"),
            "550 5.7.1 <a@example.com>: Relay access denied (in reply to RCPT TO command)",
            Reason::NoRelaying,
            false,
        ),
        (
            Some("5.7.1"),
            "Sorry, that domain isn't in my list of allowed rcpthosts. (#5.7.1)",
            Reason::NoRelaying,
            false,
        ),
        (
            Some("5.7.26"),
            "550-5.7.26 Unauthenticated email from example.org is not accepted due to domain's DMARC policy",
            Reason::AuthFailure,
            false,
        ),
        (
            Some("5.7.25"),
            "550-5.7.25 The IP address sending this message does not have a PTR record setup",
            Reason::RequirePtr,
            false,
        ),
        (
            Some("4.7.0"),
            "450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.9]",
            Reason::RequirePtr,
            false,
        ),
        (
            Some("5.7.1"),
            "554 5.7.1 This message has been scored as spam with a probability of more than 90%",
            Reason::SpamDetected,
            false,
        ),
        (
            Some("5.7.0"),
            "554 5.7.0 Reject, id=12345-01 - INFECTED: Eicar-Test-Signature",
            Reason::VirusDetected,
            false,
        ),
        (
            Some("5.3.4"),
            "552 5.3.4 message size 30000000 exceeds size limit 10240000 of server mx.example.com",
            Reason::MesgTooBig,
            false,
        ),
        (
            Some("4.4.7"),
            "delivery temporarily suspended: connect to mx.example.com[192.0.2.1]:25: Connection timed out",
            Reason::Expired,
            false,
        ),
        (
            Some("5.4.6"),
            "mail for example.com loops back to myself",
            Reason::NetworkError,
            false,
        ),
        (
            Some("5.3.0"),
            "Command died with status 1: \"/usr/bin/procmail\"",
            Reason::MailerError,
            false,
        ),
        (
            Some("5.1.8"),
            "553 5.1.8 <s@example.net>... Domain of sender address s@example.net does not exist (in reply to MAIL FROM command)",
            Reason::Rejected,
            false,
        ),
        (
            Some("4.3.2"),
            "421 4.3.2 Too many connections from your IP address",
            Reason::TooManyConn,
            false,
        ),
        (
            Some("5.5.2"),
            "500 5.5.2 Syntax error, command unrecognized",
            Reason::SyntaxError,
            false,
        ),
        (
            Some("5.7.9"),
            "554 5.7.9 Message not accepted for policy reasons. See https://postmaster.example.com/error-codes",
            Reason::PolicyViolation,
            false,
        ),
        (
            Some("5.7.1"),
            "550 5.7.1 Messages with multiple addresses in From: header are not accepted",
            Reason::NotCompliantRfc,
            false,
        ),
        (
            Some("4.2.1"),
            "421 4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered",
            Reason::Speeding,
            false,
        ),
        (
            Some("5.0.0"),
            "550 Administrative prohibition",
            Reason::PolicyViolation,
            false,
        ),
    ];

    #[test]
    fn real_world_diagnostics() {
        for (status, diag, reason, hard) in REAL_WORLD {
            let got = bounce(*status, diag);
            assert_eq!(got, (Some(*reason), Some(*hard)), "{status:?} {diag}");
        }
    }

    #[test]
    fn evidence_says_why() {
        let r = run(
            Kind::Bounce,
            Some(Action::Failed),
            Some("5.1.1"),
            "550 5.1.1 User unknown (in reply to RCPT TO command)",
        );
        assert!(
            r.evidence.iter().any(|e| e == "phrase \"user unknown\""),
            "{:?}",
            r.evidence
        );
        assert!(
            r.evidence.iter().any(|e| e == "stage RCPT TO"),
            "{:?}",
            r.evidence
        );
    }
}
