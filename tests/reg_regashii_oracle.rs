//! Peer oracle: for every corpus file, the keys, value names and decoded values regashii 0.4
//! yields must equal ours, except for the divergences listed in [`KNOWN`], each with the reason
//! why regashii (not svcscrub) is wrong. An unlisted divergence fails the test, and so does a
//! listed one that no longer occurs, so the list stays exact.
//!
//! regashii merges everything into one map (keys case-insensitive, values last-wins, `[-key]`
//! and `"x"=-` applied), so our parse is merged the same way before comparing. Key names are
//! compared as written (normalised like regashii: trailing `\` dropped, `\\` collapsed, lower
//! case), value names lower case with `@` ≡ `""`.

mod reg_common;

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use reg_common::{corpus_or_skip, corpus_reg_files};
use svcscrub::model::Data;
use svcscrub::model::reg::{decode_value, value_name};
use svcscrub::pipeline::load;
use svcscrub::syntax::Syntax;
use svcscrub::syntax::reg::ValueData;

/// A decoded value in a form both sides can produce.
#[derive(Clone, Debug, PartialEq, Eq)]
enum V {
    Sz(String),
    ExpandSz(String),
    MultiSz(Vec<String>),
    Binary(Vec<u8>),
    Dword(u32),
    Qword(u64),
    Raw(u32, Vec<u8>),
}

/// lower-case key name → lower-case value name → value.
type State = BTreeMap<String, BTreeMap<String, V>>;

/// One place where the two parsers disagree. `value` is `None` for a key-level difference
/// (the key exists on one side only) and `Some("*")` for a whole-file failure of regashii.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Divergence {
    file: String,
    key: String,
    value: Option<String>,
}

/// Documented divergences: in `file`, under `key`, for each of `values` (an empty list means the
/// key itself, `["*"]` with key `*` the whole file), and why regashii is the one that is wrong.
struct Known {
    file: &'static str,
    key: &'static str,
    values: &'static [&'static str],
    reason: &'static str,
}

const HEX_BY_HEADER: &str = "regashii decodes string-typed hex (hex(1)/(2)/(7)) as UTF-16 whenever \
    the header says version 5; regedit decides by the file's encoding (UTF-16 BOM or not), so an \
    8-bit file's hex strings are its 8-bit bytes (FORMATS.md §2; Wine regproc.c `is_unicode`). \
    These hand-made 8-bit v5 files hold UTF-16 bytes, which decode with NULs between characters";
const MULTI_SZ_EMPTY: &str = "regashii drops empty strings inside a REG_MULTI_SZ; the data holds \
    them, so we keep them (only trailing NULs are stripped)";
const CONTINUATION_INDENT: &str = "regashii requires continuation lines to start with a blank; \
    regedit accepts any line whose first non-blank character is a hex digit";
const RAW_NEWLINE: &str = "a REG_SZ split over two lines by a raw line break: regashii reads it as \
    a string containing CRLF; regedit does not import such a line pair (Wine conformance test \
    Wine41b), so we keep it as an opaque record that is not a write";
const UTF8_BOM: &str = "regashii does not accept a UTF-8 byte-order mark before the header; \
    svcscrub accepts it and keeps it (FORMATS.md, Decisions)";

const SERVICES: &str = "hkey_local_machine\\system\\currentcontrolset\\services\\";

const KNOWN: &[Known] = &[
    Known {
        file: "real/Gorstak-Zadar_Services__Services.reg",
        key: "hkey_local_machine\\system\\currentcontrolset\\services\\bam\\state\\usersettings\\s-1-5-21-669196369-2855347794-568204043-1000",
        values: &["\\device\\harddiskvolume3\\windows\\regedit.exe"],
        reason: CONTINUATION_INDENT,
    },
    Known {
        file: "real/Gorstak-Zadar_Services__Services.reg",
        key: "hkey_local_machine\\system\\currentcontrolset\\services\\googleupdaterinternalservice141.0.7340.0",
        values: &["imagepath"],
        reason: CONTINUATION_INDENT,
    },
    Known {
        file: "real/Gorstak-Zadar_Services__Services.reg",
        key: "hkey_local_machine\\system\\currentcontrolset\\services\\googleupdaterinternalservice141.0.7340.0",
        values: &["dependonservice"],
        reason: HEX_BY_HEADER,
    },
    Known {
        file: "real/ionuttbara_windows-defender-remover__DisablerS_Enable.reg",
        key: "hkey_local_machine\\software\\microsoft\\windows\\currentversion\\run",
        values: &["securityhealth"],
        reason: HEX_BY_HEADER,
    },
    Known {
        file: "real/ionuttbara_windows-defender-remover__DisablerS_Enable.reg",
        key: "securityhealthservice",
        values: &["dependonservice", "imagepath", "requiredprivileges"],
        reason: HEX_BY_HEADER,
    },
    Known {
        file: "real/ionuttbara_windows-defender-remover__DisablerS_Enable.reg",
        key: "wdboot",
        values: &["imagepath"],
        reason: HEX_BY_HEADER,
    },
    Known {
        file: "real/ionuttbara_windows-defender-remover__DisablerS_Enable.reg",
        key: "wdboot",
        values: &["signaturesversion"],
        reason: RAW_NEWLINE,
    },
    Known {
        file: "real/ionuttbara_windows-defender-remover__DisablerS_Enable.reg",
        key: "wdnisdrv",
        values: &["dependonservice", "imagepath"],
        reason: HEX_BY_HEADER,
    },
    Known {
        file: "real/ionuttbara_windows-defender-remover__DisablerS_Enable.reg",
        key: "wdnissvc",
        values: &["dependonservice", "imagepath"],
        reason: HEX_BY_HEADER,
    },
    Known {
        file: "real/ionuttbara_windows-defender-remover__DisablerS_Enable.reg",
        key: "windefend",
        values: &["dependonservice", "imagepath", "requiredprivileges"],
        reason: HEX_BY_HEADER,
    },
    Known {
        file: "real/ionuttbara_windows-defender-remover__Disabler_Enable.reg",
        key: "wdboot",
        values: &["imagepath"],
        reason: HEX_BY_HEADER,
    },
    Known {
        file: "real/ionuttbara_windows-defender-remover__Disabler_Enable.reg",
        key: "wdboot",
        values: &["signaturesversion"],
        reason: RAW_NEWLINE,
    },
    Known {
        file: "real/ionuttbara_windows-defender-remover__Disabler_Enable.reg",
        key: "wdnisdrv",
        values: &["dependonservice", "imagepath"],
        reason: HEX_BY_HEADER,
    },
    Known {
        file: "real/ionuttbara_windows-defender-remover__Disabler_Enable.reg",
        key: "wdnissvc",
        values: &["dependonservice", "imagepath"],
        reason: HEX_BY_HEADER,
    },
    Known {
        file: "real/ionuttbara_windows-defender-remover__Disabler_Enable.reg",
        key: "windefend",
        values: &["dependonservice", "imagepath", "requiredprivileges"],
        reason: HEX_BY_HEADER,
    },
    Known {
        file: "real/isPique_Fuck-Windows-Security__Enable.reg",
        key: "*",
        values: &["*"],
        reason: UTF8_BOM,
    },
    Known {
        file: "regashii/irregular-regedit5.reg",
        key: "hkey_current_user\\software\\regashii\\irre]\";gular",
        values: &["sz-line-break"],
        reason: HEX_BY_HEADER,
    },
    Known {
        file: "regashii/multi-sz-separation-regedit4.reg",
        key: "hkey_current_user\\software\\regashii\\multi-sz-separation",
        values: &["a-_-b"],
        reason: MULTI_SZ_EMPTY,
    },
    Known {
        file: "regashii/multi-sz-separation-regedit5.reg",
        key: "hkey_current_user\\software\\regashii\\multi-sz-separation",
        values: &["a-_-b"],
        reason: MULTI_SZ_EMPTY,
    },
];

/// Every documented divergence, with its reason. Short keys name a service under `SERVICES`.
fn known() -> Vec<(Divergence, &'static str)> {
    let mut out = Vec::new();
    for k in KNOWN {
        let key = if k.key.contains('\\') || k.key == "*" {
            k.key.to_string()
        } else {
            format!("{SERVICES}{}", k.key)
        };
        if k.values.is_empty() {
            out.push((
                Divergence {
                    file: k.file.into(),
                    key: key.clone(),
                    value: None,
                },
                k.reason,
            ));
        }
        for v in k.values {
            out.push((
                Divergence {
                    file: k.file.into(),
                    key: key.clone(),
                    value: Some((*v).into()),
                },
                k.reason,
            ));
        }
    }
    out
}

fn normalize_key(name: &str) -> String {
    let mut key = name.trim_end_matches('\\').to_string();
    while key.contains("\\\\") {
        key = key.replace("\\\\", "\\");
    }
    key.to_lowercase()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn from_data(data: Data<'_>) -> V {
    match data {
        Data::Sz(s) => V::Sz(text(&s)),
        Data::ExpandSz(s) => V::ExpandSz(text(&s)),
        Data::MultiSz(list) => V::MultiSz(list.iter().map(|s| text(s)).collect()),
        Data::Binary(b) => V::Binary(b),
        Data::Dword(n) => V::Dword(n),
        Data::Qword(n) => V::Qword(n),
        Data::Raw { kind, bytes } => V::Raw(kind, bytes),
        Data::None => V::Raw(u32::MAX, Vec::new()),
    }
}

fn from_regashii(value: &regashii::Value) -> Option<V> {
    use regashii::Value;
    Some(match value {
        Value::Delete => return None,
        Value::Sz(s) => V::Sz(s.clone()),
        Value::ExpandSz(s) => V::ExpandSz(s.clone()),
        Value::Binary(b) => V::Binary(b.clone()),
        Value::Dword(n) | Value::DwordBigEndian(n) => V::Dword(*n),
        Value::MultiSz(list) => V::MultiSz(list.clone()),
        Value::Qword(n) => V::Qword(*n),
        Value::Hex { kind, bytes } => V::Raw(u32::from(u8::from(*kind)), bytes.clone()),
    })
}

/// regashii's view of a file, or why it could not give one (error or panic).
fn regashii_state(path: &Path) -> Result<State, String> {
    let result = catch_unwind(AssertUnwindSafe(|| {
        regashii::Registry::deserialize_file(path)
    }));
    let registry = match result {
        Ok(Ok(registry)) => registry,
        Ok(Err(e)) => return Err(format!("error: {e}")),
        Err(_) => return Err("panic".into()),
    };
    let mut state = State::new();
    for (name, key) in registry.keys() {
        if key.kind() == regashii::KeyKind::Delete {
            continue;
        }
        let values = state.entry(normalize_key(name.raw())).or_default();
        for (value_name, value) in key.values() {
            let name = match value_name {
                regashii::ValueName::Default => String::new(),
                regashii::ValueName::Named(n) => n.to_lowercase(),
            };
            if let Some(v) = from_regashii(value) {
                values.insert(name, v);
            }
        }
    }
    Ok(state)
}

/// Our parse, merged the way regashii merges (case-insensitive keys and names, last wins).
fn our_state(path: &Path) -> Option<State> {
    let raw = std::fs::read(path).ok()?;
    let loaded = load(&path.to_string_lossy(), raw).ok()?;
    let Syntax::Reg(file) = &loaded.syntax else {
        return None;
    };
    let source_text = loaded.source.text();
    // key → (deleted, values with `None` for a value deletion)
    let mut merged: BTreeMap<String, (bool, BTreeMap<String, Option<V>>)> = BTreeMap::new();
    for block in &file.blocks {
        let key = normalize_key(&text(&source_text[block.key.name.as_range()]));
        let entry = merged.entry(key).or_default();
        if block.key.delete {
            *entry = (true, BTreeMap::new());
            continue;
        }
        if entry.0 {
            *entry = (false, BTreeMap::new());
        }
        for record in file.block_records(block) {
            let Some(value) = record.value() else {
                continue;
            };
            let name = text(&value_name(value, source_text)).to_lowercase();
            if matches!(value.data, ValueData::Delete { .. }) {
                entry.1.insert(name, None);
            } else if let Some(data) = decode_value(value, source_text, loaded.source.encoding) {
                entry.1.insert(name, Some(from_data(data)));
            }
        }
    }
    Some(
        merged
            .into_iter()
            .filter(|(_, (deleted, _))| !deleted)
            .map(|(key, (_, values))| {
                let values = values
                    .into_iter()
                    .filter_map(|(n, v)| Some((n, v?)))
                    .collect();
                (key, values)
            })
            .collect(),
    )
}

fn compare(file: &str, ours: &State, theirs: &State, out: &mut Vec<(Divergence, String)>) {
    let keys: BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
    for key in keys {
        let (Some(a), Some(b)) = (ours.get(key), theirs.get(key)) else {
            let detail = format!(
                "key only in {}",
                if ours.contains_key(key) {
                    "ours"
                } else {
                    "regashii"
                }
            );
            out.push((
                Divergence {
                    file: file.into(),
                    key: key.clone(),
                    value: None,
                },
                detail,
            ));
            continue;
        };
        let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for name in names {
            if a.get(name) != b.get(name) {
                out.push((
                    Divergence {
                        file: file.into(),
                        key: key.clone(),
                        value: Some(name.clone()),
                    },
                    format!("ours {:?} vs regashii {:?}", a.get(name), b.get(name)),
                ));
            }
        }
    }
}

#[test]
fn regashii_agrees_except_for_documented_divergences() {
    let Some(corpus) = corpus_or_skip("regashii_agrees_except_for_documented_divergences") else {
        return;
    };
    let mut found: Vec<(Divergence, String)> = Vec::new();
    let mut compared = 0;
    for (name, path) in corpus_reg_files(&corpus) {
        let Some(ours) = our_state(&path) else {
            continue; // refused by us (no header, Wine): covered by reg_corpus
        };
        match regashii_state(&path) {
            Ok(theirs) => {
                compare(&name, &ours, &theirs, &mut found);
                compared += 1;
            }
            Err(why) => found.push((
                Divergence {
                    file: name.clone(),
                    key: "*".into(),
                    value: Some("*".into()),
                },
                why,
            )),
        }
    }
    assert!(compared >= 15, "only {compared} files compared");

    let known = known();
    let documented: BTreeSet<&Divergence> = known.iter().map(|(d, _)| d).collect();
    let undocumented: Vec<String> = found
        .iter()
        .filter(|(d, _)| !documented.contains(d))
        .map(|(d, detail)| format!("{d:?}: {detail}"))
        .collect();
    assert!(
        undocumented.is_empty(),
        "undocumented divergences from regashii:\n{}",
        undocumented.join("\n")
    );
    let seen: BTreeSet<&Divergence> = found.iter().map(|(d, _)| d).collect();
    let stale: Vec<String> = known
        .iter()
        .filter(|(d, _)| !seen.contains(d))
        .map(|(d, reason)| format!("{d:?} ({reason})"))
        .collect();
    assert!(
        stale.is_empty(),
        "documented divergences that no longer occur:\n{}",
        stale.join("\n")
    );
}

/// Small inputs for the regashii shortcomings the corpus does not show.
const SYNTHETIC: &[(&str, &[u8])] = &[
    (
        "short-dword.reg",
        b"REGEDIT4\r\n\r\n[HKEY_CURRENT_USER\\S]\r\n\"one\"=dword:1\r\n\"full\"=dword:00000002\r\n",
    ),
    (
        "one-digit-bytes.reg",
        b"REGEDIT4\r\n\r\n[HKEY_CURRENT_USER\\S]\r\n\"b\"=hex:1,a,ff\r\n\"ok\"=hex:01\r\n",
    ),
    (
        "short-hex5.reg",
        b"Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\S]\r\n\"be\"=hex(5):01\r\n",
    ),
    (
        "ansi-regedit4.reg",
        b"REGEDIT4\r\n\r\n[HKEY_CURRENT_USER\\S]\r\n\"caf\xE9\"=\"cr\xE8me\"\r\n",
    ),
    (
        "agreeing.reg",
        b"REGEDIT4\r\n\r\n[HKEY_CURRENT_USER\\S]\r\n@=\"d\"\r\n\"x\"=dword:0000000a\r\n\"y\"=-\r\n",
    ),
];

const SYNTHETIC_KNOWN: &[(&str, &str, &str, &str)] = &[
    (
        "short-dword.reg",
        "hkey_current_user\\s",
        "one",
        "regashii demands exactly 8 dword digits; regedit takes 1 to 8 (Wine test Wine32a)",
    ),
    (
        "short-dword.reg",
        "hkey_current_user\\s",
        "full",
        "regashii stops at the first line it cannot parse and loses every later value",
    ),
    (
        "one-digit-bytes.reg",
        "hkey_current_user\\s",
        "b",
        "regashii demands 2-digit hex bytes; regedit takes 1 or 2",
    ),
    (
        "short-hex5.reg",
        "*",
        "*",
        "regashii panics on hex(5) data shorter than 4 bytes (slices bytes[0..4]); we keep it raw",
    ),
    (
        "ansi-regedit4.reg",
        "*",
        "*",
        "regashii reads non-UTF-8 bytes as UTF-16 and fails; a REGEDIT4 file is 8-bit ANSI text",
    ),
];

#[test]
fn synthetic_inputs_where_regashii_is_wrong() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut found = Vec::new();
    for (name, bytes) in SYNTHETIC {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write temp file");
        let ours = our_state(&path).expect("we accept every synthetic input");
        match regashii_state(&path) {
            Ok(theirs) => compare(name, &ours, &theirs, &mut found),
            Err(why) => found.push((
                Divergence {
                    file: (*name).into(),
                    key: "*".into(),
                    value: Some("*".into()),
                },
                why,
            )),
        }
    }
    let got: BTreeSet<(String, String, String)> = found
        .iter()
        .map(|(d, _)| {
            (
                d.file.clone(),
                d.key.clone(),
                d.value.clone().unwrap_or_default(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, String)> = SYNTHETIC_KNOWN
        .iter()
        .map(|(f, k, v, _)| ((*f).into(), (*k).into(), (*v).into()))
        .collect();
    assert_eq!(got, want, "details: {found:?}");
}
