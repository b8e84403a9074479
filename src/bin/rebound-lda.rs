//! `rebound-lda`: the delivery agent an MTA runs once per message, in place of dovecot-lda.
//! Thin: arguments -> config -> `lda::run` -> exit code.

fn main() {
    eprintln!("4.3.0 rebound-lda: not implemented yet");
    std::process::exit(rebound::exit::LdaExit::TempFail as i32);
}
