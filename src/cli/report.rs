//! `report --html FILE`: placeholder.
use super::context::Ctx;
use super::error::CliError;
use clap::Args;
use std::path::PathBuf;
#[derive(Args, Debug)]
pub struct ReportArgs {
    #[arg(long, value_name = "FILE")]
    pub html: PathBuf,
}
pub fn report(_ctx: &Ctx, _a: &ReportArgs) -> Result<(), CliError> {
    Ok(())
}
