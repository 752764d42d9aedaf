//! Running a parsed command line: inputs → packages → pipeline → output → exit status.

use std::collections::HashMap;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use rayon::prelude::*;

use super::args::{
    BackupControl, CheckArgs, Cli, ColorChoice, Command, CommonArgs, FixArgs, OutputFormat,
    RegistryArgs,
};
use super::includes::{self, Root};
use super::inputs::{self, Input, InputSource, Selection, describe_io, discover};
use super::{Status, catalog};
use crate::detect::is_input_name;
use crate::diagnostic::{Diagnostic, Severity};
use crate::error::InputError;
use crate::model::Hive;
use crate::paths::ProjectRoot;
use crate::pipeline::{self, Fixed, Loaded, Options};
use crate::render::json::FileDiagnostics;
use crate::render::summary::{CheckCounts, FixCounts, check_summary, fix_summary};
use crate::render::{Invocation, Notice, concise, diff, full, github, json, sarif};
use crate::rules::RULES;
use crate::settings::{self, ConfigCache, ConfigFile, Overrides, Settings};
use crate::source::{self, ReadError, SourceFile};
use crate::syntax::Syntax;
use crate::write::{self, Backup, Fs, RealFs, WriteOptions};

pub fn run(cli: Cli) -> anyhow::Result<Status> {
    match cli.command {
        // `check --fix` and `check --diff` are `fix` and `fix --diff`, as in ruff.
        Command::Check(args) if args.fix || args.diff => fix(&FixArgs {
            diff: args.diff,
            show_fixes: false,
            unsafe_fixes: args.unsafe_fixes,
            output: None,
            backup: None,
            common: args.common,
        }),
        Command::Check(args) => check(&args),
        Command::Fix(args) => fix(&args),
        Command::Registry(args) => registry(&args),
        Command::Suppress(args) => suppress(&args.common),
        Command::Rules(args) => Ok(catalog::list(&mut std::io::stdout().lock(), args.format)?),
        Command::Explain(args) => Ok(catalog::explain(
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
            args.code.as_deref().filter(|_| !args.all),
        )?),
        Command::Completions(args) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(
                args.shell,
                &mut command,
                "svcscrub",
                &mut std::io::stdout().lock(),
            );
            Ok(Status::Clean)
        }
    }
}

/// Runs `work` over the packages on the pool, with a progress bar on stderr when it is a
/// terminal and the run is large enough to be worth one. Results keep the packages' order.
fn run_packages<T: Send>(
    pool: &rayon::ThreadPool,
    packages: &[Package],
    quiet: bool,
    work: impl Fn(&Package) -> T + Sync,
) -> Vec<T> {
    const SHOW_PROGRESS_FROM: usize = 20;
    let files: usize = packages.iter().map(|p| p.inputs.len()).sum();
    let bar = if !quiet && files >= SHOW_PROGRESS_FROM && std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(files as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files {elapsed}")
        {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let results = pool.install(|| {
        packages
            .par_iter()
            .map(|package| {
                let result = work(package);
                bar.inc(package.inputs.len() as u64);
                result
            })
            .collect()
    });
    bar.finish_and_clear();
    results
}

/// Leaves the packages' results (texts, trees, reports) to the operating system: the
/// command returns to `main` and the process exits right after the output, which releases
/// the whole address space at once. Freeing them one by one first was a serial tail of the
/// run (18,000 diagnostics and a 60 MB text: ~30 ms; thousands of small packages: every
/// buffer and tree).
fn release_at_exit<T>(results: T) {
    std::mem::forget(results);
}

/// The files of one directory, with the settings that apply to them.
struct Package {
    /// Inputs to report on (and fix), in discovery order.
    inputs: Vec<Input>,
    /// Other scripts of the directory, read only for their Create Service items (when files
    /// were named explicitly).
    context: Vec<Input>,
    settings: Settings,
    /// The configuration file the settings come from.
    config: Option<PathBuf>,
    /// `per-file-ignores`: the rule selectors ignored in an input (by its displayed path).
    file_ignores: Vec<(String, Vec<String>)>,
}

/// One input's outcome.
struct FileResult<T> {
    input: Input,
    outcome: Result<T, InputError>,
}

struct FixedFile {
    /// With `--diff`, `fixed.file` and `fixed.remaining` are the original file and its
    /// remaining findings (see [`fix_one_package`]).
    fixed: Fixed,
    /// The unified diff, rendered on the worker when it is to be printed.
    diff: Option<Vec<u8>>,
}

struct Checked {
    /// The file's source (its syntax tree is dropped on the worker as soon as it is checked).
    source: SourceFile,
    diagnostics: Vec<Diagnostic>,
    /// The file's report in pieces written one after the other, rendered on the worker for
    /// the per-file formats (`full`, `concise`); `None` for the whole-run formats, rendered at
    /// the end.
    report: Option<Vec<Vec<u8>>>,
}

/// How a worker renders a file's own part of the report (per-file formats only).
#[derive(Clone, Copy)]
struct FileReport {
    format: OutputFormat,
    color: bool,
    unsafe_fixes: bool,
}

impl FileReport {
    /// The report of one file, when its format is written file by file.
    fn render(&self, source: &SourceFile, diagnostics: &[Diagnostic]) -> Option<Vec<Vec<u8>>> {
        match self.format {
            OutputFormat::Full => {
                let options = full::FullOptions {
                    color: self.color,
                    unsafe_fixes: self.unsafe_fixes,
                };
                // Kept in the rendered chunks: no copy of a large report into one buffer.
                let chunks = full::render_chunks(source, diagnostics, &options);
                Some(chunks.into_iter().map(String::into_bytes).collect())
            }
            OutputFormat::Concise => {
                let mut out = Vec::new();
                // Writing to a Vec cannot fail.
                concise::render(&mut out, source, diagnostics, self.unsafe_fixes, self.color)
                    .ok()?;
                Some(vec![out])
            }
            OutputFormat::Json | OutputFormat::Sarif | OutputFormat::Github => None,
        }
    }
}

/// Standard output is written through a buffer of this size: a large report (100 000
/// findings) costs a few hundred `write` calls, and nothing is flushed per finding.
const OUTPUT_BUFFER: usize = 256 * 1024;

/// The standard stream a report goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

/// Whether a report on `stream` is coloured. `--color auto` decides as anstream does
/// (anstyle-query's conventions: `NO_COLOR` non-empty, `CLICOLOR_FORCE`, `CLICOLOR`, `TERM=dumb`,
/// CI). A Windows console shows the ANSI sequences only once its virtual terminal processing is
/// on: it is switched on here (nothing happens elsewhere), and where it cannot be (an old
/// console) `auto` gives colour up rather than print the sequences as text.
fn use_color(choice: ColorChoice, stream: Stream) -> bool {
    let wanted = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let auto = match stream {
                Stream::Stdout => anstream::AutoStream::choice(&std::io::stdout()),
                Stream::Stderr => anstream::AutoStream::choice(&std::io::stderr()),
            };
            auto != anstream::ColorChoice::Never
        }
    };
    let is_terminal = match stream {
        Stream::Stdout => std::io::stdout().is_terminal(),
        Stream::Stderr => std::io::stderr().is_terminal(),
    };
    wanted
        && (!is_terminal
            || anstyle_query::windows::enable_ansi_colors().unwrap_or(true)
            || choice == ColorChoice::Always)
}

/// Reads and decodes one input (a large file is read in parallel pieces, a UTF-16 file is
/// decoded while it is read; see [`source::read_file`]).
fn read_input(input: &Input) -> Result<SourceFile, InputError> {
    let io_error = |e: &std::io::Error| InputError::new(&input.display, describe_io(e));
    let read = match &input.source {
        InputSource::File(path) => {
            // Type and size are looked at before anything is read (a FIFO would block, a
            // device never end); the limit depends on what the first bytes say the file is.
            let (mut file, len) =
                source::open_regular(path, source::MAX_UTF16_INPUT_LEN, "larger than 8 GiB")
                    .map_err(|e| match e {
                        source::OpenError::Io(e) => io_error(&e),
                        other => InputError::new(&input.display, other.to_string()),
                    })?;
            let mut head = [0u8; 32];
            let got = read_head(&mut file, &mut head).map_err(|e| io_error(&e))?;
            let (limit, what) = source::input_limit(&head[..got]);
            if len > limit {
                return Err(InputError::new(
                    &input.display,
                    format!("{what} ({len} bytes); not read"),
                ));
            }
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            source::read_file(input.display.as_str(), &mut file, len, (limit, what))
        }
        InputSource::Stdin => source::read_source(
            input.display.as_str(),
            &mut source::Limited::new(
                std::io::stdin().lock(),
                source::MAX_UTF16_INPUT_LEN,
                "larger than 8 GiB",
            ),
            0,
        ),
    };
    read.map_err(|e| match e {
        ReadError::Io(e) => io_error(&e),
        ReadError::Decode(e) => InputError::new(&input.display, e.to_string()),
    })
}

/// Reads the first bytes of `file` into `head` and goes back to the start; how many.
fn read_head(file: &mut std::fs::File, head: &mut [u8]) -> std::io::Result<usize> {
    use std::io::{Read, Seek};
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    file.rewind()?;
    Ok(got)
}

fn load_input(input: &Input) -> Result<Loaded, InputError> {
    read_input(input).and_then(pipeline::load_source)
}

/// The configuration files of a run: `--config FILE`, none with `--no-config`, or the nearest
/// `svcscrub.toml` of each directory (each file loaded once).
struct Configs {
    no_config: bool,
    explicit: Option<ConfigFile>,
    cache: ConfigCache,
    loaded: HashMap<PathBuf, ConfigFile>,
}

impl Configs {
    fn new(common: &CommonArgs) -> anyhow::Result<Self> {
        let explicit = match (&common.config, common.no_config) {
            (Some(path), false) => Some(settings::load(path).map_err(|e| anyhow::anyhow!("{e}"))?),
            _ => None,
        };
        Ok(Self {
            no_config: common.no_config,
            explicit,
            cache: ConfigCache::new(),
            loaded: HashMap::new(),
        })
    }

    /// The configuration that applies to the files of `dir` (empty: the current directory).
    fn for_dir(&mut self, dir: &Path) -> anyhow::Result<Option<&ConfigFile>> {
        if self.no_config {
            return Ok(None);
        }
        if self.explicit.is_some() {
            return Ok(self.explicit.as_ref());
        }
        let start = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let Some(path) = self.cache.discover(start) else {
            return Ok(None);
        };
        if !self.loaded.contains_key(&path) {
            let config = settings::load(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
            self.loaded.insert(path.clone(), config);
        }
        Ok(self.loaded.get(&path))
    }
}

/// What the walks leave out for the files `config` applies to: its `exclude` (or the default
/// list) and `extend-exclude`, rooted at its directory; `--exclude`, rooted at the current
/// directory; gitignore files unless switched off.
fn selection(common: &CommonArgs, config: Option<&ConfigFile>) -> anyhow::Result<Selection> {
    let canonical = |dir: &Path| {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        dir.canonicalize().unwrap_or_else(|_| inputs::absolute(dir))
    };
    let mut exclude = Vec::new();
    let defaults: Vec<String> = settings::DEFAULT_EXCLUDE
        .iter()
        .map(|p| p.to_string())
        .collect();
    let (root, origin, listed, extended) = match config {
        Some(config) => {
            let path = config.path.clone().unwrap_or_default();
            let root = canonical(path.parent().unwrap_or(Path::new("")));
            (
                root,
                path.display().to_string(),
                config.exclude.clone(),
                config.extend_exclude.clone(),
            )
        }
        None => (canonical(Path::new("")), String::new(), None, None),
    };
    for (patterns, key) in [
        (listed.unwrap_or(defaults), "exclude"),
        (extended.unwrap_or_default(), "extend-exclude"),
    ] {
        let matcher = Selection::patterns(&root, &patterns)
            .map_err(|e| anyhow::anyhow!("{origin}: `{key}`: {e}"))?;
        exclude.push(matcher);
    }
    if !common.exclude.is_empty() {
        let matcher = Selection::patterns(&canonical(Path::new("")), &common.exclude)
            .map_err(|e| anyhow::anyhow!("--exclude: {e}"))?;
        exclude.push(matcher);
    }
    Ok(Selection {
        respect_gitignore: !common.no_respect_gitignore
            && config.and_then(|c| c.respect_gitignore).unwrap_or(true),
        force_exclude: common.force_exclude,
        exclude,
    })
}

/// The inputs of a run, grouped into packages, and what went wrong finding them.
struct Planned {
    packages: Vec<Package>,
    errors: Vec<InputError>,
    warnings: Vec<InputError>,
}

/// Groups inputs into packages (one per directory, in order of first appearance), adds the
/// sibling files of explicitly named files as context, and resolves each package's settings.
fn plan_packages(
    common: &CommonArgs,
    unsafe_fixes: bool,
    root: &ProjectRoot,
) -> anyhow::Result<Planned> {
    let mut configs = Configs::new(common)?;
    let mut selections: HashMap<Option<PathBuf>, std::sync::Arc<Selection>> = HashMap::new();
    let found = discover(
        &common.paths,
        common.stdin_filename.as_deref(),
        root,
        &mut |dir| {
            let config = configs.for_dir(dir)?;
            let key = config.and_then(|c| c.path.clone());
            if let Some(known) = selections.get(&key) {
                return Ok(known.clone());
            }
            let made = std::sync::Arc::new(selection(common, config)?);
            selections.insert(key, made.clone());
            Ok(made)
        },
    )?;
    let mut order: Vec<PathBuf> = Vec::new();
    let mut groups: HashMap<PathBuf, Vec<Input>> = HashMap::new();
    for input in found.inputs {
        let dir = input.package_dir();
        let group = groups.entry(dir.clone()).or_insert_with(|| {
            order.push(dir);
            Vec::new()
        });
        group.push(input);
    }

    let codes: Vec<&str> = RULES.iter().map(|r| r.code).collect();
    let overrides = Overrides {
        select: common.select.clone(),
        ignore: common.ignore.clone(),
        extend_select: common.extend_select.clone(),
        extend_ignore: common.extend_ignore.clone(),
        unsafe_fixes: unsafe_fixes.then_some(true),
        services: common.services.clone(),
    };
    let mut packages = Vec::with_capacity(order.len());
    for dir in order {
        let inputs = groups.remove(&dir).unwrap_or_default();
        // Standard input without `--stdin-filename` is nowhere: the current directory's
        // configuration applies. Named, it is where its name says (its directory is `dir`).
        let unnamed_stdin = inputs.iter().all(|i| !i.has_location());
        let config_dir = if unnamed_stdin {
            std::env::current_dir().unwrap_or_default()
        } else {
            dir.clone()
        };
        let config = configs.for_dir(&config_dir)?;
        let settings =
            Settings::resolve(config, &overrides, &codes).map_err(|e| anyhow::anyhow!("{e}"))?;
        let context = if inputs.iter().any(|i| i.explicit && i.has_location()) {
            siblings(&dir, &inputs, root)
        } else {
            Vec::new()
        };
        let mut file_ignores = Vec::new();
        if let Some(config) = config
            && config.per_file_ignores.is_some()
        {
            for input in &inputs {
                let Some(location) = input.location() else {
                    continue;
                };
                let codes = settings::per_file_ignores(config, location, &codes)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                if !codes.is_empty() {
                    file_ignores.push((input.display.clone(), codes));
                }
            }
        }
        packages.push(Package {
            inputs,
            context,
            settings,
            config: config.and_then(|c| c.path.clone()),
            file_ignores,
        });
    }
    Ok(Planned {
        packages,
        errors: found.errors,
        warnings: found.warnings,
    })
}

/// The root machine-facing paths are relative to (see [`crate::paths`]). Without a working
/// directory (it was removed), paths are taken as named.
pub fn project_root(common: &CommonArgs) -> ProjectRoot {
    match std::env::current_dir() {
        Ok(cwd) => ProjectRoot::discover(&cwd, common.project_root.as_deref()),
        Err(_) => ProjectRoot::new(PathBuf::new(), PathBuf::new()),
    }
}

/// The packages, discovered on the worker pool (so `-j` bounds discovery too), and the pool.
/// The pool's own error (`--jobs 0`) is left to the caller, to report after the others.
fn plan_on_pool(
    common: &CommonArgs,
    unsafe_fixes: bool,
    root: &ProjectRoot,
) -> anyhow::Result<(anyhow::Result<rayon::ThreadPool>, Planned)> {
    let pool = thread_pool(common.jobs);
    let planned = match &pool {
        Ok(pool) => pool.install(|| plan_packages(common, unsafe_fixes, root)),
        Err(_) => plan_packages(common, unsafe_fixes, root),
    }?;
    Ok((pool, planned))
}

/// Files of `dir` of the input types that are not among `inputs`: they are part of the
/// package (their Create Service items and writes count).
fn siblings(dir: &Path, inputs: &[Input], root: &ProjectRoot) -> Vec<Input> {
    let listing = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(listing) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && is_input_name(p))
        .filter(|p| {
            // A file that standard input stands for is superseded by it.
            !inputs
                .iter()
                .any(|i| i.location().is_some_and(|q| same_file(p, q)))
        })
        .collect();
    found.sort();
    found
        .into_iter()
        .map(|p| Input::file(p, false, root))
        .collect()
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Keeps a finding unless its rule is ignored for its file (`per-file-ignores`) or its key is
/// allowed.
fn keeper(package: &Package) -> impl Fn(&Loaded, &Diagnostic) -> bool + Sync + '_ {
    let settings = &package.settings;
    move |loaded, diagnostic| {
        let ignored = package
            .file_ignores
            .iter()
            .find(|(path, _)| *path == loaded.source.path)
            .is_some_and(|(_, codes)| {
                codes.iter().any(|sel| {
                    diagnostic.code.len() >= sel.len()
                        && diagnostic.code[..sel.len()].eq_ignore_ascii_case(sel)
                })
            });
        if ignored {
            return false;
        }
        if settings.allow.is_empty() || diagnostic.registry_key.is_empty() {
            return true;
        }
        let (hive, key) = diagnostic
            .registry_key
            .split_once('\\')
            .unwrap_or((diagnostic.registry_key.as_str(), ""));
        !settings.is_allowed(Hive::from_name(hive.as_bytes()), key.as_bytes())
    }
}

fn thread_pool(jobs: Option<usize>) -> anyhow::Result<rayon::ThreadPool> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(jobs) = jobs {
        anyhow::ensure!(jobs > 0, "--jobs must be at least 1");
        builder = builder.num_threads(jobs);
    }
    builder.build().context("starting worker threads")
}

/// Loads a package's inputs and context, and the scripts they include (as more context);
/// returns the warnings about includes that could not be followed.
fn load_package(
    package: &Package,
) -> (
    Vec<Result<Loaded, InputError>>,
    Vec<Loaded>,
    Vec<InputError>,
) {
    let (loaded, mut siblings, included, warnings) = load_package_parts(package);
    siblings.extend(included);
    (loaded, siblings, warnings)
}

/// As [`load_package`], with the sibling scripts and the included ones apart.
type PackageParts = (
    Vec<Result<Loaded, InputError>>,
    Vec<Loaded>,
    Vec<Loaded>,
    Vec<InputError>,
);

fn load_package_parts(package: &Package) -> PackageParts {
    let loaded: Vec<Result<Loaded, InputError>> = package.inputs.iter().map(load_input).collect();
    // Context files that cannot be read or parsed simply do not contribute; they were not
    // asked for.
    let siblings: Vec<(&Input, Loaded)> = package
        .context
        .iter()
        .filter_map(|i| load_input(i).ok().map(|file| (i, file)))
        .collect();
    let roots: Vec<Root<'_>> = package
        .inputs
        .iter()
        .zip(&loaded)
        .filter_map(|(input, result)| result.as_ref().ok().map(|file| (input, file)))
        .chain(siblings.iter().map(|(input, file)| (*input, file)))
        .map(|(input, file)| Root {
            path: on_disk(input),
            file,
        })
        .collect();
    let followed = includes::follow(&roots);
    drop(roots);
    let siblings: Vec<Loaded> = siblings.into_iter().map(|(_, file)| file).collect();
    (loaded, siblings, followed.files, followed.warnings)
}

/// Where an input is (standard input: where `--stdin-filename` says), for following its
/// includes.
fn on_disk(input: &Input) -> Option<&Path> {
    input.location()
}

/// Prints include warnings once each, in package order; returns them (once each).
fn print_warnings<'w>(
    err: &mut dyn Write,
    warnings: impl IntoIterator<Item = &'w InputError>,
) -> std::io::Result<Vec<&'w InputError>> {
    let mut seen = Vec::new();
    for warning in warnings {
        if !seen.contains(&warning) {
            writeln!(err, "warning: {warning}")?;
            seen.push(warning);
        }
    }
    Ok(seen)
}

/// Splits loaded results into the files that loaded (with their input index) and errors.
fn split_loaded(
    loaded: Vec<Result<Loaded, InputError>>,
) -> (Vec<Loaded>, Vec<usize>, Vec<(usize, InputError)>) {
    let mut files = Vec::new();
    let mut positions = Vec::new();
    let mut errors = Vec::new();
    for (i, result) in loaded.into_iter().enumerate() {
        match result {
            Ok(file) => {
                files.push(file);
                positions.push(i);
            }
            Err(e) => errors.push((i, e)),
        }
    }
    (files, positions, errors)
}

/// Reassembles per-input results in input order.
fn in_input_order<T>(
    inputs: &[Input],
    ok: Vec<(usize, T)>,
    errors: Vec<(usize, InputError)>,
) -> Vec<FileResult<T>> {
    let mut slots: Vec<Option<Result<T, InputError>>> = inputs.iter().map(|_| None).collect();
    for (i, value) in ok {
        slots[i] = Some(Ok(value));
    }
    for (i, e) in errors {
        slots[i] = Some(Err(e));
    }
    inputs
        .iter()
        .zip(slots)
        .filter_map(|(input, slot)| {
            slot.map(|outcome| FileResult {
                input: input.clone(),
                outcome,
            })
        })
        .collect()
}

/// Runs `work` with the pipeline options of a package's settings.
fn with_options<T>(package: &Package, work: impl FnOnce(&Options<'_>) -> T) -> T {
    let settings = &package.settings;
    let keep = keeper(package);
    let enabled = |code: &str| settings.selection.enabled(code);
    work(&Options {
        declared_services: &settings.services,
        enabled: Some(&enabled),
        unsafe_fixes: settings.unsafe_fixes,
        keep: Some(&keep),
    })
}

/// Loads and checks `package`, and turns each file read and its findings into `per_file`'s
/// result; the results in input order, and the package's warnings.
fn check_each_file<T>(
    package: &Package,
    per_file: impl Fn(Loaded, Vec<Diagnostic>) -> T,
) -> (Vec<FileResult<T>>, Vec<InputError>) {
    let (loaded, context, warnings) = load_package(package);
    let (files, positions, errors) = split_loaded(loaded);
    let diagnostics = with_options(package, |options| {
        pipeline::check_package(&files, &context, options)
    });
    let ok = positions
        .into_iter()
        .zip(files.into_iter().zip(diagnostics))
        .map(|(i, (file, diagnostics))| (i, per_file(file, diagnostics)))
        .collect();
    (in_input_order(&package.inputs, ok, errors), warnings)
}

fn check_one_package(
    package: &Package,
    report: FileReport,
) -> (Vec<FileResult<Checked>>, Vec<InputError>) {
    check_each_file(package, |file, diagnostics| {
        // The tree is done with: it goes before the report takes its memory.
        let Loaded { source, syntax, .. } = file;
        drop(syntax);
        let report = report.render(&source, &diagnostics);
        Checked {
            source,
            diagnostics,
            report,
        }
    })
}

fn print_errors(err: &mut dyn Write, errors: &[InputError]) -> std::io::Result<()> {
    for e in errors {
        writeln!(err, "error: {e}")?;
    }
    Ok(())
}

fn check(args: &CheckArgs) -> anyhow::Result<Status> {
    let common = &args.common;
    let root = project_root(common);
    let (pool, planned) = plan_on_pool(common, args.unsafe_fixes, &root)?;
    if let Some(status) = show(common, &planned)? {
        return Ok(status);
    }
    let Planned {
        packages,
        errors: discovery_errors,
        warnings: discovery_warnings,
    } = planned;
    let unsafe_fixes = packages.iter().any(|p| p.settings.unsafe_fixes);
    let pool = pool?;
    let color = common.output_file.is_none() && use_color(common.color, Stream::Stdout);
    let report = FileReport {
        // With `--statistics` the findings are counted at the end, not written per file.
        format: if args.statistics {
            OutputFormat::Json
        } else {
            common.format
        },
        color,
        unsafe_fixes,
    };
    let results = run_packages(&pool, &packages, common.quiet, |package| {
        check_one_package(package, report)
    });

    let mut out = report_writer(common.output_file.as_deref())?;
    let mut err = std::io::stderr().lock();
    print_errors(&mut err, &discovery_errors)?;
    let warnings = print_warnings(
        &mut err,
        discovery_warnings
            .iter()
            .chain(results.iter().flat_map(|(_, w)| w)),
    )?;
    let mut notices: Vec<Notice<'_>> = discovery_errors
        .iter()
        .map(|e| error_notice(e, &root))
        .collect();
    notices.extend(warnings.into_iter().map(|w| warning_notice(w, &root)));

    let mut counts = CheckCounts::default();
    let mut reported: Vec<FileDiagnostics<'_>> = Vec::new();
    let mut rendered: Vec<&[Vec<u8>]> = Vec::new();
    for result in results.iter().flat_map(|(r, _)| r) {
        match &result.outcome {
            Ok(checked) => {
                counts.add_file(&checked.diagnostics, unsafe_fixes);
                match &checked.report {
                    Some(report) => rendered.push(report),
                    None => reported.push(FileDiagnostics {
                        path: &result.input.machine,
                        source: &checked.source,
                        diagnostics: &checked.diagnostics,
                    }),
                }
            }
            Err(e) => {
                writeln!(err, "error: {e}")?;
                notices.push(error_notice(e, &root));
            }
        }
    }
    let errors = notices
        .iter()
        .filter(|n| n.severity == Severity::Error)
        .count();
    counts.errors = errors;
    let status = status(errors > 0, counts.findings > 0, common.exit_zero);
    for chunk in rendered.into_iter().flatten() {
        out.write_all(chunk)?;
    }
    let working_directory = std::env::current_dir().unwrap_or_default();
    let invocation = Invocation {
        notices: &notices,
        exit_code: status as u8,
        working_directory: &working_directory,
    };
    let style = ReportStyle {
        format: common.format,
        color,
        unsafe_fixes,
    };
    if args.statistics {
        statistics(&mut out, common.format, &reported, unsafe_fixes)?;
    } else {
        write_report(&mut out, &style, &reported, &invocation, &root)?;
    }
    // With nothing found, the warning on standard error has said so.
    let anything = counts.files > 0 || counts.errors > 0;
    if !common.quiet
        && anything
        && matches!(common.format, OutputFormat::Full | OutputFormat::Concise)
    {
        writeln!(out, "{}", check_summary(&counts))?;
    }
    out.flush()?;
    drop(reported);
    release_at_exit(results);
    Ok(status)
}

/// How many findings of each rule a fix removed: the original's findings less those left.
fn fixed_per_rule(fixed: &Fixed) -> Vec<(&'static str, usize)> {
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    for anchor in &fixed.anchors {
        match counts.iter_mut().find(|(code, _)| *code == anchor.code()) {
            Some((_, n)) => *n += 1,
            None => counts.push((anchor.code(), 1)),
        }
    }
    for diagnostic in &fixed.remaining {
        if let Some((_, n)) = counts.iter_mut().find(|(code, _)| *code == diagnostic.code) {
            *n = n.saturating_sub(1);
        }
    }
    counts.retain(|(_, n)| *n > 0);
    counts.sort();
    counts
}

/// `--show-fixes`: what was fixed in each file, by rule (ruff's layout).
fn show_fixes(
    out: &mut dyn Write,
    files: &[(&str, Vec<(&'static str, usize)>)],
) -> std::io::Result<()> {
    let total: usize = files.iter().flat_map(|(_, c)| c).map(|(_, n)| n).sum();
    if total == 0 {
        return writeln!(out, "No findings fixed.");
    }
    let noun = if total == 1 { "finding" } else { "findings" };
    writeln!(out, "Fixed {total} {noun}:")?;
    for (path, codes) in files.iter().filter(|(_, c)| !c.is_empty()) {
        writeln!(out, "- {path}:")?;
        for (code, n) in codes {
            let name = crate::rules::rule(code).map_or("", |r| r.name);
            writeln!(out, "    {n} \u{d7} {code} ({name})")?;
        }
    }
    Ok(())
}

/// Where the report goes: `--output-file FILE`, or standard output.
fn report_writer(file: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match file {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot write the report to {}", path.display()))?;
            Box::new(BufWriter::with_capacity(OUTPUT_BUFFER, file))
        }
        None => Box::new(BufWriter::with_capacity(
            OUTPUT_BUFFER,
            std::io::stdout().lock(),
        )),
    })
}

/// `--statistics`: how many findings each rule has, most first (as ruff prints them), or a
/// JSON array of `{code, name, count, fixable}` with `--format json`.
fn statistics(
    out: &mut dyn Write,
    format: OutputFormat,
    files: &[FileDiagnostics<'_>],
    unsafe_fixes: bool,
) -> anyhow::Result<()> {
    #[derive(serde::Serialize)]
    struct Row {
        code: &'static str,
        name: &'static str,
        count: usize,
        fixable: usize,
    }
    let mut rows: Vec<Row> = Vec::new();
    for diagnostic in files.iter().flat_map(|f| f.diagnostics) {
        let fixable = usize::from(concise::is_fixable(diagnostic, unsafe_fixes));
        match rows.iter_mut().find(|r| r.code == diagnostic.code) {
            Some(row) => {
                row.count += 1;
                row.fixable += fixable;
            }
            None => rows.push(Row {
                code: diagnostic.code,
                name: diagnostic.name,
                count: 1,
                fixable,
            }),
        }
    }
    rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(b.code)));
    if format == OutputFormat::Json {
        serde_json::to_writer_pretty(&mut *out, &rows)?;
        writeln!(out)?;
        return Ok(());
    }
    let width = rows
        .iter()
        .map(|r| r.count.to_string().len())
        .max()
        .unwrap_or(1);
    for row in &rows {
        let marker = if row.fixable == row.count {
            "[*]"
        } else if row.fixable > 0 {
            "[-]"
        } else {
            "[ ]"
        };
        writeln!(
            out,
            "{:>width$}\t{}\t{marker} {}",
            row.count, row.code, row.name
        )?;
    }
    Ok(())
}

/// `--show-files` and `--show-settings`: what a run would read, and with which settings; the
/// run stops there (`Some` status).
fn show(common: &CommonArgs, planned: &Planned) -> anyhow::Result<Option<Status>> {
    if !common.show_files && !common.show_settings {
        return Ok(None);
    }
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut err = std::io::stderr().lock();
    print_errors(&mut err, &planned.errors)?;
    print_warnings(&mut err, planned.warnings.iter())?;
    for package in &planned.packages {
        if common.show_files {
            for input in &package.inputs {
                writeln!(out, "{}", input.display)?;
            }
        }
        if common.show_settings {
            let settings = &package.settings;
            let files: Vec<&str> = package.inputs.iter().map(|i| i.display.as_str()).collect();
            writeln!(out, "Settings for {}:", files.join(", "))?;
            let config = package
                .config
                .as_deref()
                .map_or_else(|| "none".to_string(), |p| p.display().to_string());
            writeln!(out, "  configuration: {config}")?;
            let enabled: Vec<&str> = RULES
                .iter()
                .map(|r| r.code)
                .filter(|code| settings.selection.enabled(code))
                .collect();
            writeln!(out, "  rules: {}", enabled.join(", "))?;
            writeln!(out, "  unsafe-fixes: {}", settings.unsafe_fixes)?;
            writeln!(out, "  services: [{}]", settings.services.join(", "))?;
            let allow: Vec<String> = settings.allow.iter().map(|a| a.to_string()).collect();
            writeln!(out, "  allow: [{}]", allow.join(", "))?;
            for (file, codes) in &package.file_ignores {
                writeln!(out, "  per-file-ignores: {file}: {}", codes.join(", "))?;
            }
            let context: Vec<&str> = package.context.iter().map(|i| i.display.as_str()).collect();
            writeln!(out, "  package context: [{}]", context.join(", "))?;
        }
    }
    out.flush()?;
    Ok(Some(if planned.errors.is_empty() {
        Status::Clean
    } else {
        Status::Error
    }))
}

/// A problem that stops an input, for the reports that describe the run.
fn error_notice<'a>(problem: &'a InputError, root: &ProjectRoot) -> Notice<'a> {
    Notice::new(Severity::Error, problem, root)
}

/// A problem the run met and went on.
fn warning_notice<'a>(problem: &'a InputError, root: &ProjectRoot) -> Notice<'a> {
    Notice::new(Severity::Warning, problem, root)
}

/// How a report is written.
#[derive(Clone, Copy)]
struct ReportStyle {
    format: OutputFormat,
    color: bool,
    unsafe_fixes: bool,
}

/// Writes diagnostics in `format` (the whole report for machine formats; SARIF and `github`
/// also describe the run's errors and warnings).
fn write_report(
    out: &mut dyn Write,
    style: &ReportStyle,
    files: &[FileDiagnostics<'_>],
    invocation: &Invocation<'_>,
    root: &ProjectRoot,
) -> anyhow::Result<()> {
    let ReportStyle {
        format,
        color,
        unsafe_fixes,
    } = *style;
    match format {
        OutputFormat::Full => {
            let options = full::FullOptions {
                color,
                unsafe_fixes,
            };
            for f in files {
                full::render(out, f.source, f.diagnostics, &options)?;
            }
        }
        OutputFormat::Concise => {
            for f in files {
                concise::render(out, f.source, f.diagnostics, unsafe_fixes, color)?;
            }
        }
        OutputFormat::Json => json::render(out, files)?,
        OutputFormat::Sarif => sarif::render(out, RULES, files, root.dir(), invocation)?,
        OutputFormat::Github => github::render(out, files, invocation.notices)?,
    }
    Ok(())
}

fn status(errors: bool, findings: bool, exit_zero: bool) -> Status {
    if errors {
        Status::Error
    } else if findings && !exit_zero {
        Status::Findings
    } else {
        Status::Clean
    }
}

/// `diff_color`: render the diff of each changed file (with colour or not); `None` when the
/// output format is a machine format and no diff is printed. `dry_run` (`--diff`): nothing
/// will be written, so each file's remaining findings are reported on its original, which
/// replaces the fixed text once the diff is rendered.
fn fix_one_package(
    package: &Package,
    diff_color: Option<bool>,
    dry_run: bool,
) -> (Vec<FileResult<FixedFile>>, Vec<InputError>) {
    let (loaded, context, mut warnings) = load_package(package);
    let (files, positions, errors) = split_loaded(loaded);
    let paths: Vec<String> = files.iter().map(|f| f.source.path.clone()).collect();
    let fixed = with_options(package, |options| {
        pipeline::fix_package(files, &context, options)
    });
    let mut ok = Vec::new();
    let mut errors = errors;
    for ((i, result), path) in positions.into_iter().zip(fixed).zip(paths) {
        let machine = &package.inputs[i].machine;
        match result {
            Ok(mut fixed) => {
                // What the fixes did beyond their edits (a WiX component left empty, a
                // database's signature invalidated) is for people to act on.
                for note in std::mem::take(&mut fixed.notes) {
                    warnings.push(InputError::new(path.as_str(), note));
                }
                // Nothing after this reads the tree (the diff and the report read the text):
                // it is freed before the diff is rendered, as `check` frees it before its
                // report.
                fixed.file.syntax = Syntax::empty();
                let diff = diff_color
                    .filter(|_| !fixed.spans.is_empty())
                    .map(|color| fixed_diff(machine, &fixed, color));
                if dry_run && let Some((original, remaining)) = fixed.remaining_on_original() {
                    fixed.file.source = original;
                    fixed.remaining = remaining;
                }
                ok.push((i, FixedFile { fixed, diff }))
            }
            Err(e) => errors.push((i, InputError::new(&path, e.to_string()))),
        }
    }
    (in_input_order(&package.inputs, ok, errors), warnings)
}

/// The unified diff of a fixed file against its original, from the fixed text and the
/// original bytes of what changed; `path` names the file in its headers.
fn fixed_diff(path: &str, fixed: &Fixed, color: bool) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and the spans fit the text they were recorded on.
    let _ = diff::write_fixed_source_diff(
        &mut out,
        path,
        &fixed.file.source,
        &fixed.spans,
        &fixed.old_bytes,
        color,
    );
    out
}

fn fix(args: &FixArgs) -> anyhow::Result<Status> {
    let common = &args.common;
    let root = project_root(common);
    let (pool, planned) = plan_on_pool(common, args.unsafe_fixes, &root)?;
    if let Some(status) = show(common, &planned)? {
        return Ok(status);
    }
    let Planned {
        packages,
        errors: discovery_errors,
        warnings: discovery_warnings,
    } = planned;
    let input_count: usize = packages.iter().map(|p| p.inputs.len()).sum();
    if args.output.is_some() && (input_count != 1 || !discovery_errors.is_empty()) {
        anyhow::bail!("-o/--output needs exactly one input file (got {input_count})");
    }
    let unsafe_fixes = packages.iter().any(|p| p.settings.unsafe_fixes);
    let pool = pool?;
    let stdout = std::io::stdout();
    let stdout_color = use_color(common.color, Stream::Stdout);
    let stderr_color = use_color(common.color, Stream::Stderr);
    let machine = matches!(
        common.format,
        OutputFormat::Json | OutputFormat::Sarif | OutputFormat::Github
    );
    // `fix -` prints the fixed text (as ruff and rustfmt do); the report then goes to standard
    // error whatever its format, and no diff is printed.
    let text_out = !args.diff
        && args.output.is_none()
        && packages
            .iter()
            .flat_map(|p| &p.inputs)
            .any(|i| i.source == InputSource::Stdin);
    let diff_color = (!machine && !text_out).then_some(stdout_color);
    if !args.diff {
        write::remove_temporary_files_on_interrupt();
    }
    let results = run_packages(&pool, &packages, common.quiet, |package| {
        fix_one_package(package, diff_color, args.diff)
    });

    let mut out = BufWriter::with_capacity(OUTPUT_BUFFER, stdout.lock());
    let mut err = BufWriter::new(std::io::stderr().lock());
    print_errors(&mut err, &discovery_errors)?;
    let warnings = print_warnings(
        &mut err,
        discovery_warnings
            .iter()
            .chain(results.iter().flat_map(|(_, w)| w)),
    )?;

    let mut counts = FixCounts {
        dry_run: args.diff,
        ..FixCounts::default()
    };
    let mut changed = false;
    let mut fixed_by_file: Vec<(&str, Vec<(&'static str, usize)>)> = Vec::new();
    let mut reported: Vec<FileDiagnostics<'_>> = Vec::new();
    // Inputs that failed, in order: those that could not be fixed (borrowed from the
    // results) and those whose write failed (made here).
    let mut failed: Vec<Result<&InputError, InputError>> = Vec::new();
    for result in results.iter().flat_map(|(r, _)| r) {
        let FixedFile { fixed, diff } = match &result.outcome {
            Ok(file) => file,
            Err(e) => {
                writeln!(err, "error: {e}")?;
                failed.push(Ok(e));
                continue;
            }
        };
        let file_changed = !fixed.spans.is_empty();
        changed |= file_changed;
        // Written first: the diff of a change that was refused is not shown.
        if let Err(e) = write_result(args, &result.input, fixed, file_changed) {
            writeln!(err, "error: {e}")?;
            failed.push(Err(e));
            continue;
        }
        if let Some(diff) = diff {
            out.write_all(diff)?;
        }
        if text_out && result.input.source == InputSource::Stdin {
            fixed
                .file
                .source
                .feed_raw(&mut |bytes| out.write_all(bytes))?;
        }
        counts.add_file(fixed.fixed, &fixed.remaining, unsafe_fixes);
        if args.show_fixes {
            fixed_by_file.push((result.input.display.as_str(), fixed_per_rule(fixed)));
        }
        reported.push(FileDiagnostics {
            path: &result.input.machine,
            source: &fixed.file.source,
            diagnostics: &fixed.remaining,
        });
    }
    let mut notices: Vec<Notice<'_>> = discovery_errors
        .iter()
        .map(|e| error_notice(e, &root))
        .collect();
    notices.extend(warnings.into_iter().map(|w| warning_notice(w, &root)));
    notices.extend(failed.iter().map(|e| match e {
        Ok(e) => error_notice(e, &root),
        Err(e) => error_notice(e, &root),
    }));
    let errors = discovery_errors.len() + failed.len();
    counts.errors = errors;
    let findings = counts.remaining > 0 || (args.diff && changed);
    let status = status(errors > 0, findings, common.exit_zero);
    let working_directory = std::env::current_dir().unwrap_or_default();
    let invocation = Invocation {
        notices: &notices,
        exit_code: status as u8,
        working_directory: &working_directory,
    };
    let style = |color| ReportStyle {
        format: common.format,
        color,
        unsafe_fixes,
    };
    if let Some(path) = &common.output_file {
        // The report (and its summary) goes to the file; the diff stays on standard output.
        let mut file = report_writer(Some(path))?;
        write_report(&mut file, &style(false), &reported, &invocation, &root)?;
        if !common.quiet && !machine && (counts.files > 0 || counts.errors > 0) {
            writeln!(file, "{}", fix_summary(&counts))?;
        }
        file.flush()?;
    } else if machine && !text_out {
        write_report(
            &mut out,
            &style(stdout_color),
            &reported,
            &invocation,
            &root,
        )?;
    } else {
        write_report(
            &mut err,
            &style(stderr_color),
            &reported,
            &invocation,
            &root,
        )?;
        // With nothing found, the warning above has said so.
        if !common.quiet && !machine && (counts.files > 0 || counts.errors > 0) {
            writeln!(err, "{}", fix_summary(&counts))?;
        }
    }
    if args.show_fixes && !args.diff {
        show_fixes(&mut err, &fixed_by_file)?;
    }
    out.flush()?;
    err.flush()?;
    drop(reported);
    drop(notices);
    release_at_exit(results);
    Ok(status)
}

/// Writes one fixed file as the options say. Nothing is written with `--diff`, for standard
/// input without `-o`, or when nothing changed (except `-o`, which always writes).
fn write_result(
    args: &FixArgs,
    input: &Input,
    fixed: &Fixed,
    changed: bool,
) -> Result<(), InputError> {
    write_fixed(&RealFs, args, input, fixed, changed)
}

/// The write step of `svcscrub fix` for one file, through `fs` (the real filesystem in the
/// command; tests inject a full disk or a failing rename here). The error is the one line the
/// command prints after `error: `; the run then exits 2.
pub fn write_fixed(
    fs: &dyn Fs,
    args: &FixArgs,
    input: &Input,
    fixed: &Fixed,
    changed: bool,
) -> Result<(), InputError> {
    if args.diff {
        return Ok(());
    }
    // A UTF-16 file's bytes are encoded from its text here (see `SourceFile::raw`).
    if let Some(output) = &args.output {
        if let InputSource::File(path) = &input.source
            && same_file::is_same_file(path, output).unwrap_or(false)
        {
            return Err(InputError::new(
                output.display().to_string(),
                "is the input file itself (-o writes the result elsewhere); not written",
            ));
        }
        return write::write_new_pieces(fs, output, &|sink| fixed.file.source.feed_raw(sink))
            .map_err(InputError::from);
    }
    let InputSource::File(path) = &input.source else {
        return Ok(());
    };
    if !changed {
        return Ok(());
    }
    // The file must still hold what was read: the original, which is not kept whole.
    write::write_atomic_expecting(
        fs,
        path,
        &|sink| fixed.file.source.feed_raw(sink),
        &|sink| fixed.feed_original_raw(sink),
        WriteOptions {
            backup: match args.backup {
                None => Backup::None,
                Some(BackupControl::Simple) => Backup::Simple,
                Some(BackupControl::Numbered) => Backup::Numbered,
            },
        },
    )
    .map_err(InputError::from)
}

/// What `svcscrub registry` found for one package.
struct PackageState {
    /// The package's inputs that loaded, as given.
    paths: Vec<String>,
    /// The state it installs, and with `--diff` the state after `fix`.
    before: crate::model::state::State,
    after: Option<crate::model::state::State>,
}

fn registry_of_package(
    package: &Package,
    diff: bool,
) -> (Option<PackageState>, Vec<InputError>, Vec<InputError>) {
    let (loaded, siblings, included, warnings) = load_package_parts(package);
    let (files, _, errors) = split_loaded(loaded);
    let errors: Vec<InputError> = errors.into_iter().map(|(_, e)| e).collect();
    if files.is_empty() {
        return (None, errors, warnings);
    }
    let paths = files.iter().map(|f| f.source.path.clone()).collect();
    let before = pipeline::installed_state(files.iter().chain(&included));
    let mut errors = errors;
    let after = diff.then(|| {
        let mut context = siblings;
        context.extend(included.iter().cloned());
        let fixed = with_options(package, |options| {
            pipeline::fix_package(files.clone(), &context, options)
        });
        let mut after_files = Vec::new();
        for (file, result) in files.iter().zip(fixed) {
            match result {
                Ok(fixed) => after_files.push(fixed.file),
                Err(e) => {
                    errors.push(InputError::new(&file.source.path, e.to_string()));
                    after_files.push(file.clone());
                }
            }
        }
        pipeline::installed_state(after_files.iter().chain(&included))
    });
    (
        Some(PackageState {
            paths,
            before,
            after,
        }),
        errors,
        warnings,
    )
}

fn registry(args: &RegistryArgs) -> anyhow::Result<Status> {
    use crate::render::registry as export;
    let common = &args.common;
    let json = match common.format {
        OutputFormat::Full => false,
        OutputFormat::Json => true,
        other => anyhow::bail!(
            "`--format {}` does not apply to `registry`: use `full` (a regedit 5 export) or `json`",
            clap::ValueEnum::to_possible_value(&other)
                .map_or_else(String::new, |v| v.get_name().to_string())
        ),
    };
    let root = project_root(common);
    let (pool, planned) = plan_on_pool(common, args.unsafe_fixes, &root)?;
    if let Some(status) = show(common, &planned)? {
        return Ok(status);
    }
    let Planned {
        packages,
        errors: discovery_errors,
        warnings: discovery_warnings,
    } = planned;
    let pool = pool?;
    let results = run_packages(&pool, &packages, true, |package| {
        registry_of_package(package, args.diff)
    });
    let mut out = report_writer(common.output_file.as_deref())?;
    let mut err = std::io::stderr().lock();
    print_errors(&mut err, &discovery_errors)?;
    print_warnings(
        &mut err,
        discovery_warnings
            .iter()
            .chain(results.iter().flat_map(|(_, _, w)| w)),
    )?;
    let mut errors = discovery_errors.len();
    for (_, package_errors, _) in &results {
        print_errors(&mut err, package_errors)?;
        errors += package_errors.len();
    }
    let states: Vec<&PackageState> = results.iter().filter_map(|(s, _, _)| s.as_ref()).collect();
    let mut changed = false;
    if json {
        let packages: Vec<serde_json::Value> = states
            .iter()
            .map(|s| {
                let mut entry = serde_json::json!({ "files": s.paths });
                match &s.after {
                    Some(after) => {
                        changed |= &s.before != after;
                        entry["before"] = export::json_keys(&s.before);
                        entry["after"] = export::json_keys(after);
                    }
                    None => entry["keys"] = export::json_keys(&s.before),
                }
                entry
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &packages)?;
        writeln!(out)?;
    } else {
        let text = |state: &crate::model::state::State| -> anyhow::Result<String> {
            let mut buf = Vec::new();
            writeln!(buf, "{}", export::HEADER)?;
            export::write_export(&mut buf, state)?;
            Ok(String::from_utf8_lossy(&buf).into_owned())
        };
        if !args.diff {
            writeln!(out, "{}", export::HEADER)?;
        }
        for state in &states {
            let machine: Vec<String> = state.paths.iter().map(|p| root.machine(p)).collect();
            let label = machine.join(", ");
            match &state.after {
                None => {
                    if states.len() > 1 {
                        writeln!(out)?;
                        writeln!(out, "; {label}")?;
                    }
                    export::write_export(&mut out, &state.before)?;
                }
                Some(after) => {
                    let (old, new) = (text(&state.before)?, text(after)?);
                    if old == new {
                        continue;
                    }
                    changed = true;
                    let diff = similar::TextDiff::from_lines(&old, &new);
                    write!(
                        out,
                        "{}",
                        diff.unified_diff().context_radius(3).header(
                            &format!("a/{label} (installed)"),
                            &format!("b/{label} (installed after fix)")
                        )
                    )?;
                }
            }
        }
    }
    out.flush()?;
    release_at_exit(results);
    Ok(status(errors > 0, args.diff && changed, false))
}

/// One file's suppression directives, planned on a worker.
struct Suppressed {
    loaded: Loaded,
    edits: Vec<crate::fix::Edit>,
}

/// `svcscrub suppress`: adds a directive for every current finding (ruff's `--add-noqa`), so
/// a repository can adopt the gate and fail only on new findings. Files are written as `fix`
/// writes them (atomically, refused if they changed since they were read); standard input is
/// printed with its directives.
fn suppress(common: &CommonArgs) -> anyhow::Result<Status> {
    let root = project_root(common);
    let (pool, planned) = plan_on_pool(common, false, &root)?;
    let Planned {
        packages,
        errors: discovery_errors,
        warnings: discovery_warnings,
    } = planned;
    let pool = pool?;
    let results = run_packages(&pool, &packages, common.quiet, |package| {
        check_each_file(package, |loaded, diagnostics| {
            let edits = crate::fix::suppress::directive_edits(&loaded, &diagnostics);
            Suppressed { loaded, edits }
        })
    });
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(OUTPUT_BUFFER, stdout.lock());
    let mut err = std::io::stderr().lock();
    print_errors(&mut err, &discovery_errors)?;
    print_warnings(
        &mut err,
        discovery_warnings
            .iter()
            .chain(results.iter().flat_map(|(_, w)| w)),
    )?;
    let (mut errors, mut added, mut files) = (discovery_errors.len(), 0, 0);
    for result in results.iter().flat_map(|(r, _)| r) {
        let Suppressed { loaded, edits } = match &result.outcome {
            Ok(suppressed) => suppressed,
            Err(e) => {
                errors += 1;
                writeln!(err, "error: {e}")?;
                continue;
            }
        };
        let source = &loaded.source;
        let text = crate::fix::apply_edits(source.text(), edits)
            .map_err(|e| anyhow::anyhow!("{}: {e}", result.input.display))?;
        let raw = source.encode(&text);
        let written = match &result.input.source {
            InputSource::Stdin => out
                .write_all(&raw)
                .map_err(|e| InputError::new(&result.input.display, describe_io(&e))),
            InputSource::File(_) if edits.is_empty() => Ok(()),
            InputSource::File(path) => write::write_atomic_expecting(
                &RealFs,
                path,
                &|sink| sink(&raw),
                &|sink| source.feed_raw(sink),
                WriteOptions {
                    backup: Backup::None,
                },
            )
            .map_err(InputError::from),
        };
        match written {
            Ok(()) if !edits.is_empty() => {
                added += edits.len();
                files += 1;
            }
            Ok(()) => {}
            Err(e) => {
                errors += 1;
                writeln!(err, "error: {e}")?;
            }
        }
    }
    if !common.quiet {
        let directives = if added == 1 {
            "directive"
        } else {
            "directives"
        };
        let in_files = if files == 1 { "file" } else { "files" };
        writeln!(
            err,
            "Added {added} suppression {directives} in {files} {in_files}."
        )?;
    }
    out.flush()?;
    release_at_exit(results);
    Ok(status(errors > 0, false, common.exit_zero))
}
