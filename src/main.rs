//! The `trustlog` binary: everything lives in the library; this only maps
//! the outcome to an exit code.

fn main() -> std::process::ExitCode {
    // A closed stdout (`trustlog log | head`) must be an error that `cli::run`
    // sees, not a silent death by SIGPIPE: a recording command has to say
    // that its event was recorded (exit 4), and a query exits 141 itself.
    // SAFETY: called before any other thread exists; SIG_IGN is always valid.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    #[cfg(target_os = "linux")]
    if closed::STDOUT.load(std::sync::atomic::Ordering::Relaxed) {
        trustlog::cli::out::stdout_was_closed();
    }
    std::process::ExitCode::from(trustlog::cli::run(std::env::args_os()))
}

/// `trustlog … >&-`: Rust's runtime opens /dev/null on a closed stdout
/// before `main`, so every write would succeed and `promise make` would
/// exit 0 with its id lost. This looks first, from the ELF initialisers
/// that the loader runs before the runtime starts.
#[cfg(target_os = "linux")]
mod closed {
    use std::sync::atomic::{AtomicBool, Ordering};

    pub static STDOUT: AtomicBool = AtomicBool::new(false);

    extern "C" fn look() {
        // SAFETY: F_GETFD only reads the flags of a descriptor number; on a
        // closed one it fails with EBADF and touches nothing.
        let closed = unsafe { libc::fcntl(1, libc::F_GETFD) } == -1;
        STDOUT.store(closed, Ordering::Relaxed);
    }

    #[used]
    #[link_section = ".init_array"]
    static LOOK: extern "C" fn() = look;
}
