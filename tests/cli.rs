//! The command line: exit codes, messages, writing, and the diff applying with `patch -p1`.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;

/// A temporary copy of `tests/fixtures/rules/<name>` (or of an example package).
fn copy_package(from: &Path) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(from.file_name().unwrap());
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
    }
    (tmp, dir)
}

fn fixture(name: &str) -> PathBuf {
    common::manifest_dir()
        .join("tests/fixtures/rules")
        .join(name)
}

fn svcscrub() -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("svcscrub");
    cmd.env_remove("NO_COLOR");
    cmd
}

fn run(args: &[&str], cwd: &Path) -> assert_cmd::assert::Assert {
    let mut cmd = cargo_bin_cmd!("svcscrub");
    cmd.current_dir(cwd).args(args).env_remove("NO_COLOR");
    cmd.assert()
}

#[test]
fn check_exit_codes() {
    let root = common::manifest_dir();
    run(&["check", "tests/fixtures/rules/traps"], &root)
        .code(0)
        .stdout(predicate::str::contains("All checks passed (2 files)."));
    run(
        &[
            "check",
            "--format",
            "concise",
            "tests/fixtures/rules/svc001",
        ],
        &root,
    )
    .code(1)
    .stdout(predicate::str::contains(common::native(
        "tests/fixtures/rules/svc001/setup.wse:9:5: SVC001 captured security descriptor",
    )))
    .stdout(predicate::str::contains(
        "Found 4 findings in 2 files, 4 fixable with `svcscrub fix`.",
    ));
    run(
        &["check", "--exit-zero", "tests/fixtures/rules/svc001"],
        &root,
    )
    .code(0);
    // Exit codes do not depend on the format.
    for format in ["full", "concise", "json", "sarif", "github"] {
        run(
            &["check", "--format", format, "tests/fixtures/rules/svc004"],
            &root,
        )
        .code(1);
        run(
            &["check", "--format", format, "tests/fixtures/rules/traps"],
            &root,
        )
        .code(0);
    }
}

#[test]
fn bad_inputs_get_one_line_and_exit_2_while_others_are_processed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("empty.wse"), b"").unwrap();
    std::fs::write(dir.join("binary.wse"), b"W6\x01\x00\x15Match").unwrap();
    std::fs::write(
        dir.join("truncated.wse"),
        b"Document Type: WSE\r\nitem: Global\r\n  Version=9.0\r\n",
    )
    .unwrap();
    std::fs::copy(fixture("svc003").join("setup.wse"), dir.join("good.wse")).unwrap();
    let out = run(&["check", "--format", "concise", "."], dir)
        .code(2)
        .stdout(predicate::str::starts_with("good.wse:7:3: SVC003"))
        .get_output()
        .clone();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(
        stderr.contains("error: empty.wse:1:1: empty file"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: binary.wse:1:4: binary (legacy) WiseScript"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: truncated.wse:4:1: unexpected end of file: expected `end`"),
        "{stderr}"
    );
    run(&["check", "no/such/path"], dir)
        .code(2)
        .stderr(predicate::str::contains(common::native(
            "error: no/such/path: no such file or directory",
        )));
}

#[test]
fn fix_writes_the_diff_applies_and_a_second_fix_is_clean() {
    let (tmp, dir) = copy_package(&fixture("svc010"));
    let original = tmp.path().join("original");
    std::fs::create_dir_all(&original).unwrap();
    let ipf = dir.join("setup.ipf");
    std::fs::copy(&ipf, original.join("setup.ipf")).unwrap();

    // --diff writes nothing and says a change would be made.
    let diff = run(&["fix", "--diff", "svc010/setup.ipf"], tmp.path())
        .code(1)
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        std::fs::read(&ipf).unwrap(),
        std::fs::read(original.join("setup.ipf")).unwrap()
    );
    assert!(diff.starts_with(b"--- a/svc010/setup.ipf\n+++ b/svc010/setup.ipf\n"));

    // fix writes; unsafe findings remain, so exit 1.
    run(&["fix", "svc010/setup.ipf"], tmp.path())
        .code(1)
        .stderr(predicate::str::contains("2 findings remain"));

    // The diff applies to the original with patch -p1 and gives the written file (POSIX
    // `patch`; on Windows `tests/paths.rs` checks the headers, and `git apply` where git runs).
    #[cfg(unix)]
    {
        let patched = tmp.path().join("patched");
        std::fs::create_dir_all(patched.join("svc010")).unwrap();
        std::fs::copy(original.join("setup.ipf"), patched.join("svc010/setup.ipf")).unwrap();
        let mut patch = std::process::Command::new("patch")
            .args(["-p1", "--quiet", "--fuzz=0"])
            .current_dir(&patched)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("patch is installed");
        use std::io::Write;
        patch.stdin.take().unwrap().write_all(&diff).unwrap();
        assert!(patch.wait().unwrap().success());
        assert_eq!(
            std::fs::read(patched.join("svc010/setup.ipf")).unwrap(),
            std::fs::read(&ipf).unwrap()
        );
    }

    // A second fix changes nothing.
    run(&["fix", "--diff", "svc010/setup.ipf"], tmp.path())
        .code(1)
        .stdout(predicate::str::is_empty());
    // With --unsafe-fixes everything goes and the exit is 0.
    run(&["fix", "--unsafe-fixes", "svc010"], tmp.path()).code(0);
    run(&["fix", "--diff", "svc010"], tmp.path())
        .code(0)
        .stdout(predicate::str::is_empty());
}

#[test]
fn nothing_to_fix_is_not_rewritten() {
    let (tmp, dir) = copy_package(&fixture("traps"));
    let path = dir.join("setup.wse");
    let before = std::fs::metadata(&path).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    run(&["fix", "traps"], tmp.path())
        .code(0)
        .stdout(predicate::str::is_empty());
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        before
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(fixture("traps").join("setup.wse")).unwrap()
    );
}

#[test]
fn output_file_leaves_the_input_untouched() {
    let (tmp, dir) = copy_package(&fixture("svc001"));
    let input = dir.join("capture.reg");
    let before = std::fs::read(&input).unwrap();
    let out = tmp.path().join("clean.reg");
    run(
        &["fix", "-o", out.to_str().unwrap(), input.to_str().unwrap()],
        tmp.path(),
    )
    .code(0);
    assert_eq!(std::fs::read(&input).unwrap(), before);
    let written = std::fs::read(&out).unwrap();
    assert!(written.starts_with(b"\xFF\xFE"), "UTF-16 stays UTF-16");
    assert!(written.len() < before.len());
    // -o always writes, even when nothing changes.
    let traps = fixture("traps").join("setup.wse");
    let copy = tmp.path().join("same.wse");
    run(
        &["fix", "-o", copy.to_str().unwrap(), traps.to_str().unwrap()],
        tmp.path(),
    )
    .code(0);
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        std::fs::read(&traps).unwrap()
    );
    // -o needs exactly one input.
    run(&["fix", "-o", "x.wse", dir.to_str().unwrap()], tmp.path())
        .code(2)
        .stderr(predicate::str::contains("exactly one input"));
}

#[test]
fn backup_keeps_the_original() {
    let (tmp, dir) = copy_package(&fixture("svc003"));
    let path = dir.join("setup.wse");
    let before = std::fs::read(&path).unwrap();
    run(&["fix", "--backup", "svc003"], tmp.path()).code(0);
    assert_eq!(std::fs::read(dir.join("setup.wse.orig")).unwrap(), before);
    assert_ne!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn explicit_file_sees_the_create_service_of_its_directory() {
    let root = common::manifest_dir();
    // capture.reg alone has no Create Service, but setup.ipf beside it does.
    run(
        &["check", "--format", "concise", "tests/fixtures/rules/svc010/capture.reg"],
        &root,
    )
    .code(1)
    .stdout(predicate::str::contains(format!(
        "capture.reg:5:1: SVC010 value `Start` of `HKLM\\SYSTEM\\CurrentControlSet\\Services\\NAVAPSVC` of service `NAVAPSVC` is 3, but the Create Service item at {} sets `Boot Type=2`",
        common::native("tests/fixtures/rules/svc010/setup.ipf:14")
    )))
    // The context script itself is not reported.
    .stdout(predicate::str::contains("setup.ipf:8:3").not());
}

#[test]
fn stdin_is_read_and_named() {
    let bytes = std::fs::read(fixture("svc004").join("capture.reg")).unwrap();
    let mut cmd = svcscrub();
    cmd.args([
        "check",
        "--format",
        "concise",
        "--stdin-filename",
        "pkg/cap.reg",
        "-",
    ])
    .write_stdin(bytes)
    .assert()
    .code(1)
    .stdout(predicate::str::contains(common::native(
        "pkg/cap.reg:3:1: SVC004",
    )));
}

#[test]
fn rules_and_explain() {
    let root = common::manifest_dir();
    run(&["rules"], &root)
        .code(0)
        .stdout(predicate::str::contains(
            "SVC001  service-security-descriptor",
        ));
    let json = run(&["rules", "--format", "json"], &root)
        .code(0)
        .get_output()
        .stdout
        .clone();
    let rules: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(rules[0]["code"], "SVC001");
    run(&["explain", "SVC001"], &root)
        .code(0)
        .stdout(predicate::str::contains("Q192868"));
    run(&["explain", "SVC004"], &root)
        .code(0)
        .stdout(predicate::str::contains("KB2000387"));
    run(&["explain", "SVC999"], &root)
        .code(2)
        .stderr(predicate::str::contains(
            "unknown rule code or name `SVC999`",
        ));
}

#[test]
fn select_ignore_and_config() {
    let (tmp, dir) = copy_package(&fixture("svc020"));
    run(
        &[
            "check", "--select", "SVC001", "--format", "concise", "svc020",
        ],
        tmp.path(),
    )
    .code(1)
    .stdout(predicate::str::contains("SVC020").not());
    run(&["check", "--ignore", "SVC0", "svc020"], tmp.path()).code(0);
    run(&["check", "--select", "SVC7", "svc020"], tmp.path())
        .code(2)
        .stderr(predicate::str::contains("SVC7"));
    std::fs::write(
        dir.join("svcscrub.toml"),
        "ignore = [\"SVC020\", \"SVC001\"]\n",
    )
    .unwrap();
    run(&["check", "svc020"], tmp.path()).code(0);
    run(&["check", "--no-config", "svc020"], tmp.path()).code(1);
    std::fs::write(dir.join("svcscrub.toml"), "ignored = []\n").unwrap();
    run(&["check", "svc020"], tmp.path())
        .code(2)
        .stderr(predicate::str::contains("ignored"));
}
