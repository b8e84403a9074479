//! Non-standard bounce formats of real MTAs and providers, one module each. This list is the
//! only central edit when a format is added, and its order is the try order: the first format
//! whose cheap `sniff` accepts the message and whose `parse` returns something wins.

pub(crate) mod scan;

// providers (LHOST-B)
mod amazonses;
mod amazonworkmail;
mod aol;
mod biglobe;
mod einsundeins;
mod ezweb;
mod gmail;
mod gmx;
mod googlegroups;
mod kddi;
mod mailru;
mod office365;
mod outlook;
mod powermta;
pub(crate) mod report;
mod verizon;
mod yahoo;
mod zoho;

// MTAs (LHOST-A)
mod activehunter;
mod amavis;
mod courier;
mod domino;
mod dragonfly;
mod exchange2003;
mod exchange2007;
mod exim;
mod fml;
mod generic;
mod imailserver;
mod mailfoundry;
mod mailmarshal;
mod mcafee;
mod messagingserver;
mod mfilter;
mod mxlogic;
mod notes;
mod opensmtpd;
mod postfix;
mod qmail;
mod sendmail;
mod surfcontrol;
mod trendmicro;
mod x1;
mod x3;
mod x6;
mod yahooclassic;

use super::message::Message;
use super::verdict::{Kind, Recipient};

/// What a format extracts from a message. The reason layer fills `reason`/`hard` afterwards
/// unless the format's own text stated the reason.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub kind: Kind,
    pub recipients: Vec<Recipient>,
    pub evidence: Vec<String>,
    /// For `Kind::Complaint` from a non-ARF source (e.g. an SES notification): the feedback
    /// type, lower-case; the pipeline copies it to the verdict.
    pub feedback_type: Option<String>,
    /// The SMTP command the remote server answered, where the format states it apart from
    /// the reply (`RCPT`, `DATA`, ...).
    pub smtp_command: Option<String>,
}

/// One MTA or provider bounce format.
pub struct Format {
    /// Short name, used as the detector: `lhost/<name>`.
    pub name: &'static str,
    /// Cheap test on headers (From, Subject, X-Mailer, ...): may this format apply?
    pub sniff: fn(&Message) -> bool,
    /// Extract recipients; `None` when the message is not of this format after all.
    pub parse: fn(&Message) -> Option<Parsed>,
}

/// The registry, in try order.
pub const FORMATS: &[Format] = &[
    // providers (LHOST-B): recognised by their own From/Subject/headers, tried first
    amazonses::FORMAT,
    amazonworkmail::FORMAT,
    googlegroups::FORMAT,
    gmail::FORMAT,
    yahoo::FORMAT,
    gmx::FORMAT,
    einsundeins::FORMAT,
    mailru::FORMAT,
    zoho::FORMAT,
    ezweb::FORMAT,
    kddi::FORMAT,
    biglobe::FORMAT,
    office365::FORMAT,
    verizon::FORMAT,
    powermta::FORMAT,
    aol::FORMAT,
    outlook::FORMAT,
    // end of providers (LHOST-B)
    // MTAs (LHOST-A): recognised by their own report text; the generic fallback last
    dragonfly::FORMAT,
    activehunter::FORMAT,
    amavis::FORMAT,
    domino::FORMAT,
    notes::FORMAT,
    fml::FORMAT,
    imailserver::FORMAT,
    mfilter::FORMAT,
    mailfoundry::FORMAT,
    mailmarshal::FORMAT,
    trendmicro::FORMAT,
    mcafee::FORMAT,
    surfcontrol::FORMAT,
    exchange2003::FORMAT,
    exchange2007::FORMAT,
    courier::FORMAT,
    messagingserver::FORMAT,
    x1::FORMAT,
    x3::FORMAT,
    x6::FORMAT,
    yahooclassic::FORMAT,
    opensmtpd::FORMAT,
    qmail::FORMAT,
    postfix::FORMAT,
    mxlogic::FORMAT,
    exim::FORMAT,
    sendmail::FORMAT,
    generic::FORMAT,
    // end of MTAs (LHOST-A)
];
