//! Windows file semantics of `svcscrub fix`: the read-only attribute, files another program
//! holds open (sharing violations), and what the replaced file keeps (`ReplaceFileW`). The
//! Windows counterparts of the POSIX tests of `write_atomic.rs`; run under Wine by `.ci/run`.

#![cfg(windows)]

mod common;

use common::names;
use std::fs::{self, File, OpenOptions};
use std::os::windows::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use windows_sys::Win32::Storage::FileSystem::{
    FILE_ATTRIBUTE_ARCHIVE, FILE_ATTRIBUTE_HIDDEN, FILE_ATTRIBUTE_READONLY, FILE_ATTRIBUTE_SYSTEM,
    FILE_SHARE_READ, FILE_SHARE_WRITE, SetFileAttributesW,
};

/// A temporary directory holding `setup.wse`, a script with a safe fix.
fn package() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("setup.wse");
    let fixture = common::manifest_dir().join("tests/fixtures/rules/svc003/setup.wse");
    fs::copy(fixture, &path).unwrap();
    let original = fs::read(&path).unwrap();
    (dir, path, original)
}

/// `svcscrub fix setup.wse` in the package's directory: exit code and standard error.
fn fix(dir: &Path) -> (Option<i32>, String) {
    let out = cargo_bin_cmd!("svcscrub")
        .current_dir(dir)
        .args(["fix", "-q", "setup.wse"])
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stderr).unwrap())
}

/// Whether the tests run under Wine (`.ci/wine/run` sets `WINEPREFIX`, which Wine passes on
/// to Windows programs).
fn under_wine() -> bool {
    std::env::var_os("WINEPREFIX").is_some()
}

fn set_attributes(path: &Path, attributes: u32) {
    use std::os::windows::ffi::OsStrExt;
    let wide: Vec<u16> = path.as_os_str().encode_wide().chain([0]).collect();
    // SAFETY: a NUL-terminated UTF-16 path that lives across the call.
    assert_ne!(unsafe { SetFileAttributesW(wide.as_ptr(), attributes) }, 0);
}

#[test]
fn a_read_only_file_is_refused() {
    let (dir, path, original) = package();
    let mut permissions = fs::metadata(&path).unwrap().permissions();
    permissions.set_readonly(true);
    fs::set_permissions(&path, permissions).unwrap();

    let (code, stderr) = fix(dir.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr, "error: setup.wse: is read-only; not written\n");
    assert_eq!(fs::read(&path).unwrap(), original);
    assert_ne!(
        fs::metadata(&path).unwrap().file_attributes() & FILE_ATTRIBUTE_READONLY,
        0
    );
    assert_eq!(names(dir.path()), ["setup.wse"]);
}

/// `fix` in `dir` while `holder` keeps `path` open without sharing what the write needs:
/// refused with a sharing violation, and the file (`original`) and directory left as they were.
fn refused_while_held(dir: &Path, path: &Path, original: &[u8], holder: File) {
    let (code, stderr) = fix(dir);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(
        stderr,
        "error: setup.wse: is open in another program that does not share it (a sharing violation); close it there and run again; original left unchanged\n"
    );
    drop(holder);
    assert_eq!(fs::read(path).unwrap(), original);
    assert_eq!(names(dir), ["setup.wse"]);
}

/// An editor that has the script open for writing and lets others only read it.
#[test]
fn a_file_open_for_writing_elsewhere_is_not_written() {
    let (dir, path, original) = package();
    let editor = OpenOptions::new()
        .read(true)
        .write(true)
        .share_mode(FILE_SHARE_READ)
        .open(&path)
        .unwrap();

    refused_while_held(dir.path(), &path, &original, editor);
}

/// A program that reads the script and lets others read and write it, but not delete or
/// rename it: the fixed file cannot take its place.
#[test]
fn a_file_that_cannot_be_replaced_is_left_unchanged() {
    let (dir, path, original) = package();
    let reader = OpenOptions::new()
        .read(true)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE)
        .open(&path)
        .unwrap();

    refused_while_held(dir.path(), &path, &original, reader);
}

/// A program that holds the script open and shares nothing: it cannot even be read.
#[test]
fn an_exclusively_open_file_is_not_read() {
    let (dir, path, original) = package();
    let holder: File = OpenOptions::new()
        .read(true)
        .share_mode(0)
        .open(&path)
        .unwrap();

    let (code, stderr) = fix(dir.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(
        stderr,
        "error: setup.wse: is open in another program that does not share it (a sharing violation); not read\n"
    );
    drop(holder);
    assert_eq!(fs::read(&path).unwrap(), original);
    assert_eq!(names(dir.path()), ["setup.wse"]);
}

/// The fixed file takes the original's place with its attributes (`ReplaceFileW`).
#[test]
fn the_fixed_file_keeps_the_original_attributes() {
    let (dir, path, original) = package();
    let kept = FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM | FILE_ATTRIBUTE_ARCHIVE;
    set_attributes(&path, kept);
    let before = fs::metadata(&path).unwrap();
    assert_eq!(before.file_attributes() & kept, kept);

    let (code, stderr) = fix(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    let fixed = fs::read(&path).unwrap();
    assert_ne!(fixed, original);
    let after = fs::metadata(&path).unwrap();
    assert_eq!(after.file_attributes() & kept, kept);
    // Wine's ReplaceFileW does not carry the creation time over (Windows does).
    if !under_wine() {
        assert_eq!(after.creation_time(), before.creation_time());
    }
    assert_eq!(names(dir.path()), ["setup.wse"]);
}
