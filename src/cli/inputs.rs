//! Turning PATH arguments into the list of input files.

use std::path::{Path, PathBuf};

use crate::error::InputError;

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
    /// The path as the user should see it (as given, or as found under a given directory).
    pub display: String,
    /// Named on the command line (recognised by content) rather than found in a directory.
    pub explicit: bool,
}

impl Input {
    /// The directory whose files form this input's package.
    pub fn package_dir(&self) -> PathBuf {
        match &self.source {
            InputSource::File(p) => p.parent().map(Path::to_path_buf).unwrap_or_default(),
            InputSource::Stdin => PathBuf::new(),
        }
    }
}

const EXTENSIONS: [&str; 3] = ["ipf", "wse", "reg"];

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
/// recursively for `*.ipf`, `*.wse`, `*.reg` (case-insensitive), skipping hidden and VCS
/// directories; the result is sorted per argument so output order is deterministic.
/// Errors (missing paths, unreadable directories, symlink loops) are returned beside the
/// inputs so the other inputs are still processed.
pub fn discover(paths: &[PathBuf], stdin_name: Option<&str>) -> (Vec<Input>, Vec<InputError>) {
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
            inputs.push(Input {
                source: InputSource::Stdin,
                display: stdin_name.unwrap_or("-").to_string(),
                explicit: true,
            });
            continue;
        }
        let display = path.display().to_string();
        match std::fs::metadata(path) {
            Err(e) => errors.push(InputError::new(display, describe_io(&e))),
            Ok(meta) if meta.is_dir() => walk(path, &mut inputs, &mut errors),
            Ok(_) => inputs.push(Input {
                source: InputSource::File(path.clone()),
                display,
                explicit: true,
            }),
        }
    }
    (inputs, errors)
}

fn walk(root: &Path, inputs: &mut Vec<Input>, errors: &mut Vec<InputError>) {
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden_or_vcs(e.file_name()));
    for entry in walker {
        match entry {
            Ok(entry) => {
                if entry.file_type().is_file() && has_input_extension(entry.path()) {
                    inputs.push(Input {
                        source: InputSource::File(entry.path().to_path_buf()),
                        display: entry.path().display().to_string(),
                        explicit: false,
                    });
                }
            }
            Err(e) => {
                let path = e
                    .path()
                    .map_or_else(|| root.display().to_string(), |p| p.display().to_string());
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
