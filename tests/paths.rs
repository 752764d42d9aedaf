//! How paths are shown: machine-facing paths (diff headers, SARIF uris, GitHub `file=`, JSON
//! `path`) are relative to the project root and `/`-separated however the inputs were named;
//! human-facing ones are the platform's form of the path as named.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

/// A repository (`.git`, made by `git init` when git is there) holding
/// `pkg/Sub Dir/setup.wse`, a script with a safe fix. Returns the temporary directory, the
/// repository and the package directory.
fn repository() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().canonicalize().unwrap().join("repo");
    let pkg = repo.join("pkg").join("Sub Dir");
    std::fs::create_dir_all(&pkg).unwrap();
    let fixture = common::manifest_dir().join("tests/fixtures/rules/svc003/setup.wse");
    std::fs::copy(fixture, pkg.join("setup.wse")).unwrap();
    let initialised = git()
        && Command::new("git")
            .args(["init", "-q"])
            .current_dir(&repo)
            .status()
            .is_ok_and(|s| s.success());
    if !initialised {
        std::fs::create_dir(repo.join(".git")).unwrap();
    }
    (tmp, repo, pkg)
}

/// Whether `git` can be run (not under Wine, where it is a program of the host).
fn git() -> bool {
    Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn svcscrub(cwd: &Path, args: &[&str]) -> std::process::Output {
    cargo_bin_cmd!("svcscrub")
        .current_dir(cwd)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stdout(cwd: &Path, args: &[&str]) -> String {
    String::from_utf8(svcscrub(cwd, args).stdout).unwrap()
}

/// The ways a packaging engineer names the same file: from the repository root, from a
/// subdirectory with `.`, by absolute path from a subdirectory, and from outside the
/// repository with `--project-root`.
fn namings(repo: &Path, pkg: &Path) -> Vec<(PathBuf, Vec<String>)> {
    let absolute = pkg.join("setup.wse").to_string_lossy().into_owned();
    let outside = repo.parent().unwrap().to_path_buf();
    vec![
        (repo.to_path_buf(), vec!["pkg".into()]),
        (repo.to_path_buf(), vec!["./pkg//Sub Dir/../Sub Dir".into()]),
        (pkg.to_path_buf(), vec![".".into()]),
        (pkg.to_path_buf(), vec![absolute.clone()]),
        (
            outside,
            vec!["--project-root".into(), "repo".into(), absolute],
        ),
    ]
}

#[test]
fn diff_headers_are_repository_relative_however_inputs_are_named() {
    let (_tmp, repo, pkg) = repository();
    let mut diffs = Vec::new();
    for (cwd, args) in namings(&repo, &pkg) {
        let mut argv: Vec<&str> = vec!["fix", "--diff"];
        argv.extend(args.iter().map(String::as_str));
        let diff = stdout(&cwd, &argv);
        let headers: Vec<&str> = diff
            .lines()
            .filter(|l| l.starts_with("--- ") || l.starts_with("+++ "))
            .collect();
        assert_eq!(
            headers,
            [
                "--- a/pkg/Sub Dir/setup.wse\t",
                "+++ b/pkg/Sub Dir/setup.wse\t"
            ],
            "{args:?} in {}",
            cwd.display()
        );
        diffs.push(diff);
    }
    assert!(diffs.windows(2).all(|w| w[0] == w[1]));

    // The diff applies from the repository root, and gives what `fix` writes.
    if git() {
        let mut apply = Command::new("git")
            .args(["apply", "-"])
            .current_dir(&repo)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        apply
            .stdin
            .take()
            .unwrap()
            .write_all(diffs[0].as_bytes())
            .unwrap();
        assert!(apply.wait().unwrap().success(), "git apply failed");
        let applied = std::fs::read(pkg.join("setup.wse")).unwrap();
        let fixture = common::manifest_dir().join("tests/fixtures/rules/svc003/setup.wse");
        std::fs::copy(fixture, pkg.join("setup.wse")).unwrap();
        let fixed = svcscrub(&repo, &["fix", "-q", "pkg"]);
        assert_eq!(fixed.status.code(), Some(0));
        assert_eq!(std::fs::read(pkg.join("setup.wse")).unwrap(), applied);
    }
}

#[test]
fn machine_reports_name_files_relative_to_the_repository() {
    let (_tmp, repo, pkg) = repository();
    for (cwd, args) in namings(&repo, &pkg) {
        let with = |format: &str| {
            let mut argv: Vec<&str> = vec!["check", "--format", format];
            argv.extend(args.iter().map(String::as_str));
            stdout(&cwd, &argv)
        };
        let context = format!("{args:?} in {}", cwd.display());

        let sarif: Value = serde_json::from_str(&with("sarif")).unwrap();
        let run = &sarif["runs"][0];
        let location = &run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(location["uri"], "pkg/Sub%20Dir/setup.wse", "{context}");
        assert_eq!(location["uriBaseId"], "%SRCROOT%", "{context}");
        let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
            .as_str()
            .unwrap();
        assert!(base.starts_with("file:///"), "{base}");
        assert!(base.ends_with("/repo/"), "{base}");

        let json: Value = serde_json::from_str(&with("json")).unwrap();
        assert_eq!(json[0]["path"], "pkg/Sub Dir/setup.wse", "{context}");

        let github = with("github");
        assert!(
            github.starts_with("::error file=pkg/Sub Dir/setup.wse,line=7,col=3,"),
            "{context}: {github}"
        );
    }
}

#[test]
fn human_reports_use_the_platform_form_of_the_path_as_named() {
    let (_tmp, repo, pkg) = repository();
    let sep = std::path::MAIN_SEPARATOR;
    let first_line = |cwd: &Path, args: &[&str]| {
        let mut argv = vec!["check", "--format", "concise", "-q"];
        argv.extend_from_slice(args);
        stdout(cwd, &argv)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    let from_root = first_line(&repo, &["./pkg//Sub Dir"]);
    assert!(
        from_root.starts_with(&format!("pkg{sep}Sub Dir{sep}setup.wse:7:3: SVC003 ")),
        "{from_root}"
    );
    let from_package = first_line(&pkg, &["."]);
    assert!(
        from_package.starts_with("setup.wse:7:3: SVC003 "),
        "{from_package}"
    );
    let full = stdout(&repo, &["check", "-q", "pkg/Sub Dir/setup.wse"]);
    assert!(
        full.contains(&format!("--> pkg{sep}Sub Dir{sep}setup.wse:7:3")),
        "{full}"
    );
}

#[test]
fn notices_name_files_relative_to_the_repository() {
    let (_tmp, repo, pkg) = repository();
    std::fs::write(pkg.join("empty.wse"), b"").unwrap();
    for (cwd, args) in namings(&repo, &pkg).into_iter().take(3) {
        let with = |format: &str| {
            let mut argv: Vec<&str> = vec!["check", "--format", format];
            argv.extend(args.iter().map(String::as_str));
            stdout(&cwd, &argv)
        };
        let github = with("github");
        assert!(
            github.starts_with("::error file=pkg/Sub Dir/empty.wse,line=1,col=1,title=svcscrub::"),
            "{github}"
        );
        let sarif: Value = serde_json::from_str(&with("sarif")).unwrap();
        let notification = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
        assert_eq!(
            notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "pkg/Sub%20Dir/empty.wse"
        );
    }
}
