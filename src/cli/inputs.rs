//! Turning PATH arguments into the list of input files.

use std::path::{Path, PathBuf};

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
        }
    }

    /// Standard input, named `name` (a path relative to the working directory) or `-`.
    pub fn stdin(name: Option<&str>, root: &ProjectRoot) -> Self {
        Self {
            display: name.map_or_else(|| "-".to_string(), human),
            machine: name.map_or_else(|| "-".to_string(), |name| root.machine(name)),
            source: InputSource::Stdin,
            explicit: true,
        }
    }

    /// The directory whose files form this input's package.
    pub fn package_dir(&self) -> PathBuf {
        match &self.source {
            InputSource::File(p) => p.parent().map(Path::to_path_buf).unwrap_or_default(),
            InputSource::Stdin => PathBuf::new(),
        }
    }
}

const EXTENSIONS: [&str; 5] = ["ipf", "wse", "reg", "wxs", "wxi"];

fn has_input_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

fn is_hidden_or_vcs(name: &std::ffi::OsStr) -> bool {
    name.to_str()
        .is_some_and(|n| n.starts_with('.') && n != "." && n != "..")
}

/// Expands PATH arguments (none = the current directory). Directories are searched
/// recursively for `*.ipf`, `*.wse`, `*.reg`, `*.wxs`, `*.wxi` (case-insensitive), skipping hidden and VCS
/// directories; the result is sorted per argument so output order is deterministic.
/// Errors (missing paths, unreadable directories, symlink loops) are returned beside the
/// inputs so the other inputs are still processed.
pub fn discover(
    paths: &[PathBuf],
    stdin_name: Option<&str>,
    root: &ProjectRoot,
) -> (Vec<Input>, Vec<InputError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::stdin(stdin_name, root));
            continue;
        }
        match std::fs::metadata(path) {
            Err(e) => errors.push(InputError::new(shown(path), describe_io(&e))),
            Ok(meta) if meta.is_dir() => walk(path, root, &mut inputs, &mut errors),
            Ok(_) => inputs.push(Input::file(path.clone(), true, root)),
        }
    }
    (inputs, errors)
}

/// [`walk_sequential`], with the subdirectories of `root` walked in parallel on the current
/// rayon pool when that gives the same result: when no entry is a symbolic link (links are
/// followed, and a link loop is reported relative to the walk that finds it) and the root
/// can be listed. Otherwise, and with one thread, the one sequential walk.
fn walk(root: &Path, project: &ProjectRoot, inputs: &mut Vec<Input>, errors: &mut Vec<InputError>) {
    use rayon::prelude::*;

    /// What a top-level entry of `root` contributes, in the order the sequential walk meets it.
    enum Part {
        File(Input),
        Dir(PathBuf),
    }
    let mut sequential = || {
        walk_sequential(root, project, inputs, errors);
    };
    if rayon::current_num_threads() < 2 {
        return sequential();
    }
    let Ok(listing) = std::fs::read_dir(root) else {
        return sequential();
    };
    let mut entries = Vec::new();
    for entry in listing {
        let Ok(entry) = entry else {
            return sequential();
        };
        entries.push(entry);
    }
    // walkdir's `sort_by_file_name` order.
    entries.sort_by_key(|e| e.file_name());
    let mut parts = Vec::with_capacity(entries.len());
    for entry in entries {
        let Ok(kind) = entry.file_type() else {
            return sequential();
        };
        let path = root.join(entry.file_name());
        if kind.is_symlink() {
            return sequential();
        } else if is_hidden_or_vcs(&entry.file_name()) {
            continue;
        } else if kind.is_dir() {
            parts.push(Part::Dir(path));
        } else if kind.is_file() && has_input_extension(&path) {
            parts.push(Part::File(Input::file(path, false, project)));
        }
    }
    let walked: Vec<Option<(Vec<Input>, Vec<InputError>)>> = parts
        .par_iter()
        .map(|part| match part {
            Part::File(_) => Some((Vec::new(), Vec::new())),
            Part::Dir(dir) => {
                let (mut found, mut failed) = (Vec::new(), Vec::new());
                walk_sequential(dir, project, &mut found, &mut failed).then_some((found, failed))
            }
        })
        .collect();
    if walked.iter().any(Option::is_none) {
        return sequential();
    }
    for (part, walked) in parts.into_iter().zip(walked.into_iter().flatten()) {
        match part {
            Part::File(input) => inputs.push(input),
            Part::Dir(_) => {
                inputs.extend(walked.0);
                errors.extend(walked.1);
            }
        }
    }
}

/// One walkdir walk of `root`. Returns whether it met no symbolic link (for [`walk`]).
fn walk_sequential(
    root: &Path,
    project: &ProjectRoot,
    inputs: &mut Vec<Input>,
    errors: &mut Vec<InputError>,
) -> bool {
    let mut no_links = true;
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden_or_vcs(e.file_name()));
    for entry in walker {
        match entry {
            Ok(entry) => {
                no_links &= !entry.path_is_symlink();
                if entry.file_type().is_file() && has_input_extension(entry.path()) {
                    inputs.push(Input::file(entry.path().to_path_buf(), false, project));
                }
            }
            Err(e) => {
                let path = shown(e.path().unwrap_or(root));
                let message = if e.loop_ancestor().is_some() {
                    "symbolic link loop; not followed".to_string()
                } else if let Some(io) = e.io_error() {
                    describe_io(io)
                } else {
                    e.to_string()
                };
                errors.push(InputError::new(path, message));
            }
        }
    }
    no_links
}

/// A path named or found, in the human-facing form.
fn shown(path: &Path) -> String {
    human(&path.to_string_lossy())
}

/// A short, lower-case description of an I/O error, without the OS error number.
pub fn describe_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
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
