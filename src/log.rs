//! Exactly one `key=value` syslog line (facility mail) per message, and error lines of their
//! own; stderr when there is no syslog socket.
