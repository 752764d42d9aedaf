//! How a file's path is shown: the one place that decides it.
//!
//! - **Machine-facing** paths (diff headers, SARIF `artifactLocation.uri`, GitHub `file=`, JSON
//!   `path`) are [`ProjectRoot::machine`]: relative to the project root, `/`-separated, without
//!   `.` or `..` segments or doubled separators, whatever the platform and however the input was
//!   named (from the root, from a subdirectory, absolute). A diff then applies with `git apply`
//!   from the root, and a SARIF uri means the same file on every machine.
//! - **Human-facing** paths (the `full` and `concise` reports, errors, warnings) are [`human`]:
//!   the path as the user named it (relative to the working directory, or absolute), in the
//!   platform's form: `\`-separated on Windows, `/`-separated elsewhere, without `.` segments or
//!   doubled separators.
//!
//! The project root is `--project-root DIR` when given, else the nearest ancestor of the
//! working directory (itself included) that holds `.git` (a directory, or the file of a git
//! worktree), else the working directory.

use std::path::{Component, MAIN_SEPARATOR, Path, PathBuf};

/// The directory machine-facing paths are relative to.
#[derive(Clone, Debug)]
pub struct ProjectRoot {
    /// The working directory, absolute: relative inputs are relative to it.
    cwd: PathBuf,
    /// The root, absolute and lexically normalised.
    dir: PathBuf,
    /// The root with symbolic links resolved (for inputs named through another route).
    canonical: Option<PathBuf>,
}

impl ProjectRoot {
    /// The root for a run in `cwd` (absolute): `explicit` (relative to `cwd`) when given, else
    /// the nearest ancestor of `cwd` with `.git`, else `cwd`.
    pub fn discover(cwd: &Path, explicit: Option<&Path>) -> Self {
        let cwd = lexical_normal(cwd);
        let dir = match explicit {
            Some(dir) => lexical_normal(&cwd.join(dir)),
            None => cwd
                .ancestors()
                .find(|dir| dir.join(".git").exists())
                .map_or_else(|| cwd.clone(), Path::to_path_buf),
        };
        Self::new(cwd, dir)
    }

    /// The root `dir` for a run in `cwd` (both absolute).
    pub fn new(cwd: PathBuf, dir: PathBuf) -> Self {
        let canonical = dir.canonicalize().ok();
        Self {
            cwd: lexical_normal(&cwd),
            dir: lexical_normal(&dir),
            canonical,
        }
    }

    /// The root directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The machine-facing form of `path` (as named by the user: relative to the working
    /// directory, or absolute): relative to the root, `/`-separated and normalised. A path
    /// outside the root is given absolute (`/srv/x.reg`, `C:/pkg/x.reg`).
    pub fn machine(&self, path: &str) -> String {
        let absolute = lexical_normal(&self.cwd.join(path));
        if let Some(inside) = strip_dir(&absolute, &self.dir) {
            return inside;
        }
        // Named through a symbolic link, or (Windows) by a short name.
        if let (Some(root), Ok(real)) = (&self.canonical, absolute.canonicalize())
            && let Some(inside) = strip_dir(&real, root)
        {
            return inside;
        }
        slashed(&absolute)
    }
}

/// The human-facing form of a path: as named, in the platform's form (see the module).
pub fn human(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    // After a named segment, the next one needs a separator (after a prefix or root, not).
    let mut after_segment = false;
    for component in Path::new(path).components() {
        match component {
            Component::Prefix(prefix) => out.push_str(&prefix.as_os_str().to_string_lossy()),
            Component::RootDir => out.push(MAIN_SEPARATOR),
            Component::CurDir => {}
            Component::ParentDir | Component::Normal(_) => {
                if after_segment {
                    out.push(MAIN_SEPARATOR);
                }
                out.push_str(&component.as_os_str().to_string_lossy());
                after_segment = true;
            }
        }
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// `path` below `dir`, `/`-separated, or `None` when it is not below it. On Windows, names
/// compare as the file system compares them: ASCII case-insensitively, and a verbatim drive
/// (`\\?\C:`) as the drive.
fn strip_dir(path: &Path, dir: &Path) -> Option<String> {
    let mut rest = path.components();
    for want in dir.components() {
        let got = rest.next()?;
        if !same_component(got, want) {
            return None;
        }
    }
    Some(slashed(rest.as_path()))
}

fn same_component(a: Component<'_>, b: Component<'_>) -> bool {
    if cfg!(windows) {
        use std::path::Prefix;
        let drive = |c: Component<'_>| match c {
            Component::Prefix(p) => match p.kind() {
                Prefix::Disk(d) | Prefix::VerbatimDisk(d) => Some(d.to_ascii_uppercase()),
                _ => None,
            },
            _ => None,
        };
        match (drive(a), drive(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a
                .as_os_str()
                .to_string_lossy()
                .eq_ignore_ascii_case(&b.as_os_str().to_string_lossy()),
        }
    } else {
        a == b
    }
}

/// `path` without `.` segments and with each `..` taken back against the segment before it
/// (lexically: a `..` at the root stays at the root).
fn lexical_normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else if !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// A normalised path's `/`-separated form; `.` for the empty path. A Windows verbatim prefix
/// (`\\?\C:\`, `\\?\UNC\server\share`) is written as the plain path it stands for.
pub fn slashed(path: &Path) -> String {
    use std::path::Prefix;
    let mut parts: Vec<String> = Vec::new();
    let mut lead = String::new();
    for component in path.components() {
        match component {
            Component::Prefix(prefix) => {
                lead = match prefix.kind() {
                    Prefix::VerbatimDisk(letter) | Prefix::Disk(letter) => {
                        format!("{}:", char::from(letter))
                    }
                    Prefix::VerbatimUNC(server, share) | Prefix::UNC(server, share) => {
                        format!("//{}/{}", server.to_string_lossy(), share.to_string_lossy())
                    }
                    Prefix::Verbatim(name) | Prefix::DeviceNS(name) => {
                        format!("//./{}", name.to_string_lossy())
                    }
                }
            }
            Component::RootDir => lead.push('/'),
            Component::CurDir => {}
            Component::ParentDir => parts.push("..".into()),
            Component::Normal(name) => parts.push(name.to_string_lossy().into_owned()),
        }
    }
    let joined = parts.join("/");
    if lead.is_empty() && joined.is_empty() {
        ".".into()
    } else if lead.ends_with('/') || lead.is_empty() || joined.is_empty() {
        lead + &joined
    } else {
        format!("{lead}/{joined}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An absolute path of the platform from `/`-separated segments.
    fn abs(rest: &str) -> PathBuf {
        let mut path = PathBuf::from(if cfg!(windows) { r"C:\" } else { "/" });
        for part in rest.split('/').filter(|p| !p.is_empty()) {
            path.push(part);
        }
        path
    }

    fn root() -> ProjectRoot {
        ProjectRoot::new(abs("repo/sub"), abs("repo"))
    }

    #[test]
    fn machine_paths_are_relative_to_the_root_however_named() {
        let root = root();
        let m = |p: &str| root.machine(p);
        assert_eq!(m("pkg/capture.reg"), "sub/pkg/capture.reg");
        assert_eq!(m("./pkg//capture.reg"), "sub/pkg/capture.reg");
        assert_eq!(m("../other/./x.wse"), "other/x.wse");
        assert_eq!(m("pkg/../pkg/a.ipf"), "sub/pkg/a.ipf");
        let absolute = abs("repo/pkg/a.reg");
        assert_eq!(m(&absolute.to_string_lossy()), "pkg/a.reg");
        assert_eq!(m("."), "sub");
    }

    #[test]
    fn machine_paths_outside_the_root_are_absolute() {
        let root = root();
        let outside = root.machine("../../elsewhere/a.reg");
        let expected = if cfg!(windows) {
            "C:/elsewhere/a.reg"
        } else {
            "/elsewhere/a.reg"
        };
        assert_eq!(outside, expected);
    }

    #[cfg(windows)]
    #[test]
    fn windows_machine_paths_use_forward_slashes() {
        let root = root();
        assert_eq!(
            root.machine(r"pkg\sms\capture.reg"),
            "sub/pkg/sms/capture.reg"
        );
        assert_eq!(root.machine(r".\pkg/a.reg"), "sub/pkg/a.reg");
        assert_eq!(root.machine(r"c:\repo\pkg\a.reg"), "pkg/a.reg");
        assert_eq!(root.machine(r"\\?\C:\repo\pkg\a.reg"), "pkg/a.reg");
        assert_eq!(
            slashed(Path::new(r"\\?\UNC\srv\share\a.reg")),
            "//srv/share/a.reg"
        );
        assert_eq!(
            slashed(Path::new(r"\\srv\share\a.reg")),
            "//srv/share/a.reg"
        );
    }

    #[test]
    fn the_root_is_the_nearest_git_ancestor_or_the_working_directory() {
        let temp = tempfile::tempdir().unwrap();
        let top = temp.path().canonicalize().unwrap();
        let sub = top.join("a").join("b");
        std::fs::create_dir_all(&sub).unwrap();
        assert_eq!(ProjectRoot::discover(&sub, None).dir(), sub);
        std::fs::write(top.join("a").join(".git"), "gitdir: elsewhere\n").unwrap();
        assert_eq!(ProjectRoot::discover(&sub, None).dir(), top.join("a"));
        std::fs::create_dir(sub.join(".git")).unwrap();
        assert_eq!(ProjectRoot::discover(&sub, None).dir(), sub);
        let explicit = ProjectRoot::discover(&sub, Some(Path::new("../..")));
        assert_eq!(explicit.dir(), top);
        assert_eq!(explicit.machine("x.reg"), "a/b/x.reg");
    }

    #[test]
    fn human_paths_take_the_platform_form() {
        let s = MAIN_SEPARATOR;
        assert_eq!(human("./pkg/capture.reg"), format!("pkg{s}capture.reg"));
        assert_eq!(human("pkg//a/./b.reg"), format!("pkg{s}a{s}b.reg"));
        assert_eq!(human("../pkg/a.reg"), format!("..{s}pkg{s}a.reg"));
        assert_eq!(human("."), ".");
        assert_eq!(human("a.reg"), "a.reg");
        assert_eq!(human("-"), "-");
        let absolute = abs("srv/pkg/a.reg");
        assert_eq!(
            human(&absolute.to_string_lossy()),
            absolute.to_string_lossy()
        );
    }

    #[cfg(windows)]
    #[test]
    fn windows_human_paths_use_backslashes() {
        assert_eq!(
            human("examples/sms-remote-control\\capture.reg"),
            r"examples\sms-remote-control\capture.reg"
        );
        assert_eq!(human(r"C:/pkg/a.reg"), r"C:\pkg\a.reg");
        assert_eq!(human(r"\\srv\share\pkg/a.reg"), r"\\srv\share\pkg\a.reg");
    }
}
