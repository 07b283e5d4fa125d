//! The `trustlog` binary: everything lives in the library; this only maps
//! the outcome to an exit code.

fn main() -> std::process::ExitCode {
    // Behave like other Unix tools in a pipe (`trustlog log | head`): die
    // quietly on a closed stdout instead of panicking in println!. Output
    // comes after any append is durable, so this never loses a record.
    // SAFETY: called before any other thread exists; SIG_DFL is always valid.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::ExitCode::from(trustlog::cli::run(std::env::args_os()))
}
