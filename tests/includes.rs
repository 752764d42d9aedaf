//! `Include Script`: included scripts count for the package (Create Service items, variables);
//! missing includes and cycles give one warning each and do not change the exit status.

mod common;

use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;

const HEADER: &str =
    "Document Type: WSE\r\nitem: Global\r\n  Version=9.0\r\n  Title=Fixture\r\nend\r\n";

fn script(items: &str) -> String {
    format!("{HEADER}{}", items.replace('\n', "\r\n"))
}

fn include(pathname: &str) -> String {
    format!("item: Include Script\n  Pathname={pathname}\nend\n")
}

/// The captured `Type`/`Start`/`ImagePath` of service `FabDrv`.
const RAW_WRITES: &str = r"item: Edit Registry
  Total Keys=3
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\FabDrv
    New Value=1
    Value Name=Type
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\FabDrv
    New Value=3
    Value Name=Start
    Root=2
    Data Type=3
  end
  item: Key
    Key=SYSTEM\CurrentControlSet\Services\FabDrv
    New Value=\SystemRoot\System32\drivers\fabdrv.sys
    Value Name=ImagePath
    Root=2
    Data Type=1
  end
end
";

const CREATE: &str = r"item: Create Service
  Service Name=FabDrv
  Executable Path=%SYS32%\Drivers\fabdrv.sys
  Service Type=1
  Boot Type=3
end
";

fn write(root: &Path, path: &str, text: &str) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, text).unwrap();
}

fn svcscrub(root: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    let mut cmd = cargo_bin_cmd!("svcscrub");
    cmd.current_dir(root)
        .args(args)
        .env_remove("NO_COLOR")
        .arg("--color=never");
    cmd.assert()
}

fn stderr_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

fn stdout_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

#[test]
fn a_create_service_in_an_include_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    // Windows separators and another case than on disk.
    write(
        root,
        "pkg/setup.wse",
        &script(&format!("{}{RAW_WRITES}", include(r"Drivers\FABDRV.wse"))),
    );
    write(root, "pkg/drivers/fabdrv.wse", &script(CREATE));
    let assert = svcscrub(root, &["check", "--format", "concise", "pkg/setup.wse"]).code(1);
    let out = stdout_of(&assert);
    assert!(out.contains("SVC010"), "{out}");
    assert!(!out.contains("SVC030"), "{out}");
    // Named as found on disk; Windows finds `Drivers\\FABDRV.wse` as the script writes it (its
    // file system ignores case), other systems by the name's case-insensitive match.
    let found = if cfg!(windows) {
        "pkg\\Drivers\\FABDRV.wse:"
    } else {
        "pkg/drivers/fabdrv.wse:"
    };
    assert!(out.contains(found), "{out}");
    assert_eq!(stderr_of(&assert), "");
    // The included script is context, not reported: only setup.wse has findings.
    assert!(
        out.lines()
            .filter(|l| l.contains(": SVC"))
            .all(|l| l.starts_with(&common::native("pkg/setup.wse:"))),
        "{out}"
    );
    // The same when the directory is checked.
    let assert = svcscrub(root, &["check", "--format", "concise", "pkg"]).code(1);
    assert!(!stdout_of(&assert).contains("SVC030"));
}

#[test]
fn a_missing_include_is_reported_once_and_does_not_fail_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(
        root,
        "pkg/setup.wse",
        &script(&format!("{}{RAW_WRITES}", include(r"drivers\gone.wse"))),
    );
    for args in [
        &["check", "--format", "concise", "pkg"][..],
        &["check", "--format", "json", "pkg/setup.wse"][..],
        &["fix", "--diff", "pkg"][..],
    ] {
        let assert = svcscrub(root, args).code(1);
        let err = stderr_of(&assert);
        let warning = format!(
            "warning: {}:6:1: Include Script `drivers\\gone.wse` not found; its Create Service items and variables are not counted\n",
            common::native("pkg/setup.wse")
        );
        assert_eq!(err.matches(&warning).count(), 1, "{args:?}: {err}");
    }
    // The service stays uncreated: SVC030.
    let assert = svcscrub(root, &["check", "--format", "concise", "pkg"]).code(1);
    assert!(stdout_of(&assert).contains("SVC030"));
    // Without findings the run is clean, warning or not.
    write(root, "clean/setup.wse", &script(&include("gone.wse")));
    svcscrub(root, &["check", "clean"])
        .code(0)
        .stderr(predicate::str::contains(
            "Include Script `gone.wse` not found",
        ));
}

#[test]
fn cycles_are_reported_once_and_followed_no_further() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(
        root,
        "pkg/setup.wse",
        &script(&format!("{}{RAW_WRITES}", include(r"inc\a.wse"))),
    );
    write(
        root,
        "pkg/inc/a.wse",
        &script(&format!("{}{CREATE}", include("b.wse"))),
    );
    write(root, "pkg/inc/b.wse", &script(&include("a.wse")));
    write(root, "pkg/inc/self.wse", &script(&include("SELF.WSE")));
    let assert = svcscrub(root, &["check", "--format", "concise", "pkg/setup.wse"]).code(1);
    let err = stderr_of(&assert);
    assert_eq!(
        err,
        format!(
            "warning: {}:6:1: Include Script `a.wse` leads back to `{}`, which is already being included (a cycle); not followed again\n",
            common::native("pkg/inc/b.wse"),
            common::native("pkg/inc/a.wse")
        )
    );
    // The Create Service item of the first include counts.
    assert!(!stdout_of(&assert).contains("SVC030"));
    // Checking the include directory itself: each cycle once.
    let assert = svcscrub(root, &["check", "pkg/inc"]).code(0);
    let err = stderr_of(&assert);
    assert_eq!(err.matches("a cycle").count(), 2, "{err}");
    assert!(
        err.contains(&format!(
            "{}:6:1: Include Script `SELF.WSE` leads back to `{}`",
            common::native("pkg/inc/self.wse"),
            common::native("pkg/inc/self.wse")
        )),
        "{err}"
    );
}

#[test]
fn variables_defined_only_in_an_include_count() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let uses = r"item: Edit Registry
  Total Keys=1
  Key=SOFTWARE\Fabrikam
  New Value=%APPVER%
  Value Name=Version
  Root=2
end
";
    write(
        root,
        "pkg/setup.wse",
        &script(&format!("{}{uses}", include(r"common\vars.wse"))),
    );
    write(
        root,
        "pkg/common/vars.wse",
        &script("item: Set Variable\n  Variable=APPVER\n  Value=2.1\nend\n"),
    );
    svcscrub(root, &["check", "pkg/setup.wse"])
        .code(0)
        .stderr("");

    // The include is missing: the reference is reported, but its fix is unsafe (the variable
    // may be defined there).
    std::fs::remove_file(root.join("pkg/common/vars.wse")).unwrap();
    let assert = svcscrub(root, &["check", "--format", "concise", "pkg/setup.wse"]).code(1);
    let out = stdout_of(&assert);
    assert!(
        out.contains("SVC040 `%APPVER%` is no variable of the script or the installer: the installer writes an empty string in its place, unless `common\\vars.wse` (included, but not read) defines it"),
        "{out}"
    );
    assert!(
        !out.contains("[*]"),
        "an unsafe fix is not marked fixable: {out}"
    );

    // An include through a variable is the installer's own and is not followed, silently.
    write(
        root,
        "std/setup.wse",
        &script(&format!(
            "{}{uses}",
            include(r"%_WISE_%\INCLUDE\rollback.wse")
        )),
    );
    let assert = svcscrub(root, &["check", "--format", "concise", "std"]).code(1);
    assert_eq!(
        stderr_of(&assert)
            .lines()
            .filter(|l| l.starts_with("warning"))
            .count(),
        0
    );
    let out = stdout_of(&assert);
    assert!(out.contains("SVC040"), "{out}");
    assert!(!out.contains("unless"), "{out}");
    // Escaping changes what is installed (the text instead of nothing): unsafe either way.
    assert!(
        out.contains("1 fixable with `svcscrub fix --unsafe-fixes`"),
        "{out}"
    );
}
