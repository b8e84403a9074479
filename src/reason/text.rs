//! Diagnostic phrases that state a bounce reason, one table per reason of corpus REASONS.md.
//! The reason layer lower-cases the diagnostic once (whitespace runs folded to one space)
//! and asks each table in the order of `TABLES`: the first table with a matching phrase
//! wins. The order puts the reasons about the *sender* (authentication, reverse DNS,
//! reputation, block lists, spam, policy) before those about the *recipient's mailbox*, so
//! that "550 5.1.1 ... listed at Spamhaus" is read as a block and never suppresses a good
//! address; "mailbox full" comes before "user unknown" for the same reason.
//!
//! A phrase is a lower-case literal; a ` * ` inside it stands for up to 64 bytes of any text
//! (`"host * not found"`). Reply codes that prefix the continuation lines of a multi-line
//! SMTP reply are folded away first, so a phrase broken across reply lines still matches.
//! Each table is sorted; each line says where the phrase was seen (a corpus file, an MTA or
//! provider whose wording it is, or an RFC).

use super::phrases::Set;
use crate::classify::verdict::Reason;
use std::sync::OnceLock;

/// `(reason, phrases)` in decision order.
pub const TABLES: &[(Reason, &[&str])] = &[
    (Reason::HostUnknown, UNROUTABLE_NOTICES),
    (Reason::AuthFailure, AUTHFAILURE),
    (Reason::RequirePtr, REQUIREPTR),
    (Reason::BadReputation, BADREPUTATION),
    (Reason::Speeding, SPEEDING),
    (Reason::TooManyConn, TOOMANYCONN),
    (Reason::NoRelaying, NORELAYING),
    (Reason::VirusDetected, VIRUSDETECTED),
    (Reason::SpamDetected, SPAMDETECTED),
    (Reason::Rejected, REJECTED),
    (Reason::Blocked, BLOCKED),
    (Reason::SecurityError, SECURITYERROR),
    (Reason::NotCompliantRfc, NOTCOMPLIANTRFC),
    (Reason::ContentError, CONTENTERROR),
    (Reason::PolicyViolation, POLICYVIOLATION),
    (Reason::HasMoved, HASMOVED),
    (Reason::Suspend, SUSPEND),
    (Reason::MailboxFull, MAILBOXFULL),
    (Reason::ExceedLimit, EXCEEDLIMIT),
    (Reason::MesgTooBig, MESGTOOBIG),
    (Reason::MailerError, MAILERERROR),
    (Reason::NotAccept, NOTACCEPT),
    (Reason::NetworkError, NETWORKERROR_DNS),
    (Reason::HostUnknown, HOSTUNKNOWN),
    (Reason::Filtered, FILTERED),
    (Reason::UserUnknown, USERUNKNOWN),
    (Reason::SystemFull, SYSTEMFULL),
    (Reason::SystemError, SYSTEMERROR),
    (Reason::NetworkError, NETWORKERROR),
    (Reason::Expired, EXPIRED),
    (Reason::SyntaxError, SYNTAXERROR),
];

/// Whole notices of widespread MTA configurations that mean an unroutable domain while
/// listing causes they do not mean (a block list, say): read before every other table.
const UNROUTABLE_NOTICES: &[&str] = &[
    // cPanel's Exim `cannot_route_message`: the router found no host for the domain (a DNS
    // failure that is only temporary makes Exim defer, not fail). Seen in lhost-exim-31.eml.
    "the account or domain may not exist, they may be blacklisted, or missing the proper dns entries",
];

/// SPF, DKIM, DMARC or ARC checks of the sender failed.
const AUTHFAILURE: &[&str] = &[
    "authentication checks",    // seen in lhost-sendmail-59.eml (Gmail)
    "bad spf records",          // seen in lhost-exim-29.eml
    "dkim check failed",        // common Postfix milter text (OpenDKIM)
    "dkim verification failed", // common rspamd/amavis text
    "dmarc check failed",       // seen in rhost-tencent-03.eml
    "dmarc policy",             // seen in lhost-postfix-71.eml, lhost-sendmail-58.eml
    "dmarc verification",       // seen in rhost-microsoft-04.eml
    "does not have authentication information", // seen in lhost-sendmail-59.eml (Gmail, first line)
    "doesn't meet the required authentication level", // seen in rhost-microsoft-06.eml
    "fails to pass spf",        // seen in lhost-sendmail-60.eml
    "is not allowed to send from", // seen in lhost-office365-03.eml
    "not allowed to send mail from", // common SPF rejection wording
    "per dmarc policy",         // seen in lhost-postfix-73.eml
    "sender is unauthenticated", // Gmail wording
    "sender policy framework", // MessageLabs "553-SPF (Sender Policy Framework) domain authentication fail"
    "spf check failed",        // common policyd-spf text
    "spf validation",          // RFC 7372 wording of 5.7.23 / 5.7.24
    "unauthenticated email",   // seen in lhost-qmail-14.eml (Gmail)
];

/// The sending IP address has no (or a mismatching) reverse DNS name.
const REQUIREPTR: &[&str] = &[
    "cannot find your hostname", // Postfix reject_unknown_client_hostname
    "cannot find your reverse hostname", // Postfix reject_unknown_reverse_client_hostname
    "dns ptr",                   // seen in lhost-postfix-60.eml
    "does not have a ptr record", // seen in rhost-google-06.eml
    "ip name lookup failed",     // seen in lhost-sendmail-08.eml
    "mismatches client ip",      // seen in lhost-outlook-09.eml
    "no ptr record",             // seen in lhost-exim-32.eml
    "ptr record",                // seen in lhost-exim-33.eml
    "rdns",                      // seen in lhost-exim-40.eml
    "reverse dns",               // seen in lhost-exim-34.eml, lhost-exim-42.eml
    "servers without a valid sender", // seen in lhost-exim-43.eml
    "unverifiable sending ip",   // common spelling of the text of lhost-exim-38.eml
    "unverifyable sending ip",   // seen in lhost-exim-38.eml
];

/// The reputation of the sending IP address or domain is poor.
const BADREPUTATION: &[&str] = &[
    "bad reputation",                       // common wording
    "due to ip reputation",                 // seen in rhost-microsoft-05.eml
    "low reputation",                       // common wording
    "poor reputation",                      // common wording
    "sender reputation",                    // common wording
    "unexpected volume or user complaints", // seen in lhost-opensmtpd-13.eml (Yahoo TSS04)
];

/// Too many messages too fast from this sender.
const SPEEDING: &[&str] = &[
    "has sent to too many recipients", // seen in rhost-godaddy-03.eml
    "receiving mail at a rate",        // seen in lhost-postfix-59.eml (Gmail)
    "sending limit exceeded",          // common wording
    "sending quota exceeded",          // Gmail "Daily user sending quota exceeded"
    "sending rate",                    // common wording
];

/// Too many connections or recipients at once.
const TOOMANYCONN: &[&str] = &[
    "connection frequency limited", // seen in rhost-tencent-02.eml
    "connection rate limit",        // seen in lhost-postfix-09.eml
    "ip frequency limited",         // seen in rhost-tencent-01.eml
    "too many concurrent",          // common wording
    "too many connections",         // common wording
    "too many recipients",          // seen in lhost-postfix-55.eml
    "too many simultaneous",        // common wording
];

/// The contacted server is not the recipient's and does not relay.
const NORELAYING: &[&str] = &[
    "insecure mail relay",                   // seen in lhost-v5sendmail-06.eml
    "isn't in my list of allowed rcpthosts", // qmail-smtpd (#5.7.1)
    "no relaying",                           // seen in lhost-dragonfly-15.eml
    "not configured to relay",               // seen in lhost-postfix-44.eml
    "not permitted to relay",                // common wording
    "relay access denied",                   // seen in lhost-sendmail-07.eml (Postfix)
    "relay not permitted",                   // common Exim/Exchange wording
    "relaying denied",                       // Sendmail "Relaying denied"
    "relaying not allowed",                  // common wording
    "unable to relay",                       // seen in lhost-mimecast-02.eml (Exchange 5.7.54)
    "we do not relay",                       // common wording
];

/// A virus or other malware was found in the message.
const VIRUSDETECTED: &[&str] = &[
    "infected", // common wording
    "malware",  // common wording
    "virus",    // seen in lhost-dragonfly-25.eml
];

/// The message was judged to be spam.
const SPAMDETECTED: &[&str] = &[
    "- spam",                   // seen in lhost-amavis-03.eml
    "blacklisted url",          // seen in lhost-imailserver-06.eml
    "classified as spam",       // common wording
    "considered spam",          // common wording
    "detected as spam",         // common wording
    "flagged as spam",          // seen in rhost-zoho-03.eml
    "identified as spam",       // common wording
    "likely unsolicited mail",  // Gmail wording
    "looks like spam",          // common wording
    "message content rejected", // seen in lhost-barracuda-01.eml, lhost-sendmail-38.eml
    "rejected as spam",         // common wording
    "scored as spam",           // seen in lhost-postfix-39.eml
    "spam classification",      // seen in rfc3464-61.eml (Google Groups)
    "spam content",             // common wording
    "spam detected",            // seen in lhost-dragonfly-20.eml
    "spam message",             // common wording
    "spam score",               // common wording
    "uribl",                    // seen in lhost-imailserver-06.eml
];

/// The sending host is refused as such (block list, policy on connection).
const BLOCKED: &[&str] = &[
    "banned sending ip",                     // seen in rhost-microsoft-01.eml
    "blacklisted",                           // seen in lhost-sendmail-33.eml
    "block list",                            // seen in lhost-exim-54.eml
    "blocked for spam",                      // seen in rhost-franceptt-06.eml
    "blocked using", // seen in lhost-amazonses-14.eml (Postfix reject_rbl_client)
    "blocklist",     // common wording
    "but my name was rejected", // seen in lhost-qmail-04.eml
    "client host blocked", // seen in rhost-franceptt-06.eml
    "connection refused", // seen in lhost-sendmail-21.eml
    "connection rejected by policy", // MessageLabs "501 Connection rejected by policy"
    "dnsbl",         // seen in lhost-amazonses-16.eml
    "helo command rejected", // Postfix smtpd_helo_restrictions
    "is on our block", // common wording
    "listed in spamhaus", // seen in lhost-postfix-80.eml
    "not accepting connections", // seen in lhost-sendmail-56.eml
    "not authorized to send email directly", // Gmail wording for an unauthorized sending IP
    "not in whitelist", // Google Workspace "IP not in whitelist for RCPT domain"
    "open relay",    // seen in lhost-v5sendmail-07.eml
    "permanently deferred", // Yahoo TS03 wording
    "refused to talk to me", // seen in lhost-postfix-49.eml (Postfix on a refused greeting)
    "smtp server of your isp", // seen in lhost-exim-01.eml
    "spamcop",       // common block list
    "spamhaus",      // seen in lhost-postfix-80.eml
    "unusual rate of unsolicited mail", // Gmail wording
];

/// The envelope sender (MAIL FROM address or domain) was refused.
const REJECTED: &[&str] = &[
    "can't determine purported responsible address", // seen in lhost-courier-03.eml
    "domain of sender address",                      // seen in lhost-postfix-10.eml (Sendmail)
    "from: domain is invalid",                       // seen in lhost-exim-45.eml (GoDaddy)
    "invalid sender",                                // common wording
    "not a member of this",                          // seen in lhost-fml-02.eml
    "sender address does not exist",                 // common wording
    "sender address rejected",                       // seen in lhost-yahoo-12.eml (Postfix)
    "sender domain does not exist",                  // common wording
    "sender rejected",                               // seen in rhost-spectrum-01.eml
    "sender verification failed",                    // common wording
    "sender verify failed",                          // Exim sender verification
    "sending to/from an address",                    // seen in lhost-exim-57.eml
    "unroutable sender",                             // common wording
];

/// A security requirement (SMTP AUTH, TLS) was not met.
const SECURITYERROR: &[&str] = &[
    "authentication required",             // common wording (RFC 4954 530 text)
    "delivery not authorized",             // seen in lhost-dragonfly-19.eml
    "does not support tls",                // seen in lhost-gmail-07.eml
    "encryption required",                 // RFC 5248 wording
    "must issue a starttls",               // common Postfix/Gmail wording
    "smtp authentication",                 // seen in rhost-messagelabs-01.eml
    "tls required",                        // common wording
    "unauthenticated senders not allowed", // seen in lhost-postfix-65.eml
];

/// The message breaks the message-format RFCs.
const NOTCOMPLIANTRFC: &[&str] = &[
    "missing a valid message-id", // Gmail wording
    "multiple addresses in from", // seen in lhost-postfix-29.eml (Gmail)
    "not rfc 5322 compliant",     // Gmail wording
    "rfc 5322",                   // common wording
    "rfc5322",                    // common wording
];

/// The content, MIME structure or headers were unacceptable.
const CONTENTERROR: &[&str] = &[
    "8-bit data",        // seen in lhost-sendmail-06.eml
    "duplicate header",  // seen in lhost-postfix-78.eml
    "headers too large", // seen in lhost-sendmail-44.eml
    "invalid mime",      // common wording
    "media error",       // seen in lhost-dragonfly-07.eml
];

/// A local rule of the receiver other than spam.
const POLICYVIOLATION: &[&str] = &[
    "administrative prohibition",                  // Exim default ACL denial
    "content presents a potential", // seen in lhost-sendmail-34.eml (Gmail, first line only)
    "content presents a potential security issue", // seen in lhost-sendmail-31.eml (Gmail)
    "does not allow external forwarding", // Exchange Online 5.7.520
    "header error",                 // seen in lhost-exim-03.eml, lhost-sendmail-09.eml
    "host network not allowed",     // seen in rhost-mimecast-01.eml
    "local policy",                 // common wording
    "message not allowed",          // seen in lhost-postfix-68.eml
    "policy reasons",               // seen in lhost-postfix-69.eml, rfc3464-03.eml
    "policy violation",             // seen in lhost-postfix-51.eml
    "protocol violation",           // seen in lhost-postfix-41.eml
    "security policies",            // seen in rhost-mimecast-02.eml
];

/// The recipient moved to another address.
const HASMOVED: &[&str] = &[
    "has moved",           // common wording
    "no longer on server", // seen in lhost-postfix-16.eml
    "not our user",        // seen in lhost-sendmail-17.eml
];

/// The mailbox exists but is disabled or inactive.
const SUSPEND: &[&str] = &[
    "account disabled",          // seen in lhost-dragonfly-21.eml
    "account has been disabled", // seen in lhost-x2-02.eml
    "account is disabled",       // seen in lhost-ezweb-03.eml
    "account is inactive",       // common wording
    "account suspended",         // common wording (not Postfix's "delivery temporarily suspended")
    "disabled recipient",        // seen in lhost-sendmail-35.eml
    "has been suspended",        // common wording
    "inactive email address",    // Apple iCloud wording
    "is inactive",               // seen in rhost-google-07.eml
    "is no longer in use",       // seen in rfc3834-06.eml
    "mailbox disabled",          // RFC 3463 wording of 5.2.1
    "mailbox is disabled",       // common wording
    "mailbox suspended",         // common wording
    "temporarily locked",        // common spelling of the above
    "temporary locked",          // seen in lhost-amazonses-19.eml
];

/// The recipient's mailbox is over its quota.
const MAILBOXFULL: &[&str] = &[
    "error writing message: file too large", // Postfix local(8) mailbox_size_limit
    "exceeded * quota",                      // "mailbox has exceeded its quota"
    "exceeded the local limit",              // seen in lhost-biglobe-01.eml
    "exceeds allowed size",                  // seen in lhost-imailserver-02.eml
    "inbox is full",                         // common wording
    "mailbox full",                          // seen in lhost-opensmtpd-02.eml
    "mailbox is full",                       // seen in lhost-kddi-01.eml, rfc3464-38.eml
    "not enough disk space",                 // seen in rfc3464-01.eml
    "out of storage space",                  // seen in rhost-google-05.eml
    "over quota",             // seen in lhost-x2-04.eml, lhost-messagingserver-12.eml
    "over the allowed quota", // qmail/vpopmail (#5.2.2)
    "quota * exceeded",       // "quota has been exceeded"
    "quota exceeded",         // seen in rfc3464-09.eml
    "quota reached",          // common wording
    "storage quota",          // seen in lhost-gmail-19.eml
];

/// The message is larger than this recipient's limit.
const EXCEEDLIMIT: &[&str] = &[
    "exceeds administrative limit", // RFC 3463 wording of X.2.3, seen in lhost-dragonfly-08.eml
    "exceeds limit set by recipient", // seen in lhost-receivingses-08.eml
];

/// The message is larger than the system accepts.
const MESGTOOBIG: &[&str] = &[
    "exceeds size limit", // Postfix "message size N exceeds size limit N of server"
    "message size exceeds maximum", // Exim wording
    "message too big",    // common wording
    "message too large",  // seen in lhost-receivingses-05.eml
    "size limit exceeded", // seen in lhost-einsundeins-02.eml
];

/// The final delivery program on the receiving host failed.
const MAILERERROR: &[&str] = &[
    "command died with status",    // Postfix local(8) pipe failure
    "command time limit exceeded", // Postfix pipe(8)/local(8)
    "operating system error",      // seen in lhost-sendmail-55.eml
    "pipe to |",                   // seen in lhost-exim-53.eml
    "procmail",                    // seen in lhost-postfix-01.eml, rfc3464-04.eml
];

/// The destination takes no mail at all (null MX, no MX).
const NOTACCEPT: &[&str] = &[
    "couldn't find a mail exchanger", // seen in lhost-qmail-12.eml
    "does not accept mail",           // seen in lhost-messagingserver-10.eml
    "doesn't receive email",          // seen in rfc3464-52.eml (Gmail null MX)
    "indicated no smtp service",      // seen in lhost-mailru-05.eml (Exim)
    "no mx found",                    // seen in lhost-opensmtpd-12.eml
    "no mx record",                   // seen in lhost-yahoo-09.eml
    "null mx",                        // RFC 7505
];

/// Temporary name service failures: looked up before the unknown-host phrases.
const NETWORKERROR_DNS: &[&str] = &[
    "host not found, try again", // seen in lhost-postfix-34.eml
    "malformed or unexpected name server reply", // seen in lhost-postfix-17.eml
];

/// The recipient's domain does not exist or cannot be routed.
const HOSTUNKNOWN: &[&str] = &[
    "couldn't find any host named",           // qmail-remote (#5.1.2)
    "domain does not exist",                  // seen in lhost-opensmtpd-03.eml
    "domain is not reachable",                // seen in lhost-outlook-03.eml
    "host * not found",                       // seen in lhost-dragonfly-04.eml
    "host or domain name not found",          // seen in lhost-postfix-06.eml
    "host unknown",                           // seen in lhost-sendmail-15.eml
    "illegal host/domain name",               // seen in lhost-messagingserver-05.eml
    "invalid domain",                         // seen in lhost-amazonses-18.eml
    "mx records point to non-existent hosts", // Exim wording
    "no such domain",                         // seen in lhost-courier-04.eml
    "recipient address rejected: domain not found", // Postfix reject_unknown_recipient_domain
    "unknown host",                           // common wording
    "unrouteable address",                    // seen in lhost-mailru-06.eml (Exim)
];

/// The mailbox (local part) does not exist.
const USERUNKNOWN: &[&str] = &[
    "account that you tried to reach does not exist", // seen in lhost-postfix-31.eml (Gmail)
    "address couldn't be found",                      // seen in rfc3464-65.eml (Gmail)
    "address does not exist",                         // seen in rhost-facebook-04.eml
    "address unknown",                                // common wording
    "invalid final delivery userid",                  // seen in lhost-imailserver-03.eml (IMail)
    "invalid mailbox",                                // common wording
    "invalid recipient",                              // common wording
    "mailbox does not exist",                         // seen in lhost-receivingses-01.eml
    "mailbox not found",                              // seen in lhost-v5sendmail-05.eml
    "mailbox unavailable", // RFC 5321 550 text, seen in lhost-zoho-03.eml
    "mailbox unknown",     // common wording
    "no mailbox here by that name", // qmail-send
    "no such mailbox",     // common wording
    "no such recipient",   // common wording
    "no such user",        // seen in lhost-verizon-02.eml
    "not a valid mailbox", // common wording
    "not listed in domino directory", // seen in lhost-domino-01.eml
    "not listed in public name & address book", // seen in lhost-notes-03.eml
    "recipient address rejected: access denied", // Exchange Online directory-based edge blocking, Postfix access(5); seen in lhost-exim-30.eml
    "recipient name is not recognized",          // seen in lhost-exchange2003-02.eml
    "recipient not found",                       // seen in rhost-microsoft-03.eml
    "recipient unknown",                         // common wording
    "recipientnotfound",                         // seen in rhost-microsoft-03.eml
    "recipnotfound",                             // seen in lhost-exchange2007-01.eml
    "unknown local part",                        // Exim
    "unknown local-part",                        // Exim "unknown local-part \"x\" in domain"
    "unknown recipient",                         // common wording
    "unknown user",                              // seen in lhost-mcafee-01.eml
    "user does not exist",                       // common wording
    "user doesn't exist",                        // common wording
    "user doesn't have a", // seen in lhost-x2-01.eml (Yahoo/qmail "doesn't have a ... account")
    "user not exist",      // seen in lhost-mcafee-05.eml
    "user not found",      // seen in lhost-postfix-76.eml
    "user unknown",        // seen in lhost-postfix-02.eml
    "ディレクトリには見つかりません", // seen in lhost-domino-02.eml ("not found in the Domino directory")
    "ディレクトリのリストにありません", // seen in lhost-notes-02.eml ("not in the directory list")
];

/// Unknown-mailbox phrases too generic to prove anything without an X.1.x status: RFC
/// 5321's 550 text covers "mailbox not found, no access, or command rejected for policy
/// reasons". Sorted.
pub const NEEDS_ADDRESS_CODE: &[&str] = &[
    "mailbox unavailable", // RFC 5321 550 text
];

/// Refusals that name the recipient address as what is refused, so a policy (X.7.x) code
/// beside them does not make them about the message or the sender. Sorted.
const ADDRESS_REFUSALS: &[&str] = &[
    "recipient address rejected: access denied", // seen in lhost-exim-30.eml (554 5.7.1)
];

/// Whether `text` holds a refusal of the recipient address itself (see `ADDRESS_REFUSALS`).
pub fn is_address_refusal(text: &str) -> bool {
    ADDRESS_REFUSALS.iter().any(|p| text.contains(p))
}

/// Unknown-mailbox verdicts written by the recipient's own mail system after a lookup in its
/// directory (not a relayed SMTP reply whose stage is unknown): proof on their own.
pub const DIRECTORY: &[&str] = &[
    "invalid final delivery userid", // seen in lhost-imailserver-03.eml (IMail)
    "mail.local: unknown user",      // seen in rfc3464-06.eml (Sendmail local mailer)
    "not listed in domino directory", // seen in lhost-domino-01.eml
    "not listed in public name & address book", // seen in lhost-notes-03.eml
    "recipient name is not recognized", // seen in lhost-exchange2003-02.eml
    "recipientnotfound",             // seen in rhost-microsoft-03.eml (Exchange RESOLVER.ADR)
    "recipnotfound",                 // seen in lhost-exchange2007-01.eml (Exchange RESOLVER.ADR)
    "ディレクトリには見つかりません", // seen in lhost-domino-02.eml ("not found in the Domino directory")
    "ディレクトリのリストにありません", // seen in lhost-notes-02.eml ("not in the directory list")
];

/// The recipient exists but a filter refused the message.
const FILTERED: &[&str] = &[
    " : user unknown", // seen in rhost-kddi-01.eml, lhost-yahoo-06.eml: no address named, the answer of a filter after DATA (au/KDDI)
    "content filter",  // common wording
    "rejected by recipient", // common wording
];

/// The receiving system itself is out of space.
const SYSTEMFULL: &[&str] = &[
    "disk full",                   // common wording
    "insufficient disk space",     // seen in lhost-sendmail-39.eml
    "insufficient system storage", // RFC 5321 452 text
    "out of disk space",           // common wording
];

/// The receiving system failed internally.
const SYSTEMERROR: &[&str] = &[
    "could not load",                // seen in lhost-postfix-40.eml
    "insufficient permission",       // seen in lhost-sendmail-13.eml
    "internal error",                // common wording
    "internal system error",         // seen in lhost-amazonworkmail-03.eml
    "local configuration error",     // common Sendmail/Exim wording
    "service currently unavailable", // seen in lhost-surfcontrol-02.eml
    "system error",                  // common wording
    "transaction failed",            // seen in lhost-postfix-47.eml
    "unable to contact ldap",        // seen in lhost-qmail-05.eml
    "upstream error",                // seen in rhost-cloudflare-01.eml
];

/// Network trouble: routing loops, unreachable hosts, DNS failures.
const NETWORKERROR: &[&str] = &[
    "dns error",                                   // seen in rfc3464-53.eml (Gmail)
    "forwarding loop",                             // Postfix "mail forwarding loop for"
    "hop count exceeded",                          // seen in lhost-domino-03.eml
    "lookup failure",                              // seen in lhost-sendmail-11.eml
    "loops back to me",                            // Sendmail/Postfix MX misconfiguration
    "lost connection",                             // seen in lhost-postfix-56.eml
    "mail loop",                                   // common wording
    "message is looping",                          // qmail (#5.4.6)
    "network error",                               // seen in lhost-opensmtpd-04.eml
    "no route to host",                            // seen in rfc3464-34.eml
    "routing loop",                                // seen in lhost-domino-03.eml
    "too many hops",                               // common wording
    "wasn't able to establish an smtp connection", // seen in lhost-qmail-07.eml
];

/// The message stayed queued too long and was (or is about to be) given up.
const EXPIRED: &[&str] = &[
    "all hosts have been failing",            // seen in lhost-exim-08.eml
    "cannot send message for",                // Sendmail final expiry
    "could not deliver for the last",         // seen in lhost-dragonfly-29.eml
    "could not send message for past",        // Sendmail delay warning
    "delivery failed * attempts",             // seen in lhost-imailserver-04.eml
    "did not accept our requests to connect", // seen in rhost-gsuite-07.eml
    "envelope expired",                       // seen in lhost-opensmtpd-05.eml
    "has been delayed",                       // seen in lhost-gmail-08.eml, lhost-outlook-06.eml
    "host not reachable",                     // seen in lhost-zoho-05.eml
    "in the queue too long",                  // seen in lhost-x2-05.eml (qmail)
    "message expired",                        // seen in lhost-office365-08.eml
    "multiple retries",                       // seen in lhost-yahoo-13.eml
    "not delivered within",                   // seen in lhost-ezweb-05.eml
    "retry time not reached",                 // Exim wording
    "retry timeout exceeded",                 // seen in lhost-exim-06.eml
    "timed out",                              // seen in lhost-postfix-08.eml
    "unable to connect successfully",         // seen in lhost-outlook-07.eml
    "unable to deliver this message after",   // seen in lhost-messagingserver-07.eml
    "was aborted after", // seen in lhost-x3-02.eml ("... was aborted after 5.0 hour(s)")
];

/// A malformed or out-of-sequence SMTP command.
const SYNTAXERROR: &[&str] = &[
    "bad sequence of commands",          // RFC 5321 503 text
    "command parameter not implemented", // seen in lhost-postfix-53.eml
    "command unrecognized",              // RFC 5321 500 text
    "improper sequence of commands",     // seen in rfc3464-29.eml
    "malformed address",                 // seen in lhost-exim-52.eml
    "syntax error",                      // RFC 5321 500/501 text
];

/// Whether `text` names a failure of the address itself (unknown user, unknown host,
/// moved, no mail accepted), whichever table would otherwise decide.
pub fn states_address_failure(text: &str) -> bool {
    static SET: OnceLock<Set> = OnceLock::new();
    SET.get_or_init(|| {
        Set::new(&[
            USERUNKNOWN,
            HOSTUNKNOWN,
            UNROUTABLE_NOTICES,
            HASMOVED,
            NOTACCEPT,
        ])
    })
    .any(text)
}

/// Whether `text` holds a directory verdict (see `DIRECTORY`).
pub fn is_directory_verdict(text: &str) -> bool {
    DIRECTORY.iter().any(|p| text.contains(p))
}

/// Whether `text` (already lower-cased, whitespace folded) contains `phrase`, where ` * `
/// in the phrase matches any text in between.
pub fn contains(text: &str, phrase: &str) -> bool {
    if !phrase.contains(" * ") {
        return text.contains(phrase);
    }
    // Each gap is at most `GAP` bytes: the parts must belong to one statement.
    const GAP: usize = 64;
    let parts: Vec<&str> = phrase.split(" * ").collect();
    let first = format!("{} ", parts[0]);
    let mut from = 0;
    while let Some(at) = text[from..].find(first.as_str()) {
        let start = from + at + first.len();
        let mut rest = &text[start..];
        let mut ok = true;
        for part in &parts[1..] {
            let needle = format!(" {part}");
            match rest.find(needle.as_str()) {
                Some(gap) if gap <= GAP => rest = &rest[gap + needle.len()..],
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            return true;
        }
        from = start;
    }
    false
}

/// The first table (in decision order) holding a phrase found in `text`, all tables read
/// in one pass (`super::phrases`).
pub fn find(text: &str) -> Option<(Reason, &'static str)> {
    static SET: OnceLock<Set> = OnceLock::new();
    let set = SET.get_or_init(|| Set::new(&TABLES.iter().map(|t| t.1).collect::<Vec<_>>()));
    let (table, phrase) = set.first(text)?;
    TABLES.get(table).map(|t| (t.0, phrase))
}

/// The diagnostic lower-cased with every whitespace run folded to one space, and the reply
/// codes that prefix the continuation lines of a multi-line SMTP reply dropped
/// (`... with multiple 550 5.7.1 addresses in from: ...`, seen in lhost-postfix-29.eml), so
/// that phrases broken across reply lines still match.
pub fn normalize(diagnostic: &str) -> String {
    let words: Vec<&str> = diagnostic.split_whitespace().collect();
    let mut out = String::with_capacity(diagnostic.len());
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let inner = i > 0
            && words[i - 1]
                .chars()
                .last()
                .is_some_and(|c| c.is_alphanumeric() || c == ',');
        if inner && is_continuation(w) {
            i += 1;
            continue;
        }
        if inner
            && is_reply(w)
            && words
                .get(i + 1)
                .is_some_and(|n| super::status::Code::parse(n).is_some())
        {
            i += 2;
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        if w.is_ascii() {
            // The same as below, without decoding and mapping every character.
            let start = out.len();
            out.push_str(w);
            out[start..].make_ascii_lowercase();
        } else {
            out.extend(w.chars().flat_map(char::to_lowercase));
        }
        i += 1;
    }
    out
}

/// `550` (a bare reply code).
fn is_reply(w: &str) -> bool {
    let b = w.as_bytes();
    b.len() == 3 && matches!(b[0], b'2' | b'4' | b'5') && b.iter().all(u8::is_ascii_digit)
}

/// `550-5.7.1` or `550-` (a continuation line's prefix), not `550-'unknown`.
fn is_continuation(w: &str) -> bool {
    match (w.get(..3), w.as_bytes().get(3), w.get(4..)) {
        (Some(code), Some(b'-'), Some(rest)) => {
            is_reply(code) && (rest.is_empty() || super::status::Code::parse(rest).is_some())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_lower_case_and_unique() {
        let directory = [(Reason::UserUnknown, DIRECTORY)];
        for (reason, phrases) in TABLES.iter().chain(directory.iter()) {
            for w in phrases.windows(2) {
                assert!(
                    w[0] < w[1],
                    "{reason:?}: {:?} must sort before {:?}",
                    w[0],
                    w[1]
                );
            }
            for p in *phrases {
                assert_eq!(*p, p.to_lowercase(), "{reason:?}: {p:?} must be lower-case");
                assert!(!p.ends_with(' ') && !p.is_empty(), "{reason:?}: {p:?}");
            }
        }
    }

    #[test]
    fn wildcard_phrases() {
        assert!(contains(
            "dns lookup failure: host mx.example.org not found",
            "host * not found"
        ));
        assert!(!contains("host not found, try again", "host * not found"));
        assert!(contains(
            "delivery failed 20 attempts",
            "delivery failed * attempts"
        ));
    }

    #[test]
    fn sender_side_beats_mailbox_phrases() {
        let t = normalize("550 5.1.1 User unknown; client listed in Spamhaus");
        assert_eq!(find(&t).map(|f| f.0), Some(Reason::Blocked));
        let t = normalize("552 5.1.1 Mailbox full or user unknown");
        assert_eq!(find(&t).map(|f| f.0), Some(Reason::MailboxFull));
    }

    #[test]
    fn normalizes_whitespace_and_case() {
        assert_eq!(normalize("  550  User\r\n\tUnknown "), "550 user unknown");
        assert_eq!(
            normalize(
                "550-5.7.1 [192.0.2.1 13] Messages with multiple 550 5.7.1 addresses in From:"
            ),
            "550-5.7.1 [192.0.2.1 13] messages with multiple addresses in from:"
        );
        assert_eq!(
            normalize("said: 550 5.1.1 user unknown"),
            "said: 550 5.1.1 user unknown"
        );
        assert_eq!(
            normalize("the user you are trying to contact is 550-5.2.1 receiving mail"),
            "the user you are trying to contact is receiving mail"
        );
    }
}
