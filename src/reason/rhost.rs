//! Provider rules: codes and texts whose meaning at one provider differs from (or is more
//! precise than) their general use. A rule names the provider's hosts (matched against the
//! remote MTA, the reporting MTA and the recipient's domain) and what to look for: a phrase
//! of the provider's own vocabulary, or an enhanced status code the provider defines for
//! itself (Microsoft's three-digit details such as 5.7.606, which no one else emits, need no
//! host). Provider rules outrank the general phrase tables of `text.rs`.

use super::status::Code;
use crate::classify::verdict::Reason;

/// What a rule looks for.
#[derive(Debug, Clone, Copy)]
enum Needle {
    /// A lower-case phrase in the diagnostic.
    Phrase(&'static str),
    /// An enhanced status code `subject.detail` (either class).
    Status(&'static str),
    /// Spectrum's `AUP#<letters>-NNNN` error number, within an inclusive range.
    Aup(u16, u16),
}

struct Rule {
    provider: &'static str,
    /// Host or domain fragments; empty means the needle is the provider's alone.
    hosts: &'static [&'static str],
    needle: Needle,
    reason: Reason,
}

const AMAZON_SES_IN: &[&str] = &["inbound-smtp."];
const AMAZON_SES_OUT: &[&str] = &["email-smtp.", "amazonses.com"];
const APPLE: &[&str] = &["icloud.com", "me.com", "mac.com", "apple.com"];
const COX: &[&str] = &["cox.net"];
const FACEBOOK: &[&str] = &["facebook.com", "fb.com"];
const FRANCEPTT: &[&str] = &["orange.fr", "wanadoo.fr", "laposte.net"];
const GODADDY: &[&str] = &["secureserver.net"];
const GOOGLE: &[&str] = &["google.com", "gmail.com", "googlemail.com"];
const KDDI: &[&str] = &["ezweb.ne.jp", "au.com", "auone-net.jp", "uqmobile.jp"];
const LAPOSTE: &[&str] = &["laposte.net"];
const MESSAGELABS: &[&str] = &["messagelabs.com"];
const MICROSOFT: &[&str] = &["outlook.com", "hotmail.", "live.com", "msn.com"];
const MIMECAST: &[&str] = &["mimecast.com"];
const SPECTRUM: &[&str] = &["charter.net", "spectrum.net", "rr.com", "twc.com"];
const TENCENT: &[&str] = &["qq.com"];
const YAHOO: &[&str] = &["yahoo.", "yahoodns.net", "aol.com"];

/// The rules, grouped by provider (alphabetical), most specific first within a provider.
#[rustfmt::skip]
const RULES: &[Rule] = &[
    // Amazon SES receiving: "Mailbox does not exist" is the default text of the bounce
    // action of its customers' receipt rules (a filter); an address SES itself does not
    // take is refused with "mailbox unavailable". Seen in lhost-receivingses-01.eml.
    Rule { provider: "amazonses-inbound", hosts: AMAZON_SES_IN, needle: Needle::Phrase("mailbox does not exist"), reason: Reason::Filtered },
    // Amazon SES refuses to send for a sender identity its customer has not verified:
    // the receiver is SES itself acting as the customer's relay. Seen in lhost-postfix-77.eml.
    Rule { provider: "amazonses", hosts: AMAZON_SES_OUT, needle: Needle::Phrase("address is not verified"), reason: Reason::NoRelaying },
    // Apple iCloud: CS01 / HM08 "Message rejected due to local policy".
    Rule { provider: "apple", hosts: APPLE, needle: Needle::Phrase("[cs01]"), reason: Reason::PolicyViolation },
    // Cox publishes its rejection codes (CX...) with their meaning.
    Rule { provider: "cox", hosts: COX, needle: Needle::Phrase("cxbl"), reason: Reason::Blocked },
    Rule { provider: "cox", hosts: COX, needle: Needle::Phrase("cxcnct"), reason: Reason::TooManyConn },
    Rule { provider: "cox", hosts: COX, needle: Needle::Phrase("cxdns"), reason: Reason::RequirePtr },
    Rule { provider: "cox", hosts: COX, needle: Needle::Phrase("cxmxrt"), reason: Reason::TooManyConn },
    Rule { provider: "cox", hosts: COX, needle: Needle::Phrase("cxsndr"), reason: Reason::Rejected },
    // Facebook's response codes: RCP-P1 no such recipient, CON-T connection limits,
    // POL-P policy. Seen in rhost-facebook-04.eml.
    Rule { provider: "facebook", hosts: FACEBOOK, needle: Needle::Phrase("rcp-p1"), reason: Reason::UserUnknown },
    Rule { provider: "facebook", hosts: FACEBOOK, needle: Needle::Phrase("con-t"), reason: Reason::TooManyConn },
    Rule { provider: "facebook", hosts: FACEBOOK, needle: Needle::Phrase("pol-p"), reason: Reason::PolicyViolation },
    // Orange: OFR_506 "Mail rejete" is the content (spam) refusal. Seen in rhost-franceptt-03.eml.
    Rule { provider: "franceptt", hosts: FRANCEPTT, needle: Needle::Phrase("ofr_506"), reason: Reason::SpamDetected },
    // GoDaddy IB codes: IB607 too many recipients an hour. Seen in rhost-godaddy-03.eml.
    Rule { provider: "godaddy", hosts: GODADDY, needle: Needle::Phrase("ib607"), reason: Reason::Speeding },
    // Gmail: X.2.1 with "inactive" is a disabled account, with "rate" a throttled one.
    // Seen in rhost-google-07.eml, lhost-postfix-59.eml.
    Rule { provider: "google", hosts: GOOGLE, needle: Needle::Phrase("account that you tried to reach is disabled"), reason: Reason::Suspend },
    Rule { provider: "google", hosts: GOOGLE, needle: Needle::Phrase("account that you tried to reach is inactive"), reason: Reason::Suspend },
    Rule { provider: "google", hosts: GOOGLE, needle: Needle::Phrase("receiving mail too quickly"), reason: Reason::Speeding },
    // Gmail relaying a remote refusal of the address itself ("Check for typos"), unlike its
    // vaguer "couldn't be found, or is unable to receive mail". Seen in rfc3464-65.eml.
    Rule { provider: "google", hosts: GOOGLE, needle: Needle::Phrase("address couldn't be found. check for typos"), reason: Reason::UserUnknown },
    // KDDI (au) refuses an unknown mailbox at RCPT TO naming it ("550 <a@ezweb.ne.jp>: User
    // unknown"); its receive filter answers after DATA without the address (" : User
    // unknown", see text.rs). Seen in lhost-messagingserver-09.eml.
    Rule { provider: "kddi", hosts: KDDI, needle: Needle::Phrase(">: user unknown"), reason: Reason::UserUnknown },
    // au one net (KDDI's ISP mail) answers an address it does not have with a bare
    // "550 <a@ne.auone-net.jp>: Recipient address rejected." and no cause after it.
    // Seen in lhost-postfix-46.eml.
    Rule { provider: "kddi", hosts: KDDI, needle: Needle::Phrase(">: recipient address rejected."), reason: Reason::UserUnknown },
    // La Poste: LPN007_416 "Adresse destinataire invalide". Seen in rhost-franceptt-02.eml.
    Rule { provider: "laposte", hosts: LAPOSTE, needle: Needle::Phrase("adresse destinataire invalide"), reason: Reason::UserUnknown },
    // Symantec Email Security.cloud (MessageLabs) refuses a recipient its customer has not
    // registered with its own 542 reply: "542 a@example.com Rejected". Seen in
    // rhost-messagelabs-03.eml.
    Rule { provider: "messagelabs", hosts: MESSAGELABS, needle: Needle::Phrase("542 * rejected"), reason: Reason::UserUnknown },
    // Exchange Online's directory-based edge blocking refuses a recipient the tenant does
    // not have with 5.4.1 "Recipient address rejected: Access denied" (seen in
    // rhost-microsoft-02.eml); Outlook.com answers an unknown account with RFC 5321's
    // "mailbox unavailable" (seen in rhost-outlook-08.eml).
    Rule { provider: "microsoft", hosts: MICROSOFT, needle: Needle::Phrase("recipient address rejected: access denied"), reason: Reason::UserUnknown },
    Rule { provider: "microsoft", hosts: MICROSOFT, needle: Needle::Phrase("requested action not taken: mailbox unavailable"), reason: Reason::UserUnknown },
    // Microsoft's own three-digit details (Exchange Online / Outlook.com NDR codes).
    Rule { provider: "microsoft", hosts: &[], needle: Needle::Status("4.300"), reason: Reason::Expired },
    Rule { provider: "microsoft", hosts: &[], needle: Needle::Status("4.310"), reason: Reason::HostUnknown },
    Rule { provider: "microsoft", hosts: &[], needle: Needle::Status("4.312"), reason: Reason::NetworkError },
    Rule { provider: "microsoft", hosts: &[], needle: Needle::Status("4.316"), reason: Reason::Expired },
    Rule { provider: "microsoft", hosts: &[], needle: Needle::Status("7.509"), reason: Reason::AuthFailure },
    Rule { provider: "microsoft", hosts: &[], needle: Needle::Status("7.511"), reason: Reason::Blocked },
    Rule { provider: "microsoft", hosts: &[], needle: Needle::Status("7.513"), reason: Reason::Blocked },
    Rule { provider: "microsoft", hosts: &[], needle: Needle::Status("7.515"), reason: Reason::AuthFailure },
    Rule { provider: "microsoft", hosts: &[], needle: Needle::Status("7.57"), reason: Reason::SecurityError },
    Rule { provider: "microsoft", hosts: &[], needle: Needle::Status("7.606"), reason: Reason::Blocked },
    Rule { provider: "microsoft", hosts: &[], needle: Needle::Status("7.650"), reason: Reason::BadReputation },
    Rule { provider: "microsoft", hosts: &[], needle: Needle::Status("7.651"), reason: Reason::BadReputation },
    Rule { provider: "microsoft", hosts: &[], needle: Needle::Status("7.708"), reason: Reason::Blocked },
    Rule { provider: "microsoft", hosts: &[], needle: Needle::Status("7.750"), reason: Reason::Blocked },
    // Mimecast's anti-spoofing policy refuses mail that claims a protected domain
    // without passing its authentication checks.
    Rule { provider: "mimecast", hosts: MIMECAST, needle: Needle::Phrase("anti-spoofing"), reason: Reason::AuthFailure },
    // Mimecast documents its 554 "email rejected due to security policies" as a virus
    // signature (or a spam score over its maximum). Seen in rhost-mimecast-02.eml.
    Rule { provider: "mimecast", hosts: MIMECAST, needle: Needle::Phrase("email rejected due to security policies"), reason: Reason::VirusDetected },
    // Spectrum (Charter) publishes the AUP#... numbers of its refusals ("understanding
    // email error codes"): the number, not the words beside it, says why. Seen in
    // rhost-spectrum-01.eml ("sender rejected ... AUP#In-1310", a connection limit).
    Rule { provider: "spectrum", hosts: SPECTRUM, needle: Needle::Aup(1000, 1000), reason: Reason::Blocked },
    Rule { provider: "spectrum", hosts: SPECTRUM, needle: Needle::Aup(1010, 1080), reason: Reason::Rejected },
    Rule { provider: "spectrum", hosts: SPECTRUM, needle: Needle::Aup(1090, 1090), reason: Reason::SystemError },
    Rule { provider: "spectrum", hosts: SPECTRUM, needle: Needle::Aup(1100, 1150), reason: Reason::Blocked },
    Rule { provider: "spectrum", hosts: SPECTRUM, needle: Needle::Aup(1160, 1190), reason: Reason::PolicyViolation },
    Rule { provider: "spectrum", hosts: SPECTRUM, needle: Needle::Aup(1200, 1250), reason: Reason::Blocked },
    Rule { provider: "spectrum", hosts: SPECTRUM, needle: Needle::Aup(1260, 1260), reason: Reason::NetworkError },
    Rule { provider: "spectrum", hosts: SPECTRUM, needle: Needle::Aup(1300, 1490), reason: Reason::TooManyConn },
    Rule { provider: "spectrum", hosts: SPECTRUM, needle: Needle::Aup(1500, 1520), reason: Reason::Rejected },
    Rule { provider: "spectrum", hosts: SPECTRUM, needle: Needle::Aup(1530, 1530), reason: Reason::MesgTooBig },
    Rule { provider: "spectrum", hosts: SPECTRUM, needle: Needle::Aup(1540, 1550), reason: Reason::TooManyConn },
    Rule { provider: "spectrum", hosts: SPECTRUM, needle: Needle::Aup(1560, 1560), reason: Reason::PolicyViolation },
    // Tencent QQ Mail. Seen in rhost-tencent-01.eml.
    Rule { provider: "tencent", hosts: TENCENT, needle: Needle::Phrase("domain frequency limited"), reason: Reason::TooManyConn },
    Rule { provider: "tencent", hosts: TENCENT, needle: Needle::Phrase("mail content denied"), reason: Reason::SpamDetected },
    // Yahoo answers an unknown account after DATA, with its own words. Seen in
    // rhost-yahooinc-03.eml.
    Rule { provider: "yahoo", hosts: YAHOO, needle: Needle::Phrase("user doesn't have a yahoo"), reason: Reason::UserUnknown },
];

/// Providers that answer every recipient only after the whole message was sent, so their
/// "unknown user" is the verdict of a filter, never a proven unknown mailbox:
/// NTT docomo (seen in rhost-nttdocomo-01.eml, lhost-amazonses-02.eml).
const AFTER_DATA: &[(&str, &[&str])] = &[("nttdocomo", &["docomo.ne.jp"])];

/// Where a message went: everything a provider rule may match hosts against (lower-case).
#[derive(Debug, Default, Clone, Copy)]
pub struct Hosts<'a> {
    pub remote_mta: &'a str,
    pub reporting_mta: &'a str,
    pub recipient_domain: &'a str,
}

impl Hosts<'_> {
    fn any(&self, fragments: &[&str]) -> bool {
        self.names().any(fragments)
    }

    /// The three host names, cut out once for all the rules.
    fn names(&self) -> Names<'_> {
        Names([self.remote_mta, self.reporting_mta, self.recipient_domain].map(host_name))
    }
}

/// Host names of a `Hosts` (empty when absent).
struct Names<'a>([&'a str; 3]);

impl Names<'_> {
    fn any(&self, fragments: &[&str]) -> bool {
        self.0
            .iter()
            .filter(|h| !h.is_empty())
            .any(|h| fragments.iter().any(|f| on_label_boundary(h, f)))
    }
}

/// The host name of a Remote-MTA-like value: `lsean.ezweb.ne.jp. (27.85.176.228, ...)` ->
/// `lsean.ezweb.ne.jp`.
fn host_name(value: &str) -> &str {
    value
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_matches(|c| matches!(c, '[' | ']' | '(' | ')' | '<' | '>'))
        .trim_end_matches('.')
}

/// `fragment` names whole DNS labels of `host`: `ezweb.ne.jp` matches `lsean.ezweb.ne.jp`
/// but `au.com` does not match `beau.com`; a fragment ending in a dot (`hotmail.`) is a
/// leading label (`mx.hotmail.com`, `hotmail.co.jp`).
fn on_label_boundary(host: &str, fragment: &str) -> bool {
    // `.{fragment}` found without building it: the rules ask this for every message.
    if fragment.ends_with('.') {
        host.starts_with(fragment)
            || host
                .bytes()
                .enumerate()
                .any(|(i, b)| b == b'.' && host[i + 1..].starts_with(fragment))
    } else {
        host == fragment
            || (host.len() > fragment.len()
                && host.ends_with(fragment)
                && host.as_bytes()[host.len() - fragment.len() - 1] == b'.')
    }
}

/// The provider rule that applies, as `(reason, "provider: needle")`.
pub fn find(hosts: &Hosts, text: &str, status: Option<&Code>) -> Option<(Reason, String)> {
    let names = hosts.names();
    RULES.iter().find_map(|r| {
        // The hosts first: a few label comparisons, where the needle searches the text.
        let hit = (r.hosts.is_empty() || names.any(r.hosts))
            && match r.needle {
                Needle::Phrase(p) => super::text::contains(text, p),
                Needle::Status(s) => status.is_some_and(|c| c.rest == s),
                Needle::Aup(lo, hi) => aup_number(text).is_some_and(|n| (lo..=hi).contains(&n)),
            };
        hit.then(|| {
            let what = match r.needle {
                Needle::Phrase(p) => format!("phrase {:?}", p.trim()),
                Needle::Status(s) => format!("status X.{s}"),
                Needle::Aup(..) => format!("AUP#{}", aup_number(text).unwrap_or(0)),
            };
            (r.reason, format!("{} {}", r.provider, what))
        })
    })
}

/// The number of a lower-cased `aup#in-1310` / `aup#o-1000` / `aup#1500` token.
fn aup_number(text: &str) -> Option<u16> {
    let at = text.find("aup#")?;
    let rest = text[at + 4..].trim_start_matches(|c: char| c.is_ascii_alphabetic() || c == '-');
    let digits = &rest[..rest.bytes().take_while(u8::is_ascii_digit).count()];
    (digits.len() == 4).then(|| digits.parse().ok()).flatten()
}

/// The provider (if any) whose recipient rejections all come after DATA.
pub fn after_data(hosts: &Hosts) -> Option<&'static str> {
    AFTER_DATA
        .iter()
        .find(|(_, h)| hosts.any(h))
        .map(|(name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spectrum_numbers() {
        assert_eq!(aup_number("sender rejected. aup#in-1310"), Some(1310));
        assert_eq!(aup_number("aup#o-1000 blocked"), Some(1000));
        assert_eq!(aup_number("aup#12"), None);
        let hosts = Hosts {
            recipient_domain: "charter.net",
            ..Hosts::default()
        };
        let got = find(&hosts, "550 5.1.0 sender rejected. aup#in-1310", None);
        assert_eq!(got.map(|g| g.0), Some(Reason::TooManyConn));
        assert_eq!(find(&Hosts::default(), "aup#in-1310", None), None);
    }

    #[test]
    fn microsoft_codes_need_no_host() {
        let code = Code::parse("5.7.606").unwrap();
        let got = find(
            &Hosts::default(),
            "access denied, banned sending ip",
            Some(&code),
        );
        assert_eq!(got.map(|g| g.0), Some(Reason::Blocked));
    }

    #[test]
    fn phrase_rules_need_their_host() {
        let text = "550 5.1.1 has sent to too many recipients this hour. ib607";
        assert!(find(&Hosts::default(), text, None).is_none());
        let godaddy = Hosts {
            remote_mta: "smtp.secureserver.net",
            ..Hosts::default()
        };
        assert_eq!(
            find(&godaddy, text, None).map(|g| g.0),
            Some(Reason::Speeding)
        );
    }

    #[test]
    fn ses_inbound_bounce_action_is_a_filter() {
        let ses = Hosts {
            reporting_mta: "inbound-smtp.us-west-2.amazonaws.com",
            ..Hosts::default()
        };
        let code = Code::parse("5.1.1").unwrap();
        let got = find(&ses, "550 5.1.1 mailbox does not exist", Some(&code));
        assert_eq!(got.map(|g| g.0), Some(Reason::Filtered));
        assert!(
            find(
                &ses,
                "550 5.1.1 requested action not taken: mailbox unavailable",
                Some(&code)
            )
            .is_none()
        );
    }

    #[test]
    fn yahoo_names_an_unknown_account_after_data() {
        let yahoo = Hosts {
            remote_mta: "mta6.am0.yahoodns.net",
            ..Hosts::default()
        };
        let text =
            "554 delivery error: dd this user doesn't have a yahoo.com account (a@yahoo.com) [0]";
        assert_eq!(
            find(&yahoo, text, None).map(|g| g.0),
            Some(Reason::UserUnknown)
        );
    }

    #[test]
    fn hosts_match_on_label_boundaries() {
        assert!(on_label_boundary("lsean.ezweb.ne.jp", "ezweb.ne.jp"));
        assert!(!on_label_boundary("beau.com", "au.com"));
        assert!(on_label_boundary(
            "blu004-omc3s20.o.hotmail.com",
            "hotmail."
        ));
        assert!(on_label_boundary(
            "inbound-smtp.us-west-2.amazonaws.com",
            "inbound-smtp."
        ));
        assert_eq!(
            host_name("lsean.ezweb.ne.jp. (27.85.176.228, the server)"),
            "lsean.ezweb.ne.jp"
        );
        assert_eq!(host_name("[192.0.2.1]"), "192.0.2.1");
    }

    #[test]
    fn docomo_answers_after_data() {
        let h = Hosts {
            recipient_domain: "docomo.ne.jp",
            ..Hosts::default()
        };
        assert_eq!(after_data(&h), Some("nttdocomo"));
    }

    proptest::proptest! {
        /// The allocation-free label test says what the `.{fragment}` searches said.
        #[test]
        fn label_boundary_as_built_needle(host in "[a.b]{0,8}", fragment in "[a.b]{1,4}") {
            let built = if fragment.ends_with('.') {
                host.starts_with(&fragment) || host.contains(&format!(".{fragment}"))
            } else {
                host == fragment || host.ends_with(&format!(".{fragment}"))
            };
            proptest::prop_assert_eq!(on_label_boundary(&host, &fragment), built);
        }
    }
}
