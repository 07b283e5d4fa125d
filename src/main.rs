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
    std::process::ExitCode::from(trustlog::cli::run(std::env::args_os()))
}
