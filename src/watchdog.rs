//! The classifier's time limit, without a second thread (a thread cost rebound-lda a tenth of
//! its CPU time per delivery: bench/delivery.sh). While the classifier runs, an interval timer
//! is armed; if it fires, the SIGALRM handler execve()s rebound-lda again with the same
//! arguments and environment plus `REBOUND_LDA_RESUME=<tmp file>` (set while the timer is
//! armed). execve(2) is
//! async-signal-safe and the new image starts clean, whatever lock the interrupted classifier
//! held; the process id stays, so the MTA goes on waiting for the same process, and the new
//! image files the already fsynced message as kind `other` (`lda::resume`). Everything the
//! handler needs is built before the timer is armed: it only loads a pointer and calls execve.
//!
//! The one module that needs `unsafe`: a signal handler, and the two libc calls nix does not
//! wrap without allocating (execve from a handler) or at all (setitimer, `environ`).
#![allow(unsafe_code)]

use crate::exit::LdaExit;
use nix::libc;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::time::Duration;

/// The environment variable naming the tmp file a restarted rebound-lda files unclassified.
pub const RESUME_ENV: &str = "REBOUND_LDA_RESUME";

/// What execve needs besides the environment: the program and its arguments, as C strings
/// and a NULL-terminated pointer array. The program is `/proc/self/exe`: the very file this
/// process runs, even if an upgrade has replaced or removed its path meanwhile (the path
/// `current_exe` reads from there would then name the new binary, or end in " (deleted)"),
/// and no readlink at every delivery. Without /proc, `argv[0]` when it is a path.
struct Exec {
    fallback: Option<CString>,
    _args: Vec<CString>,
    argv: Vec<*const libc::c_char>,
}

const SELF_EXE: &std::ffi::CStr = c"/proc/self/exe";

unsafe extern "C" {
    /// The process's environment (unistd.h), to which `arm` adds `RESUME_ENV`.
    static environ: *const *const libc::c_char;
}

static EXEC: AtomicPtr<Exec> = AtomicPtr::new(ptr::null_mut());

extern "C" fn on_alarm(_: libc::c_int) {
    let exec = EXEC.load(Ordering::SeqCst);
    if !exec.is_null() {
        // SAFETY: `exec` points to the `Exec` that `arm` leaked and only `Armed::drop` frees,
        // after it has disarmed the timer; its arrays are NULL-terminated.
        unsafe {
            libc::execve(SELF_EXE.as_ptr(), (*exec).argv.as_ptr(), environ);
            if let Some(path) = &(*exec).fallback {
                libc::execve(path.as_ptr(), (*exec).argv.as_ptr(), environ);
            }
        }
    }
    // execve failed: the message is in tmp/, not filed. A temporary failure, in the two
    // async-signal-safe calls left.
    const LINE: &[u8] =
        b"4.3.0 rebound-lda: classification timed out and rebound-lda could not restart itself\n";
    // SAFETY: write(2) of a static buffer and _exit(2) are async-signal-safe.
    unsafe {
        libc::write(2, LINE.as_ptr().cast(), LINE.len());
        libc::_exit(LdaExit::TempFail as libc::c_int);
    }
}

/// The armed timer; dropping it disarms the timer and puts the previous SIGALRM action back.
pub struct Armed {
    previous: libc::sigaction,
}

/// Arm the limit for a classification of the message in `tmp_file` (written and fsynced).
pub fn arm(tmp_file: &Path, limit: Duration) -> std::io::Result<Armed> {
    let c =
        |s: &[u8]| CString::new(s).map_err(|_| std::io::Error::other("a NUL byte in an argument"));
    let args: Vec<CString> = std::env::args_os()
        .map(|a| c(a.as_bytes()))
        .collect::<Result<_, _>>()?;
    let fallback = args
        .first()
        .filter(|a| a.as_bytes().contains(&b'/'))
        .cloned();
    let argv = args
        .iter()
        .map(|s| s.as_ptr())
        .chain([ptr::null()])
        .collect();
    let exec = Box::new(Exec {
        fallback,
        argv,
        _args: args,
    });
    let old = EXEC.swap(Box::into_raw(exec), Ordering::SeqCst);
    if !old.is_null() {
        // SAFETY: a previous `arm` leaked it and no timer of that arming is running any more
        // (arming twice without a drop is not done; this only avoids a leak if it were).
        drop(unsafe { Box::from_raw(old) });
    }

    // SAFETY: plain-data structs, zeroed is a valid initial value; sigaction/setitimer get
    // valid pointers. SA_NODEFER: the new image must not start with SIGALRM blocked.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_alarm as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_NODEFER | libc::SA_RESETHAND;
        libc::sigemptyset(&mut action.sa_mask);
        let mut previous: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGALRM, &action, &mut previous) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let armed = Armed { previous };
        // rebound-lda is single-threaded (lda.rs): nothing reads the environment at the same
        // time. From here every way out goes through `Armed::drop`, which removes it again.
        std::env::set_var(RESUME_ENV, tmp_file);
        set_timer(limit.max(Duration::from_millis(1)))?;
        Ok(armed)
    }
}

fn set_timer(after: Duration) -> std::io::Result<()> {
    let value = libc::itimerval {
        it_interval: libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        it_value: libc::timeval {
            tv_sec: after.as_secs() as libc::time_t,
            tv_usec: after.subsec_micros() as libc::suseconds_t,
        },
    };
    // SAFETY: a valid itimerval; the old value is not wanted.
    if unsafe { libc::setitimer(libc::ITIMER_REAL, &value, ptr::null_mut()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

impl Drop for Armed {
    fn drop(&mut self) {
        let _ = set_timer(Duration::ZERO);
        // SAFETY: the action saved by `arm`; the timer is off, so the handler cannot be
        // running or start any more and the `Exec` can be freed.
        unsafe {
            libc::sigaction(libc::SIGALRM, &self.previous, ptr::null_mut());
            std::env::remove_var(RESUME_ENV);
            let exec = EXEC.swap(ptr::null_mut(), Ordering::SeqCst);
            if !exec.is_null() {
                drop(Box::from_raw(exec));
            }
        }
    }
}
