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

use std::fs::{self, File};
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use clap::Parser;
use svcscrub::cli::args::{Cli, Command, FixArgs};
use svcscrub::cli::{Input, InputSource, write_fixed};
use svcscrub::pipeline::{self, Fixed};
use svcscrub::write::{Fs, RealFs};
use tempfile::NamedTempFile;

/// A script with a safe fix: it loses its LEGACY_ key.
const FIXTURE: &str = "tests/fixtures/rules/svc003/setup.wse";
/// A 20 kB script with safe fixes, far over a one-block file-size limit.
const LARGE: &str = "examples/norton-antivirus/setup.ipf";

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

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
    let input = Input {
        source: InputSource::File(path.to_path_buf()),
        display: path.display().to_string(),
        explicit: true,
    };
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
    // With --backup the backup is written first and kept; the original is still intact.
    let (line, listing) = injected("rename", ErrorKind::PermissionDenied, true);
    assert!(line.contains("cannot write the backup"), "{line}");
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
