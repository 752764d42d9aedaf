//! One package per rule under `tests/fixtures/rules/`: the diagnostics, the safe fix's diff and
//! the unsafe fix's diff of each, as reviewed snapshots; and the traps, which must stay silent.

mod common;

use std::fmt::Write as _;
use std::path::Path;

use svcscrub::diagnostic::Diagnostic;
use svcscrub::fix::Applicability;
use svcscrub::pipeline::{self, Loaded};
use svcscrub::render::diff::{write_fixed_source_diff, write_source_diff};

fn package(name: &str) -> Vec<Loaded> {
    let dir = common::manifest_dir()
        .join("tests/fixtures/rules")
        .join(name);
    common::files_under(&dir, true)
        .iter()
        .map(|p| common::load(p).expect("fixture loads"))
        .collect()
}

fn describe(out: &mut String, file: &Loaded, diagnostics: &[Diagnostic]) {
    let lines = file.source.line_index();
    for d in diagnostics {
        let at = lines.line_col(file.source.text(), d.range.start);
        let fix = d.fix.as_ref().map_or("no fix".to_string(), |f| {
            format!("{} fix: {}", f.applicability.as_str(), f.title)
        });
        writeln!(
            out,
            "{}:{at}: {} {}\n    ({fix})",
            file.source.path, d.code, d.message
        )
        .unwrap();
    }
}

fn diffs(out: &mut String, files: &[Loaded], unsafe_fixes: bool) {
    let fixed = pipeline::fix_package(files.to_vec(), &[], &common::options(unsafe_fixes));
    for (file, result) in files.iter().zip(fixed) {
        let fixed = result.expect("fix succeeds");
        let mut diff = Vec::new();
        write_source_diff(
            &mut diff,
            &file.source.path,
            &file.source,
            fixed.file.source.text(),
            &fixed.spans,
            false,
        )
        .unwrap();
        // The command's diff, from the fixed file and the original bytes of what changed.
        let mut from_fixed = Vec::new();
        write_fixed_source_diff(
            &mut from_fixed,
            &fixed.file.source.path,
            &fixed.file.source,
            &fixed.spans,
            &fixed.old_bytes,
            false,
        )
        .unwrap();
        assert_eq!(from_fixed, diff, "{}", file.source.path);
        out.push_str(&String::from_utf8_lossy(&diff));
    }
}

/// Diagnostics, then the diff of `fix`, then the diff of `fix --unsafe-fixes`.
fn report(name: &str) -> String {
    let files = package(name);
    let diagnostics = pipeline::check_package(&files, &[], &common::options(false));
    let mut out = String::from("## diagnostics\n");
    for (file, d) in files.iter().zip(&diagnostics) {
        describe(&mut out, file, d);
    }
    out.push_str("## fix\n");
    diffs(&mut out, &files, false);
    out.push_str("## fix --unsafe-fixes\n");
    diffs(&mut out, &files, true);
    out
}

fn codes(name: &str) -> Vec<&'static str> {
    let files = package(name);
    pipeline::check_package(&files, &[], &common::options(false))
        .into_iter()
        .flatten()
        .map(|d| d.code)
        .collect()
}

macro_rules! fixture {
    ($test:ident, $dir:literal) => {
        #[test]
        fn $test() {
            insta::assert_snapshot!(report($dir));
        }
    };
}

fixture!(svc001_service_security_descriptor, "svc001");
fixture!(svc002_service_enum_key, "svc002");
fixture!(svc003_legacy_enum_key, "svc003");
fixture!(svc004_device_instance_key, "svc004");
fixture!(svc005_service_delete_flag, "svc005");
fixture!(svc010_redundant_service_value, "svc010");
fixture!(svc020_control_set_copy, "svc020");
fixture!(svc020_conflict, "svc020_conflict");
fixture!(svc030_wise9_win32_service, "svc030_wise9_win32");
fixture!(svc030_kernel_and_file_system_drivers, "svc030_driver");
fixture!(svc030_service_account, "svc030_account");
fixture!(svc030_sms_installer_20, "svc030_sms20");
fixture!(svc030_reg_display_only, "svc030_reg");
fixture!(svc040_unescaped_percent, "svc040");
fixture!(svc040_unread_include, "svc040_unread_include");
fixture!(svc041_wide_text_in_8_bit_file, "svc041");
fixture!(deletions_only, "deletions_only");
fixture!(set_variable_service_name, "set_variable_name");
fixture!(unresolved_service_name, "unresolved_service_name");
fixture!(unicode_service_name, "unicode_service_name");

/// The diagnostics of `name` and whether `fix` (safe fixes, or unsafe too) leaves any.
fn remaining_after_fix(name: &str, unsafe_fixes: bool) -> Vec<&'static str> {
    pipeline::fix_package(package(name), &[], &common::options(unsafe_fixes))
        .into_iter()
        .flat_map(|r| r.expect("fix succeeds").remaining)
        .map(|d| d.code)
        .collect()
}

#[test]
fn a_key_block_of_deletions_is_no_finding() {
    // `[…\sppsvc\Security]` with `"Security"=-`, an `Enum` block with `"NextInstance"=-`:
    // the key lines only open the keys for the deletions; nothing is captured state, and the
    // gate goes green.
    assert_eq!(codes("deletions_only"), Vec::<&str>::new());
    assert_eq!(
        remaining_after_fix("deletions_only", false),
        Vec::<&str>::new()
    );
}

#[test]
fn a_service_named_through_a_constant_variable_is_its_item_s() {
    // `Set Variable SVCNAME=WspEventRouter`, `Service Name=%SVCNAME%`: the item creates
    // `WspEventRouter`, so its raw writes are SVC010's, never SVC030's.
    assert_eq!(codes("set_variable_name"), ["SVC010", "SVC010"]);
}

#[test]
fn an_unresolved_service_name_may_be_any_service() {
    // `SVCNAME` comes from the registry at install time: the item may create any service, so
    // nothing is reported as installed by raw writes alone, and no fix inserts a second item.
    assert_eq!(codes("unresolved_service_name"), Vec::<&str>::new());
    let fixed = pipeline::fix_package(
        package("unresolved_service_name"),
        &[],
        &common::options(true),
    );
    for result in fixed {
        assert!(result.expect("fix succeeds").spans.is_empty());
    }
}

#[test]
fn service_names_compare_as_the_registry_compares_them() {
    // `Service Name=ÜberwachungsDienst` (Windows-1252 bytes) creates the key
    // `Services\überwachungsdienst`: upper case in Unicode, not in ASCII.
    assert_eq!(
        codes("unicode_service_name"),
        ["SVC010", "SVC010", "SVC010"]
    );
}

#[test]
fn a_copy_of_what_the_current_set_writes_is_removed_never_moved_over_it() {
    // `iaStor` has `Start=0` (boot) in `CurrentControlSet` and `Start=4` (disabled) in a
    // `ControlSet002` copy: rewritten to `CurrentControlSet`, the copy's `Start=4` would win on
    // import and the machine might not boot. The copy is removed (safe); the `Parameters` key
    // that the current set does not write is rewritten, which installs it: unsafe.
    let files = package("svc020_conflict");
    let diagnostics = pipeline::check_package(&files, &[], &common::options(false));
    let fixes: Vec<(String, Applicability)> = diagnostics
        .iter()
        .flatten()
        .filter(|d| d.code == "SVC020")
        .map(|d| {
            let fix = d.fix.as_ref().expect("SVC020 has a fix");
            (fix.title.to_string(), fix.applicability)
        })
        .collect();
    assert_eq!(fixes.len(), 2, "{fixes:?}");
    assert!(fixes[0].0.starts_with("remove the copy"), "{fixes:?}");
    assert_eq!(fixes[0].1, Applicability::Safe);
    assert!(
        fixes[1].0.starts_with("rewrite `ControlSet002`"),
        "{fixes:?}"
    );
    assert!(
        fixes[1].0.contains("it changes what is installed"),
        "{fixes:?}"
    );
    assert_eq!(fixes[1].1, Applicability::Unsafe);

    for unsafe_fixes in [false, true] {
        let fixed = pipeline::fix_package(files.clone(), &[], &common::options(unsafe_fixes));
        let fixed = fixed.into_iter().next().unwrap().expect("fix succeeds");
        let text = String::from_utf8(fixed.file.source.text().to_vec()).unwrap();
        assert!(!text.contains(r"ControlSet002\Services\iaStor]"), "{text}");
        assert!(!text.contains("dword:00000004"), "{text}");
        assert_eq!(
            text.matches(r"CurrentControlSet\Services\iaStor]").count(),
            1
        );
        assert!(text.contains("\"Start\"=dword:00000000"), "{text}");
    }
}

#[test]
fn traps_stay_silent() {
    assert_eq!(codes("traps"), Vec::<&str>::new());
    // And fixing changes nothing.
    let files = package("traps");
    for result in pipeline::fix_package(files, &[], &common::options(true)) {
        assert!(result.expect("fix succeeds").spans.is_empty());
    }
}

#[test]
fn each_fixture_reports_its_rule() {
    for (dir, code) in [
        ("svc001", "SVC001"),
        ("svc002", "SVC002"),
        ("svc003", "SVC003"),
        ("svc004", "SVC004"),
        ("svc005", "SVC005"),
        ("svc010", "SVC010"),
        ("svc020", "SVC020"),
        ("svc020_conflict", "SVC020"),
        ("svc030_wise9_win32", "SVC030"),
        ("svc030_driver", "SVC030"),
        ("svc030_account", "SVC030"),
        ("svc030_sms20", "SVC030"),
        ("svc030_reg", "SVC030"),
        ("svc040", "SVC040"),
        ("svc040_unread_include", "SVC040"),
        ("svc041", "SVC041"),
    ] {
        assert!(codes(dir).contains(&code), "{dir} does not report {code}");
    }
    let _ = Path::new("");
}

#[test]
fn every_fix_of_the_removal_rules_carries_its_edits() {
    // A `.reg` key line only goes with its values, so its finding's own fix must name them.
    for dir in ["svc001", "svc002", "svc004", "svc020"] {
        let files = package(dir);
        for (file, diagnostics) in files.iter().zip(pipeline::check_package(
            &files,
            &[],
            &common::options(false),
        )) {
            for d in diagnostics {
                let fix = d.fix.as_ref().expect("these rules always have a fix");
                assert!(
                    !fix.edits.is_empty(),
                    "{}: {} at byte {} has no edits",
                    file.source.path,
                    d.code,
                    d.range.start
                );
            }
        }
    }
}
