//! Command-line arguments (clap derive). Raw flags only; [`super::run`] validates them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  svcscrub check package/                 report captured service state, change nothing
  svcscrub fix --diff package/setup.ipf   show what fix would change, write nothing
  svcscrub fix package/                   remove it and write the cleaned scripts
  svcscrub check --format sarif packages/ > svcscrub.sarif
  svcscrub explain SVC001                 why a rule exists and what its fix does";

#[derive(Debug, Parser)]
#[command(
    name = "svcscrub",
    version,
    about = "Remove captured Windows service state from repackaged installer scripts and .reg exports",
    long_about = "svcscrub finds the registry writes that Windows or a `Create Service` action owns \
in WiseScript (.wse), SMS Installer (.ipf) and .reg captures (service security descriptors, Enum \
keys, LEGACY_* device nodes, ControlSet001 copies, values Create Service writes itself) and removes \
or rewrites them, byte-exactly.",
    after_help = EXAMPLES,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report findings; change nothing.
    #[command(after_help = "Examples:
  svcscrub check package/
  svcscrub check --format concise --select SVC001,SVC002 captures/
  svcscrub check --service SYMEVENT --format json package/ > findings.json
  type setup.ipf | svcscrub check - --stdin-filename setup.ipf")]
    Check(CheckArgs),
    /// Apply fixes, print the unified diff, and write the cleaned files.
    #[command(after_help = "Examples:
  svcscrub fix --diff package/            print the diff only, write nothing
  svcscrub fix package/                   write the cleaned files in place (atomically)
  svcscrub fix --backup package/          keep each original as FILE.orig
  svcscrub fix --backup=numbered package/ keep every original: FILE.orig.1, FILE.orig.2, …
  svcscrub fix -o clean.ipf setup.ipf     write the result elsewhere, leave setup.ipf as it is
  svcscrub fix --unsafe-fixes package/    also apply fixes that change what gets installed")]
    Fix(FixArgs),
    /// Print the registry state a package installs, as a regedit 5 export.
    #[command(after_help = "Examples:
  svcscrub registry package/              what the package writes (and deletes)
  svcscrub registry --format json package/
  svcscrub registry --diff package/       what `svcscrub fix` changes in it
  svcscrub registry --diff --unsafe-fixes package/")]
    Registry(RegistryArgs),
    /// List the rules: code, name, severity and fix applicability.
    Rules(RulesArgs),
    /// Print a rule's full documentation.
    #[command(
        after_help = "Examples:\n  svcscrub explain SVC010\n  svcscrub explain redundant-service-value\n  svcscrub explain --all"
    )]
    Explain(ExplainArgs),
    /// Add a suppression directive for every current finding, so that a repository can adopt
    /// the gate and fail only on new findings.
    #[command(after_help = "Examples:
  svcscrub suppress packages/             mark every current finding as accepted
  svcscrub check packages/                now exits 0 until something new is captured")]
    Suppress(SuppressArgs),
    /// Print a shell completion script.
    #[command(after_help = "Examples:
  svcscrub completions bash > /etc/bash_completion.d/svcscrub
  svcscrub completions powershell >> $PROFILE")]
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// rustc-style diagnostics with the source line
    Full,
    /// one line per finding: PATH:LINE:COL: CODE message
    Concise,
    /// an array of finding objects
    Json,
    /// SARIF 2.1.0 (GitHub code scanning)
    Sarif,
    /// GitHub Actions workflow annotations
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Files or directories (searched recursively for the input file types: *.ipf, *.wse, *.reg,
    /// WiX sources…); `-` reads stdin.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Full)]
    pub format: OutputFormat,

    /// Only these rules (comma-separated codes or prefixes, e.g. `SVC00,SVC020`; `ALL` for
    /// every rule); replaces the configuration's `select`.
    #[arg(long, value_delimiter = ',', value_name = "CODES", value_parser = RuleCodeParser, hide_possible_values = true)]
    pub select: Option<Vec<String>>,

    /// Skip these rules (comma-separated codes or prefixes); replaces the configuration's
    /// `ignore`.
    #[arg(long, value_delimiter = ',', value_name = "CODES", value_parser = RuleCodeParser, hide_possible_values = true)]
    pub ignore: Option<Vec<String>>,

    /// Rules to select besides the configuration's (or `--select`'s) selection.
    #[arg(long, value_delimiter = ',', value_name = "CODES", value_parser = RuleCodeParser, hide_possible_values = true)]
    pub extend_select: Vec<String>,

    /// Rules to skip besides the configuration's (or `--ignore`'s).
    #[arg(long, value_delimiter = ',', value_name = "CODES", value_parser = RuleCodeParser, hide_possible_values = true)]
    pub extend_ignore: Vec<String>,

    /// Write the report to FILE instead of the terminal (the diff of `fix` stays on standard
    /// output), so one run can give a SARIF file and a human report.
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,

    /// Print the settings that apply to PATH (a file or directory) and exit.
    #[arg(long)]
    pub show_settings: bool,

    /// Print the files that would be checked and exit.
    #[arg(long)]
    pub show_files: bool,

    /// Treat NAME as a service created in every package (repeatable).
    #[arg(long = "service", value_name = "NAME")]
    pub services: Vec<String>,

    /// Use this configuration file instead of discovering `svcscrub.toml`.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Ignore every `svcscrub.toml`.
    #[arg(long)]
    pub no_config: bool,

    /// Machine-facing paths (diffs, SARIF, GitHub, JSON) are relative to DIR (default: the
    /// nearest ancestor of the working directory with `.git`, else the working directory).
    #[arg(long, value_name = "DIR")]
    pub project_root: Option<PathBuf>,

    /// Leave out files and directories matching PATTERN (gitignore syntax, relative to the
    /// current directory), besides the configured `exclude`/`extend-exclude` (repeatable).
    #[arg(long, value_name = "PATTERN", value_delimiter = ',')]
    pub exclude: Vec<String>,

    /// Apply the exclusions to files named on the command line too (for pre-commit hooks and
    /// editors, which name every file).
    #[arg(long)]
    pub force_exclude: bool,

    /// Walk into what `.gitignore`, `.ignore`, `.git/info/exclude` and the global gitignore
    /// leave out.
    #[arg(long)]
    pub no_respect_gitignore: bool,

    /// The name to report for standard input.
    #[arg(long, value_name = "NAME")]
    pub stdin_filename: Option<String>,

    /// When to colour output (`NO_COLOR` is honoured with `auto`).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Exit 0 even when findings remain (errors still exit 2).
    #[arg(long)]
    pub exit_zero: bool,

    /// Files processed in parallel (default: the number of cores).
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,

    /// Print only findings and errors, no summary.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Apply fixes: the same as `svcscrub fix` (with `--diff`: `svcscrub fix --diff`).
    #[arg(long)]
    pub fix: bool,

    /// Print the diff of what `fix` would change, write nothing (`svcscrub fix --diff`).
    #[arg(long)]
    pub diff: bool,

    /// With `--fix` or `--diff`: also apply unsafe fixes.
    #[arg(long)]
    pub unsafe_fixes: bool,

    /// Print how many findings each rule has instead of the findings.
    #[arg(long)]
    pub statistics: bool,
}

#[derive(Debug, Args)]
pub struct FixArgs {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Print the diff only; write nothing.
    #[arg(long)]
    pub diff: bool,

    /// After the summary, list what was fixed in each file, by rule.
    #[arg(long)]
    pub show_fixes: bool,

    /// Also apply fixes marked unsafe (they change what gets installed).
    #[arg(long)]
    pub unsafe_fixes: bool,

    /// Write the result to FILE (exactly one input); the input is left untouched.
    #[arg(short, long, value_name = "FILE", conflicts_with = "diff")]
    pub output: Option<PathBuf>,

    /// Keep each original as FILE.orig (refused when it exists); `--backup=numbered`:
    /// FILE.orig.1, FILE.orig.2, …
    #[arg(
        long,
        value_enum,
        value_name = "CONTROL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "simple"
    )]
    pub backup: Option<BackupControl>,
}

/// How `--backup` names the backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackupControl {
    /// FILE.orig; an existing one is never replaced: the file is not written
    Simple,
    /// FILE.orig.N, one more than the highest N there (as `cp --backup=numbered`)
    Numbered,
}

#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// The options every command shares; `--format` is `full` (a regedit 5 export, the
    /// default) or `json`.
    #[command(flatten)]
    pub common: CommonArgs,

    /// Show how `svcscrub fix` changes the state: a unified diff of the two exports (with
    /// `--format json`, both states).
    #[arg(long)]
    pub diff: bool,

    /// With `--diff`: apply the unsafe fixes too.
    #[arg(long, requires = "diff")]
    pub unsafe_fixes: bool,
}

#[derive(Debug, Args)]
pub struct SuppressArgs {
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// `full` (a table) or `json`.
    #[arg(long, value_enum, default_value_t = RulesFormat::Full)]
    pub format: RulesFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Full,
    Json,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A rule code or name, e.g. SVC001 or service-security-descriptor.
    #[arg(required_unless_present = "all", value_parser = RuleCodeParser)]
    pub code: Option<String>,

    /// Every rule's documentation, one after the other.
    #[arg(long, conflicts_with = "code")]
    pub all: bool,
}

/// Accepts any text (a selector may be a prefix, `ALL` or a rule name; [`super::run`] checks
/// it) but offers the rule codes to shell completion.
#[derive(Clone, Copy, Debug)]
pub struct RuleCodeParser;

impl clap::builder::TypedValueParser for RuleCodeParser {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let codes = crate::rules::RULES
            .iter()
            .map(|r| clap::builder::PossibleValue::new(r.code).help(r.summary))
            .chain([clap::builder::PossibleValue::new("ALL").help("every rule")]);
        Some(Box::new(codes))
    }
}
