//! SVC030 conversions: with `--unsafe-fixes` each captured service becomes a Create Service
//! item; the converted script re-parses, a second fix changes nothing, and checking the result
//! reports neither SVC010 nor SVC030 for the converted services.

mod common;

use svcscrub::pipeline::{self, Loaded};
use svcscrub::syntax::Syntax;

fn package(name: &str) -> Vec<Loaded> {
    let dir = common::manifest_dir()
        .join("tests/fixtures/rules")
        .join(name);
    common::files_under(&dir, true)
        .iter()
        .map(|p| common::load(p).expect("fixture loads"))
        .collect()
}

/// The services SVC030 reports in the package, lower-cased.
fn reported(files: &[Loaded]) -> Vec<String> {
    let mut out: Vec<String> = pipeline::check_package(files, &[], &common::options(false))
        .into_iter()
        .flatten()
        .filter(|d| d.code == "SVC030")
        .filter_map(|d| d.service.map(|s| s.to_ascii_lowercase()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Fixes with unsafe fixes, checks the result and returns it.
fn convert(name: &str) -> Vec<Loaded> {
    let files = package(name);
    let services = reported(&files);
    assert!(!services.is_empty(), "{name}: nothing to convert");
    let options = common::options(true);
    let fixed: Vec<Loaded> = pipeline::fix_package(files.clone(), &[], &options)
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{name}: {e}")).file)
        .collect();
    // Re-parses from its bytes.
    for file in &fixed {
        let again = pipeline::load(&file.source.path, file.source.raw().into_owned())
            .unwrap_or_else(|e| panic!("{name}: converted file does not parse: {e}"));
        assert_eq!(again.source.text(), file.source.text());
    }
    // Converged: a second fix changes nothing.
    for result in pipeline::fix_package(fixed.clone(), &[], &options) {
        let again = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            again.spans.is_empty(),
            "{name}: a second fix changed {}",
            again.file.source.path
        );
    }
    // No SVC010 or SVC030 is left for a converted service.
    for (file, diagnostics) in fixed.iter().zip(pipeline::check_package(
        &fixed,
        &[],
        &common::options(false),
    )) {
        for d in diagnostics {
            let service = d.service.as_deref().map(str::to_ascii_lowercase);
            let converted = service.is_some_and(|s| services.contains(&s));
            assert!(
                !(converted && (d.code == "SVC010" || d.code == "SVC030")),
                "{name}: {}: {} left: {}",
                file.source.path,
                d.code,
                d.message
            );
        }
    }
    fixed
}

/// The `Create Service` items of a converted script, as text.
fn created(file: &Loaded) -> Vec<String> {
    let Syntax::Script(doc) = &file.syntax else {
        return Vec::new();
    };
    let text = file.source.text();
    doc.items()
        .iter()
        .filter(|i| i.kind() == svcscrub::syntax::wise::ItemKind::CreateService)
        .map(|i| String::from_utf8_lossy(i.range().slice(text)).replace('\r', ""))
        .collect()
}

#[test]
fn win32_service_in_a_wise9_script() {
    let fixed = convert("svc030_wise9_win32");
    assert_eq!(
        created(&fixed[0]),
        [
            "item: Create Service\n  Service Name=FabSync\n  Executable Path=%SYS32%\\svchost.exe -k FabSyncGroup\n  Service Type=32\n  Boot Type=2\n  Error Type=1\n  Display Name=Fabrikam Sync Service\nend\n"
        ]
    );
}

#[test]
fn kernel_and_file_system_drivers() {
    let fixed = convert("svc030_driver");
    let items = created(&fixed[0]);
    assert_eq!(items.len(), 2);
    // `SYS32` is set only after the insertion point: the captured path stays.
    assert!(items[0].contains("Executable Path=\\SystemRoot\\System32\\drivers\\fabflt.sys\n  Service Type=1\n  Boot Type=1\n"));
    // No `Start` was captured: demand start.
    assert!(items[1].contains("Service Type=2\n  Boot Type=3\n  Error Type=0\n"));
}

#[test]
fn service_with_its_own_account() {
    let fixed = convert("svc030_account");
    let items = created(&fixed[0]);
    assert!(items[0].contains("Executable Path=%%ProgramFiles%%\\Fabrikam\\Relay\\relay.exe /service\n  Login User=NT AUTHORITY\\LocalService\n"));
}

#[test]
fn sms_installer_20_script_with_language_suffixes() {
    let fixed = convert("svc030_sms20");
    let script = fixed
        .iter()
        .find(|f| f.source.path.ends_with(".ipf"))
        .expect("the script");
    let items = created(script);
    assert_eq!(items.len(), 3);
    assert!(items[1].contains("Display Name English=Contoso Monitor\n"));
    assert!(items[2].contains("Executable Path=%SYS32%\\drivers\\ctsokbd.sys\n"));
    assert!(items[2].contains("Display Name English=Contoso Keyboard Filter\n"));
}

#[test]
fn a_reg_file_only_shows_the_item() {
    let files = package("svc030_reg");
    let diagnostics = pipeline::check_package(&files, &[], &common::options(true));
    let d = diagnostics[0]
        .iter()
        .find(|d| d.code == "SVC030")
        .expect("SVC030");
    let fix = d.fix.as_ref().expect("a display-only fix");
    assert_eq!(fix.applicability, svcscrub::fix::Applicability::DisplayOnly);
    assert!(fix.edits.is_empty());
    assert!(d.message.ends_with(
        "\n  item: Create Service\n    Service Name=FabBackup\n    Executable Path=%%SystemRoot%%\\system32\\fabbk.exe\n    Login User=.\\backup\n    Service Type=16\n    Boot Type=2\n    Error Type=1\n  end"
    ), "{}", d.message);
}

#[test]
fn a_declared_service_is_not_reported() {
    let files = package("svc030_driver");
    let declared = ["FABFLT".to_string(), "fabfs".to_string()];
    let options = svcscrub::pipeline::Options {
        declared_services: &declared,
        ..common::options(false)
    };
    let codes: Vec<&str> = pipeline::check_package(&files, &[], &options)
        .into_iter()
        .flatten()
        .map(|d| d.code)
        .collect();
    assert!(!codes.contains(&"SVC030"), "{codes:?}");
}

#[test]
fn a_script_value_is_carried_over_as_script_text() {
    // `%MAINDIR%` is the installer's, `%%1` an escaped percent: both stay. `%windir%` is no
    // variable of the script: escaped as SVC040 would.
    let text = concat!(
        "Document Type: WSE\r\n",
        "item: Global\r\n",
        "  Version=9.0\r\n",
        "end\r\n",
        "item: Edit Registry\r\n",
        "  Total Keys=2\r\n",
        "  item: Key\r\n",
        "    Key=SYSTEM\\CurrentControlSet\\Services\\Svc\r\n",
        "    New Value=16\r\n",
        "    Value Name=Type\r\n",
        "    Root=2\r\n",
        "    Data Type=3\r\n",
        "  end\r\n",
        "  item: Key\r\n",
        "    Key=SYSTEM\\CurrentControlSet\\Services\\Svc\r\n",
        "    New Value=%MAINDIR%\\svc.exe %%1 %windir%\\x.ini\r\n",
        "    Value Name=ImagePath\r\n",
        "    Root=2\r\n",
        "  end\r\n",
        "end\r\n",
    );
    let file = pipeline::load("setup.wse", text.as_bytes().to_vec()).unwrap();
    let fixed = pipeline::fix_package(vec![file], &[], &common::options(true))
        .pop()
        .unwrap()
        .unwrap();
    assert_eq!(
        created(&fixed.file),
        [
            "item: Create Service\n  Service Name=Svc\n  Executable Path=%MAINDIR%\\svc.exe %%1 %%windir%%\\x.ini\n  Service Type=16\n  Boot Type=3\nend\n"
        ]
    );
}

#[test]
fn the_conversion_example_readme_shows_the_real_diff() {
    let dir = common::manifest_dir().join("examples/service-conversion");
    let files: Vec<Loaded> = common::files_under(&dir, true)
        .iter()
        .map(|p| common::load(p).expect("example loads"))
        .collect();
    let mut diff = Vec::new();
    for (file, fixed) in files.iter().zip(pipeline::fix_package(
        files.clone(),
        &[],
        &common::options(true),
    )) {
        let fixed = fixed.expect("fix succeeds");
        svcscrub::render::diff::write_source_diff(
            &mut diff,
            &file.source.path,
            &file.source,
            fixed.file.source.text(),
            &fixed.spans,
            false,
        )
        .unwrap();
    }
    let diff = String::from_utf8_lossy(&diff).replace('\r', "");
    let readme =
        std::fs::read_to_string(common::manifest_dir().join("examples/README.md")).unwrap();
    let section = &readme[readme
        .find("## service-conversion")
        .expect("the example's section")..];
    let start = section.find("```diff\n").expect("a diff block") + "```diff\n".len();
    let end = start + section[start..].find("```").expect("the block ends");
    assert_eq!(
        section[start..end],
        diff,
        "examples/README.md shows another diff"
    );
}

/// A Wise 9 script writing `Type` and `ImagePath` of service `Svc`.
fn raw_service_script(image_path: &str) -> Vec<u8> {
    [
        "Document Type: WSE",
        "item: Global",
        "  Version=9.0",
        "end",
        "item: Edit Registry",
        "  Total Keys=2",
        "  item: Key",
        "    Key=SYSTEM\\CurrentControlSet\\Services\\Svc",
        "    New Value=16",
        "    Value Name=Type",
        "    Root=2",
        "    Data Type=3",
        "  end",
        "  item: Key",
        "    Key=SYSTEM\\CurrentControlSet\\Services\\Svc",
        &format!("    New Value={image_path}"),
        "    Value Name=ImagePath",
        "    Root=2",
        "  end",
        "end",
        "",
    ]
    .join("\r\n")
    .into_bytes()
}

#[test]
fn two_scripts_writing_one_service_get_one_create_service_item() {
    let files: Vec<Loaded> = ["pkg/a.wse", "pkg/b.wse"]
        .iter()
        .map(|p| pipeline::load(p, raw_service_script("C:\\Svc\\svc.exe")).unwrap())
        .collect();
    let diagnostics = pipeline::check_package(&files, &[], &common::options(true));
    let b = diagnostics[1]
        .iter()
        .find(|d| d.code == "SVC030")
        .expect("b.wse is reported too");
    assert!(b.fix.is_none(), "{b:?}");
    assert!(
        b.message
            .contains("`pkg/a.wse` inserts its Create Service item")
    );

    let options = common::options(true);
    let fixed: Vec<Loaded> = pipeline::fix_package(files.clone(), &[], &options)
        .into_iter()
        .map(|r| r.unwrap().file)
        .collect();
    assert_eq!(created(&fixed[0]).len(), 1);
    assert_eq!(created(&fixed[1]).len(), 0);
    // b.wse's writes were equal to the new item: removed as SVC010, nothing is left.
    let left: Vec<&str> = pipeline::check_package(&fixed, &[], &common::options(false))
        .into_iter()
        .flatten()
        .map(|d| d.code)
        .collect();
    assert_eq!(left, Vec::<&str>::new());
    for again in pipeline::fix_package(fixed.clone(), &[], &options) {
        assert!(again.unwrap().spans.is_empty());
    }
}
