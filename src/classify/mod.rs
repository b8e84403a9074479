//! Classification: raw message bytes (a bounded prefix) plus the envelope the agent got ->
//! one `Verdict`. Never fails, never panics. Try order, fixed here and nowhere else:
//!
//! 1. ARF feedback report (`arf`): a complaint is never taken for a bounce.
//! 2. Non-standard MTA/provider formats (`lhost::FORMATS`, in registry order): the first
//!    whose `sniff` accepts and whose `parse` names recipients wins. A format may call
//!    `rfc3464::parse` itself; whatever it leaves empty (status, action, diagnostic, remote
//!    MTA, reply code) is filled from the standard DSN fields of the same recipient.
//! 3. RFC 3464 DSN (`rfc3464`): every per-recipient block.
//! 4. RFC 3834 auto-reply (`rfc3834`): after the bounce formats, because MTAs mark their
//!    own bounces `Auto-Submitted: auto-replied`.
//! 5. Other.
//!
//! Then the reason layer (`crate::reason::interpret`) fills reason and hard for every
//! recipient, and the VERP envelope recipient is applied: it is the recipient when a report
//! names none or redacts it, and the `original` when the report names another (forwarded)
//! address. This module never touches the Maildir, the store or the log.

pub mod arf;
pub mod fields;
pub(crate) mod find;
pub mod lhost;
mod memo;
pub mod message;
pub mod rfc3464;
pub mod rfc3834;
pub mod verdict;

pub use message::Message;
pub use verdict::{Action, Kind, Reason, Recipient, Verdict};

/// What the agent knows besides the message: the envelope and the VERP rules.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Envelope sender (`-f`, `SENDER`, mbox `From ` line); empty for a bounce.
    pub sender: Option<String>,
    /// Envelope recipient as given (`-a`, `RECIPIENT`), may be a VERP address.
    pub recipient: Option<String>,
    /// `ORIGINAL_RECIPIENT` / `-r`.
    pub original_recipient: Option<String>,
    /// The `+detail` part alone (`EXTENSION`, or Sendmail's `-a $h`).
    pub extension: Option<String>,
    /// VERP separators: the one after the local part and the one that replaces `@`.
    pub verp: crate::verp::Separators,
}

/// Classify one message. `raw` is the message as received (possibly a bounded prefix of it).
/// A panic anywhere below is caught and turned into an `other` verdict that says so.
pub fn classify(raw: &[u8], ctx: &Context) -> Verdict {
    match std::panic::catch_unwind(|| classify_inner(raw, ctx)) {
        Ok(v) => v,
        Err(_) => Verdict {
            kind: Kind::Other,
            detector: "none".into(),
            evidence: vec!["classifier panicked; message left unclassified".into()],
            ..Verdict::default()
        },
    }
}

fn classify_inner(raw: &[u8], ctx: &Context) -> Verdict {
    let msg = Message::parse(raw);
    let _memo = memo::begin(&msg);
    let mut verdict = detect(&msg);
    verdict.message_id = msg.header("message-id").map(|s| s.trim().to_string());
    verdict.subject = msg.header("subject").map(str::to_string);
    if verdict.returned_message_id.is_none()
        && matches!(
            verdict.kind,
            Kind::Bounce | Kind::Delayed | Kind::Delivered | Kind::Complaint
        )
    {
        verdict.returned_message_id = msg
            .returned_header("message-id")
            .map(|s| s.trim().to_string())
            // A single-part bounce quoting the message after its "copy of the message"
            // marker (qmail, Exim, Sendmail 5).
            .or_else(|| lhost::scan::inline_returned_header(&msg, "message-id"))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
    }
    apply_verp(&mut verdict, &msg, ctx);
    interpret(&mut verdict, &msg);
    verdict
}

/// Steps 1-5: which detector claims the message.
fn detect(msg: &Message) -> Verdict {
    if let Some(v) = arf::parse(msg) {
        return v;
    }
    let dsn = rfc3464::parse(msg);
    for format in lhost::FORMATS {
        if !(format.sniff)(msg) {
            continue;
        }
        let Some(mut parsed) = (format.parse)(msg) else {
            continue;
        };
        if parsed.recipients.is_empty() && parsed.kind != Kind::Autoreply {
            continue;
        }
        if let Some(d) = &dsn {
            fill_from_dsn(&mut parsed.recipients, &d.recipients);
        }
        let kind = match parsed.kind {
            Kind::Other => rfc3464::kind_of(&parsed.recipients),
            k => k,
        };
        let mut evidence = vec![format!("format {}", format.name)];
        evidence.extend(parsed.evidence);
        return Verdict {
            kind,
            recipients: parsed.recipients,
            feedback_type: parsed.feedback_type.filter(|_| kind == Kind::Complaint),
            smtp_command: parsed.smtp_command,
            detector: format!("lhost/{}", format.name),
            evidence,
            ..Verdict::default()
        };
    }
    if let Some(d) = dsn {
        let mut evidence = vec!["RFC 3464 delivery-status".to_string()];
        evidence.extend(d.evidence);
        return Verdict {
            kind: d.kind,
            recipients: d.recipients,
            detector: "rfc3464".into(),
            evidence,
            ..Verdict::default()
        };
    }
    if let Some(v) = rfc3834::parse(msg) {
        return v;
    }
    Verdict {
        kind: Kind::Other,
        detector: "none".into(),
        ..Verdict::default()
    }
}

/// Fill what a format left empty from the DSN block of the same recipient.
fn fill_from_dsn(recipients: &mut [Recipient], dsn: &[Recipient]) {
    // Indexed, so ten thousand recipients stay linear.
    let mut by_address: std::collections::HashMap<&str, &Recipient> =
        std::collections::HashMap::with_capacity(dsn.len() * 2);
    for d in dsn.iter().rev() {
        if let Some(o) = d.original.as_deref() {
            by_address.insert(o, d);
        }
    }
    for d in dsn.iter().rev() {
        by_address.insert(d.address.as_str(), d);
    }
    for r in recipients.iter_mut() {
        let Some(d) = by_address.get(r.address.as_str()).copied() else {
            continue;
        };
        if r.action.is_none() {
            r.action = d.action;
        }
        if r.status.is_none() {
            r.status.clone_from(&d.status);
        }
        if r.reply_code.is_none() {
            r.reply_code.clone_from(&d.reply_code);
        }
        if r.diagnostic.is_none() {
            r.diagnostic.clone_from(&d.diagnostic);
        }
        if r.remote_mta.is_none() {
            r.remote_mta.clone_from(&d.remote_mta);
        }
        if r.original.is_none() && d.original.as_deref().is_some_and(|o| o != r.address) {
            r.original.clone_from(&d.original);
        }
    }
}

/// The reason layer on every recipient, with the report's Reporting-MTA and its
/// human-readable notification (where the SMTP stage and conflicting causes are told; the
/// reason layer vetoes a hard verdict the notification contradicts). A delay warning never
/// suppresses.
fn interpret(verdict: &mut Verdict, msg: &Message) {
    let reporting_mta = rfc3464::reporting_mta(msg);
    let hints = crate::reason::Hints {
        kind: verdict.kind,
        detector: &verdict.detector,
        reporting_mta: reporting_mta.as_deref(),
        notification: Some(msg.body_text()),
        command: verdict.smtp_command.as_deref(),
    };
    for r in &mut verdict.recipients {
        crate::reason::interpret(r, &hints);
        let not_failed = matches!(
            r.action,
            Some(Action::Delayed | Action::Delivered | Action::Relayed | Action::Expanded)
        );
        if (verdict.kind != Kind::Bounce || not_failed) && r.hard == Some(true) {
            r.hard = None;
            r.evidence
                .push("not hard: the message is not a failure report".into());
        }
    }
}

/// The VERP-decoded recipient from the envelope, else from the message's own
/// Delivered-To / X-Original-To / To (in that order).
pub fn verp_recipient(msg: &Message, ctx: &Context) -> Option<(String, String)> {
    let sep = ctx.verp;
    if let Some(a) = ctx
        .recipient
        .as_deref()
        .and_then(|r| crate::verp::decode(r, sep))
    {
        return Some((a, "envelope recipient".into()));
    }
    if let Some(a) = ctx
        .original_recipient
        .as_deref()
        .and_then(|r| crate::verp::decode(r, sep))
    {
        return Some((a, "envelope original recipient".into()));
    }
    if let Some(a) = ctx
        .extension
        .as_deref()
        .and_then(|e| crate::verp::decode_detail(e, sep))
    {
        return Some((a, "envelope extension".into()));
    }
    // `-a` may carry only the detail (Sendmail's `$h`).
    if let Some(a) = ctx
        .recipient
        .as_deref()
        .filter(|r| !r.contains('@'))
        .and_then(|r| crate::verp::decode_detail(r, sep))
    {
        return Some((a, "envelope detail".into()));
    }
    let decode = |value: &str| arf::first_address(value).and_then(|a| crate::verp::decode(&a, sep));
    // What the local MTA says it delivered to comes first.
    for name in ["delivered-to", "x-original-to"] {
        if let Some(a) = msg.headers_named(name).find_map(decode) {
            return Some((a, format!("VERP address in {name}")));
        }
    }
    // The return path the reported message was sent with: an ARF report's
    // Original-Mail-From (RFC 5965 section 3.2), the returned message's Return-Path.
    let mail_from = msg
        .parts_of("message/feedback-report")
        .flat_map(|p| fields::parse_groups(&p.text))
        .flatten()
        .find(|(n, _)| n == "original-mail-from")
        .map(|(_, v)| v);
    if let Some(a) = mail_from.as_deref().and_then(decode) {
        return Some((a, "VERP address in Original-Mail-From".into()));
    }
    if let Some(a) = msg.returned_header("return-path").and_then(decode) {
        return Some((
            a,
            "VERP address in the returned message's Return-Path".into(),
        ));
    }
    if let Some(a) = msg.headers_named("to").find_map(decode) {
        return Some((a, "VERP address in To".into()));
    }
    None
}

/// A reported address that stands for nobody: empty, no domain, or masked by the reporter
/// (RFC 6650 redaction: `redacted@`, `xxxxx@`, `***@`, a long hex hash).
fn is_redacted(a: &str) -> bool {
    let Some((local, domain)) = a.rsplit_once('@') else {
        return true;
    };
    if local.is_empty() || domain.is_empty() {
        return true;
    }
    let l = local.to_ascii_lowercase();
    l == "redacted"
        || l.chars().all(|c| matches!(c, 'x' | '*' | '#' | '.'))
        || (l.len() >= 32 && l.chars().all(|c| c.is_ascii_hexdigit()))
}

fn apply_verp(verdict: &mut Verdict, msg: &Message, ctx: &Context) {
    if !matches!(
        verdict.kind,
        Kind::Bounce | Kind::Delayed | Kind::Delivered | Kind::Complaint
    ) {
        return;
    }
    let Some((verp, source)) = verp_recipient(msg, ctx) else {
        return;
    };
    if verdict.recipients.is_empty() {
        let mut r = Recipient {
            address: verp,
            ..Recipient::default()
        };
        if verdict.kind == Kind::Complaint {
            r.reason = Some(Reason::Feedback);
            r.hard = Some(false);
        }
        r.evidence.push(format!("recipient from the {source}"));
        verdict.recipients.push(r);
        return;
    }
    let single = verdict.recipients.len() == 1;
    for r in &mut verdict.recipients {
        if r.address == verp {
            continue;
        }
        if is_redacted(&r.address) {
            r.evidence.push(format!(
                "reported address {} redacted; recipient from the {source}",
                r.address
            ));
            r.address = verp.clone();
        } else if single && r.original.is_none() {
            r.original = Some(verp.clone());
            r.evidence.push(format!("original from the {source}"));
        }
    }
}
