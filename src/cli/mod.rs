//! The command line: parses (clap derive), resolves the journal and "now",
//! runs a command, renders its result. `main.rs` only calls `run` and exits
//! with the code it returns.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

pub mod chart;
pub mod config;
pub mod context;
pub mod csv;
pub mod error;
pub mod export;
pub mod import;
pub mod integrity;
pub mod man;
pub mod out;
pub mod output;
pub mod query;
pub mod record;
pub mod report;
pub mod show;
pub mod table;
pub mod text;
pub mod when;
pub mod words;
pub mod zone;

use context::Ctx;
use error::CliError;
use out::{Failure, Out};
use record::*;

const AFTER_HELP: &str = "\
Examples:
  trustlog client add acme --name \"Acme Ltd\" --fit target
  trustlog talk acme --kind call --mood 1 --minutes 20 \"kick-off, happy with the plan\"
  id=$(trustlog promise make acme \"first logo drafts\" --due fri)
  trustlog promise move $id --due +3d --cause client --agreed --reason \"waiting for their brief\"
  trustlog promise keep $id
  trustlog verify

The journal is --journal PATH, else $TRUSTLOG_FILE, else the config's [defaults] journal,
else ~/.local/share/trustlog/journal.tlog (config: ~/.config/trustlog/config.toml, see README).
WHEN: 2026-11-22, 2026-11-22T14:30, now, today, tomorrow, yesterday, fri, +3d, +2w, +1m, +1y, -1d,
+4h, sod/eod, sow/eow, som/eom, soy/eoy, 15:00 (today), fri 17:00, tomorrow 15:00.
Exit codes: 0 ok, 1 failure (bad input, unknown client, I/O), 2 usage, 3 journal damaged,
4 recorded but its confirmation could not be written (do not record it again),
141 stdout closed by its reader (`trustlog log | head`).";

#[derive(Parser, Debug)]
#[command(
    name = "trustlog",
    version,
    about = "A tamper-evident journal of client relationships and the promises made to them",
    after_help = AFTER_HELP
)]
pub struct Cli {
    // `$TRUSTLOG_FILE` and `$TRUSTLOG_NOW` are read in `dispatch`, not by
    // clap's `env`: clap lists an env-backed option in every usage line as
    // if it were required, and refuses a set-but-empty variable with "a
    // value is required for '--journal'". An empty variable counts as unset.
    /// The journal file (also $TRUSTLOG_FILE; else the config's, else
    /// ~/.local/share/trustlog/journal.tlog)
    #[arg(long, global = true, value_name = "PATH")]
    pub journal: Option<PathBuf>,
    /// Machine-readable output (JSON)
    #[arg(long, global = true)]
    pub json: bool,
    /// Config file (default: ~/.config/trustlog/config.toml if it exists)
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Pin the clock for everything this command does (also $TRUSTLOG_NOW)
    #[arg(long, global = true, value_name = "WHEN")]
    pub now: Option<String>,
    /// Colour in tables: auto (on a terminal, unless $NO_COLOR is set), always or never
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: out::ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Record facts about a client
    #[command(
        subcommand,
        after_help = "Examples:\n  trustlog client add acme --name \"Acme Ltd\"\n  trustlog client want acme \"a logo that works on trucks\"\n  trustlog client lost acme --reason \"went with a cheaper agency\""
    )]
    Client(ClientCmd),
    /// Record an interaction
    #[command(
        after_help = "Example:\n  trustlog talk acme --kind meeting --mood 2 --minutes 45 --by client \"loved the drafts\""
    )]
    Talk {
        #[command(flatten)]
        args: TalkArgs,
        #[command(flatten)]
        at: AtArg,
    },
    /// Record a promise and what becomes of it
    #[command(
        subcommand,
        after_help = "Examples:\n  id=$(trustlog promise make acme \"logo drafts\" --due fri)\n  trustlog promise move $id --due +3d --cause client --agreed\n  trustlog promise keep $id"
    )]
    Promise(PromiseCmd),
    /// Retract an earlier event (it stays in the journal; projections ignore it)
    #[command(
        after_help = "Example:\n  trustlog retract 12 --reason \"recorded for the wrong client\""
    )]
    Retract {
        #[command(flatten)]
        args: RetractArgs,
        #[command(flatten)]
        at: AtArg,
    },
    /// Clients: fit, open promises, next due, overdue, last contact, trust
    #[command(
        after_help = "Examples:\n  trustlog status\n  trustlog status acme    # the client in full\n  trustlog status acme --as-of 2026-10-01"
    )]
    Status(query::StatusArgs),
    /// Upcoming and overdue promises, soonest first
    #[command(after_help = "Examples:\n  trustlog due\n  trustlog due --within 7d --client acme")]
    Due(query::DueArgs),
    /// Were promises kept as ORIGINALLY promised, and who moved them?
    #[command(
        after_help = "Examples:\n  trustlog audit\n  trustlog audit --client acme --from 2026-01-01 --to 2026-06-30\n  trustlog audit --csv > promises.csv"
    )]
    Audit(query::AuditArgs),
    /// A client's trust score, and with --history why it moved
    #[command(after_help = "Example:\n  trustlog trust acme --history")]
    Trust(query::TrustArgs),
    /// What happened with a (lost) client, as known at each point
    #[command(after_help = "Example:\n  trustlog postmortem globex")]
    Postmortem(query::PostmortemArgs),
    /// The raw events, in order
    #[command(
        after_help = "Examples:\n  trustlog log --client acme --limit 20\n  trustlog log --promise 7\n  trustlog log --from 2026-03-01 --to 2026-03-31\n  trustlog log --kind PromiseMoved --as-of 2026-10-01"
    )]
    Log(query::LogArgs),
    /// Every event out, as JSON lines (what `import` reads) or CSV
    #[command(
        after_help = "Examples:\n  trustlog export > backup.jsonl\n  trustlog export --format csv --client acme --from 2026-01-01 > acme.csv"
    )]
    Export(export::ExportArgs),
    /// Events in, from an export or from Taskwarrior; importing twice adds nothing
    #[command(
        after_help = "Examples:\n  trustlog import backup.jsonl\n  task export > tasks.json && trustlog import tasks.json --format taskwarrior\n  trustlog import other.jsonl --dry-run"
    )]
    Import(import::ImportArgs),
    /// One self-contained HTML page: audit, overdue, trust curves, post-mortems
    #[command(
        after_help = "Examples:\n  trustlog report --html report.html\n  trustlog report --html acme.html --client acme --as-of 2026-10-01"
    )]
    Report(report::ReportArgs),
    /// Print the last sequence number and the chain digest (write it down)
    #[command(after_help = "Example:\n  trustlog head    # 42 9f86d081884c7d65…")]
    Head,
    /// Check the header, every checksum and the hash chain (exit 3 if damaged)
    #[command(
        after_help = "Examples:\n  trustlog verify\n  trustlog verify --head 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    )]
    Verify(integrity::VerifyArgs),
    /// Cut a torn tail, or with --salvage rebuild a damaged journal
    #[command(after_help = "Examples:\n  trustlog repair\n  trustlog repair --salvage")]
    Repair(integrity::RepairArgs),
    /// Print a shell completion script
    #[command(
        after_help = "Example:\n  trustlog completions bash > ~/.local/share/bash-completion/completions/trustlog"
    )]
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
    /// Print the manual page, or write every page into a directory
    #[command(
        after_help = "Examples:\n  trustlog man | man -l -\n  trustlog man --dir ~/.local/share/man/man1   # then: man trustlog, man trustlog-promise-make"
    )]
    Man {
        /// Write trustlog.1 and one page per subcommand into DIR (which must exist)
        #[arg(long, value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ClientCmd {
    /// Add a client
    #[command(
        after_help = "Example:\n  trustlog client add acme --name \"Acme Ltd\" --fit off-target --note \"came via a referral\""
    )]
    Add {
        #[command(flatten)]
        args: ClientAddArgs,
        #[command(flatten)]
        at: AtArg,
    },
    /// Change whether a client is a target fit
    #[command(
        after_help = "Example:\n  trustlog client fit acme off-target --reason \"only wants the cheapest option\""
    )]
    Fit {
        #[command(flatten)]
        args: ClientFitArgs,
        #[command(flatten)]
        at: AtArg,
    },
    /// Note what the client says they want (an expectation)
    #[command(
        after_help = "Example:\n  trustlog client want acme \"a bold logo they can use on trucks\""
    )]
    Want {
        #[command(flatten)]
        args: ClientTextArgs,
        #[command(flatten)]
        at: AtArg,
    },
    /// Note a "this is not what I expected"
    #[command(
        after_help = "Example:\n  trustlog client mismatch acme \"expected three concepts, got one\""
    )]
    Mismatch {
        #[command(flatten)]
        args: ClientTextArgs,
        #[command(flatten)]
        at: AtArg,
    },
    /// Record that the client was lost
    #[command(
        after_help = "Example:\n  trustlog client lost acme --reason \"went with a cheaper agency\""
    )]
    Lost {
        #[command(flatten)]
        args: ClientLostArgs,
        #[command(flatten)]
        at: AtArg,
    },
    /// Record that a lost client came back
    #[command(after_help = "Example:\n  trustlog client back acme --note \"new product line\"")]
    Back {
        #[command(flatten)]
        args: ClientBackArgs,
        #[command(flatten)]
        at: AtArg,
    },
    /// Record advocacy: a referral, testimonial, upsell or cross-sell
    #[command(
        after_help = "Example:\n  trustlog client praise acme --kind referral \"introduced us to Globex\""
    )]
    Praise {
        #[command(flatten)]
        args: ClientPraiseArgs,
        #[command(flatten)]
        at: AtArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum PromiseCmd {
    /// Make a promise; prints its id
    #[command(
        after_help = "Example:\n  trustlog promise make acme \"first logo drafts\" --due fri"
    )]
    Make {
        #[command(flatten)]
        args: PromiseMakeArgs,
        #[command(flatten)]
        at: AtArg,
    },
    /// Move a promise's due date, saying who caused it
    #[command(
        after_help = "Example:\n  trustlog promise move 7 --due +3d --cause client --agreed --reason \"brief arrived late\""
    )]
    Move {
        #[command(flatten)]
        args: PromiseMoveArgs,
        #[command(flatten)]
        at: AtArg,
    },
    /// Record that a promise was delivered (--at for when)
    #[command(after_help = "Example:\n  trustlog promise keep 7 --at \"2026-11-27T16:00\"")]
    Keep {
        #[command(flatten)]
        args: PromiseKeepArgs,
        #[command(flatten)]
        at: AtArg,
    },
    /// Record that a promise will not be delivered
    #[command(
        after_help = "Example:\n  trustlog promise break 7 --reason \"the printer went bankrupt\""
    )]
    Break {
        #[command(flatten)]
        args: PromiseCloseArgs,
        #[command(flatten)]
        at: AtArg,
    },
    /// One promise's whole history: made, moves and their causes, outcome
    /// against the original due
    #[command(
        after_help = "Examples:\n  trustlog promise show 7\n  trustlog promise show 7 --json"
    )]
    Show(show::PromiseShowArgs),
    /// The promises, by id: open and closed, or only one client's
    #[command(
        after_help = "Examples:\n  trustlog promise list --open\n  trustlog promise list --client acme --closed"
    )]
    List(show::PromiseListArgs),
    /// Record that a promise was cancelled by mutual agreement
    #[command(
        after_help = "Example:\n  trustlog promise release 7 --reason \"client dropped the campaign\""
    )]
    Release {
        #[command(flatten)]
        args: PromiseCloseArgs,
        #[command(flatten)]
        at: AtArg,
    },
}

/// Parses `args`, runs the command, prints errors; returns the exit code.
/// Every command renders into one buffered stdout ([`out::Out`]), flushed
/// here: a failed write is one line on stderr and an exit code (1; 4 when
/// the command recorded something, which is durable; 141 for a reader that
/// went away), never a panic.
pub fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut out = Out::stdout();
    let result = match Cli::try_parse_from(args) {
        Ok(cli) => {
            out.set_colour(cli.color);
            dispatch(cli, &mut out)
        }
        Err(e) if e.use_stderr() => {
            // A usage error: clap's message on stderr, exit 2; plain, so
            // that a value it quotes cannot carry escapes to the terminal.
            let msg = text::visible_lines(&e.render().to_string());
            let _ = std::io::stderr().write_all(msg.as_bytes());
            return 2;
        }
        // --help, --version: to stdout, like any output.
        Err(e) => help(&e, &mut out),
    };
    match out.finish(result) {
        Ok(()) => 0,
        Err(Failure::Command(e)) => {
            say_error(&e.to_string());
            error::exit_code(&e)
        }
        Err(Failure::Stdout { error, recorded }) => {
            let (code, line) = out::stdout_failure(&error, recorded);
            if let Some(line) = line {
                say_error(&line);
            }
            code
        }
    }
}

/// `trustlog: error: …` on stderr, control characters of any quoted value
/// shown escaped. A stderr that cannot be written has no one to tell.
fn say_error(msg: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "trustlog: error: {}",
        text::visible_lines(msg)
    );
}

/// clap's help or version text, into `out` (styled on a terminal).
fn help(e: &clap::Error, out: &mut Out) -> Result<(), CliError> {
    let text = e.render();
    if out.is_terminal() {
        write!(out, "{}", text.ansi())
    } else {
        write!(out, "{text}")
    }
    .map_err(out::failed)
}

/// A variable's value, `None` when it is unset or empty (`TRUSTLOG_FILE=`
/// is how shells unset for one command).
fn env_set(var: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(var).filter(|v| !v.is_empty())
}

fn dispatch(cli: Cli, out: &mut Out) -> Result<(), CliError> {
    if let Command::Completions { shell } = cli.command {
        // clap_complete panics on a failed write: generate into memory.
        let mut cmd = Cli::command();
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cmd, "trustlog", &mut script);
        return out.write_all(&script).map_err(out::failed);
    }
    if let Command::Man { dir } = &cli.command {
        return match dir {
            None => out.write_all(&man::page()?).map_err(out::failed),
            Some(d) => {
                let names = man::write_all(d)?;
                writeln!(
                    out,
                    "wrote {} manual pages to {}",
                    names.len(),
                    text::visible(&d.display().to_string())
                )
                .map_err(out::failed)
            }
        };
    }
    let journal = cli
        .journal
        .or_else(|| env_set("TRUSTLOG_FILE").map(PathBuf::from));
    let now = match cli.now.clone() {
        Some(n) => Some(n),
        None => env_set("TRUSTLOG_NOW")
            .map(|v| {
                v.into_string().map_err(|v| {
                    error::invalid(format!("$TRUSTLOG_NOW {v:?} is not UTF-8: expected a WHEN"))
                })
            })
            .transpose()?,
    };
    let ctx = Ctx::new(journal, now.as_deref(), cli.json, cli.config.clone())?;
    let result = match &cli.command {
        Command::Client(c) => match c {
            ClientCmd::Add { args, at } => client_add(&ctx, out, at, args),
            ClientCmd::Fit { args, at } => client_fit(&ctx, out, at, args),
            ClientCmd::Want { args, at } => client_want(&ctx, out, at, args),
            ClientCmd::Mismatch { args, at } => client_mismatch(&ctx, out, at, args),
            ClientCmd::Lost { args, at } => client_lost(&ctx, out, at, args),
            ClientCmd::Back { args, at } => client_back(&ctx, out, at, args),
            ClientCmd::Praise { args, at } => client_praise(&ctx, out, at, args),
        },
        Command::Talk { args, at } => talk(&ctx, out, at, args),
        Command::Promise(p) => match p {
            PromiseCmd::Make { args, at } => promise_make(&ctx, out, at, args),
            PromiseCmd::Move { args, at } => promise_move(&ctx, out, at, args),
            PromiseCmd::Keep { args, at } => promise_keep(&ctx, out, at, args),
            PromiseCmd::Break { args, at } => promise_break(&ctx, out, at, args),
            PromiseCmd::Release { args, at } => promise_release(&ctx, out, at, args),
            PromiseCmd::Show(a) => show::promise_show(&ctx, out, a),
            PromiseCmd::List(a) => show::promise_list(&ctx, out, a),
        },
        Command::Retract { args, at } => retract(&ctx, out, at, args),
        Command::Status(a) => query::status(&ctx, out, a),
        Command::Due(a) => query::due(&ctx, out, a),
        Command::Audit(a) => query::audit(&ctx, out, a),
        Command::Trust(a) => query::trust(&ctx, out, a),
        Command::Postmortem(a) => query::postmortem(&ctx, out, a),
        Command::Log(a) => query::log(&ctx, out, a),
        Command::Export(a) => export::export(&ctx, out, a),
        Command::Import(a) => import::import(&ctx, out, a),
        Command::Report(a) => report::report(&ctx, out, a),
        Command::Head => integrity::head(&ctx, out),
        Command::Verify(a) => integrity::verify(&ctx, out, a),
        Command::Repair(a) => integrity::repair(&ctx, out, a),
        Command::Completions { .. } | Command::Man { .. } => Ok(()),
    };
    // Queries answer without a torn tail, and say so (one line on stderr).
    if matches!(
        cli.command,
        Command::Status(_)
            | Command::Due(_)
            | Command::Audit(_)
            | Command::Trust(_)
            | Command::Postmortem(_)
            | Command::Log(_)
            | Command::Export(_)
            | Command::Report(_)
            | Command::Promise(PromiseCmd::Show(_) | PromiseCmd::List(_))
    ) {
        integrity::say_torn_tail(&ctx.journal);
    }
    result
}
