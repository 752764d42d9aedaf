//! Lowering a WiseScript document to a [`FileModel`].
//!
//! Origins: `container` is the item's index in [`Document::items`], the preorder enumeration
//! of ALL items (nested ones included, e.g. an `Edit Registry` inside a dialog's event script),
//! so the planner resolves it in O(1); `index` is the key's position among the item's keys
//! (`item: Key` children in order, remarked ones counted), 0 for flat and Wise 5 items.
//!
//! `New Value` lines: the Wise editor stores a value's text box line by line, and a text ending
//! in a line break leaves a final empty `New Value=` line. Real scripts show it after single
//! REG_SZ values (`New Value=%SYS32%\x.dll` + `New Value=`) and after REG_MULTI_SZ lists (the
//! terminating empty string), so one final empty line is treated as that line break and not
//! as data (inferred, not verified). The remaining lines of REG_SZ / REG_EXPAND_SZ data are
//! joined with `\r\n` (the text box's line break); a single line (the normal case) is borrowed
//! from the text.

use std::borrow::Cow;

use super::{All, CreateService, Data, Field, FileModel, Hive, Origin, RegWrite, Selection};
use crate::syntax::wise::{Document, Item, ItemKind, RegKey, RegOp};

/// The active registry writes and `Create Service` items of `doc`, in file order.
pub fn lower<'a>(doc: &Document, text: &'a [u8]) -> FileModel<'a> {
    lower_selected(doc, text, &All)
}

/// As [`lower`], with only the writes `selection` wants.
pub fn lower_selected<'a>(
    doc: &Document,
    text: &'a [u8],
    selection: &impl Selection,
) -> FileModel<'a> {
    lower_in_pieces(doc, text, selection, super::piece_count(text.len()))
}

/// As [`lower_selected`], in `pieces` pieces of items.
pub(crate) fn lower_in_pieces<'a>(
    doc: &Document,
    text: &'a [u8],
    selection: &impl Selection,
    pieces: usize,
) -> FileModel<'a> {
    // Each item lowers on its own (an Edit Registry item reads its own `Key` children), so a
    // large document lowers in pieces of items, joined in order.
    let items = doc.items();
    let parts = super::in_pieces(items.len(), pieces, |range| {
        let mut part = FileModel::default();
        for (index, item) in range.clone().zip(&items[range]) {
            if !item.active() {
                continue;
            }
            let index = index as u32;
            match item.kind() {
                ItemKind::EditRegistry => {
                    let Some(er) = doc.edit_registry(text, index) else {
                        continue;
                    };
                    let block = doc.block(index);
                    for key in er.keys() {
                        if let Some(write) = lower_key(doc, text, &key, block, selection) {
                            part.writes.push(write);
                        }
                    }
                }
                ItemKind::CreateService => {
                    part.services.push(create_service(doc, text, index, item));
                }
                _ => {}
            }
        }
        part
    });
    let (writes, services): (Vec<_>, Vec<_>) =
        parts.into_iter().map(|p| (p.writes, p.services)).unzip();
    FileModel {
        writes: crate::pieces::concat(writes),
        services: crate::pieces::concat(services),
        script: super::script::facts(doc, text),
    }
}

/// The `Create Service` item `item`, at `index`.
fn create_service<'a>(
    doc: &Document,
    text: &'a [u8],
    index: u32,
    item: &Item,
) -> CreateService<'a> {
    let fields: Vec<Field<'a>> = doc
        .props_of(index)
        .map(|p| Field {
            key: p.key_bytes(text),
            value: p.value_bytes(text),
            line: p.line(),
            value_range: p.value(),
        })
        .collect();
    let name = fields
        .iter()
        .find(|f| f.key.eq_ignore_ascii_case(b"Service Name"))
        .map_or(&b""[..], |f| f.value);
    CreateService {
        name,
        fields,
        head: item.head_text(),
        range: item.range(),
        origin: Origin {
            container: index,
            index: 0,
        },
        block: doc.block(index),
    }
}

/// One key as a write; `None` for remarked keys, deletions, unreadable `Root`s and writes
/// `selection` does not want.
fn lower_key<'a>(
    doc: &Document,
    text: &'a [u8],
    key: &RegKey<'_>,
    block: u32,
    selection: &impl Selection,
) -> Option<RegWrite<'a>> {
    if !key.active() {
        return None;
    }
    // Most keys are wanted neither for their path nor for their data: rule them out from their
    // `Key=` line, the item's text and their `New Value` lines before reading every field.
    let path = key.key(text).map_or(&b""[..], |p| p.value_bytes(text));
    if !selection.key_in_any_hive(path) {
        let record = key.record();
        if !selection.script_record(text.get(record.as_range()).unwrap_or_default())
            || !key
                .new_values(text)
                .any(|p| selection.script_value_line(p.value_bytes(text)))
        {
            return None;
        }
    }
    let f = key.fields(text);
    if f.root.op() != RegOp::Write {
        return None;
    }
    let hive = Hive::from_root(f.root.number()?);
    let key_text = f.key.map_or(&b""[..], |p| p.value_bytes(text));
    let wanted = selection.key(hive, key_text)
        || match f.new_value_count {
            0 => false,
            1 => f
                .first_new_value
                .is_some_and(|p| selection.script_value_line(p.value_bytes(text))),
            _ => key
                .new_values(text)
                .any(|p| selection.script_value_line(p.value_bytes(text))),
        };
    if !wanted {
        return None;
    }
    let holder = doc.item(key.holder)?;
    let (value, data) = if f.value_name.is_none() && f.new_value_count == 0 {
        (None, Data::None)
    } else {
        let name = f.value_name.map_or(&b""[..], |p| p.value_bytes(text));
        let data = if f.new_value_count <= 1 {
            // The usual case: one line (or none), borrowed, no allocation.
            let line = f.first_new_value.map(|p| p.value_bytes(text));
            decode(f.data_type, trim_final_break(line.as_slice()))
        } else {
            let lines: Vec<&'a [u8]> = key.new_values(text).map(|p| p.value_bytes(text)).collect();
            decode(f.data_type, trim_final_break(&lines))
        };
        (Some(Cow::Borrowed(name)), data)
    };
    Some(RegWrite {
        hive,
        key: Cow::Borrowed(key_text),
        key_range: f.key.map(|p| p.value()),
        value,
        data,
        range: f.key.map_or_else(|| holder.head_text(), |p| p.text_range()),
        record: key.record(),
        wow64_64: f.x64,
        origin: Origin {
            container: key.item,
            index: key.index,
        },
        block,
    })
}

/// The `New Value` lines without the final empty one (the text box's trailing line break).
fn trim_final_break<'l, 'a>(lines: &'l [&'a [u8]]) -> &'l [&'a [u8]] {
    match lines.split_last() {
        Some((&[], rest)) => rest,
        _ => lines,
    }
}

/// Data by `Data Type` (`None` = not a number, kept raw as kind `u32::MAX`).
fn decode<'a>(data_type: Option<u32>, lines: &[&'a [u8]]) -> Data<'a> {
    match data_type {
        Some(0) => Data::Sz(join(lines)),
        Some(1) => Data::ExpandSz(join(lines)),
        Some(2) => Data::MultiSz(lines.iter().map(|l| Cow::Borrowed(*l)).collect()),
        Some(3) => {
            let text = join(lines);
            match crate::syntax::wise::parse_u32(&text) {
                Some(n) => Data::Dword(n),
                None => Data::Raw {
                    kind: 3,
                    bytes: text.into_owned(),
                },
            }
        }
        Some(4) => {
            let text = join(lines);
            match decode_hex(&text) {
                Some(bytes) => Data::Binary(bytes),
                None => Data::Raw {
                    kind: 4,
                    bytes: text.into_owned(),
                },
            }
        }
        other => Data::Raw {
            kind: other.unwrap_or(u32::MAX),
            bytes: join(lines).into_owned(),
        },
    }
}

fn join<'a>(lines: &[&'a [u8]]) -> Cow<'a, [u8]> {
    match lines {
        [] => Cow::Borrowed(b""),
        [one] => Cow::Borrowed(one),
        many => Cow::Owned(many.join(&b"\r\n"[..])),
    }
}

/// REG_BINARY text: hex digit pairs (`0000…`), or space-separated bytes of one or two digits
/// (`01 00 4 80`). Anything else is `None`.
fn decode_hex(text: &[u8]) -> Option<Vec<u8>> {
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(text.len() / 2);
    for token in text
        .split(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .filter(|t| !t.is_empty())
    {
        match token {
            [d] => out.push(digit(*d)?),
            pairs if pairs.len() % 2 == 0 => {
                for p in pairs.chunks_exact(2) {
                    out.push((digit(p[0])? << 4) | digit(p[1])?);
                }
            }
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::decode_hex;

    #[test]
    fn hex_with_and_without_spaces() {
        assert_eq!(decode_hex(b"0100ff"), Some(vec![1, 0, 0xff]));
        assert_eq!(decode_hex(b"01 00 4 80"), Some(vec![1, 0, 4, 0x80]));
        assert_eq!(decode_hex(b"0"), Some(vec![0]));
        assert_eq!(decode_hex(b""), Some(vec![]));
        assert_eq!(decode_hex(b"123"), None);
        assert_eq!(decode_hex(b"zz"), None);
    }
}
