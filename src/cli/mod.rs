//! The command-line front end: argument parsing, input discovery, the per-file pipeline and
//! exit codes. The only layer that prints.

pub mod args;
mod catalog;
mod includes;
mod inputs;
mod run;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

pub use inputs::{Input, InputSource, discover};
pub use run::write_fixed;

/// Exit status shared by every command and output format (PRODUCT.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Nothing found (or nothing left).
    Clean = 0,
    /// Findings remain (or `fix --diff` would change something).
    Findings = 1,
    /// An input could not be processed, or the options/configuration are wrong.
    Error = 2,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> Self {
        ExitCode::from(status as u8)
    }
}

/// Entry point used by `main.rs`.
pub fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run::run(cli) {
        Ok(status) => status.into(),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "error: {err}");
            for cause in err.chain().skip(1) {
                let _ = write!(stderr, ": {cause}");
            }
            let _ = writeln!(stderr);
            Status::Error.into()
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
