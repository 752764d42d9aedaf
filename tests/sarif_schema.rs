//! Every SARIF log the command writes validates against the official SARIF 2.1.0 schema
//! (`../shared/schemas/sarif-schema-2.1.0.json`, the schema GitHub code scanning checks uploads
//! against): over the bundled examples, the shared corpus and generated cases (unreadable and
//! unparsable inputs, include warnings, UTF-16 exports, odd file names, standard input, an
//! empty selection), for `check`, `fix --diff` (with and without unsafe fixes) and `fix`.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

/// The schema's validator and what it has seen.
struct Validation {
    validator: jsonschema::Validator,
    logs: usize,
    results: usize,
    fixes: usize,
    notifications: usize,
    problems: Vec<String>,
}

impl Validation {
    fn new(schema: &Path) -> Self {
        let schema: Value = serde_json::from_slice(&std::fs::read(schema).unwrap()).unwrap();
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the SARIF schema compiles");
        Self {
            validator,
            logs: 0,
            results: 0,
            fixes: 0,
            notifications: 0,
            problems: Vec::new(),
        }
    }

    /// Runs svcscrub with `args` in `cwd` (and `stdin`), validates its standard output as a
    /// SARIF log, and returns the log.
    fn run(&mut self, label: &str, cwd: &Path, args: &[&str], stdin: Option<&[u8]>) -> Value {
        let mut cmd = cargo_bin_cmd!("svcscrub");
        cmd.current_dir(cwd).args(args).env_remove("NO_COLOR");
        if let Some(stdin) = stdin {
            cmd.write_stdin(stdin.to_vec());
        }
        let output = cmd.output().unwrap();
        let log: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "{label}: stdout is not JSON ({e}); stderr:\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        self.logs += 1;
        for error in self.validator.iter_errors(&log) {
            self.problems
                .push(format!("{label}: {} at {}", error, error.instance_path()));
        }
        let run = &log["runs"][0];
        let results = run["results"].as_array().map_or(&[][..], Vec::as_slice);
        self.results += results.len();
        self.fixes += results
            .iter()
            .filter_map(|r| r["fixes"].as_array())
            .map(Vec::len)
            .sum::<usize>();
        self.notifications += run["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .map_or(0, Vec::len);
        log
    }
}

fn sarif(command: &[&str], path: &str) -> Vec<String> {
    let mut args: Vec<String> = command.iter().map(|s| s.to_string()).collect();
    args.extend(["--format".into(), "sarif".into(), path.into()]);
    args
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

const COMMANDS: [&[&str]; 3] = [
    &["check"],
    &["fix", "--diff"],
    &["fix", "--diff", "--unsafe-fixes"],
];

/// A copy of the directory tree `from` under a new temporary directory.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn example_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(common::manifest_dir().join("examples"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !common::files_under(p, true).is_empty())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_sarif_log_validates_against_the_official_schema() {
    let Some(schema) = common::sarif_schema() else {
        return;
    };
    let mut validation = Validation::new(&schema);
    let root = common::manifest_dir();

    // The examples, read in place and fixed in a copy.
    let examples = example_dirs();
    assert!(examples.len() >= 4, "{examples:?}");
    for dir in &examples {
        let rel = dir
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for command in COMMANDS {
            let args = sarif(command, &rel);
            validation.run(&rel, &root, &strs(&args), None);
        }
        let tmp = tempfile::tempdir().unwrap();
        copy_tree(dir, &tmp.path().join("pkg"));
        for command in [&["fix"][..], &["fix", "--unsafe-fixes"]] {
            let args = sarif(command, "pkg");
            validation.run(&format!("{rel} (fix)"), tmp.path(), &strs(&args), None);
        }
    }

    // The corpus: every directory of it, and every input file named on its own.
    if let Some(corpus) = common::corpus() {
        for (i, file) in common::files_under(&corpus, true).iter().enumerate() {
            let path = file.to_string_lossy().into_owned();
            let args = sarif(COMMANDS[i % COMMANDS.len()], &path);
            validation.run(&path, &root, &strs(&args), None);
        }
        for sub in ["reg", "wise", "wix"] {
            let dir = corpus.join(sub).to_string_lossy().into_owned();
            for command in COMMANDS {
                let args = sarif(command, &dir);
                validation.run(&dir, &root, &strs(&args), None);
            }
        }
    }

    // Generated cases: what goes wrong, and inputs with unusual names and encodings.
    let tmp = tempfile::tempdir().unwrap();
    let gen_dir = tmp.path();
    std::fs::create_dir_all(gen_dir.join("odd names")).unwrap();
    std::fs::create_dir_all(gen_dir.join("empty")).unwrap();
    std::fs::write(
        gen_dir.join("odd names/100% #1.reg"),
        b"REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Foo\\Security]\r\n\"Security\"=hex:01,00\r\n",
    )
    .unwrap();
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(
        "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Düse\\Enum]\r\n\"0\"=\"Root\\\\LEGACY_DÜSE\\\\0000\"\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    std::fs::write(gen_dir.join("odd names/utf16.reg"), &utf16).unwrap();
    std::fs::write(
        gen_dir.join("broken.wse"),
        b"Document Type: WSE\nitem: Edit Registry\n  Key=SYSTEM\\CurrentControlSet\\Services\\A\n",
    )
    .unwrap();
    std::fs::write(
        gen_dir.join("includes.wse"),
        b"Document Type: WSE\nitem: Include Script\n  Pathname=drivers\\gone.wse\nend\n",
    )
    .unwrap();
    let cases: [(&str, &[&str]); 6] = [
        ("a missing file", &["check", "missing.reg", "odd names"]),
        ("a parse error", &["check", "broken.wse", "odd names"]),
        ("an include warning", &["check", "includes.wse"]),
        ("an empty selection", &["check", "empty"]),
        (
            "fix, a missing file",
            &["fix", "--diff", "missing.reg", "odd names"],
        ),
        (
            "standard input",
            &["check", "-", "--stdin-filename", "in.reg"],
        ),
    ];
    for (label, args) in cases {
        let mut args = args.to_vec();
        args.extend(["--format", "sarif"]);
        let stdin = args.contains(&"-").then_some(&utf16[..]);
        let log = validation.run(label, gen_dir, &args, stdin);
        let invocation = &log["runs"][0]["invocations"][0];
        let failed = label.contains("missing") || label.contains("parse error");
        assert_eq!(
            invocation["executionSuccessful"],
            Value::Bool(!failed),
            "{label}: {invocation:#}"
        );
        assert!(
            invocation["workingDirectory"]["uri"]
                .as_str()
                .is_some_and(|uri| uri.starts_with("file:///") && uri.ends_with('/')),
            "{label}: {invocation:#}"
        );
    }

    assert!(
        validation.problems.is_empty(),
        "{} schema violations:\n{}",
        validation.problems.len(),
        validation.problems.join("\n")
    );
    eprintln!(
        "validated {} SARIF logs: {} results, {} fixes, {} notifications",
        validation.logs, validation.results, validation.fixes, validation.notifications
    );
    assert!(validation.results > 100 && validation.fixes > 50);
    assert!(validation.notifications >= 4);
}

#[test]
fn unreadable_inputs_and_include_warnings_are_notifications_with_locations() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("broken.wse"),
        b"Document Type: WSE\nitem: Edit Registry\n  Key=SYSTEM\\CurrentControlSet\\Services\\A\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("includes.wse"),
        b"Document Type: WSE\nitem: Remark\nend\nitem: Include Script\n  Pathname=drivers\\gone.wse\nend\n",
    )
    .unwrap();
    let output = cargo_bin_cmd!("svcscrub")
        .current_dir(tmp.path())
        .args([
            "check",
            "--format",
            "sarif",
            "missing.reg",
            "broken.wse",
            "includes.wse",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let log: Value = serde_json::from_slice(&output.stdout).unwrap();
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], Value::Bool(false));
    assert_eq!(invocation["exitCode"], 2);
    let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
    let summary: Vec<(String, String, Value, Value)> = notes
        .iter()
        .map(|n| {
            let location = &n["locations"][0]["physicalLocation"];
            (
                n["level"].as_str().unwrap().to_string(),
                location["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                location["region"]["startLine"].clone(),
                location["region"]["startColumn"].clone(),
            )
        })
        .collect();
    let at = |level: &str, uri: &str, line: Value, column: Value| {
        (level.to_string(), uri.to_string(), line, column)
    };
    assert_eq!(
        summary,
        [
            at("error", "missing.reg", Value::Null, Value::Null),
            at("warning", "includes.wse", 4.into(), 1.into()),
            at("error", "broken.wse", 4.into(), 1.into()),
        ],
        "{notes:#?}"
    );
    assert!(
        notes[1]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("Include Script `drivers\\gone.wse` not found"),
        "{notes:#?}"
    );
}
