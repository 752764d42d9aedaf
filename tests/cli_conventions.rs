//! What CI systems and editors expect of the command line: errors and warnings in every
//! output format, positions that refer to a file that exists, standard input, input
//! selection, and ruff's conveniences.

mod common;

use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

fn svcscrub(cwd: &Path) -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("svcscrub");
    cmd.current_dir(cwd)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env_remove("GITHUB_ACTIONS");
    cmd
}

/// Runs svcscrub in `cwd`; returns (exit code, stdout, stderr).
fn run(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let output = svcscrub(cwd).args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn write(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}

/// A broken script (an item without `end`) and one whose include is missing.
fn broken_and_warned(dir: &Path) {
    write(
        &dir.join("broken.wse"),
        b"Document Type: WSE\nitem: Edit Registry\n  Key=SYSTEM\\CurrentControlSet\\Services\\A\n",
    );
    write(
        &dir.join("includes.wse"),
        b"Document Type: WSE\nitem: Remark\nend\nitem: Include Script\n  Pathname=drivers\\gone.wse\nend\n",
    );
}

#[test]
fn github_annotates_unprocessed_inputs_and_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    broken_and_warned(tmp.path());
    let (code, stdout, stderr) = run(
        tmp.path(),
        &[
            "check",
            "--format",
            "github",
            "missing.reg",
            "broken.wse",
            "includes.wse",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "::error file=missing.reg,title=svcscrub::no such file or directory",
            "::warning file=includes.wse,line=4,col=1,title=svcscrub::Include Script `drivers\\gone.wse` not found; its Create Service items and variables are not counted",
            "::error file=broken.wse,line=4,col=1,title=svcscrub::unexpected end of file: expected `end` (indented 0 spaces) to close `item: Edit Registry` from line 2",
        ],
        "{stdout}"
    );
    // The human lines stay on standard error.
    assert!(stderr.contains("error: missing.reg: no such file or directory"));
}

#[test]
fn json_registry_key_is_null_for_a_finding_about_no_key() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        &tmp.path().join("a.reg"),
        b"REGEDIT4\r\n\r\n; svcscrub: ignore SVC001\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor]\r\n\"A\"=\"b\"\r\n",
    );
    let (code, stdout, stderr) = run(tmp.path(), &["check", "--format", "json", "a.reg"]);
    assert_eq!(code, 1, "{stderr}");
    let findings: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(findings[0]["code"], "SVC900", "{findings:#}");
    assert_eq!(findings[0]["registry_key"], Value::Null, "{findings:#}");
}
