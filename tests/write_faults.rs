//! Faults while `svcscrub fix` writes: a full disk, a read-only directory, a failing rename, a
//! file changed between read and write, a symbolically linked target. Each leaves the original
//! intact, gives one clear line, exits 2 and leaves no temporary file behind.
//!
//! Where the operating system can produce the fault for root too, the command itself runs: a
//! symbolic link, and a full disk as a file-size limit (`ulimit -f`, with SIGXFSZ ignored so
//! the write fails with EFBIG instead of killing the process). The others go through the
//! command's write step, [`svcscrub::cli::write_fixed`], with an injected filesystem, or
//! change the file between loading and writing.

#![cfg(unix)]

mod common;

use common::names;
use std::fs::{self, File};
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use clap::Parser;
use svcscrub::cli::args::{Cli, Command, FixArgs};
use svcscrub::cli::{Input, write_fixed};
use svcscrub::paths::ProjectRoot;
use svcscrub::pipeline::{self, Fixed};
use svcscrub::write::{Fs, RealFs};
use tempfile::NamedTempFile;

/// A script with a safe fix: it loses its LEGACY_ key.
const FIXTURE: &str = "tests/fixtures/rules/svc003/setup.wse";
/// A 20 kB script with safe fixes, far over a one-block file-size limit.
const LARGE: &str = "examples/norton-antivirus/setup.ipf";

fn setup() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("setup.wse");
    let original = fs::read(common::manifest_dir().join(FIXTURE)).unwrap();
    fs::write(&path, &original).unwrap();
    (dir, path, original)
}

fn fix_args(extra: &[&str]) -> FixArgs {
    let mut argv = vec!["svcscrub", "fix"];
    argv.extend_from_slice(extra);
    argv.push("setup.wse");
    match Cli::try_parse_from(argv).unwrap().command {
        Command::Fix(args) => args,
        _ => unreachable!("parsed a fix command"),
    }
}

/// Reads and fixes `path` as the command does.
fn load_and_fix(path: &Path) -> (Input, Fixed) {
    let root = ProjectRoot::discover(&std::env::current_dir().unwrap(), None);
    let input = Input::file(path.to_path_buf(), true, &root);
    let loaded = pipeline::load(&input.display, fs::read(path).unwrap()).unwrap();
    let fixed = pipeline::fix_package(vec![loaded], &[], &common::options(false))
        .remove(0)
        .unwrap();
    assert!(!fixed.spans.is_empty(), "the fixture has a safe fix");
    (input, fixed)
}

/// A filesystem whose operation `op` fails with `kind`.
struct Failing {
    op: &'static str,
    kind: ErrorKind,
}

impl Failing {
    fn hit(&self, op: &str) -> io::Result<()> {
        if op == self.op {
            Err(io::Error::from(self.kind))
        } else {
            Ok(())
        }
    }
}

impl Fs for Failing {
    fn create_temp(&self, dir: &Path) -> io::Result<NamedTempFile> {
        self.hit("create_temp")?;
        RealFs.create_temp(dir)
    }

    fn write(&self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
        self.hit("write")?;
        RealFs.write(file, bytes)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.hit("rename")?;
        RealFs.rename(from, to)
    }
}

/// The write step with an injected fault: the exact line the command prints, the original
/// untouched, only the original in the directory.
fn injected(op: &'static str, kind: ErrorKind, backup: bool) -> (String, Vec<String>) {
    let (dir, path, original) = setup();
    let (input, fixed) = load_and_fix(&path);
    let args = fix_args(if backup { &["--backup"] } else { &[] });
    let err = write_fixed(&Failing { op, kind }, &args, &input, &fixed, true)
        .expect_err("the injected fault is reported");
    assert_eq!(fs::read(&path).unwrap(), original, "the original changed");
    (format!("error: {err}"), names(dir.path()))
}

#[test]
fn full_disk_through_the_write_step() {
    let (line, listing) = injected("write", ErrorKind::StorageFull, false);
    assert!(
        line.ends_with("setup.wse: cannot write: no space left on device; original left unchanged"),
        "{line}"
    );
    assert_eq!(listing, ["setup.wse"]);
}

#[test]
fn read_only_directory_through_the_write_step() {
    let (line, listing) = injected("create_temp", ErrorKind::ReadOnlyFilesystem, false);
    assert!(line.starts_with("error: /"), "{line}");
    assert!(
        line.contains("setup.wse: cannot create a temporary file in /")
            && line.ends_with(": read-only file system; original left unchanged"),
        "{line}"
    );
    assert_eq!(listing, ["setup.wse"]);
}

#[test]
fn failing_rename_through_the_write_step() {
    let (line, listing) = injected("rename", ErrorKind::PermissionDenied, false);
    assert!(
        line.ends_with(
            "setup.wse: cannot replace the file: permission denied; original left unchanged"
        ),
        "{line}"
    );
    assert_eq!(listing, ["setup.wse"]);
    // With --backup the backup is put in place just before the rename, and removed again
    // when the rename fails: a later --backup is not refused for a backup of nothing.
    let (line, listing) = injected("rename", ErrorKind::PermissionDenied, true);
    assert!(
        line.ends_with(
            "setup.wse: cannot replace the file: permission denied; original left unchanged"
        ),
        "{line}"
    );
    assert_eq!(listing, ["setup.wse"]);
}

#[test]
fn file_changed_between_read_and_write() {
    let (dir, path, _) = setup();
    let (input, fixed) = load_and_fix(&path);
    let meanwhile = b"Document Type: WSE\r\nitem: Global\r\n  Title=edited meanwhile\r\nend\r\n";
    fs::write(&path, meanwhile).unwrap();
    let err = write_fixed(&RealFs, &fix_args(&[]), &input, &fixed, true).unwrap_err();
    assert_eq!(
        format!("error: {err}"),
        format!(
            "error: {}: changed since it was read; not written",
            path.display()
        )
    );
    assert_eq!(fs::read(&path).unwrap(), meanwhile);
    assert_eq!(names(dir.path()), ["setup.wse"]);
}

/// The command on a symbolically linked target: refused, the target and the link unchanged.
#[test]
fn symbolic_link_target_through_the_command() {
    let (dir, path, original) = setup();
    std::os::unix::fs::symlink("setup.wse", dir.path().join("link.wse")).unwrap();
    let out = cargo_bin_cmd!("svcscrub")
        .current_dir(dir.path())
        .args(["fix", "--no-config", "link.wse"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors, ["error: link.wse: is a symbolic link; not written"]);
    assert_eq!(fs::read(&path).unwrap(), original);
    assert_eq!(
        fs::read_link(dir.path().join("link.wse")).unwrap(),
        Path::new("setup.wse")
    );
    assert_eq!(names(dir.path()), ["link.wse", "setup.wse"]);
}

/// The command under a file-size limit of one block: the temporary file cannot be written
/// (EFBIG, as on a full disk); the original stays, no temporary file is left, the other file
/// of the run (small enough to fit) is still fixed.
#[test]
fn full_disk_through_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("setup.ipf");
    let original = fs::read(common::manifest_dir().join(LARGE)).unwrap();
    fs::write(&path, &original).unwrap();
    let small = b"REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Enum\\Root\\LEGACY_FOO]\r\n\"NextInstance\"=dword:00000001\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Foo]\r\n\"A\"=\"b\"\r\n";
    fs::write(dir.path().join("small.reg"), small).unwrap();
    let bin = env!("CARGO_BIN_EXE_svcscrub");
    let out = std::process::Command::new("sh")
        .current_dir(dir.path())
        .arg("-c")
        .arg("ulimit -f 1 && trap '' XFSZ && exec \"$0\" fix --no-config -q setup.ipf small.reg")
        .arg(bin)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(
        errors,
        ["error: setup.ipf: cannot write: file too large; original left unchanged"]
    );
    assert_eq!(fs::read(&path).unwrap(), original);
    assert_eq!(
        fs::read(dir.path().join("small.reg")).unwrap(),
        b"REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Foo]\r\n\"A\"=\"b\"\r\n"
    );
    assert_eq!(names(dir.path()), ["setup.ipf", "small.reg"]);
}

/// Appends `extra` to `path` as another program would, while the write step runs. Opened
/// without blocking first: a held read lease makes that open fail with `WouldBlock` (and
/// starts breaking the lease), and the append then waits in a thread of its own for the
/// lease to go. Without a lease it appends at once.
fn append_meanwhile(path: &Path, extra: &'static [u8]) -> Option<std::thread::JoinHandle<()>> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let open = |nonblocking: bool| {
        fs::OpenOptions::new()
            .append(true)
            .custom_flags(if nonblocking { libc::O_NONBLOCK } else { 0 })
            .open(path)
    };
    match open(true) {
        Ok(mut file) => {
            file.write_all(extra).unwrap();
            None
        }
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::WouldBlock, "{e}");
            let path = path.to_path_buf();
            Some(std::thread::spawn(move || {
                let mut file = fs::OpenOptions::new().append(true).open(path).unwrap();
                file.write_all(extra).unwrap();
            }))
        }
    }
}

/// What another program does to the file, and at which step of the write.
enum Meanwhile {
    /// Appends while the fixed file is being written (the original 200 MB case).
    AppendWhileWriting,
    /// Saves a new version by renaming it over the file, as editors do.
    ReplaceWhileWriting,
    /// Opens the file for writing during the rename itself.
    AppendDuringRename,
}

struct Concurrent {
    path: PathBuf,
    what: Meanwhile,
    writer: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
    done: std::cell::Cell<bool>,
}

const APPENDED: &[u8] = b"item: Remark\nend\n";

impl Concurrent {
    fn once(&self) -> bool {
        !self.done.replace(true)
    }
}

impl Fs for Concurrent {
    fn sync(&self, file: &File) -> io::Result<()> {
        match self.what {
            Meanwhile::AppendWhileWriting if self.once() => {
                *self.writer.lock().unwrap() = append_meanwhile(&self.path, APPENDED);
            }
            Meanwhile::ReplaceWhileWriting if self.once() => {
                let saved = self.path.with_file_name("saved-by-editor");
                fs::write(&saved, b"Document Type: WSE\nitem: Global\nend\n").unwrap();
                fs::rename(saved, &self.path).unwrap();
            }
            _ => {}
        }
        RealFs.sync(file)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        if matches!(self.what, Meanwhile::AppendDuringRename) && self.once() {
            *self.writer.lock().unwrap() = append_meanwhile(&self.path, APPENDED);
        }
        RealFs.rename(from, to)
    }
}

/// Runs the write step with another program acting meanwhile; the error line, the file's
/// bytes once that program is done, and the directory's names.
fn concurrently(what: Meanwhile, backup: bool) -> (String, Vec<u8>, Vec<u8>, Vec<String>) {
    let (dir, path, original) = setup();
    let (input, fixed) = load_and_fix(&path);
    let fs_ = Concurrent {
        path: path.clone(),
        what,
        writer: std::sync::Mutex::new(None),
        done: std::cell::Cell::new(false),
    };
    let args = fix_args(if backup { &["--backup"] } else { &[] });
    let result = write_fixed(&fs_, &args, &input, &fixed, true);
    if let Some(writer) = fs_.writer.lock().unwrap().take() {
        writer.join().unwrap();
    }
    let line = match result {
        Ok(()) => "written".to_string(),
        Err(e) => format!("error: {e}"),
    };
    (line, fs::read(&path).unwrap(), original, names(dir.path()))
}

/// Another program appends while the fixed file is written: the write is refused and the
/// append lands in the original (before, the append was silently overwritten).
#[cfg(target_os = "linux")]
#[test]
fn an_append_while_writing_is_kept() {
    for backup in [false, true] {
        let (line, now, original, listing) = concurrently(Meanwhile::AppendWhileWriting, backup);
        assert!(
            line.ends_with(
                "setup.wse: changed by another program while the fixed file was being written; not written"
            ),
            "{line}"
        );
        assert_eq!(now, [&original[..], APPENDED].concat());
        assert_eq!(listing, ["setup.wse"]);
    }
}

/// Another program saves a new version (a rename over the file) while the fixed file is
/// written: the new version stays.
#[test]
fn a_replacement_while_writing_is_kept() {
    let (line, now, _, listing) = concurrently(Meanwhile::ReplaceWhileWriting, true);
    assert!(
        line.ends_with(
            "setup.wse: changed by another program while the fixed file was being written; not written"
        ),
        "{line}"
    );
    assert_eq!(now, b"Document Type: WSE\nitem: Global\nend\n");
    assert_eq!(listing, ["setup.wse"]);
}

/// Another program opens the file for writing during the rename: the original is put back
/// under its name and gets the append; the fixed file and the backup are dropped.
#[cfg(target_os = "linux")]
#[test]
fn an_append_during_the_rename_goes_to_the_original_put_back() {
    let (line, now, original, listing) = concurrently(Meanwhile::AppendDuringRename, true);
    assert!(
        line.ends_with(
            "setup.wse: opened for writing by another program while it was being replaced; original put back, not written"
        ),
        "{line}"
    );
    assert_eq!(now, [&original[..], APPENDED].concat());
    assert_eq!(listing, ["setup.wse"]);
}

/// A file another program holds open for writing is not replaced (what it writes later
/// would go to the replaced file).
#[cfg(target_os = "linux")]
#[test]
fn a_file_open_for_writing_elsewhere_is_not_replaced() {
    let (dir, path, original) = setup();
    let (input, fixed) = load_and_fix(&path);
    let writer = fs::OpenOptions::new().append(true).open(&path).unwrap();
    let err = write_fixed(&RealFs, &fix_args(&[]), &input, &fixed, true).unwrap_err();
    drop(writer);
    assert_eq!(
        format!("error: {err}"),
        format!(
            "error: {}: is open for writing in another program; not written",
            path.display()
        )
    );
    assert_eq!(fs::read(&path).unwrap(), original);
    assert_eq!(names(dir.path()), ["setup.wse"]);
}

/// Runs the command in `dir`; exit code and the `error:` lines.
fn run_in(dir: &Path, args: &[&str]) -> (Option<i32>, Vec<String>) {
    let out = cargo_bin_cmd!("svcscrub")
        .current_dir(dir)
        .args(args)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let errors = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .map(str::to_owned)
        .collect();
    (out.status.code(), errors)
}

/// A capture with a safe fix (SVC003) and an unsafe one (SVC004).
const SAFE_AND_UNSAFE: &[u8] = b"REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Enum\\Root\\LEGACY_FOO]\r\n\"NextInstance\"=dword:00000001\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Enum\\PCI\\VEN_1234&DEV_5678\\3&1]\r\n\"Service\"=\"foo\"\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Foo]\r\n\"A\"=\"b\"\r\n";

/// `fix --backup` over an existing `FILE.orig` ("precious"), and `fix --backup` then
/// `fix --backup --unsafe-fixes`: the existing backup is never replaced, the second run is
/// refused (exit 2, one line, nothing written); `--backup=numbered` keeps both.
#[test]
fn backup_never_replaces_a_backup_through_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("capture.reg");
    fs::write(&path, SAFE_AND_UNSAFE).unwrap();
    fs::write(dir.path().join("capture.reg.orig"), b"precious\n").unwrap();
    let refused = "error: capture.reg: the backup capture.reg.orig already exists; not written (--backup=numbered keeps every backup)";
    let (code, errors) = run_in(
        dir.path(),
        &["fix", "--no-config", "-q", "--backup", "capture.reg"],
    );
    assert_eq!((code, &errors[..]), (Some(2), &[refused.to_string()][..]));
    assert_eq!(
        fs::read(dir.path().join("capture.reg.orig")).unwrap(),
        b"precious\n"
    );
    assert_eq!(fs::read(&path).unwrap(), SAFE_AND_UNSAFE);

    fs::remove_file(dir.path().join("capture.reg.orig")).unwrap();
    let (code, errors) = run_in(
        dir.path(),
        &["fix", "--no-config", "-q", "--backup", "capture.reg"],
    );
    // The unsafe finding remains.
    assert_eq!(code, Some(1), "{errors:?}");
    let half_fixed = fs::read(&path).unwrap();
    assert_ne!(half_fixed, SAFE_AND_UNSAFE);
    let (code, errors) = run_in(
        dir.path(),
        &[
            "fix",
            "--no-config",
            "-q",
            "--backup",
            "--unsafe-fixes",
            "capture.reg",
        ],
    );
    assert_eq!((code, &errors[..]), (Some(2), &[refused.to_string()][..]));
    assert_eq!(
        fs::read(dir.path().join("capture.reg.orig")).unwrap(),
        SAFE_AND_UNSAFE
    );
    assert_eq!(fs::read(&path).unwrap(), half_fixed);

    let (code, errors) = run_in(
        dir.path(),
        &[
            "fix",
            "--no-config",
            "-q",
            "--backup=numbered",
            "--unsafe-fixes",
            "capture.reg",
        ],
    );
    assert_eq!(code, Some(0), "{errors:?}");
    assert_eq!(
        fs::read(dir.path().join("capture.reg.orig")).unwrap(),
        SAFE_AND_UNSAFE
    );
    assert_eq!(
        fs::read(dir.path().join("capture.reg.orig.1")).unwrap(),
        half_fixed
    );
    assert_eq!(
        names(dir.path()),
        ["capture.reg", "capture.reg.orig", "capture.reg.orig.1"]
    );
}

/// `-o` naming the input itself, through a symbolic link or a hard link: refused, the input
/// untouched (the README says `-o` leaves it as it is).
#[test]
fn output_naming_the_input_is_refused() {
    let (dir, path, original) = setup();
    std::os::unix::fs::symlink("setup.wse", dir.path().join("link.wse")).unwrap();
    fs::hard_link(&path, dir.path().join("hard.wse")).unwrap();
    for output in ["setup.wse", "./setup.wse", "link.wse", "hard.wse"] {
        let (code, errors) = run_in(
            dir.path(),
            &["fix", "--no-config", "-q", "-o", output, "setup.wse"],
        );
        assert_eq!(code, Some(2), "{output}");
        assert_eq!(
            errors,
            [format!(
                "error: {output}: is the input file itself (-o writes the result elsewhere); not written"
            )]
        );
        assert_eq!(fs::read(&path).unwrap(), original, "{output}");
    }
    assert_eq!(names(dir.path()), ["hard.wse", "link.wse", "setup.wse"]);
}

/// Whether this process can run a command as `nobody` (it runs as root).
fn can_drop_privileges() -> bool {
    std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

/// As an ordinary user, in a directory the user may write: a `0444` file the user owns is
/// refused (before, the rename replaced it), a `0644` one is fixed. Run as root, the binary
/// is started as `nobody`; otherwise as the user running the tests.
#[test]
fn a_read_only_file_is_refused_for_an_ordinary_user() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let fixture = fs::read(common::manifest_dir().join(FIXTURE)).unwrap();
    // The binary, where `nobody` can run it.
    let bin = dir.path().join("svcscrub");
    fs::copy(env!("CARGO_BIN_EXE_svcscrub"), &bin).unwrap();
    let work = dir.path().join("pkg");
    fs::create_dir(&work).unwrap();
    for name in ["locked.wse", "open.wse"] {
        fs::write(work.join(name), &fixture).unwrap();
    }
    fs::set_permissions(work.join("locked.wse"), fs::Permissions::from_mode(0o444)).unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let root = unsafe { libc::geteuid() } == 0;
    let mut command = if root {
        if !can_drop_privileges() {
            eprintln!("skipped: cannot run a command as nobody (setpriv)");
            return;
        }
        std::os::unix::fs::chown(&work, Some(65534), Some(65534)).unwrap();
        for name in ["locked.wse", "open.wse"] {
            std::os::unix::fs::chown(work.join(name), Some(65534), Some(65534)).unwrap();
        }
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin);
        c
    } else {
        std::process::Command::new(&bin)
    };
    let out = command
        .current_dir(&work)
        .args(["fix", "--no-config", "-q", "locked.wse", "open.wse"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors, ["error: locked.wse: is read-only; not written"]);
    assert_eq!(fs::read(work.join("locked.wse")).unwrap(), fixture);
    assert_ne!(fs::read(work.join("open.wse")).unwrap(), fixture);
    assert_eq!(names(&work), ["locked.wse", "open.wse"]);
}
