//! Lowering a WiseScript document to a [`FileModel`].
//!
//! Operations: a key's `Root & 0xE0` says what it does (0 write, 0x80 delete the key tree,
//! 0xC0 delete the value; others are not modelled). A write without `Value Name` and `New
//! Value` creates the key only. Order: items in file order, a nested item's keys after it
//! ([`script::seq`]); an item in a control-flow region (`If`/`While`, a wizard or compiler
//! block) may or may not run.
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

use super::service::{WISE_SETTABLE, wise_field_value};
use super::{
    All, Charset, Data, FileModel, Hive, OpKind, Operation, Origin, Selection, ServiceField,
    ServiceInstall, ServiceValue, TreeRef, script,
};
use crate::syntax::wise::{Document, Item, ItemKind, RegKey, RegOp};

/// The active registry operations and `Create Service` items of `doc`, in file order. `charset`:
/// how the working text reads (see [`Charset::of`]).
pub fn lower<'a>(doc: &'a Document, text: &'a [u8], charset: Charset) -> FileModel<'a> {
    lower_selected(doc, text, charset, &All)
}

/// As [`lower`], with only the operations `selection` wants.
pub fn lower_selected<'a>(
    doc: &'a Document,
    text: &'a [u8],
    charset: Charset,
    selection: &impl Selection,
) -> FileModel<'a> {
    lower_in_pieces(
        doc,
        text,
        charset,
        selection,
        super::piece_count(text.len()),
    )
}

/// As [`lower_selected`], in `pieces` pieces of items.
pub(crate) fn lower_in_pieces<'a>(
    doc: &'a Document,
    text: &'a [u8],
    charset: Charset,
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
                        if let Some(op) = lower_key(doc, text, &key, block, selection) {
                            part.ops.push(op);
                        }
                    }
                }
                ItemKind::CreateService => {
                    part.services.push(service_install(doc, text, index, item));
                }
                _ => {}
            }
        }
        part
    });
    let (ops, services): (Vec<_>, Vec<_>) = parts.into_iter().map(|p| (p.ops, p.services)).unzip();
    FileModel {
        ops: crate::pieces::concat(ops),
        services: crate::pieces::concat(services),
        charset,
        templates: true,
        includes: script::includes(doc, text),
        service_item: Some("Create Service"),
        tree: TreeRef::Script(doc, text),
    }
}

/// The `Create Service` item `item`, at `index`: its fields in the SCM's terms. A number
/// field that is absent is 0 (`FORMATS.md`); one that is not a number is `None`.
fn service_install<'a>(
    doc: &Document,
    text: &'a [u8],
    index: u32,
    item: &Item,
) -> ServiceInstall<'a> {
    let fields: Vec<ServiceField<'a>> = doc
        .props_of(index)
        .map(|p| ServiceField {
            label: p.key_bytes(text),
            value: p.value_bytes(text),
            line: p.line(),
            value_range: p.value(),
            sets: wise_field_value(p.key_bytes(text)),
        })
        .collect();
    let name = fields
        .iter()
        .find(|f| f.label.eq_ignore_ascii_case(b"Service Name"))
        .map_or(&b""[..], |f| f.value);
    let text_of = |value: ServiceValue| {
        fields
            .iter()
            .find(|f| f.sets == Some(value))
            .map(|f| f.value)
    };
    let number = |value: ServiceValue| match text_of(value) {
        None => Some(0),
        Some(t) => std::str::from_utf8(t)
            .ok()
            .and_then(|t| t.trim().parse().ok()),
    };
    ServiceInstall {
        name: Cow::Borrowed(name),
        unresolved: false,
        service_type: number(ServiceValue::Type),
        start: number(ServiceValue::Start),
        error_control: number(ServiceValue::ErrorControl),
        image_path: text_of(ServiceValue::ImagePath),
        display_name: text_of(ServiceValue::DisplayName),
        account: text_of(ServiceValue::ObjectName),
        group: None,
        more: Vec::new(),
        settable: WISE_SETTABLE,
        handle: Origin {
            container: index,
            index: 0,
        },
        head: item.head_text(),
        range: item.range(),
        block: doc.block(index),
        seq: script::seq(index, 0),
        fields,
    }
}

/// One key as an operation; `None` for remarked keys, unknown operations, unreadable `Root`s
/// and operations `selection` does not want.
fn lower_key<'a>(
    doc: &Document,
    text: &'a [u8],
    key: &RegKey<'_>,
    block: u32,
    selection: &impl Selection,
) -> Option<Operation<'a>> {
    if !key.active() {
        return None;
    }
    // Most keys are wanted neither for their path nor for their data: rule them out from their
    // `Key=` line, the item's text and their `New Value` lines before reading every field.
    let path = key.key(text).map_or(&b""[..], |p| p.value_bytes(text));
    if !selection.key_in_any_hive(path) {
        let record = key.record();
        if !selection.data_record(text.get(record.as_range()).unwrap_or_default())
            || !key
                .new_values(text)
                .any(|p| selection.data_line(p.value_bytes(text)))
        {
            return None;
        }
    }
    let f = key.fields(text);
    let op = f.root.op();
    if matches!(op, RegOp::Unknown(_)) {
        return None;
    }
    let hive = Hive::from_root(f.root.number()?);
    let key_text = f.key.map_or(&b""[..], |p| p.value_bytes(text));
    let wanted = selection.key(hive, key_text)
        || match f.new_value_count {
            0 => false,
            1 => f
                .first_new_value
                .is_some_and(|p| selection.data_line(p.value_bytes(text))),
            _ => key
                .new_values(text)
                .any(|p| selection.data_line(p.value_bytes(text))),
        };
    if !wanted {
        return None;
    }
    let holder = doc.item(key.holder)?;
    let name = || Cow::Borrowed(f.value_name.map_or(&b""[..], |p| p.value_bytes(text)));
    let (kind, value, data) = match op {
        RegOp::DeleteKey => (OpKind::DeleteKey, None, Data::None),
        RegOp::DeleteValue => (OpKind::DeleteValue, Some(name()), Data::None),
        _ if f.value_name.is_none() && f.new_value_count == 0 => {
            (OpKind::CreateKey, None, Data::None)
        }
        _ => {
            let data = if f.new_value_count <= 1 {
                // The usual case: one line (or none), borrowed, no allocation.
                let line = f.first_new_value.map(|p| p.value_bytes(text));
                decode(f.data_type, trim_final_break(line.as_slice()))
            } else {
                let lines: Vec<&'a [u8]> =
                    key.new_values(text).map(|p| p.value_bytes(text)).collect();
                decode(f.data_type, trim_final_break(&lines))
            };
            (OpKind::SetValue, Some(name()), data)
        }
    };
    // The installer passes a string with its terminator, a multi-string's last string with
    // its own and the list's.
    let nuls = match data {
        Data::MultiSz(_) => 2,
        _ => 1,
    };
    Some(Operation {
        kind,
        hive,
        key: Cow::Borrowed(key_text),
        key_range: f.key.map(|p| p.value()),
        unresolved: false,
        value,
        data,
        nuls,
        range: f.key.map_or_else(|| holder.head_text(), |p| p.text_range()),
        record: key.record(),
        wow64_64: f.x64,
        origin: Origin {
            container: key.item,
            index: key.index,
        },
        block,
        seq: script::seq(key.item, key.index),
        statement: None,
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
