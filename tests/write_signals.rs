//! Signals during `svcscrub fix`'s write: SIGINT and SIGTERM remove the temporary files and
//! leave the original untouched, and the process still ends by the signal; what SIGKILL
//! leaves (`.svcscrub-PID-XXXXXX.tmp`) is removed by the next run that writes there.
//!
//! The run is frozen (SIGSTOP) as soon as its temporary file appears, so the signal arrives
//! while the write is in progress whatever the machine's speed; the input is large enough
//! (34 MB) that the temporary file lives long enough to be seen.

#![cfg(unix)]

mod common;

use common::names;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A 34 MB export with a safe fix at the top.
fn big_export() -> Vec<u8> {
    let mut out = b"REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Enum\\Root\\LEGACY_FOO]\r\n\"NextInstance\"=dword:00000001\r\n\r\n".to_vec();
    for i in 0..400_000 {
        out.extend_from_slice(
            format!("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\Product{i}]\r\n\"Value\"=\"some data here {i}\"\r\n\r\n")
                .as_bytes(),
        );
    }
    out
}

fn temporary_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".svcscrub-") && n.ends_with(".tmp"))
        .collect();
    names.sort();
    names
}

fn signal(child: &Child, signal: i32) {
    // SAFETY: kill on the id of a child this test started and has not waited for.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
}

fn fix(dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_svcscrub"))
        .current_dir(dir)
        .args(["fix", "--no-config", "-q", "capture.reg"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Starts `fix` on the export in `dir` and freezes it once its temporary file exists; `None`
/// when the run finished before one was seen (then the caller tries again).
fn frozen_while_writing(dir: &Path, original: &[u8]) -> Option<Child> {
    fs::write(dir.join("capture.reg"), original).unwrap();
    let mut child = fix(dir);
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if !temporary_files(dir).is_empty() {
            signal(&child, libc::SIGSTOP);
            if !temporary_files(dir).is_empty() {
                return Some(child);
            }
            signal(&child, libc::SIGCONT);
        }
        if child.try_wait().unwrap().is_some() {
            return None;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("fix never wrote a temporary file");
}

fn frozen(dir: &Path, original: &[u8]) -> Child {
    (0..5)
        .find_map(|_| frozen_while_writing(dir, original))
        .expect("the temporary file was seen in one of five runs")
}

#[test]
fn sigint_and_sigterm_remove_the_temporary_files() {
    let original = big_export();
    for sig in [libc::SIGINT, libc::SIGTERM] {
        let dir = tempfile::tempdir().unwrap();
        let mut child = frozen(dir.path(), &original);
        signal(&child, sig);
        signal(&child, libc::SIGCONT);
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(sig), "{status:?}");
        assert_eq!(names(dir.path()), ["capture.reg"], "signal {sig}");
        assert!(
            fs::read(dir.path().join("capture.reg")).unwrap() == original,
            "signal {sig}: the original changed"
        );
    }
}

#[test]
fn a_killed_runs_leftovers_are_removed_by_the_next_run() {
    let original = big_export();
    let dir = tempfile::tempdir().unwrap();
    let mut child = frozen(dir.path(), &original);
    signal(&child, libc::SIGKILL);
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    let leftovers = temporary_files(dir.path());
    assert!(!leftovers.is_empty());
    assert!(fs::read(dir.path().join("capture.reg")).unwrap() == original);
    let status = fix(dir.path()).wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(names(dir.path()), ["capture.reg"]);
    assert!(fs::read(dir.path().join("capture.reg")).unwrap() != original);
}
