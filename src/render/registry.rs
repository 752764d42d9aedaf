//! `svcscrub registry`: the registry state a package installs, as a regedit 5 export or as
//! JSON.
//!
//! The export is what `regedit /E` writes for the keys the package names (decoded, one line
//! ending `\n`): the header, then each key (a key before its subkeys, siblings by name as the
//! registry compares them) with a blank line before it, its values sorted the same way, one
//! value per line with hex data wrapped as regedit wraps it. Only the package's own keys are
//! shown, with the keys between them it implies; a key or value the package deletes is shown
//! as the deletion (`[-KEY]`, `"name"=-`), so the text imports as the same state. Where the
//! outcome depends on what runs (a conditional operation, files without an order between
//! them), the alternatives follow as `;` comments.

use std::io::{self, Write};

use serde::Serialize;

use crate::model::state::{KeyId, KeyState, Outcome, State, Value, show_references};

/// The export header.
pub const HEADER: &str = "Windows Registry Editor Version 5.00";

/// regedit wraps hex data once a line reaches this many characters.
const MAX_HEX_CHARS: usize = 77;

/// The keys to show: the package's own (explicit) keys, and implied keys below one of them.
fn shown(state: &State) -> Vec<(&KeyId, &KeyState)> {
    let mut out: Vec<(&KeyId, &KeyState)> = Vec::new();
    let mut top: Option<&KeyId> = None;
    for (id, key) in &state.keys {
        let within = top.is_some_and(|t| id.is_within(t));
        if !within {
            top = None;
        }
        if key.explicit {
            top = top.or(Some(id));
            out.push((id, key));
        } else if within {
            out.push((id, key));
        }
    }
    out
}

/// The key's path as regedit writes it.
pub fn key_path(id: &KeyId, key: &KeyState) -> String {
    let mut out = String::from(id.hive.long_name());
    for segment in &key.path {
        out.push('\\');
        out.push_str(&show_references(segment));
    }
    out
}

/// Writes `state` as a regedit 5 export (without the header).
pub fn write_export(out: &mut dyn Write, state: &State) -> io::Result<()> {
    for (id, key) in shown(state) {
        let path = key_path(id, key);
        let deleted = key.exists == [Outcome::Deleted];
        writeln!(out)?;
        if deleted {
            writeln!(out, "[-{path}]")?;
            continue;
        }
        writeln!(out, "[{path}]")?;
        if key.exists.contains(&Outcome::Deleted) {
            writeln!(out, "; the package may delete this key instead")?;
        }
        for value in key.values.values() {
            let line = |outcome: &Outcome<Value>| match outcome {
                Outcome::Set(v) => value_line(&value.name, v),
                Outcome::Deleted => format!("{}=-", name_part(&value.name)),
                Outcome::Untouched => format!("{} as it was", name_part(&value.name)),
            };
            match value.possible.as_slice() {
                [Outcome::Untouched] => {}
                [one] => writeln!(out, "{}", line(one))?,
                many => {
                    writeln!(
                        out,
                        "; {} depends on what runs; one of:",
                        name_part(&value.name)
                    )?;
                    for outcome in many {
                        for (i, l) in line(outcome).lines().enumerate() {
                            let lead = if i == 0 { ";   " } else { ";     " };
                            writeln!(out, "{lead}{l}")?;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// `"name"` or `@` for the default value, escaped as regedit escapes it.
fn name_part(name: &str) -> String {
    if name.is_empty() {
        "@".to_string()
    } else {
        format!("\"{}\"", escape(name))
    }
}

/// `\` and `"` escaped.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// One value as regedit exports it: a string in quotes, a DWORD as `dword:`, anything else as
/// `hex(N):` bytes wrapped at 77 characters.
pub fn value_line(name: &str, value: &Value) -> String {
    let name = name_part(name);
    if value.kind == 1
        && let Some(text) = value.text()
        && let Some(inner) = text.strip_suffix('\0')
        && !inner.contains('\0')
    {
        return format!("{name}=\"{}\"", escape(&show_references(inner)));
    }
    if value.kind == 4 && value.bytes.len() == 4 {
        let n = u32::from_le_bytes([
            value.bytes[0],
            value.bytes[1],
            value.bytes[2],
            value.bytes[3],
        ]);
        return format!("{name}=dword:{n:08x}");
    }
    let kind = if value.kind == 3 {
        "hex:".to_string()
    } else {
        format!("hex({:x}):", value.kind)
    };
    let bytes = shown_bytes(value);
    let mut line = format!("{name}={kind}");
    let mut len = line.chars().count();
    for (i, b) in bytes.iter().enumerate() {
        line.push_str(&format!("{b:02x}"));
        if i + 1 == bytes.len() {
            break;
        }
        line.push(',');
        len += 3;
        if len >= MAX_HEX_CHARS {
            line.push_str("\\\n  ");
            len = 2;
        }
    }
    line
}

/// A value's bytes, its references written `%NAME%` (a script's install-time variables).
fn shown_bytes(value: &Value) -> Vec<u8> {
    match value.text() {
        Some(text) if text.contains(crate::model::state::REFERENCE_OPEN) => show_references(&text)
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect(),
        _ => value.bytes.clone(),
    }
}

#[derive(Serialize)]
struct JsonKey {
    key: String,
    /// `created`, `deleted`, `unchanged` (the outcomes the key may have).
    exists: Vec<&'static str>,
    values: Vec<JsonValue>,
}

#[derive(Serialize)]
struct JsonValue {
    name: String,
    possible: Vec<JsonOutcome>,
}

#[derive(Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
enum JsonOutcome {
    Set {
        #[serde(rename = "type")]
        kind: &'static str,
        /// Strings and numbers as Windows reads them; other data as hex.
        data: serde_json::Value,
        /// The data as the registry stores it, in hex.
        bytes: String,
    },
    Deleted,
    Unchanged,
}

fn type_name(kind: u32) -> &'static str {
    match kind {
        0 => "REG_NONE",
        1 => "REG_SZ",
        2 => "REG_EXPAND_SZ",
        3 => "REG_BINARY",
        4 => "REG_DWORD",
        7 => "REG_MULTI_SZ",
        0xb => "REG_QWORD",
        _ => "other",
    }
}

fn json_outcome(outcome: &Outcome<Value>) -> JsonOutcome {
    match outcome {
        Outcome::Untouched => JsonOutcome::Unchanged,
        Outcome::Deleted => JsonOutcome::Deleted,
        Outcome::Set(v) => {
            let hex: String = v.bytes.iter().map(|b| format!("{b:02x}")).collect();
            let data = match (v.kind, v.text()) {
                (1 | 2, Some(t)) => {
                    serde_json::Value::String(show_references(t.split('\0').next().unwrap_or("")))
                }
                (7, Some(t)) => serde_json::Value::Array(
                    t.trim_end_matches('\0')
                        .split('\0')
                        .filter(|s| !s.is_empty() || !t.trim_end_matches('\0').is_empty())
                        .map(|s| serde_json::Value::String(show_references(s)))
                        .collect(),
                ),
                (4, _) if v.bytes.len() == 4 => serde_json::Value::from(u32::from_le_bytes([
                    v.bytes[0], v.bytes[1], v.bytes[2], v.bytes[3],
                ])),
                (0xb, _) if v.bytes.len() == 8 => {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&v.bytes);
                    serde_json::Value::from(u64::from_le_bytes(b))
                }
                _ => serde_json::Value::String(hex.clone()),
            };
            JsonOutcome::Set {
                kind: type_name(v.kind),
                data,
                bytes: hex,
            }
        }
    }
}

/// The keys of `state` as JSON values (the shown keys, in export order).
pub fn json_keys(state: &State) -> serde_json::Value {
    let keys: Vec<JsonKey> = shown(state)
        .into_iter()
        .map(|(id, key)| JsonKey {
            key: key_path(id, key),
            exists: key
                .exists
                .iter()
                .map(|o| match o {
                    Outcome::Set(()) => "created",
                    Outcome::Deleted => "deleted",
                    Outcome::Untouched => "unchanged",
                })
                .collect(),
            values: key
                .values
                .values()
                .filter(|v| v.possible != [Outcome::Untouched])
                .map(|v| JsonValue {
                    name: v.name.clone(),
                    possible: v.possible.iter().map(json_outcome).collect(),
                })
                .collect(),
        })
        .collect();
    serde_json::to_value(keys).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_value(kind: u32, text: &str) -> Value {
        Value {
            kind,
            bytes: text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        }
    }

    #[test]
    fn values_are_written_as_regedit_exports_them() {
        assert_eq!(
            value_line("Path", &text_value(1, "C:\\a \"b\"\0")),
            r#""Path"="C:\\a \"b\"""#
        );
        assert_eq!(
            value_line(
                "",
                &Value {
                    kind: 4,
                    bytes: vec![0x10, 0, 0, 0]
                }
            ),
            "@=dword:00000010"
        );
        // A string without its terminator is not a quoted string.
        assert_eq!(
            value_line("s", &text_value(1, "ab")),
            "\"s\"=hex(1):61,00,62,00"
        );
        // regedit's wrapping: 20 bytes after `"ImagePath"=hex(2):`, then 25 per line.
        let path = "System32\\Drivers\\SYMEVENT.SYS\0";
        let line = value_line("ImagePath", &text_value(2, path));
        let lines: Vec<&str> = line.lines().collect();
        assert_eq!(
            lines[0],
            r#""ImagePath"=hex(2):53,00,79,00,73,00,74,00,65,00,6d,00,33,00,32,00,5c,00,44,00,\"#
        );
        assert_eq!(
            lines[1],
            r"  72,00,69,00,76,00,65,00,72,00,73,00,5c,00,53,00,59,00,4d,00,45,00,56,00,45,\"
        );
        assert_eq!(lines[2], "  00,4e,00,54,00,2e,00,53,00,59,00,53,00,00,00");
    }
}
