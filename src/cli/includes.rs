//! Following `Include Script` items: the scripts a package's scripts include are read as part
//! of the package (context files: their Create Service items and variables count, they are not
//! reported unless they are inputs themselves).
//!
//! A `Pathname` is followed when it is relative (resolved against the including script's
//! directory, `\` read as a separator, each component matched ASCII case-insensitively when the
//! exact name does not exist) and holds no `%VAR%`. Includes of includes are followed too. A
//! missing or unreadable include, and an include that leads back to a script on the current
//! chain (a cycle), each give one warning naming the including script's line; the run goes on
//! and its exit status does not change.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::InputError;
use crate::model::script::{self, include_target};
use crate::pipeline::{self, Loaded};
use crate::syntax::Syntax;
use crate::text::LineCol;

/// A script whose includes are followed.
pub struct Root<'l> {
    /// Where it is on disk (`None` for standard input: its includes are not followed).
    pub path: Option<&'l Path>,
    pub file: &'l Loaded,
}

/// The included scripts that were read (in the order they were first reached) and the
/// warnings, each at the including item (printed after `warning: `).
#[derive(Default)]
pub struct Followed {
    pub files: Vec<Loaded>,
    pub warnings: Vec<InputError>,
}

/// One `Include Script` item of a script.
struct IncludeRef {
    pathname: Vec<u8>,
    /// The including script's path and the item's line:column, for warnings.
    path: String,
    at: LineCol,
    /// The pathname as people read it.
    shown: String,
}

/// A script of the include graph.
struct Node {
    real: PathBuf,
    display: String,
    includes: Vec<IncludeRef>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// On the chain being followed.
    Active,
    Done,
}

/// Follows the includes of `roots` (the package's files), reading each included script once.
/// Roots are never read again; an include of a root only adds its own includes.
pub fn follow(roots: &[Root<'_>]) -> Followed {
    let mut walker = Walker::default();
    let mut starts = Vec::new();
    for root in roots {
        let Some(path) = root.path else { continue };
        let Syntax::Script(_) = &root.file.syntax else {
            continue;
        };
        let canonical = canonical(path);
        if walker.index.contains_key(&canonical) {
            continue;
        }
        let node = walker.add(canonical, path.to_path_buf(), root.file);
        starts.push(node);
    }
    for start in starts {
        walker.visit(start);
    }
    walker.out
}

#[derive(Default)]
struct Walker {
    nodes: Vec<Node>,
    marks: Vec<Option<Mark>>,
    index: HashMap<PathBuf, usize>,
    out: Followed,
}

impl Walker {
    fn add(&mut self, canonical: PathBuf, real: PathBuf, file: &Loaded) -> usize {
        let node = Node {
            real,
            display: file.source.path.clone(),
            includes: includes_of(file),
        };
        self.nodes.push(node);
        self.marks.push(None);
        self.index.insert(canonical, self.nodes.len() - 1);
        self.nodes.len() - 1
    }

    /// Depth-first, with an explicit stack of (node, next include).
    fn visit(&mut self, start: usize) {
        if self.marks[start].is_some() {
            return;
        }
        self.marks[start] = Some(Mark::Active);
        let mut stack = vec![(start, 0usize)];
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let Some(include) = self.nodes[node].includes.get(*next) else {
                self.marks[node] = Some(Mark::Done);
                stack.pop();
                continue;
            };
            *next += 1;
            let (pathname, path, at, shown) = (
                include.pathname.clone(),
                include.path.clone(),
                include.at,
                include.shown.clone(),
            );
            let warning = |message: String| InputError::at(path.as_str(), at, message);
            let Some(target) = include_target(&self.nodes[node].display, &pathname) else {
                continue;
            };
            let base = self.nodes[node]
                .real
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let Some(found) = locate(&base, &pathname) else {
                self.warn(warning(format!(
                    "Include Script `{shown}` not found; its Create Service items and variables are not counted"
                )));
                continue;
            };
            let canonical = canonical(&found);
            // Named as found on disk, relative to the including script as the package names it.
            let display = found
                .strip_prefix(&base)
                .ok()
                .and_then(|rel| rel.to_str())
                .and_then(|rel| include_target(&self.nodes[node].display, rel.as_bytes()))
                .unwrap_or(target);
            let display = crate::paths::human(&display);
            let child = match self.index.get(&canonical) {
                Some(&child) => child,
                None => match read(&found, &display) {
                    Ok(loaded) => {
                        let child = self.add(canonical, found, &loaded);
                        self.out.files.push(loaded);
                        child
                    }
                    Err(why) => {
                        self.warn(warning(format!(
                            "Include Script `{shown}` could not be read ({why}); its Create Service items and variables are not counted"
                        )));
                        continue;
                    }
                },
            };
            match self.marks[child] {
                Some(Mark::Active) => {
                    let again = &self.nodes[child].display;
                    let message = format!(
                        "Include Script `{shown}` leads back to `{again}`, which is already being included (a cycle); not followed again"
                    );
                    self.warn(warning(message));
                }
                Some(Mark::Done) => {}
                None => {
                    self.marks[child] = Some(Mark::Active);
                    stack.push((child, 0));
                }
            }
        }
    }

    fn warn(&mut self, warning: InputError) {
        if !self.out.warnings.contains(&warning) {
            self.out.warnings.push(warning);
        }
    }
}

fn includes_of(file: &Loaded) -> Vec<IncludeRef> {
    let Syntax::Script(doc) = &file.syntax else {
        return Vec::new();
    };
    let text = file.source.text();
    script::includes(doc, text)
        .into_iter()
        .map(|i| IncludeRef {
            pathname: i.pathname.to_vec(),
            path: file.source.path.clone(),
            at: file.source.line_col(i.head.start),
            shown: file.source.display_text(i.pathname).into_owned(),
        })
        .collect()
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// `pathname` (Windows separators) under `base`, each component matched exactly or else ASCII
/// case-insensitively; `None` when no file matches.
fn locate(base: &Path, pathname: &[u8]) -> Option<PathBuf> {
    let text = String::from_utf8_lossy(pathname);
    let mut path = base.to_path_buf();
    for part in text.trim().split(['\\', '/']) {
        match part {
            "" | "." => {}
            ".." => path.push(".."),
            name => {
                let exact = path.join(name);
                if exact.exists() {
                    path = exact;
                    continue;
                }
                let dir = if path.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    path.as_path()
                };
                let found = std::fs::read_dir(dir)
                    .ok()?
                    .filter_map(Result::ok)
                    .find(|e| {
                        e.file_name()
                            .to_str()
                            .is_some_and(|n| n.eq_ignore_ascii_case(name))
                    })?;
                path = path.join(found.file_name());
            }
        }
    }
    path.is_file().then_some(path)
}

fn read(path: &Path, display: &str) -> Result<Loaded, String> {
    use std::io::Read;
    let what = "script larger than 1 GiB";
    let (file, len) = crate::source::open_regular(path, crate::source::MAX_SCRIPT_LEN, what)
        .map_err(|e| match e {
            crate::source::OpenError::Io(e) => super::inputs::describe_io(&e),
            other => other.to_string(),
        })?;
    let mut raw = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    crate::source::Limited::new(file, crate::source::MAX_SCRIPT_LEN, what)
        .read_to_end(&mut raw)
        .map_err(|e| super::inputs::describe_io(&e))?;
    let loaded = pipeline::load(display, raw).map_err(|e| e.to_string())?;
    match loaded.syntax {
        Syntax::Script(_) => Ok(loaded),
        Syntax::Reg(_) | Syntax::Wix(_) | Syntax::Msi(_) => Err("it is not a script".to_string()),
    }
}
