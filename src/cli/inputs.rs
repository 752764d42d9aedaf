//! Turning PATH arguments into the list of input files.
//!
//! Directories are walked with the `ignore` crate (ripgrep's walker, in parallel): hidden files
//! and directories are skipped, `.gitignore`, `.ignore`, `.git/info/exclude` and the global
//! gitignore are honoured (unless `--no-respect-gitignore`), and the configured `exclude`
//! patterns leave out more. A file named explicitly is always read (whatever its name) unless
//! `--force-exclude` applies the exclusions to it too. Every file is read once, however often
//! it is named or reached.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::detect::is_input_name;
use crate::error::InputError;
use crate::paths::{ProjectRoot, human};

/// Where an input's bytes come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputSource {
    File(PathBuf),
    Stdin,
}

/// One input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    pub source: InputSource,
    /// The path as the user should see it (as given, or as found under a given directory), in
    /// the platform's form ([`human`]).
    pub display: String,
    /// The path as diffs and machine-readable reports name it ([`ProjectRoot::machine`]).
    pub machine: String,
    /// Named on the command line (recognised by content) rather than found in a directory.
    pub explicit: bool,
    /// For standard input, where `--stdin-filename` says it is: its configuration, package and
    /// includes are found as if the file were there.
    pub claimed: Option<PathBuf>,
}

impl Input {
    /// The input at `path` (as named or found), shown as [`crate::paths`] decides.
    pub fn file(path: PathBuf, explicit: bool, root: &ProjectRoot) -> Self {
        let named = path.to_string_lossy();
        Self {
            display: human(&named),
            machine: root.machine(&named),
            source: InputSource::File(path),
            explicit,
            claimed: None,
        }
    }

    /// Standard input, named `name` (a path relative to the working directory) or `-`.
    pub fn stdin(name: Option<&str>, root: &ProjectRoot) -> Self {
        Self {
            display: name.map_or_else(|| "-".to_string(), human),
            machine: name.map_or_else(|| "-".to_string(), |name| root.machine(name)),
            source: InputSource::Stdin,
            explicit: true,
            claimed: name.map(PathBuf::from),
        }
    }

    /// Where the input is on disk, or (standard input) is said to be.
    pub fn location(&self) -> Option<&Path> {
        match &self.source {
            InputSource::File(path) => Some(path),
            InputSource::Stdin => self.claimed.as_deref(),
        }
    }

    /// Whether the input has a place: a file, or standard input with `--stdin-filename`.
    pub fn has_location(&self) -> bool {
        self.location().is_some()
    }

    /// The directory whose files form this input's package.
    pub fn package_dir(&self) -> PathBuf {
        self.location()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }
}

/// What a walk leaves out, for the PATH arguments one configuration applies to.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Honour `.gitignore`, `.ignore`, `.git/info/exclude` and the global gitignore.
    pub respect_gitignore: bool,
    /// Apply [`Selection::exclude`] to files named on the command line too.
    pub force_exclude: bool,
    /// Exclusion patterns, each set rooted at its own directory (the configuration file's, or
    /// the current directory for `--exclude`).
    pub exclude: Vec<Gitignore>,
}

impl Selection {
    /// Builds a gitignore-style matcher of `patterns` rooted at `root` (an absolute path).
    pub fn patterns(root: &Path, patterns: &[String]) -> Result<Gitignore, String> {
        let mut builder = GitignoreBuilder::new(root);
        for pattern in patterns {
            builder
                .add_line(None, pattern)
                .map_err(|e| format!("invalid pattern \"{pattern}\": {e}"))?;
        }
        builder.build().map_err(|e| e.to_string())
    }

    /// Whether the file `relative` to `root` (absolute) is excluded, itself or through one of
    /// its directories below `root`; a pattern judges only paths inside its own root.
    fn excluded_below(&self, root: &Path, relative: &Path) -> bool {
        let parts = relative.components().count();
        let mut path = root.to_path_buf();
        relative.components().enumerate().any(|(i, part)| {
            path.push(part);
            let is_dir = i + 1 < parts;
            self.exclude.iter().any(|matcher| {
                path.starts_with(matcher.path()) && matcher.matched(&path, is_dir).is_ignore()
            })
        })
    }

    /// Whether `path` (absolute, normalized) is excluded; with `parents`, also when a directory
    /// above it is (for a file named explicitly, which no walk reached).
    fn excluded(&self, path: &Path, is_dir: bool, parents: bool) -> bool {
        self.exclude.iter().any(|matcher| {
            if parents {
                path.starts_with(matcher.path())
                    && matcher
                        .matched_path_or_any_parents(path, is_dir)
                        .is_ignore()
            } else {
                matcher.matched(path, is_dir).is_ignore()
            }
        })
    }
}

/// The inputs of a run, and what went wrong finding them.
#[derive(Debug, Default)]
pub struct Discovered {
    pub inputs: Vec<Input>,
    /// Missing paths, unreadable directories, symbolic-link loops: the run exits 2.
    pub errors: Vec<InputError>,
    /// Problems the walk went past (an ignore file it could not parse).
    pub warnings: Vec<InputError>,
}

/// Expands PATH arguments (none = the current directory), each with the [`Selection`]
/// `selection_for` gives for it. Directories are searched recursively for the input file types
/// ([`crate::detect::FILE_TYPES`]); each argument's files are sorted by path so output order
/// is deterministic, and a file already found is not added again. Errors are returned beside
/// the inputs so the other inputs are still processed.
pub fn discover(
    paths: &[PathBuf],
    stdin_name: Option<&str>,
    root: &ProjectRoot,
    selection_for: &mut dyn FnMut(&Path) -> anyhow::Result<Arc<Selection>>,
) -> anyhow::Result<Discovered> {
    let mut found = Discovered::default();
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut seen = Seen::default();
    let mut empty = Vec::new();
    // Two arguments may name one file by two paths (a symbolic link among their directories):
    // then files are compared by their canonical paths.
    let several = paths.len() > 1;
    for path in paths {
        let before = found.inputs.len() + found.errors.len();
        if path.as_os_str() == "-" {
            found.inputs.push(Input::stdin(stdin_name, root));
            continue;
        }
        match std::fs::metadata(path) {
            Err(e) => found
                .errors
                .push(InputError::new(shown(path), describe_io(&e))),
            Ok(meta) if meta.is_dir() => {
                let selection = selection_for(path)?;
                let walked = walk(path, &selection, root);
                let inputs = nested_exclusions(path, &selection, walked.inputs, selection_for)?;
                seen.add(inputs, walked.linked || several, &mut found.inputs);
                found.errors.extend(walked.errors);
                found.warnings.extend(walked.warnings);
            }
            Ok(_) => {
                let selection = selection_for(path.parent().unwrap_or(Path::new("")))?;
                let canonical = || path.canonicalize().unwrap_or_else(|_| absolute(path));
                if !(selection.force_exclude && selection.excluded(&canonical(), false, true)) {
                    let input = Input::file(path.clone(), true, root);
                    seen.add(vec![input], several, &mut found.inputs);
                }
            }
        }
        if found.inputs.len() + found.errors.len() == before {
            empty.push(shown(path));
        }
    }
    // Nothing to do is not an error, but it is worth a word (as ruff says it).
    if found.inputs.is_empty() && found.errors.is_empty() {
        let message = format!(
            "no input files found ({}; hidden, ignored and excluded files are left out)",
            crate::detect::input_patterns()
        );
        for path in empty {
            found.warnings.push(InputError::new(path, message.clone()));
        }
    }
    Ok(found)
}

/// `inputs` found by walking `root` (pruned with `selection`, the configuration of `root`)
/// without those a configuration further down excludes: its patterns, rooted at its own
/// directory, judge the directories and files below it as well.
fn nested_exclusions(
    root: &Path,
    selection: &Arc<Selection>,
    inputs: Vec<Input>,
    selection_for: &mut dyn FnMut(&Path) -> anyhow::Result<Arc<Selection>>,
) -> anyhow::Result<Vec<Input>> {
    let root_absolute = root.canonicalize().unwrap_or_else(|_| absolute(root));
    let mut kept = Vec::with_capacity(inputs.len());
    for input in inputs {
        let nested = selection_for(&input.package_dir())?;
        let excluded = !Arc::ptr_eq(&nested, selection)
            && input
                .location()
                .and_then(|path| path.strip_prefix(root).ok())
                .is_some_and(|relative| nested.excluded_below(&root_absolute, relative));
        if !excluded {
            kept.push(input);
        }
    }
    Ok(kept)
}

/// The files already found, by absolute path (normalized without touching the filesystem),
/// and by canonical path once a symbolic link was met (two names of one file).
#[derive(Default)]
struct Seen {
    absolute: HashSet<PathBuf>,
    canonical: Option<HashSet<PathBuf>>,
}

impl Seen {
    /// Adds the `inputs` not found before to `out`; a file found again is explicit if either
    /// finding is. `linked`: a symbolic link was followed to reach some of them.
    fn add(&mut self, inputs: Vec<Input>, linked: bool, out: &mut Vec<Input>) {
        if linked && self.canonical.is_none() {
            self.canonical = Some(out.iter().filter_map(canonical).collect());
        }
        for input in inputs {
            let InputSource::File(path) = &input.source else {
                out.push(input);
                continue;
            };
            let fresh_absolute = self.absolute.insert(absolute(path));
            let fresh = match &mut self.canonical {
                Some(canonicals) => canonical(&input).is_none_or(|c| canonicals.insert(c)),
                None => fresh_absolute,
            };
            if fresh {
                out.push(input);
            } else if input.explicit
                && let Some(first) = out.iter_mut().find(|i| same_file(i, &input))
            {
                first.explicit = true;
            }
        }
    }
}

fn canonical(input: &Input) -> Option<PathBuf> {
    match &input.source {
        InputSource::File(path) => path.canonicalize().ok(),
        InputSource::Stdin => None,
    }
}

fn same_file(a: &Input, b: &Input) -> bool {
    match (&a.source, &b.source) {
        (InputSource::File(x), InputSource::File(y)) => {
            absolute(x) == absolute(y)
                || matches!((x.canonicalize(), y.canonicalize()), (Ok(p), Ok(q)) if p == q)
        }
        _ => false,
    }
}

/// `path` made absolute against the current directory, `.` and `..` resolved lexically.
pub fn absolute(path: &Path) -> PathBuf {
    let joined = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// What one directory walk found.
#[derive(Default)]
struct Walked {
    inputs: Vec<Input>,
    errors: Vec<InputError>,
    warnings: Vec<InputError>,
    /// A symbolic link was followed.
    linked: bool,
}

/// Walks `root` in parallel; the files come back sorted by path (the order of a depth-first
/// walk that visits each directory's entries by name).
fn walk(root: &Path, selection: &Selection, project: &ProjectRoot) -> Walked {
    let threads = rayon::current_num_threads();
    // Exclusion patterns see absolute paths: the root's, and below it as the walk names them.
    let root_absolute = root.canonicalize().unwrap_or_else(|_| absolute(root));
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        .hidden(true)
        .parents(true)
        .ignore(selection.respect_gitignore)
        .git_ignore(selection.respect_gitignore)
        .git_global(selection.respect_gitignore)
        .git_exclude(selection.respect_gitignore)
        // A `.gitignore` counts in a directory that is not (yet) a git checkout too.
        .require_git(false)
        .follow_links(true)
        .threads(threads);
    if !selection.exclude.is_empty() {
        let selection = selection.clone();
        let root = root.to_path_buf();
        builder.filter_entry(move |entry| {
            if entry.depth() == 0 {
                return true;
            }
            let relative = entry.path().strip_prefix(&root).unwrap_or(entry.path());
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            !selection.excluded(&root_absolute.join(relative), is_dir, false)
        });
    }
    let walked = Mutex::new(Walked::default());
    builder.build_parallel().run(|| {
        let walked = &walked;
        Box::new(move |entry| {
            let mut found = walked.lock().unwrap_or_else(|e| e.into_inner());
            match entry {
                Ok(entry) => {
                    found.linked |= entry.path_is_symlink();
                    let is_file = entry.file_type().is_some_and(|t| t.is_file());
                    if is_file && is_input_name(entry.path()) {
                        let path = entry.path().to_path_buf();
                        found.inputs.push(Input::file(path, false, project));
                    }
                }
                Err(e) => match walk_error(root, &e) {
                    (problem, true) => found.errors.push(problem),
                    (problem, false) => found.warnings.push(problem),
                },
            }
            ignore::WalkState::Continue
        })
    });
    let mut walked = walked.into_inner().unwrap_or_else(|e| e.into_inner());
    walked
        .inputs
        .sort_by(|a, b| a.source_path().cmp(b.source_path()));
    walked.errors.sort_by(|a, b| a.path.cmp(&b.path));
    walked.warnings.sort_by(|a, b| a.path.cmp(&b.path));
    walked
}

impl Input {
    fn source_path(&self) -> &Path {
        match &self.source {
            InputSource::File(path) => path,
            InputSource::Stdin => Path::new(""),
        }
    }
}

/// One line for a walk error, and whether it is an error (a directory or link that could not
/// be followed) rather than a warning (an ignore file with a bad pattern).
fn walk_error(root: &Path, error: &ignore::Error) -> (InputError, bool) {
    let mut path = shown(root);
    let mut error = error;
    loop {
        match error {
            ignore::Error::WithPath { path: at, err } => {
                path = shown(at);
                error = err;
            }
            ignore::Error::WithDepth { err, .. } => error = err,
            ignore::Error::Loop { child, .. } => {
                let problem = InputError::new(shown(child), "symbolic link loop; not followed");
                return (problem, true);
            }
            ignore::Error::Io(io) => return (InputError::new(path, describe_io(io)), true),
            other => return (InputError::new(path, other.to_string()), false),
        }
    }
}

fn shown(path: &Path) -> String {
    human(&path.to_string_lossy())
}

/// A short, lower-case description of an I/O error, without the OS error number.
pub fn describe_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    // ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION: another program holds the file open.
    if cfg!(windows) && matches!(e.raw_os_error(), Some(32 | 33)) {
        return "is open in another program that does not share it (a sharing violation); not read"
            .into();
    }
    match e.kind() {
        NotFound => "no such file or directory".into(),
        PermissionDenied => "permission denied".into(),
        IsADirectory => "is a directory".into(),
        _ => {
            let text = e.to_string();
            match text.find(" (os error") {
                Some(i) => text[..i].to_lowercase(),
                None => text,
            }
        }
    }
}
