//! `rebound-lda`: the delivery agent an MTA runs once per message, in place of dovecot-lda.
//! Thin: arguments -> `lda::main` -> exit code. A panic that escapes the pipeline still never
//! reaches the MTA as status 101: before filing it is a temporary failure (75), after filing
//! the message is safe (0).

use rebound::exit::LdaExit;

fn main() {
    rebound::lda::install_panic_hook();
    let code = match std::panic::catch_unwind(|| rebound::lda::main(std::env::args_os().skip(1))) {
        Ok(code) => code,
        Err(_) if rebound::lda::filed() => LdaExit::Delivered,
        Err(_) => {
            eprintln!("{}", rebound::exit::panic_line(&rebound::lda::last_panic()));
            LdaExit::TempFail
        }
    };
    std::process::exit(code as i32);
}
