//! The `trustlog` binary: everything lives in the library; this only maps
//! the outcome to an exit code.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(trustlog::cli::run(std::env::args_os()))
}
