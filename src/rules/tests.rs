//! Rule logic on hand-built models (the parsers are tested separately; fixture tests run the
//! whole pipeline).

use std::borrow::Cow;

use super::context::{FileFacts, PackageContext, PackageFile};
use super::{Finding, check_file, in_file_order, run_in_parts};
use crate::fix::{Applicability, Change};
use crate::model::service::{WISE_SETTABLE, wise_field_value};
use crate::model::{
    Charset, Data, FileModel, Hive, OpKind, Operation, Origin, ServiceField, ServiceInstall,
};
use crate::source::SourceFile;
use crate::text::TextRange;

/// One write to build: where its key text stands, and its model fields.
struct Spec {
    range: TextRange,
    value: Option<&'static str>,
    data: Data<'static>,
    container: u32,
    index: u32,
    block: u32,
}

/// A text holding every key so that `key_range` can point at real bytes.
struct Builder {
    text: Vec<u8>,
    writes: Vec<Spec>,
}

impl Builder {
    fn new() -> Self {
        Self {
            text: Vec::new(),
            writes: Vec::new(),
        }
    }

    /// Adds a write; `container`/`index` become its origin, `block` its region.
    fn write(
        &mut self,
        key: &str,
        value: Option<&'static str>,
        data: Data<'static>,
        container: u32,
        index: u32,
        block: u32,
    ) -> &mut Self {
        let start = self.text.len();
        self.text.extend_from_slice(key.as_bytes());
        let range = TextRange::new(start, self.text.len());
        self.text.extend_from_slice(b"\n");
        self.writes.push(Spec {
            range,
            value,
            data,
            container,
            index,
            block,
        });
        self
    }

    /// The model: writes in order of their text (their position), one path statement per
    /// container in a `.reg` file (`is_script` false).
    fn model<'a>(&self, text: &'a [u8], is_script: bool) -> FileModel<'a> {
        FileModel {
            ops: self
                .writes
                .iter()
                .map(|w| Operation {
                    kind: if w.value.is_some() {
                        OpKind::SetValue
                    } else {
                        OpKind::CreateKey
                    },
                    hive: Hive::LocalMachine,
                    key: Cow::Borrowed(w.range.slice(text)),
                    key_range: Some(w.range),
                    unresolved: false,
                    value: w.value.map(|v| Cow::Borrowed(v.as_bytes())),
                    data: w.data.clone(),
                    nuls: 1,
                    range: w.range,
                    record: w.range,
                    wow64_64: false,
                    origin: Origin {
                        container: w.container,
                        index: w.index,
                    },
                    block: w.block,
                    seq: w.range.start as u64,
                    statement: (!is_script).then_some(w.container),
                })
                .collect(),
            charset: Charset::Ansi,
            templates: is_script,
            service_item: is_script.then_some("Create Service"),
            ..FileModel::default()
        }
    }
}

fn sz(s: &'static str) -> Data<'static> {
    Data::Sz(Cow::Borrowed(s.as_bytes()))
}

/// A Create Service item at `at` (a byte offset used for ordering) with `fields`.
fn service(
    name: &'static str,
    fields: &[(&'static str, &'static str)],
    at: usize,
    block: u32,
) -> ServiceInstall<'static> {
    let fields: Vec<ServiceField<'static>> = fields
        .iter()
        .map(|(k, v)| ServiceField {
            label: k.as_bytes(),
            value: v.as_bytes(),
            line: TextRange::empty(at),
            value_range: TextRange::empty(at),
            sets: wise_field_value(k.as_bytes()),
        })
        .collect();
    let text =
        |v: crate::model::ServiceValue| fields.iter().find(|f| f.sets == Some(v)).map(|f| f.value);
    let number = |v: crate::model::ServiceValue| match text(v) {
        None => Some(0),
        Some(t) => std::str::from_utf8(t).ok()?.parse().ok(),
    };
    use crate::model::ServiceValue as V;
    ServiceInstall {
        name: Cow::Borrowed(name.as_bytes()),
        unresolved: false,
        service_type: number(V::Type),
        start: number(V::Start),
        error_control: number(V::ErrorControl),
        image_path: text(V::ImagePath),
        display_name: text(V::DisplayName),
        account: text(V::ObjectName),
        group: None,
        more: Vec::new(),
        settable: WISE_SETTABLE,
        handle: Origin {
            container: 999,
            index: 0,
        },
        head: TextRange::empty(at),
        range: TextRange::new(at, at + 1),
        block,
        seq: at as u64,
        fields,
    }
}

fn run(
    builder: &Builder,
    services: Vec<ServiceInstall<'static>>,
    is_script: bool,
    declared: &[String],
) -> Vec<Finding> {
    let source = SourceFile::new("pkg/setup.ipf", builder.text.clone()).unwrap();
    let mut model = builder.model(source.text(), is_script);
    model.services = services;
    let files = vec![PackageFile {
        source: &source,
        model,
    }];
    let package = PackageContext::new(&files, declared);
    check_file(&package, &files, 0)
}

fn codes(findings: &[Finding]) -> Vec<(&'static str, Option<Applicability>)> {
    findings
        .iter()
        .map(|f| (f.diagnostic.code, f.fix.as_ref().map(|p| p.applicability)))
        .collect()
}

const SVC: &str = r"SYSTEM\CurrentControlSet\Services";

#[test]
fn svc001_reports_the_value_and_a_key_holding_only_it() {
    let mut b = Builder::new();
    b.write(
        &format!(r"{SVC}\SYMEVENT\Security"),
        None,
        Data::None,
        0,
        0,
        0,
    )
    .write(
        &format!(r"{SVC}\SYMEVENT\Security"),
        Some("Security"),
        Data::Binary(vec![1, 0, 0x14, 0x80]),
        1,
        0,
        0,
    );
    let found = run(&b, vec![], true, &[]);
    assert_eq!(codes(&found), [("SVC001", Some(Applicability::Safe)); 2]);
    assert_eq!(found[1].diagnostic.value_name.as_deref(), Some("Security"));
    assert_eq!(found[1].diagnostic.service.as_deref(), Some("SYMEVENT"));
    assert_eq!(
        found[1].diagnostic.registry_key,
        r"HKLM\SYSTEM\CurrentControlSet\Services\SYMEVENT\Security"
    );
    assert_eq!(
        found[1].fix.as_ref().unwrap().changes,
        [Change::RemoveWrite(Origin {
            container: 1,
            index: 0
        })]
    );
}

#[test]
fn svc001_keeps_a_security_key_with_other_values_and_the_event_log() {
    let mut b = Builder::new();
    b.write(&format!(r"{SVC}\Foo\Security"), None, Data::None, 0, 0, 0)
        .write(
            &format!(r"{SVC}\Foo\Security"),
            Some("Security"),
            Data::Binary(vec![1]),
            1,
            0,
            0,
        )
        .write(
            &format!(r"{SVC}\Foo\Security"),
            Some("Other"),
            Data::Dword(1),
            2,
            0,
            0,
        )
        .write(
            &format!(r"{SVC}\EventLog\Security"),
            None,
            Data::None,
            3,
            0,
            0,
        )
        .write(
            &format!(r"{SVC}\EventLog\Security"),
            Some("Security"),
            Data::Binary(vec![1]),
            4,
            0,
            0,
        )
        .write(
            &format!(r"{SVC}\EventLog\Security"),
            Some("MaxSize"),
            Data::Dword(1),
            5,
            0,
            0,
        );
    let found = run(&b, vec![], true, &[]);
    assert_eq!(codes(&found), [("SVC001", Some(Applicability::Safe))]);
    assert_eq!(found[0].diagnostic.value_name.as_deref(), Some("Security"));
    assert!(found[0].diagnostic.registry_key.contains(r"\Foo\"));
}

#[test]
fn svc002_to_svc004_classify_plug_and_play_keys() {
    let mut b = Builder::new();
    b.write(
        &format!(r"{SVC}\kbstuff\Enum"),
        Some("Count"),
        Data::Dword(1),
        0,
        0,
        0,
    )
    .write(
        r"SYSTEM\ControlSet001\Enum\Root\LEGACY_KBSTUFF\0000\Control",
        Some("ActiveService"),
        sz("kbstuff"),
        1,
        0,
        0,
    )
    .write(
        r"SYSTEM\CurrentControlSet\Enum\Root\*SMS_MOUSE\0000",
        Some("Class"),
        sz("Mouse"),
        2,
        0,
        0,
    )
    .write(
        r"SYSTEM\CurrentControlSet\Control\Class\{4D36E96F-E325-11CE-BFC1-08002BE10318}\0001",
        Some("DriverDesc"),
        sz("x"),
        3,
        0,
        0,
    )
    // The class key itself and the Enum key alone are not device instances.
    .write(
        r"SYSTEM\CurrentControlSet\Control\Class\{4D36E96F-E325-11CE-BFC1-08002BE10318}",
        Some("Class"),
        sz("Mouse"),
        4,
        0,
        0,
    )
    .write(r"SYSTEM\CurrentControlSet\Enum", None, Data::None, 5, 0, 0)
    .write(
        r"SOFTWARE\Vendor\Enum\Root\LEGACY_X",
        None,
        Data::None,
        6,
        0,
        0,
    );
    let found = run(&b, vec![], true, &[]);
    assert_eq!(
        codes(&found),
        [
            ("SVC002", Some(Applicability::Safe)),
            ("SVC003", Some(Applicability::Safe)),
            ("SVC020", Some(Applicability::Safe)),
            ("SVC004", Some(Applicability::Unsafe)),
            ("SVC004", Some(Applicability::Unsafe)),
        ]
    );
    assert_eq!(found[1].diagnostic.service.as_deref(), Some("KBSTUFF"));
}

#[test]
fn svc010_equal_or_before_is_a_safe_removal() {
    let item = || {
        service(
            "NAVAPSVC",
            &[
                ("Service Name", "NAVAPSVC"),
                ("Service Type", "16"),
                ("Boot Type", "2"),
            ],
            100,
            0,
        )
    };
    let mut b = Builder::new();
    b.write(
        &format!(r"{SVC}\NAVAPSVC"),
        Some("Type"),
        Data::Dword(16),
        0,
        0,
        0,
    ) // equal
    .write(
        &format!(r"{SVC}\NAVAPSVC"),
        Some("ErrorControl"),
        Data::Dword(1),
        1,
        0,
        0,
    ) // before, differs
    .write(
        &format!(r"{SVC}\NAVAPSVC"),
        Some("ImagePath"),
        sz(r"C:\x.exe"),
        2,
        0,
        0,
    ) // always equal
    .write(
        &format!(r"{SVC}\NAVAPSVC"),
        Some("Description"),
        sz("d"),
        3,
        0,
        0,
    ) // vendor config
    .write(&format!(r"{SVC}\NAVAPSVC"), Some("Group"), sz("g"), 4, 0, 0)
    .write(
        &format!(r"{SVC}\NAVAPSVC\Parameters"),
        Some("Type"),
        Data::Dword(1),
        5,
        0,
        0,
    )
    .write(
        &format!(r"{SVC}\Kbdclass"),
        Some("Start"),
        Data::Dword(4),
        6,
        0,
        0,
    ); // not created
    let found = run(&b, vec![item()], true, &[]);
    assert_eq!(codes(&found), [("SVC010", Some(Applicability::Safe)); 3]);
    assert!(
        found[0]
            .diagnostic
            .message
            .contains("equals what the Create Service item")
    );
    assert!(
        found[1].diagnostic.message.contains("comes before"),
        "{}",
        found[1].diagnostic.message
    );
}

#[test]
fn svc010_different_after_rewrites_the_create_service_item() {
    let item = service(
        "NAVAPSVC",
        &[
            ("Service Name", "NAVAPSVC"),
            ("Service Type", "16"),
            ("Boot Type", "2"),
        ],
        0,
        0,
    );
    let mut b = Builder::new();
    b.write("pad", None, Data::None, 9, 0, 7) // keeps the writes after offset 0
        .write(
            &format!(r"{SVC}\NAVAPSVC"),
            Some("Start"),
            Data::Dword(3),
            1,
            0,
            0,
        )
        .write(
            &format!(r"{SVC}\NAVAPSVC"),
            Some("ObjectName"),
            sz("LOCALSYSTEM"),
            2,
            0,
            0,
        )
        .write(
            &format!(r"{SVC}\NAVAPSVC"),
            Some("DisplayName"),
            sz("Auto-Protect"),
            3,
            0,
            5,
        );
    let found = run(&b, vec![item], true, &[]);
    assert_eq!(
        codes(&found),
        [
            ("SVC010", Some(Applicability::Unsafe)),
            ("SVC010", Some(Applicability::Safe)),
            ("SVC010", Some(Applicability::Unsafe)),
        ]
    );
    let start = found[0].fix.as_ref().unwrap();
    assert_eq!(
        start.changes,
        [
            Change::SetServiceField {
                service: Origin {
                    container: 999,
                    index: 0
                },
                field: "Boot Type".into(),
                value: b"3".to_vec()
            },
            Change::RemoveWrite(Origin {
                container: 1,
                index: 0
            }),
        ]
    );
    assert!(
        found[0].diagnostic.message.contains("is 3, but"),
        "{}",
        found[0].diagnostic.message
    );
    // In another block there is no order: remove only, unsafe, both values shown.
    let display = found[2].fix.as_ref().unwrap();
    assert_eq!(
        display.changes,
        [Change::RemoveWrite(Origin {
            container: 3,
            index: 0
        })]
    );
    assert!(found[2].diagnostic.message.contains("\"Auto-Protect\""));
}

#[test]
fn svc010_in_reg_files_and_for_declared_services_is_unsafe() {
    let item = service(
        "wuauserv",
        &[("Service Name", "wuauserv"), ("Boot Type", "2")],
        0,
        0,
    );
    let mut b = Builder::new();
    b.write(
        &format!(r"{SVC}\wuauserv"),
        None,
        Data::None,
        0,
        Origin::KEY_LINE,
        0,
    )
    .write(
        &format!(r"{SVC}\wuauserv"),
        Some("Start"),
        Data::Dword(3),
        0,
        0,
        0,
    )
    .write(
        &format!(r"{SVC}\wuauserv"),
        Some("Type"),
        Data::Dword(0),
        0,
        1,
        0,
    );
    let found = run(&b, vec![item], false, &[]);
    assert_eq!(
        codes(&found),
        [
            ("SVC010", Some(Applicability::Safe)), // bare key: nothing else written to it
            ("SVC010", Some(Applicability::Unsafe)),
            ("SVC010", Some(Applicability::Safe)), // Type absent = 0
        ]
    );
    let mut b = Builder::new();
    b.write(
        &format!(r"{SVC}\SYMEVENT"),
        Some("Start"),
        Data::Dword(1),
        0,
        0,
        0,
    )
    .write(
        &format!(r"{SVC}\SYMEVENT"),
        Some("Description"),
        sz("x"),
        1,
        0,
        0,
    )
    .write(&format!(r"{SVC}\SYMEVENT"), None, Data::None, 2, 0, 0);
    let found = run(&b, vec![], true, &["symevent".to_string()]);
    // The bare key holds a Description, so it stays.
    assert_eq!(codes(&found), [("SVC010", Some(Applicability::Unsafe))]);
}

#[test]
fn svc020_removes_copies_of_what_the_current_set_writes_and_rewrites_the_rest() {
    let mut b = Builder::new();
    b.write(
        &format!(r"{SVC}\kbstuff\Parameters"),
        Some("Mode"),
        Data::Dword(2),
        0,
        0,
        0,
    )
    .write(
        r"SYSTEM\ControlSet001\Services\kbstuff\Parameters",
        Some("Mode"),
        Data::Dword(2),
        1,
        0,
        0,
    )
    // Another value than the current set's, yet a copy of what it writes: never moved over it.
    .write(
        r"SYSTEM\ControlSet002\Services\kbstuff\Parameters",
        Some("Mode"),
        Data::Dword(3),
        2,
        0,
        0,
    )
    .write(
        r"SYSTEM\ControlSet002\Services\kbstuff\Parameters",
        Some("Level"),
        Data::Dword(1),
        3,
        0,
        0,
    );
    let found = run(&b, vec![], true, &[]);
    assert_eq!(codes(&found), [("SVC020", Some(Applicability::Safe)); 3]);
    let changes = |i: usize| found[i].fix.as_ref().unwrap().changes.clone();
    let origin = |container| Origin {
        container,
        index: 0,
    };
    assert_eq!(changes(0), [Change::RemoveWrite(origin(1))]);
    assert_eq!(changes(1), [Change::RemoveWrite(origin(2))]);
    assert!(matches!(
        changes(2)[..],
        [Change::ToCurrentControlSet { op, .. }] if op == origin(3)
    ));
    assert!(
        found
            .iter()
            .all(|f| f.fix.as_ref().unwrap().target == crate::fix::proof::Target::OtherControlSet)
    );
}

#[test]
fn svc020_in_reg_files_reports_the_key_line_once() {
    let mut b = Builder::new();
    let key = r"SYSTEM\ControlSet001\Services\kbstuff\Parameters";
    b.write(key, None, Data::None, 4, Origin::KEY_LINE, 0)
        .write(key, Some("Mode"), Data::Dword(2), 4, 0, 0)
        .write(key, Some("Level"), Data::Dword(1), 4, 1, 0);
    let found = run(&b, vec![], false, &[]);
    assert_eq!(codes(&found), [("SVC020", Some(Applicability::Safe))]);
    assert!(matches!(
        found[0].fix.as_ref().unwrap().changes[..],
        [Change::ToCurrentControlSet { .. }]
    ));
}

/// The files under `dir` (recursively) that the tool reads, sorted.
fn inputs(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            inputs(&path, out);
        } else if path.extension().is_some_and(|e| {
            ["ipf", "wse", "reg"]
                .iter()
                .any(|x| e.eq_ignore_ascii_case(x))
        }) {
            out.push(path);
        }
    }
}

#[test]
fn rules_find_the_same_in_the_needed_writes_as_in_all() {
    use crate::model::{All, Selection, reg, wise};
    use crate::pipeline::{Loaded, load};
    use crate::syntax::Syntax;

    fn lowered<'l>(
        loaded: &'l [Loaded],
        selection: &impl Selection,
        pieces: usize,
    ) -> Vec<PackageFile<'l>> {
        loaded
            .iter()
            .map(|l| {
                let text = l.source.text();
                let charset = crate::model::Charset::of(l.source.encoding);
                let model = match &l.syntax {
                    Syntax::Script(doc) => {
                        wise::lower_in_pieces(doc, text, charset, selection, pieces)
                    }
                    Syntax::Reg(file) => {
                        reg::lower_in_pieces(file, text, l.source.encoding, selection, pieces)
                    }
                    Syntax::Wix(_) | Syntax::Msi(_) => Default::default(),
                };
                PackageFile {
                    source: &l.source,
                    model,
                }
            })
            .collect()
    }

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut packages = Vec::new();
    for parent in ["tests/fixtures/rules", "examples"] {
        let Ok(entries) = std::fs::read_dir(root.join(parent)) else {
            continue;
        };
        packages.extend(entries.filter_map(|e| e.ok().map(|e| e.path())));
    }
    packages.sort();
    let mut checked = 0;
    for package in packages {
        let mut paths = Vec::new();
        inputs(&package, &mut paths);
        let loaded: Vec<Loaded> = paths
            .iter()
            .filter_map(|p| {
                let raw = std::fs::read(p).ok()?;
                load(&p.to_string_lossy(), raw).ok()
            })
            .collect();
        let all = lowered(&loaded, &All, 1);
        let needed = lowered(&loaded, &super::Needed, 1);
        // Lowering in pieces and checking in parts (as large files are) changes nothing.
        for pieces in [2, 3, 7] {
            let split = lowered(&loaded, &super::Needed, pieces);
            for (one, split) in needed.iter().zip(&split) {
                assert_eq!(one.model, split.model, "{} pieces", pieces);
            }
        }
        let (all_package, needed_package) = (
            PackageContext::new(&all, &[]),
            PackageContext::new(&needed, &[]),
        );
        for (i, file) in loaded.iter().enumerate() {
            let expected = check_file(&all_package, &all, i);
            assert_eq!(
                check_file(&needed_package, &needed, i),
                expected,
                "{}",
                file.source.path
            );
            for parallel in [false, true] {
                let facts = FileFacts::build(&needed[i].model, parallel);
                for parts in [2, 3, 7] {
                    assert_eq!(
                        in_file_order(crate::pieces::concat(run_in_parts(
                            &needed_package,
                            &needed,
                            i,
                            &facts,
                            parts
                        ))),
                        expected,
                        "{} in {parts} parts",
                        file.source.path
                    );
                }
            }
            checked += expected.len();
        }
    }
    assert!(checked > 50, "only {checked} findings checked");
}

proptest::proptest! {
    #[test]
    fn permuting_in_place_moves_each_item_where_the_order_says(
        keys in proptest::collection::vec(0u32..1000, 0..200)
    ) {
        // The permutation that sorts `keys`, as `in_file_order` builds it.
        let mut order: Vec<(u32, usize)> = keys.iter().copied().zip(0..).collect();
        order.sort_unstable();
        let mut source: Vec<usize> = order.iter().map(|&(_, i)| i).collect();
        let expected: Vec<(u32, usize)> = source.iter().map(|&i| (keys[i], i)).collect();
        let mut items: Vec<(u32, usize)> = keys.iter().copied().zip(0..).collect();
        super::permute_in_place(&mut items, &mut source);
        proptest::prop_assert_eq!(items, expected);
    }
}

#[test]
fn facts_take_room_for_the_distinct_keys_not_for_every_write() {
    // An installer's items repeated: 20 000 writes of the same three values of one service.
    let mut b = Builder::new();
    for i in 0..20_000u32 {
        let value = ["Type", "Start", "ImagePath"][i as usize % 3];
        b.write(
            &format!(r"{SVC}\Svc\Parameters"),
            Some(value),
            sz("1"),
            i,
            0,
            0,
        );
    }
    let text = b.text.clone();
    let model = b.model(&text, true);
    for parallel in [false, true] {
        let facts = FileFacts::build(&model, parallel);
        assert_eq!(facts.system.len(), 20_000);
        // Three values, one key and its ancestors: a few dozen entries, not tens of thousands.
        assert!(facts.table_room() < 256, "{}", facts.table_room());
    }
}

#[test]
fn a_rule_checking_a_part_of_the_writes_sees_their_positions_in_the_whole_file() {
    let mut b = Builder::new();
    for (i, name) in ["A", "B", "C", "D", "E", "F"].iter().enumerate() {
        b.write(
            &format!(r"{SVC}\{name}"),
            Some("Start"),
            sz("2"),
            i as u32,
            0,
            0,
        );
    }
    let source = SourceFile::new("pkg/setup.ipf", b.text.clone()).unwrap();
    let model = b.model(source.text(), true);
    let files = vec![PackageFile {
        source: &source,
        model,
    }];
    let package = PackageContext::new(&files, &[]);
    let facts = FileFacts::new(&files[0].model);
    let cx = super::RuleContext {
        package: &package,
        files: &files,
        file_index: 0,
        facts: &facts,
        part: 2..5,
    };
    let seen: Vec<(usize, &[u8])> = cx.system().map(|(at, c)| (at, &*c.write.key)).collect();
    let positions: Vec<usize> = seen.iter().map(|&(at, _)| at).collect();
    assert_eq!(positions, [2, 3, 4]);
    for (at, key) in seen {
        // The position names the same write in the whole file's list.
        assert!(std::ptr::eq(&*facts.system[at].1.write.key, key));
    }
}

/// Findings are held by the thousand until the report is written: each holds its texts and
/// changes without spare room, and no copy of a title that is the same for every finding.
#[test]
fn findings_hold_no_spare_room_and_no_copy_of_a_usual_title() {
    use crate::pipeline::{load, lower_package};
    use std::borrow::Cow;

    let usual = |code: &str, title: &str| match code {
        "SVC001" | "SVC002" | "SVC003" | "SVC005" => true,
        "SVC010" => title.starts_with("remove the value; ") && title.ends_with(" sets it"),
        "SVC020" => title.starts_with("rewrite `ControlSet00"),
        _ => false,
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (mut checked, mut borrowed) = (0, 0);
    for package in [
        "clean-service",
        "include-driver",
        "norton-antivirus",
        "service-conversion",
        "sms-remote-control",
    ] {
        let mut paths = Vec::new();
        inputs(&root.join("examples").join(package), &mut paths);
        let loaded: Vec<_> = paths
            .iter()
            .map(|p| load(&p.to_string_lossy(), std::fs::read(p).unwrap()).unwrap())
            .collect();
        let lowered = lower_package(&loaded, &super::Needed);
        let context = PackageContext::new(&lowered, &[]);
        for i in 0..lowered.len() {
            for f in check_file(&context, &lowered, i) {
                let d = &f.diagnostic;
                let what = format!("{} {}: {}", lowered[i].source.path, d.code, d.message);
                assert_eq!(d.message.capacity(), d.message.len(), "{what}");
                assert_eq!(d.registry_key.capacity(), d.registry_key.len(), "{what}");
                let Some(plan) = &f.fix else { continue };
                assert_eq!(plan.changes.capacity(), plan.changes.len(), "{what}");
                if usual(d.code, &plan.title) {
                    assert!(
                        matches!(plan.title, Cow::Borrowed(_)),
                        "{what}: {}",
                        plan.title
                    );
                    borrowed += 1;
                }
                checked += 1;
            }
        }
    }
    // The examples have hundreds of findings with a fix, most of them with a usual title.
    assert!(
        checked > 150 && borrowed * 2 > checked,
        "{borrowed} of {checked}"
    );
}
