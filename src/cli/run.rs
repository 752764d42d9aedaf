//! Running a parsed command line.

use std::io::{Read, Write};

use anyhow::Context;

use super::args::{Cli, Command, CommonArgs};
use super::inputs::{Input, InputSource, describe_io, discover};
use super::{Status, catalog};
use crate::error::InputError;
use crate::pipeline::{self, Loaded};

pub fn run(cli: Cli) -> anyhow::Result<Status> {
    match cli.command {
        Command::Check(args) => check(&args.common),
        Command::Fix(_) => not_yet("fix"),
        Command::Rules(args) => Ok(catalog::list(&mut std::io::stdout().lock(), args.format)?),
        Command::Explain(args) => Ok(catalog::explain(
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
            &args.code,
        )?),
    }
}

fn not_yet(what: &str) -> anyhow::Result<Status> {
    eprintln!("error: `svcscrub {what}` is not implemented yet");
    Ok(Status::Error)
}

fn read_input(input: &Input) -> Result<Vec<u8>, InputError> {
    match &input.source {
        InputSource::File(path) => {
            std::fs::read(path).map_err(|e| InputError::new(&input.display, describe_io(&e)))
        }
        InputSource::Stdin => {
            let mut buf = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut buf)
                .map_err(|e| InputError::new(&input.display, describe_io(&e)))?;
            Ok(buf)
        }
    }
}

fn check(args: &CommonArgs) -> anyhow::Result<Status> {
    let (inputs, mut errors) = discover(&args.paths, args.stdin_filename.as_deref());
    let mut loaded: Vec<Loaded> = Vec::new();
    for input in &inputs {
        match read_input(input).and_then(|raw| pipeline::load(&input.display, raw)) {
            Ok(file) => loaded.push(file),
            Err(e) => errors.push(e),
        }
    }
    let mut stderr = std::io::stderr().lock();
    for e in &errors {
        writeln!(stderr, "error: {e}").context("writing to stderr")?;
    }
    if !args.quiet {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "No findings in {} files.", loaded.len()).context("writing to stdout")?;
    }
    Ok(if errors.is_empty() {
        Status::Clean
    } else {
        Status::Error
    })
}
