//! Property tests of `fix` on generated packages: a script (Create Service items; Edit Registry
//! items in the Wise 5, flat and nested forms, some remarked, some inside If blocks) and a
//! `.reg` export (8-bit or UTF-16), writing service state that every rule looks for, under
//! `CurrentControlSet`, `ControlSet001` and `ControlSet002`.
//!
//! For safe fixes: the registry state the fixed files install (the model of the fixed text,
//! parsed again) differs from the original's only in captured system state (a `Security`
//! descriptor, `Enum` state, device nodes, `DeleteFlag`, copies outside the current control
//! set, an ungrouped `Tag`); `fix` itself refuses to write anything else.
//!
//! For safe and unsafe fixes (see `common/invariants.rs`): `fix` is idempotent (a second fix
//! changes nothing), bytes outside the edits are unchanged, `Total Keys` is consistent after
//! every fix (the generated scripts start consistent, so no problem at all is allowed), and
//! `check`'s fixes agree with what `fix` writes (a file changes exactly when `check` reported an
//! applicable fix; each of those fixes applied alone gives a file that loads).

mod common;

use proptest::prelude::*;
use svcscrub::fix::invariants::total_keys_problems;
use svcscrub::fix::proof::{counted_keys, targets_of};
use svcscrub::model::state::{KeepAll, KeyId, State, Steps};
use svcscrub::pipeline::{self, Loaded, Options};
use svcscrub::syntax::Syntax;

const SERVICES: &[&str] = &["Foo", "Bar"];
const SETS: &[&str] = &["CurrentControlSet", "ControlSet001", "ControlSet002"];
/// Paths below `SYSTEM\<set>\`; `{}` is a service name.
const PATHS: &[&str] = &[
    "Services\\{}",
    "Services\\{}\\Enum",
    "Services\\{}\\Security",
    "Services\\{}\\Parameters",
    "Enum\\Root\\LEGACY_{}",
    "Enum\\Root\\LEGACY_{}\\0000",
    "Enum\\PCI\\VEN_8086",
    "Control\\Class\\{4D36E96B-E325-11CE-BFC1-08002BE10318}\\0000",
];
/// Value names; `None` writes the key only.
const VALUES: &[Option<&str>] = &[
    None,
    Some("Type"),
    Some("Start"),
    Some("ErrorControl"),
    Some("DisplayName"),
    Some("ObjectName"),
    Some("ImagePath"),
    Some("Security"),
    Some("Group"),
    Some("Tag"),
    Some("DeleteFlag"),
    Some("0"),
    Some(""),
];

#[derive(Clone, Debug)]
struct Write {
    software: bool,
    set: usize,
    path: usize,
    service: usize,
    value: usize,
    /// 1–3: a number; 4: text.
    data: u8,
    remarked: bool,
}

impl Write {
    fn key(&self) -> String {
        if self.software {
            return "SOFTWARE\\Vendor\\Product".into();
        }
        format!(
            "SYSTEM\\{}\\{}",
            SETS[self.set],
            PATHS[self.path].replace("{}", SERVICES[self.service])
        )
    }

    fn value(&self) -> Option<&'static str> {
        VALUES[self.value]
    }

    fn text(&self) -> String {
        if self.data == 4 {
            format!("{} Service", SERVICES[self.service])
        } else {
            self.data.to_string()
        }
    }
}

#[derive(Clone, Debug)]
enum Item {
    Service {
        service: usize,
        display_name: bool,
        boot: u8,
    },
    /// 0: Wise 5, 1: flat (one write), 2: nested (all writes).
    Registry {
        form: u8,
        writes: Vec<Write>,
    },
    If(Vec<Item>),
}

fn write() -> impl Strategy<Value = Write> {
    (
        prop::bool::weighted(0.1),
        0..SETS.len(),
        0..PATHS.len(),
        0..SERVICES.len(),
        0..VALUES.len(),
        1u8..5,
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(software, set, path, service, value, data, remarked)| Write {
                software,
                set,
                path,
                service,
                value,
                data,
                remarked,
            },
        )
}

fn item() -> impl Strategy<Value = Item> {
    let leaf = prop_oneof![
        (0..SERVICES.len(), any::<bool>(), 1u8..4).prop_map(|(service, display_name, boot)| {
            Item::Service {
                service,
                display_name,
                boot,
            }
        }),
        (0u8..3, prop::collection::vec(write(), 2..6))
            .prop_map(|(form, writes)| Item::Registry { form, writes }),
    ];
    leaf.prop_recursive(1, 8, 4, |inner| {
        prop::collection::vec(inner, 1..4).prop_map(Item::If)
    })
}

struct Script {
    out: String,
    eol: &'static str,
}

impl Script {
    fn line(&mut self, indent: usize, text: &str) {
        self.out.push_str(&" ".repeat(indent));
        self.out.push_str(text);
        self.out.push_str(self.eol);
    }

    fn key_fields(&mut self, indent: usize, w: &Write) {
        self.line(indent, &format!("Key={}", w.key()));
        if let Some(name) = w.value() {
            self.line(indent, &format!("New Value={}", w.text()));
            self.line(indent, &format!("Value Name={name}"));
        }
        self.line(indent, "Root=2");
        if w.value().is_some() && w.data != 4 {
            self.line(indent, "Data Type=3");
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Service {
                service,
                display_name,
                boot,
            } => {
                let name = SERVICES[*service];
                self.line(0, "item: Create Service");
                self.line(2, &format!("Service Name={name}"));
                self.line(2, &format!("Executable Path=%SYS32%\\drivers\\{name}.sys"));
                self.line(2, "Service Type=1");
                self.line(2, &format!("Boot Type={boot}"));
                if *display_name {
                    self.line(2, &format!("Display Name={name} Service"));
                }
                self.line(0, "end");
            }
            Item::Registry { form, writes } => {
                let prefix = if writes[0].remarked { "remarked " } else { "" };
                self.line(0, &format!("{prefix}item: Edit Registry"));
                match form {
                    0 => self.key_fields(2, &writes[0]),
                    1 => {
                        self.line(2, "Total Keys=1");
                        self.key_fields(2, &writes[0]);
                    }
                    _ => {
                        self.line(2, &format!("Total Keys={}", writes.len()));
                        for w in writes {
                            let prefix = if w.remarked { "remarked " } else { "" };
                            self.line(2, &format!("{prefix}item: Key"));
                            self.key_fields(4, w);
                            self.line(2, "end");
                        }
                    }
                }
                self.line(0, "end");
            }
            Item::If(items) => {
                self.line(0, "item: If/While Statement");
                self.line(2, "Variable=INSTALL");
                self.line(2, "Value=1");
                self.line(0, "end");
                for i in items {
                    self.item(i);
                }
                self.line(0, "item: End Block");
                self.line(0, "end");
            }
        }
    }
}

fn script(items: &[Item], crlf: bool) -> Vec<u8> {
    let mut s = Script {
        out: String::new(),
        eol: if crlf { "\r\n" } else { "\n" },
    };
    s.line(0, "Document Type: WSE");
    s.line(0, "item: Global");
    s.line(2, "Version=9.0");
    s.line(0, "end");
    for item in items {
        s.item(item);
    }
    s.out.into_bytes()
}

/// Blocks of writes under one key each; `wide`: a UTF-16LE regedit 5 export.
fn export(blocks: &[Vec<Write>], wide: bool) -> Vec<u8> {
    let mut out = String::from(if wide {
        "Windows Registry Editor Version 5.00\r\n"
    } else {
        "REGEDIT4\r\n"
    });
    for block in blocks {
        out.push_str(&format!("\r\n[HKEY_LOCAL_MACHINE\\{}]\r\n", block[0].key()));
        for w in block {
            let Some(name) = w.value() else { continue };
            let name = if name.is_empty() {
                "@".to_string()
            } else {
                format!("\"{name}\"")
            };
            if w.data == 4 {
                out.push_str(&format!("{name}=\"{}\"\r\n", w.text()));
            } else {
                out.push_str(&format!("{name}=dword:{:08x}\r\n", w.data));
            }
        }
    }
    if wide {
        let mut raw = b"\xFF\xFE".to_vec();
        raw.extend(out.encode_utf16().flat_map(u16::to_le_bytes));
        raw
    } else {
        out.into_bytes()
    }
}

fn package(items: &[Item], blocks: &[Vec<Write>], crlf: bool, wide: bool) -> Vec<Loaded> {
    let script = pipeline::load("pkg/setup.wse", script(items, crlf))
        .unwrap_or_else(|e| panic!("generated script: {e}"));
    let export = pipeline::load("pkg/capture.reg", export(blocks, wide))
        .unwrap_or_else(|e| panic!("generated export: {e}"));
    vec![script, export]
}

/// The keys and values whose possible outcomes differ between the states `before` and `after`
/// install (a key's existence where a step outside every target names the key).
fn state_differences(before: &[Loaded], after: &[Loaded]) -> Vec<(KeyId, Option<String>)> {
    let state = |files: &[Loaded]| {
        let lowered: Vec<_> = files.iter().map(pipeline::lower).collect();
        let steps = Steps::of(lowered.iter().map(|f| &f.model).enumerate(), &KeepAll);
        (State::of(&steps), counted_keys(&steps.steps))
    };
    let entries = |(state, counted): (State, std::collections::HashSet<KeyId>)| {
        let mut out = std::collections::BTreeMap::new();
        for (id, key) in state.keys {
            let exists = format!("{:?}", key.exists);
            let counts = counted.contains(&id);
            out.insert((id.clone(), None), (exists, counts));
            for (name, value) in key.values {
                out.insert(
                    (id.clone(), Some(name)),
                    (format!("{:?}", value.possible), true),
                );
            }
        }
        out
    };
    let (before, after) = (entries(state(before)), entries(state(after)));
    let mut ids: Vec<_> = before.keys().chain(after.keys()).cloned().collect();
    ids.sort();
    ids.dedup();
    // A key counts where a step outside every target names it, in either state; an absent
    // key was left alone.
    let untouched = || ("[Untouched]".to_string(), false);
    ids.into_iter()
        .filter(|id| {
            let (b, a) = (before.get(id), after.get(id));
            match id.1 {
                None => {
                    let (b, a) = (
                        b.cloned().unwrap_or_else(untouched),
                        a.cloned().unwrap_or_else(untouched),
                    );
                    (b.1 || a.1) && b.0 != a.0
                }
                Some(_) => b.map(|v| &v.0) != a.map(|v| &v.0),
            }
        })
        .collect()
}

fn total_keys_problem_count(file: &Loaded) -> usize {
    match &file.syntax {
        Syntax::Script(doc) => total_keys_problems(doc, file.source.text()).len(),
        Syntax::Reg(_) | Syntax::Wix(_) | Syntax::Msi(_) => 0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn fix_keeps_every_invariant(
        items in prop::collection::vec(item(), 0..8),
        blocks in prop::collection::vec(prop::collection::vec(write(), 1..4), 0..5),
        crlf in any::<bool>(),
        wide in any::<bool>(),
        declared in any::<bool>(),
    ) {
        let files = package(&items, &blocks, crlf, wide);
        prop_assert_eq!(total_keys_problem_count(&files[0]), 0, "generated consistent");
        let services = if declared { vec!["Bar".to_string()] } else { Vec::new() };
        for unsafe_fixes in [false, true] {
            let options = Options {
                declared_services: &services,
                unsafe_fixes,
                enabled: None,
                keep: None,
            };
            let fixed = common::invariants::check_package(&files, &options, usize::MAX);
            if !unsafe_fixes {
                // Safe fixes change nothing the package installs but captured system state: the
                // model of the fixed text, parsed again, differs from the original's only there.
                for (key, value) in state_differences(&files, &fixed) {
                    prop_assert!(
                        !targets_of(&key, value.as_deref()).is_empty(),
                        "a safe fix changed {:?} {:?}:\n{}\n{}",
                        key,
                        value,
                        String::from_utf8_lossy(fixed[0].source.text()),
                        String::from_utf8_lossy(fixed[1].source.text())
                    );
                }
            }
            for file in &fixed {
                prop_assert_eq!(
                    total_keys_problem_count(file),
                    0,
                    "Total Keys inconsistent after fix:\n{}",
                    String::from_utf8_lossy(file.source.text())
                );
            }
        }
    }
}
