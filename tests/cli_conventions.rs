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

/// Human-facing paths in the platform's form (`\` on Windows) compared as `/`-separated (only
/// for text holding no registry key).
fn slash(text: &str) -> String {
    if cfg!(windows) {
        text.replace('\\', "/")
    } else {
        text.to_string()
    }
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

// ---------------------------------------------------------------- positions

const FORMATS: [&str; 5] = ["full", "concise", "json", "sarif", "github"];

/// (path, line, column, code) of every finding of a report in `format`.
fn positions(format: &str, report: &str) -> Vec<(String, usize, usize, String)> {
    let number = |s: &str| s.parse::<usize>().unwrap_or_else(|_| panic!("{s:?}"));
    let mut out = Vec::new();
    match format {
        "full" => {
            let mut code = String::new();
            for line in report.lines() {
                if let Some(rest) = line
                    .strip_prefix("warning[")
                    .or_else(|| line.strip_prefix("error["))
                {
                    code = rest[..rest.find(']').unwrap()].to_string();
                } else if let Some(at) = line.trim_start().strip_prefix("--> ") {
                    let mut parts = at.rsplitn(3, ':');
                    let column = number(parts.next().unwrap());
                    let line = number(parts.next().unwrap());
                    out.push((slash(parts.next().unwrap()), line, column, code.clone()));
                }
            }
        }
        "concise" => {
            for line in report.lines().filter(|l| l.contains(": SVC")) {
                let (at, rest) = line.split_once(": ").unwrap();
                let mut parts = at.rsplitn(3, ':');
                let column = number(parts.next().unwrap());
                let line = number(parts.next().unwrap());
                let code = rest.split(' ').next().unwrap().to_string();
                out.push((slash(parts.next().unwrap()), line, column, code));
            }
        }
        "json" => {
            let findings: Value = serde_json::from_str(report).unwrap();
            for f in findings.as_array().unwrap() {
                out.push((
                    f["path"].as_str().unwrap().to_string(),
                    f["line"].as_u64().unwrap() as usize,
                    f["column"].as_u64().unwrap() as usize,
                    f["code"].as_str().unwrap().to_string(),
                ));
            }
        }
        "sarif" => {
            let log: Value = serde_json::from_str(report).unwrap();
            for r in log["runs"][0]["results"].as_array().unwrap() {
                let location = &r["locations"][0]["physicalLocation"];
                out.push((
                    location["artifactLocation"]["uri"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                    location["region"]["startLine"].as_u64().unwrap() as usize,
                    location["region"]["startColumn"].as_u64().unwrap() as usize,
                    r["ruleId"].as_str().unwrap().to_string(),
                ));
            }
        }
        "github" => {
            for line in report.lines() {
                let command = line.strip_prefix("::").unwrap().split_once("::").unwrap().0;
                let properties = command.split_once(' ').unwrap().1;
                let field = |name: &str| {
                    properties
                        .split(',')
                        .find_map(|p| p.strip_prefix(name))
                        .unwrap()
                        .to_string()
                };
                let title = field("title=");
                out.push((
                    field("file=").replace("%3A", ":"),
                    number(&field("line=")),
                    number(&field("col=")),
                    title.split(' ').next().unwrap().to_string(),
                ));
            }
        }
        _ => unreachable!(),
    }
    out.sort();
    out
}

/// The report of a run in `format`: `fix` writes the human formats to standard error.
fn report(cwd: &Path, args: &[&str], format: &str) -> String {
    let mut args = args.to_vec();
    args.extend(["--format", format]);
    let (code, stdout, stderr) = run(cwd, &args);
    assert!(code == 0 || code == 1, "{args:?}: {stderr}");
    if args[0] == "fix" && matches!(format, "full" | "concise") {
        stderr
    } else {
        stdout
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// Line `n` (1-based) of a file, without its line break (UTF-16 files decoded).
fn line_of(path: &Path, n: usize) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let text = match bytes.strip_prefix(&[0xFF, 0xFE]) {
        Some(utf16) => String::from_utf16_lossy(
            &utf16
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect::<Vec<u16>>(),
        ),
        None => String::from_utf8_lossy(&bytes).into_owned(),
    };
    let line = text.split('\n').nth(n - 1)?;
    Some(line.strip_suffix('\r').unwrap_or(line).to_string())
}

#[test]
fn fix_diff_reports_remaining_findings_at_the_original_positions() {
    let root = common::manifest_dir();
    let mut checked = 0;
    for example in ["examples/norton-antivirus", "examples/sms-remote-control"] {
        let dir = root.join(example);
        // Each finding's line in the original is about it: it names the value, or the key.
        let json = report(&root, &["fix", "--diff", example], "json");
        let findings: Value = serde_json::from_str(&json).unwrap();
        for f in findings.as_array().unwrap() {
            let path = root.join(f["path"].as_str().unwrap());
            let line = f["line"].as_u64().unwrap() as usize;
            let text = line_of(&path, line).unwrap().to_lowercase();
            let key = f["registry_key"].as_str().unwrap().to_lowercase();
            // SVC040 reports the data that holds the reference (`%NAME%`, first in its message).
            let reference = (f["code"] == "SVC040")
                .then(|| f["message"].as_str()?.split('`').nth(1))
                .flatten()
                .map(str::to_lowercase);
            let names = [
                f["value_name"].as_str().map(str::to_lowercase),
                key.rsplit('\\').next().map(str::to_string),
                reference,
            ];
            assert!(
                names
                    .iter()
                    .flatten()
                    .any(|name| text.contains(name.as_str())),
                "{}:{line} is {text:?}, not about {names:?}",
                path.display()
            );
            checked += 1;
        }
        // Every format reports the same positions.
        let expected = positions("json", &json);
        for format in FORMATS {
            let remaining = positions(format, &report(&root, &["fix", "--diff", example], format));
            assert_eq!(remaining, expected, "{example} --format {format}");
        }
        // `full` quotes the line it points at: the original's.
        let full = report(&root, &["fix", "--diff", example], "full");
        let mut quoted = 0;
        let mut at = None;
        for line in full.lines() {
            if let Some(position) = line.trim_start().strip_prefix("--> ") {
                let mut parts = position.rsplitn(3, ':');
                parts.next();
                let n: usize = parts.next().unwrap().parse().unwrap();
                at = Some((root.join(parts.next().unwrap()), n));
            } else if let Some((path, n)) = &at
                && let Some(text) = line.trim_start().strip_prefix(&format!("{n} | "))
            {
                let expected = line_of(path, *n).unwrap();
                if path.starts_with(&dir) {
                    assert_eq!(text, expected, "{}:{n}", path.display());
                    quoted += 1;
                }
                at = None;
            }
        }
        assert!(quoted > 0, "{example}: no quoted line checked");
    }
    assert!(checked > 20, "{checked}");
}

#[test]
fn after_a_write_remaining_findings_are_at_the_written_positions() {
    let root = common::manifest_dir();
    for format in FORMATS {
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(
            &root.join("examples/sms-remote-control"),
            &tmp.path().join("pkg"),
        );
        let remaining = positions(format, &report(tmp.path(), &["fix", "pkg"], format));
        let written = positions(format, &report(tmp.path(), &["check", "pkg"], format));
        assert!(!remaining.is_empty(), "{format}");
        assert_eq!(remaining, written, "--format {format}");
    }
}

// ---------------------------------------------------------------- inputs

/// A package of the Norton AntiVirus example under `dir`.
fn norton(dir: &Path) {
    copy_dir(
        &common::manifest_dir().join("examples/norton-antivirus"),
        dir,
    );
}

/// The paths a `check --format concise` run reports, each once, sorted.
fn reported_paths(cwd: &Path, args: &[&str]) -> Vec<String> {
    let mut all = vec!["check", "--format", "concise"];
    all.extend(args);
    let (code, stdout, stderr) = run(cwd, &all);
    assert!(code < 2, "{args:?}: {stderr}");
    let mut paths: Vec<String> = stdout
        .lines()
        .filter(|l| l.contains(": SVC"))
        .map(|l| slash(l.split(':').next().unwrap()))
        .collect();
    paths.dedup();
    paths.sort();
    paths.dedup();
    paths
}

#[test]
fn a_file_named_or_reached_twice_is_processed_once() {
    let tmp = tempfile::tempdir().unwrap();
    norton(&tmp.path().join("pkg"));
    let once = run(tmp.path(), &["check", "--format", "concise", "pkg"]).1;
    for args in [
        &["pkg", "pkg/setup.ipf"][..],
        &["pkg/setup.ipf", "pkg"],
        &[".", "pkg", "./pkg/capture.reg"],
        &["pkg", "pkg/../pkg"],
    ] {
        let mut all = vec!["check", "--format", "concise"];
        all.extend(args);
        let (code, stdout, _) = run(tmp.path(), &all);
        assert_eq!(code, 1);
        let mut lines: Vec<&str> = stdout.lines().collect();
        let total = lines.len();
        lines.sort();
        lines.dedup();
        assert_eq!(lines.len(), total, "{args:?}: a finding is reported twice");
        assert_eq!(total, once.lines().count(), "{args:?}");
    }
    // `fix` prints the diff once and writes each file once.
    let (code, stdout, stderr) = run(tmp.path(), &["fix", "pkg", "pkg/setup.ipf"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stdout.matches("+++ b/pkg/setup.ipf").count(), 1, "{stdout}");
    assert!(!stderr.contains("error"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn a_file_reached_through_a_symbolic_link_is_processed_once() {
    let tmp = tempfile::tempdir().unwrap();
    norton(&tmp.path().join("pkg"));
    std::os::unix::fs::symlink("pkg", tmp.path().join("alias")).unwrap();
    let (code, stdout, stderr) = run(
        tmp.path(),
        &["check", "--format", "concise", "pkg", "alias"],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(!stdout.contains("alias/"), "{stdout}");
}

/// A `svcscrub.toml` below the walked directory excludes below its own directory: its
/// patterns are rooted there, and the files it governs are left out as if walked from there.
#[test]
fn a_nested_configuration_excludes_below_its_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    norton(&root.join("team/pkg"));
    for dir in ["team/captures/old", "team/keep", "other/captures"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
        std::fs::copy(
            root.join("team/pkg/capture.reg"),
            root.join(dir).join("c.reg"),
        )
        .unwrap();
    }
    write(
        &root.join("team/svcscrub.toml"),
        b"extend-exclude = [\"captures/\", \"/pkg/setup.ipf\"]\n",
    );
    let expected = [
        "other/captures/c.reg",
        "team/keep/c.reg",
        "team/pkg/capture.reg",
    ];
    // From above the nested configuration, from its directory, and from below it.
    assert_eq!(reported_paths(root, &["."]), expected);
    assert_eq!(
        reported_paths(&root.join("team"), &["."]),
        ["keep/c.reg", "pkg/capture.reg"]
    );
    // A directory named on the command line is walked even where a pattern excludes it (as
    // ruff does, unless --force-exclude); what lies below follows the patterns.
    assert_eq!(
        reported_paths(root, &["team/captures"]),
        ["team/captures/old/c.reg"]
    );
}

#[test]
fn walks_leave_out_ignored_hidden_and_excluded_files() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    norton(&root.join("pkg"));
    for dir in [
        "build",
        "node_modules/x",
        "vendor",
        "ignored",
        "dotignored",
        ".hidden",
    ] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
        std::fs::copy(root.join("pkg/capture.reg"), root.join(dir).join("c.reg")).unwrap();
    }
    write(&root.join(".gitignore"), b"ignored/\n");
    write(&root.join(".ignore"), b"dotignored/\n");
    assert_eq!(
        reported_paths(root, &["."]),
        ["pkg/capture.reg", "pkg/setup.ipf", "vendor/c.reg"]
    );
    assert_eq!(
        reported_paths(root, &["--no-respect-gitignore", "."]),
        [
            "dotignored/c.reg",
            "ignored/c.reg",
            "pkg/capture.reg",
            "pkg/setup.ipf",
            "vendor/c.reg"
        ]
    );
    assert_eq!(
        reported_paths(root, &["--exclude", "vendor,setup.ipf", "."]),
        ["pkg/capture.reg"]
    );
    // The configuration's `exclude` replaces the default list; `extend-exclude` adds to it.
    write(
        &root.join("svcscrub.toml"),
        b"exclude = [\"pkg/setup.ipf\"]\n",
    );
    assert_eq!(
        reported_paths(root, &["."]),
        [
            "build/c.reg",
            "node_modules/x/c.reg",
            "pkg/capture.reg",
            "vendor/c.reg"
        ]
    );
    write(
        &root.join("svcscrub.toml"),
        b"extend-exclude = [\"vendor\"]\nrespect-gitignore = false\n",
    );
    assert_eq!(
        reported_paths(root, &["."]),
        [
            "dotignored/c.reg",
            "ignored/c.reg",
            "pkg/capture.reg",
            "pkg/setup.ipf"
        ]
    );
    // A file named explicitly is read, unless `--force-exclude`.
    assert_eq!(reported_paths(root, &["vendor/c.reg"]), ["vendor/c.reg"]);
    let (code, stdout, stderr) = run(root, &["check", "--force-exclude", "vendor/c.reg"]);
    assert_eq!((code, stdout.as_str()), (0, ""), "{stderr}");
    assert!(
        slash(&stderr).contains("warning: vendor/c.reg: no input files found"),
        "{stderr}"
    );
}

#[test]
fn an_empty_selection_warns_and_exits_0() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("empty")).unwrap();
    for command in [&["check"][..], &["fix"], &["fix", "--diff"]] {
        let mut args = command.to_vec();
        args.push("empty");
        let (code, stdout, stderr) = run(tmp.path(), &args);
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stderr.starts_with("warning: empty: no input files found (*.ipf, *.wse, *.reg"),
            "{stderr}"
        );
        assert!(!stdout.contains("All checks passed") && !stderr.contains("All checks passed"));
    }
}

#[cfg(unix)]
#[test]
fn a_refused_write_shows_no_diff_and_no_clean_summary() {
    let tmp = tempfile::tempdir().unwrap();
    norton(&tmp.path().join("pkg"));
    std::os::unix::fs::symlink("capture.reg", tmp.path().join("pkg/link.reg")).unwrap();
    let (code, stdout, stderr) = run(tmp.path(), &["fix", "pkg/link.reg"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("error: pkg/link.reg: "), "{stderr}");
    assert!(!stderr.contains("No findings"), "{stderr}");
    assert!(
        stderr.ends_with("1 file could not be processed.\n"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------- standard input

fn run_stdin(cwd: &Path, args: &[&str], stdin: &[u8]) -> (i32, Vec<u8>, String) {
    let output = svcscrub(cwd)
        .args(args)
        .write_stdin(stdin.to_vec())
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        output.stdout,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn fix_of_standard_input_prints_the_fixed_text() {
    let tmp = tempfile::tempdir().unwrap();
    norton(&tmp.path().join("pkg"));
    let original = std::fs::read(tmp.path().join("pkg/capture.reg")).unwrap();
    let named = ["--stdin-filename", "pkg/capture.reg"];
    let (code, fixed, stderr) =
        run_stdin(tmp.path(), &[&["fix", "-"][..], &named].concat(), &original);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("Fixed 52 findings in 1 file"), "{stderr}");
    // What `fix` writes for the file on disk, byte for byte (UTF-16 kept).
    let (code, _, stderr) = run(tmp.path(), &["fix", "pkg/capture.reg"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        fixed,
        std::fs::read(tmp.path().join("pkg/capture.reg")).unwrap()
    );
    assert_ne!(fixed, original);
    // Machine reports go to standard error then; standard output is the text alone.
    let args = [&["fix", "-", "--format", "json"][..], &named].concat();
    let (_, text, report) = run_stdin(tmp.path(), &args, &original);
    assert_eq!(text, fixed);
    assert!(serde_json::from_str::<Value>(&report).is_ok(), "{report}");
    // With `--diff`, the diff and nothing else.
    let args = [&["fix", "-", "--diff"][..], &named].concat();
    let (code, diff, _) = run_stdin(tmp.path(), &args, &original);
    assert_eq!(code, 1);
    assert!(String::from_utf8_lossy(&diff).starts_with("--- a/pkg/capture.reg\n"));
    // Nothing to fix: the text as it came.
    let clean = b"REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor]\r\n\"A\"=\"b\"\r\n";
    let (code, same, stderr) = run_stdin(tmp.path(), &["fix", "-"], clean);
    assert_eq!((code, same.as_slice()), (0, &clean[..]), "{stderr}");
}

#[test]
fn stdin_filename_finds_the_configuration_and_the_package() {
    let tmp = tempfile::tempdir().unwrap();
    norton(&tmp.path().join("pkg"));
    std::fs::create_dir_all(tmp.path().join("elsewhere")).unwrap();
    let capture = std::fs::read(tmp.path().join("pkg/capture.reg")).unwrap();
    let on_disk = run(
        tmp.path(),
        &["check", "--format", "json", "pkg/capture.reg"],
    )
    .1;
    let cwd = tmp.path().join("elsewhere");
    let args = [
        "check",
        "--format",
        "json",
        "-",
        "--stdin-filename",
        "../pkg/capture.reg",
    ];
    let (code, stdin, stderr) = run_stdin(&cwd, &args, &capture);
    assert_eq!(code, 1, "{stderr}");
    let findings = |json: &[u8]| -> Vec<(String, u64)> {
        let v: Value = serde_json::from_slice(json).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_string(),
                    f["line"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    // The package's script counts: the same findings as for the file on disk.
    assert_eq!(findings(&stdin), findings(on_disk.as_bytes()));
    assert_eq!(findings(&stdin).len(), 59);
    // The package's configuration applies.
    write(
        &tmp.path().join("pkg/svcscrub.toml"),
        b"ignore = [\"SVC0\"]\n",
    );
    let (code, stdin, stderr) = run_stdin(&cwd, &args, &capture);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(findings(&stdin), []);
}

// ---------------------------------------------------------------- ruff's conveniences

fn pkg() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    norton(&tmp.path().join("pkg"));
    tmp
}

#[test]
fn check_fix_and_check_diff_are_fix_and_fix_diff() {
    let tmp = pkg();
    let fix_diff = run(tmp.path(), &["fix", "--diff", "pkg"]);
    assert_eq!(run(tmp.path(), &["check", "--diff", "pkg"]), fix_diff);
    let (code, _, stderr) = run(tmp.path(), &["check", "--fix", "pkg"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("Fixed 99 findings in 2 files"), "{stderr}");
    assert_eq!(run(tmp.path(), &["fix", "--diff", "pkg"]).1, "");
}

#[test]
fn select_all_and_extensions_of_the_selection() {
    let tmp = pkg();
    let count = |args: &[&str]| {
        let mut all = vec!["check", "--format", "json"];
        all.extend(args);
        all.push("pkg");
        let findings: Value = serde_json::from_str(&run(tmp.path(), &all).1).unwrap();
        findings.as_array().unwrap().len()
    };
    let every = count(&[]);
    assert_eq!(every, 115);
    assert_eq!(count(&["--select", "ALL"]), every);
    assert_eq!(count(&["--select", "all", "--ignore", "SVC0"]), 0);
    write(
        &tmp.path().join("svcscrub.toml"),
        b"select = [\"SVC001\"]\n",
    );
    assert_eq!(count(&[]), 9);
    assert_eq!(count(&["--extend-select", "SVC002"]), 9 + 18);
    assert_eq!(count(&["--extend-ignore", "SVC001"]), 0);
}

#[test]
fn statistics_count_findings_per_rule() {
    let tmp = pkg();
    let (code, stdout, _) = run(tmp.path(), &["check", "--statistics", "pkg"]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "38\tSVC003\t[*] legacy-enum-key");
    assert_eq!(lines[1], "38\tSVC010\t[-] redundant-service-value");
    assert_eq!(lines[6], " 1\tSVC030\t[ ] service-without-create");
    assert!(lines[7].starts_with("Found 115 findings"));
    let json = run(
        tmp.path(),
        &["check", "--statistics", "--format", "json", "pkg"],
    )
    .1;
    let rows: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(rows[0]["code"], "SVC003");
    assert_eq!(rows[0]["count"], 38);
}

#[test]
fn show_fixes_lists_what_was_fixed_per_file() {
    let tmp = pkg();
    let (_, _, stderr) = run(tmp.path(), &["fix", "--show-fixes", "pkg"]);
    let stderr = slash(&stderr);
    let listing = &stderr[stderr.find("Fixed 99 findings:").expect(&stderr)..];
    assert!(listing.contains("- pkg/capture.reg:\n"), "{listing}");
    assert!(
        listing.contains("    12 × SVC002 (service-enum-key)\n"),
        "{listing}"
    );
    assert!(listing.contains("- pkg/setup.ipf:\n"), "{listing}");
    assert!(
        listing.contains("    16 × SVC010 (redundant-service-value)\n"),
        "{listing}"
    );
}

#[test]
fn output_file_takes_the_report() {
    let tmp = pkg();
    let (code, stdout, _) = run(
        tmp.path(),
        &[
            "check",
            "--format",
            "sarif",
            "--output-file",
            "out.sarif",
            "pkg",
        ],
    );
    assert_eq!((code, stdout.as_str()), (1, ""));
    let log: Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("out.sarif")).unwrap()).unwrap();
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 115);
    // `fix`: the diff stays on standard output, the report goes to the file.
    let (_, stdout, stderr) = run(
        tmp.path(),
        &[
            "fix",
            "--diff",
            "--format",
            "concise",
            "--output-file",
            "report.txt",
            "pkg",
        ],
    );
    assert!(stdout.starts_with("--- a/pkg/"), "{stdout}");
    assert!(!stderr.contains("SVC0"), "{stderr}");
    let report = slash(&std::fs::read_to_string(tmp.path().join("report.txt")).unwrap());
    assert!(report.contains("pkg/setup.ipf:701:5: SVC030"), "{report}");
    assert!(
        report.ends_with("would remain (15 fixable with `--unsafe-fixes`).\n"),
        "{report}"
    );
}

#[test]
fn show_files_and_show_settings() {
    let tmp = pkg();
    write(
        &tmp.path().join("svcscrub.toml"),
        b"ignore = [\"SVC0\"]\nper-file-ignores = { \"*.ipf\" = [\"SVC9\"] }\n",
    );
    let (code, stdout, _) = run(tmp.path(), &["check", "--show-files", "pkg"]);
    let stdout = slash(&stdout);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "pkg/capture.reg\npkg/setup.ipf\n")
    );
    let (code, stdout, _) = run(tmp.path(), &["check", "--show-settings", "pkg/setup.ipf"]);
    let stdout = slash(&stdout);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("Settings for pkg/setup.ipf:\n"),
        "{stdout}"
    );
    assert!(stdout.contains("svcscrub.toml\n"), "{stdout}");
    assert!(stdout.contains("  rules: SVC900\n"), "{stdout}");
    assert!(
        stdout.contains("  per-file-ignores: pkg/setup.ipf: SVC9\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  package context: [pkg/capture.reg]\n"),
        "{stdout}"
    );
}

#[test]
fn per_file_ignores_skip_rules_in_matching_files() {
    let tmp = pkg();
    write(
        &tmp.path().join("svcscrub.toml"),
        b"per-file-ignores = { \"*.reg\" = [\"SVC0\"], \"pkg/setup.ipf\" = [\"SVC010\"] }\n",
    );
    let (_, stdout, _) = run(tmp.path(), &["check", "--format", "concise", "pkg"]);
    assert!(!stdout.contains("capture.reg"), "{stdout}");
    assert!(
        slash(&stdout).contains("pkg/setup.ipf") && !stdout.contains("SVC010"),
        "{stdout}"
    );
    // Nor are their fixes applied.
    let (_, diff, _) = run(tmp.path(), &["fix", "--diff", "pkg"]);
    assert!(!diff.contains("capture.reg"), "{diff}");
}

#[test]
fn suppress_adds_a_directive_for_every_finding() {
    let tmp = pkg();
    copy_dir(
        &common::manifest_dir().join("examples/sms-remote-control"),
        &tmp.path().join("sms"),
    );
    let (code, _, stderr) = run(tmp.path(), &["suppress", "pkg", "sms"]);
    assert_eq!(code, 0, "{stderr}");
    // sms/setup.ipf has no finding of its own.
    assert!(
        stderr.contains("Added 153 suppression directives in 3 files."),
        "{stderr}"
    );
    let (code, stdout, _) = run(tmp.path(), &["check", "pkg", "sms"]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "All checks passed (4 files).\n")
    );
    // The files still parse as they were, with the directives added (UTF-16 kept).
    let reg = std::fs::read(tmp.path().join("pkg/capture.reg")).unwrap();
    assert!(reg.starts_with(&[0xFF, 0xFE]));
    let script = std::fs::read(tmp.path().join("pkg/setup.ipf")).unwrap();
    // In the script's own line endings (CRLF).
    let remark = b"item: Remark\r\n  Text=svcscrub: ignore SVC010\r\nend\r\n";
    assert!(script.windows(remark.len()).any(|w| w == remark));
    // A finding captured later still fails the gate.
    let mut more = std::fs::read(tmp.path().join("sms/capture.reg")).unwrap();
    more.extend_from_slice(
        b"\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\New\\Security]\r\n\"Security\"=hex:01,00\r\n",
    );
    std::fs::write(tmp.path().join("sms/capture.reg"), more).unwrap();
    let (code, stdout, _) = run(tmp.path(), &["check", "--format", "concise", "pkg", "sms"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("SVC001"), "{stdout}");
}

#[test]
fn explain_all_by_name_and_completion_of_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, by_name, _) = run(tmp.path(), &["explain", "service-enum-key"]);
    assert_eq!(code, 0);
    assert_eq!(by_name, run(tmp.path(), &["explain", "SVC002"]).1);
    let (code, all, _) = run(tmp.path(), &["explain", "--all"]);
    assert_eq!(code, 0);
    assert_eq!(
        all.matches("\n# SVC").count() + usize::from(all.starts_with("# SVC")),
        11
    );
    let (_, bash, _) = run(tmp.path(), &["completions", "bash"]);
    assert!(
        bash.contains("SVC001") && bash.contains("SVC900"),
        "no rule codes"
    );
}

#[test]
fn concise_is_coloured_by_the_usual_conventions() {
    let tmp = pkg();
    let concise = |vars: &[(&str, &str)]| {
        let mut cmd = svcscrub(tmp.path());
        cmd.args(["check", "--format", "concise", "pkg"]);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        String::from_utf8(cmd.output().unwrap().stdout).unwrap()
    };
    let forced = concise(&[("CLICOLOR_FORCE", "1")]);
    assert!(forced.contains("\x1b[1;31mSVC001\x1b[0m"), "{forced}");
    // An empty NO_COLOR does not count (no-color.org); a non-empty one wins.
    assert!(concise(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "")]).contains('\x1b'));
    assert!(!concise(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\x1b'));
    assert!(!concise(&[]).contains('\x1b'));
}

/// On a terminal (a pseudo-terminal made by util-linux's `script`), `--color auto` colours
/// unless `TERM` is `dumb` or `NO_COLOR` is set and not empty.
#[cfg(unix)]
#[test]
fn a_terminal_is_coloured_unless_term_is_dumb_or_no_color_is_set() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "util-linux `script` is missing under CI=true"
        );
        eprintln!("skipped: util-linux `script` (a pseudo-terminal) is not installed");
        return;
    }
    let tmp = pkg();
    let bin = assert_cmd::cargo::cargo_bin!("svcscrub");
    let on_terminal = |vars: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new("script");
        cmd.current_dir(tmp.path())
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("CLICOLOR")
            .env_remove("CI")
            .args(["-qec"])
            .arg(format!("'{}' check --format concise pkg", bin.display()))
            .arg("/dev/null");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        String::from_utf8_lossy(&cmd.output().unwrap().stdout).into_owned()
    };
    let xterm = ("TERM", "xterm-256color");
    let coloured = on_terminal(&[xterm]);
    assert!(coloured.contains("\x1b[1;31mSVC001\x1b[0m"), "{coloured}");
    assert!(!on_terminal(&[("TERM", "dumb")]).contains('\x1b'));
    assert!(!on_terminal(&[xterm, ("NO_COLOR", "1")]).contains('\x1b'));
    assert!(on_terminal(&[xterm, ("NO_COLOR", "")]).contains('\x1b'));
    assert!(!on_terminal(&[xterm, ("CLICOLOR", "0")]).contains('\x1b'));
    assert!(!on_terminal(&[xterm, ("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]).contains('\x1b'));
}

#[test]
fn an_unknown_code_in_the_configuration_has_its_line_and_column() {
    let tmp = pkg();
    write(
        &tmp.path().join("svcscrub.toml"),
        b"# codes\nignore = [\n  \"SVC001\",\n  \"SVC999\",\n]\n",
    );
    let (code, _, stderr) = run(tmp.path(), &["check", "pkg"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("svcscrub.toml:4:3: `ignore`: unknown rule code or prefix \"SVC999\""),
        "{stderr}"
    );
}

#[test]
fn directives_without_a_code_or_with_an_unknown_one_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        &tmp.path().join("a.reg"),
        b"REGEDIT4\r\n\r\n; svcscrub: ignore this key\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\A]\r\n; svcscrub: ignore XYZ123\r\n\"v\"=\"1\"\r\n",
    );
    let (code, stdout, _) = run(tmp.path(), &["check", "--format", "concise", "a.reg"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("a.reg:3:3: SVC900 suppression names no rule code"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("a.reg:5:20: SVC900 unknown rule code in suppression: XYZ123 names no rule"),
        "{stdout}"
    );
}

#[test]
fn registry_takes_the_shared_output_file_and_show_files() {
    let tmp = pkg();
    let (code, stdout, stderr) = run(
        tmp.path(),
        &["registry", "--output-file", "state.reg", "pkg"],
    );
    assert_eq!((code, stdout.as_str()), (0, ""), "{stderr}");
    let export = std::fs::read_to_string(tmp.path().join("state.reg")).unwrap();
    assert!(
        export.starts_with("Windows Registry Editor Version 5.00\n"),
        "{export}"
    );
    let (code, stdout, _) = run(tmp.path(), &["registry", "--show-files", "pkg"]);
    assert_eq!(
        (code, slash(&stdout).as_str()),
        (0, "pkg/capture.reg\npkg/setup.ipf\n")
    );
}

#[test]
fn utf16_data_in_an_8_bit_file_is_shown_as_windows_reads_it_without_control_bytes() {
    // A regedit 5 export re-saved as 8-bit: `hex(2)`/`hex(7)` data still UTF-16. Windows
    // installs `ImagePath` as "s"; no report carries a NUL or another control byte.
    let root = common::manifest_dir();
    let fixture = "tests/fixtures/rules/svc041";
    for format in FORMATS {
        let output = svcscrub(&root)
            .args(["check", "--format", format, fixture])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{format}");
        for stream in [&output.stdout, &output.stderr] {
            let bad: Vec<u8> = stream
                .iter()
                .copied()
                .filter(|&b| (b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t')) || b == 0x7F)
                .collect();
            assert!(bad.is_empty(), "{format}: control bytes {bad:?}");
        }
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(report.contains("SVC041"), "{format}: {report}");
    }
    let (_, full, _) = run(&root, &["check", "--format", "full", fixture]);
    assert!(
        full.contains(r#"Windows installs "s", not "system32\DRIVERS\wspfltr.sys""#),
        "{full}"
    );
    assert!(
        full.contains(r#"Windows installs ["T", "c", "p", "i", "p"], not ["Tcpip", "NetBT"]"#),
        "{full}"
    );
    assert!(full.contains("Executable Path=s\n"), "{full}");
}
