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
//! terminating empty string), so one final empty line is treated as that line break and not as
//! data [inferred]. The remaining lines of REG_SZ / REG_EXPAND_SZ data are joined with `\r\n`
//! (the text box's line break); a single line (the normal case) is borrowed from the text.

use std::borrow::Cow;

use super::{CreateService, Data, Field, FileModel, Hive, Origin, RegWrite};
use crate::syntax::wise::{Document, ItemKind, RegKey, RegOp};

/// The active registry writes and `Create Service` items of `doc`, in file order.
pub fn lower<'a>(doc: &Document, text: &'a [u8]) -> FileModel<'a> {
    let mut model = FileModel::default();
    for (index, item) in doc.items().iter().enumerate() {
        if !item.active {
            continue;
        }
        let index = index as u32;
        match item.kind {
            ItemKind::EditRegistry => {
                let Some(er) = doc.edit_registry(text, index) else {
                    continue;
                };
                for key in er.keys() {
                    if let Some(write) = lower_key(doc, text, &key, item.block) {
                        model.writes.push(write);
                    }
                }
            }
            ItemKind::CreateService => {
                let fields: Vec<Field<'a>> = doc
                    .props_of(index)
                    .map(|p| Field {
                        key: p.key_bytes(text),
                        value: p.value_bytes(text),
                        line: p.line,
                        value_range: p.value,
                    })
                    .collect();
                let name = fields
                    .iter()
                    .find(|f| f.key.eq_ignore_ascii_case(b"Service Name"))
                    .map_or(&b""[..], |f| f.value);
                model.services.push(CreateService {
                    name,
                    fields,
                    head: item.head_text(text),
                    range: item.range,
                    origin: Origin {
                        container: index,
                        index: 0,
                    },
                    block: item.block,
                });
            }
            _ => {}
        }
    }
    model
}

/// One key as a write; `None` for remarked keys, deletions and unreadable `Root`s.
fn lower_key<'a>(
    doc: &Document,
    text: &'a [u8],
    key: &RegKey<'_>,
    block: u32,
) -> Option<RegWrite<'a>> {
    if !key.active() {
        return None;
    }
    let root = key.root(text);
    if root.op() != RegOp::Write {
        return None;
    }
    let hive = Hive::from_root(root.number()?);
    let key_prop = key.key(text);
    let holder = doc.item(key.holder)?;
    let mut lines: Vec<&'a [u8]> = key.new_values(text).map(|p| p.value_bytes(text)).collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let value_name = key.value_name(text);
    let (value, data) = match (value_name, key.new_values(text).next()) {
        (None, None) => (None, Data::None),
        (name, _) => (
            Some(Cow::Borrowed(
                name.map_or(&b""[..], |p| p.value_bytes(text)),
            )),
            decode(key.data_type(text), lines),
        ),
    };
    Some(RegWrite {
        hive,
        key: Cow::Borrowed(key_prop.map_or(&b""[..], |p| p.value_bytes(text))),
        key_range: key_prop.map(|p| p.value),
        value,
        data,
        range: key_prop.map_or_else(|| holder.head_text(text), |p| p.text_range()),
        record: key.record(),
        wow64_64: key.x64(text),
        origin: Origin {
            container: key.item,
            index: key.index,
        },
        block,
    })
}

/// Data by `Data Type` (`None` = not a number, kept raw as kind `u32::MAX`).
fn decode(data_type: Option<u32>, lines: Vec<&[u8]>) -> Data<'_> {
    match data_type {
        Some(0) => Data::Sz(join(&lines)),
        Some(1) => Data::ExpandSz(join(&lines)),
        Some(2) => Data::MultiSz(lines.into_iter().map(Cow::Borrowed).collect()),
        Some(3) => {
            let text = join(&lines);
            match crate::syntax::wise::parse_u32(&text) {
                Some(n) => Data::Dword(n),
                None => Data::Raw {
                    kind: 3,
                    bytes: text.into_owned(),
                },
            }
        }
        Some(4) => {
            let text = join(&lines);
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
            bytes: join(&lines).into_owned(),
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
    let mut out = Vec::with_capacity(text.len() / 2);
    for token in text
        .split(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .filter(|t| !t.is_empty())
    {
        let digits = token
            .iter()
            .map(|&b| (b as char).to_digit(16).map(|d| d as u8))
            .collect::<Option<Vec<u8>>>()?;
        match digits.as_slice() {
            [d] => out.push(*d),
            pairs if pairs.len() % 2 == 0 => {
                out.extend(pairs.chunks_exact(2).map(|p| (p[0] << 4) | p[1]));
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
