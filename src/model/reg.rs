//! Lowering a `.reg` export to a [`FileModel`], and decoding its value data.
//!
//! Each key block that is not a deletion yields one write for its key line (regedit creates
//! the key) and one per value record that sets a value. Deletions (`[-key]`, `"name"=-`),
//! values before any key or after a `[-key]` line (regedit ignores them), dropped and opaque
//! records (see [`ValueData`]) are not writes.

use std::borrow::Cow;

use super::{All, Data, FileModel, Hive, Origin, RegWrite, Selection};
use crate::source::Encoding;
use crate::syntax::reg::{
    HexBytes, HexKind, KeyBlock, KeyLine, RegFile, ValueData, ValueRecord, unescape,
};

/// Registry type numbers used by `hex(N):`.
const REG_SZ: u32 = 1;
const REG_EXPAND_SZ: u32 = 2;
const REG_BINARY: u32 = 3;
const REG_DWORD: u32 = 4;
const REG_MULTI_SZ: u32 = 7;
const REG_QWORD: u32 = 0xb;

pub fn lower<'a>(file: &RegFile, text: &'a [u8], encoding: Encoding) -> FileModel<'a> {
    lower_selected(file, text, encoding, &All)
}

/// As [`lower`], with only the key blocks whose key `selection` wants: a block's writes are
/// all kept or all left out, so the writes of a kept block stay one contiguous run.
pub fn lower_selected<'a>(
    file: &RegFile,
    text: &'a [u8],
    encoding: Encoding,
    selection: &impl Selection,
) -> FileModel<'a> {
    lower_in_pieces(
        file,
        text,
        encoding,
        selection,
        super::piece_count(text.len()),
    )
}

/// As [`lower_selected`], in `pieces` pieces of key blocks.
pub(crate) fn lower_in_pieces<'a>(
    file: &RegFile,
    text: &'a [u8],
    encoding: Encoding,
    selection: &impl Selection,
    pieces: usize,
) -> FileModel<'a> {
    // Blocks lower on their own, so a large export lowers in pieces of blocks, joined in order.
    let parts = super::in_pieces(file.blocks.len(), pieces, |range| {
        let mut writes = Vec::new();
        for block_index in range {
            if let Some(block) = file.blocks.get(block_index) {
                lower_block(
                    file,
                    text,
                    encoding,
                    selection,
                    block_index,
                    &block,
                    &mut writes,
                );
            }
        }
        writes
    });
    FileModel {
        writes: crate::pieces::concat(parts),
        ..FileModel::default()
    }
}

/// The writes of key block `block` (number `block_index`), if `selection` wants its key.
fn lower_block<'a>(
    file: &RegFile,
    text: &'a [u8],
    encoding: Encoding,
    selection: &impl Selection,
    block_index: usize,
    block: &KeyBlock,
    writes: &mut Vec<RegWrite<'a>>,
) {
    let key = &block.key;
    if key.delete {
        return;
    }
    let subkey_text = slice(text, key.subkey);
    if !selection.key_in_any_hive(subkey_text) {
        return;
    }
    let hive = key_hive(key, text);
    if !selection.key(hive, subkey_text) {
        return;
    }
    let container = u32::try_from(block_index).unwrap_or(u32::MAX);
    let subkey: Cow<'a, [u8]> = Cow::Borrowed(subkey_text);
    writes.push(RegWrite {
        hive,
        key: subkey.clone(),
        key_range: Some(key.subkey),
        value: None,
        data: Data::None,
        range: key.line,
        record: key.range,
        wow64_64: false,
        origin: Origin {
            container,
            index: Origin::KEY_LINE,
        },
        block: 0,
    });
    for (index, record) in file.block_records(block).iter().enumerate() {
        let Some(value) = record.value() else {
            continue;
        };
        let Some(data) = decode_value(value, text, encoding) else {
            continue;
        };
        writes.push(RegWrite {
            hive,
            key: subkey.clone(),
            key_range: Some(key.subkey),
            value: Some(value_name(value, text)),
            data,
            range: record.line,
            record: record.range,
            wow64_64: false,
            origin: Origin {
                container,
                index: u32::try_from(index).unwrap_or(u32::MAX - 1),
            },
            block: 0,
        });
    }
}

fn slice(text: &[u8], range: crate::text::TextRange) -> &[u8] {
    text.get(range.as_range()).unwrap_or(&[])
}

/// The hive a key line names (`HKEY_LOCAL_MACHINE`, `HKLM`, …; `Unknown` otherwise).
pub fn key_hive(key: &KeyLine, text: &[u8]) -> Hive {
    Hive::from_name(slice(text, key.root))
}

/// The decoded value name: `@` and `""` are both the default value, `""`.
pub fn value_name<'a>(value: &ValueRecord, text: &'a [u8]) -> Cow<'a, [u8]> {
    let inner = slice(text, value.name.inner());
    if value.name.escaped {
        unescape(inner)
    } else {
        Cow::Borrowed(inner)
    }
}

/// Decodes a value's data; `None` for anything that is not a write (deletion, dropped or
/// opaque data). Strings come out in the working-text encoding: UTF-16LE hex strings of
/// UTF-16 files become UTF-8, 8-bit hex strings keep their bytes; trailing NULs are stripped.
pub fn decode_value<'a>(
    value: &ValueRecord,
    text: &'a [u8],
    encoding: Encoding,
) -> Option<Data<'a>> {
    match value.data {
        ValueData::String { range, escaped } => {
            let inner = slice(text, range).get(1..range.len().saturating_sub(1))?;
            Some(Data::Sz(if escaped {
                unescape(inner)
            } else {
                Cow::Borrowed(inner)
            }))
        }
        ValueData::Dword { digits, .. } => {
            let n = slice(text, digits).iter().try_fold(0u32, |n, &d| {
                let digit = char::from(d).to_digit(16)?;
                n.checked_mul(16)?.checked_add(digit)
            })?;
            Some(Data::Dword(n))
        }
        ValueData::Hex {
            kind, bytes, count, ..
        } => {
            let mut raw = Vec::with_capacity(count);
            raw.extend(HexBytes::new(slice(text, bytes)));
            Some(decode_hex(kind, raw, encoding == Encoding::Utf16Le))
        }
        ValueData::Delete { .. }
        | ValueData::MultiLineString { .. }
        | ValueData::Invalid { .. }
        | ValueData::Broken { .. } => None,
    }
}

/// Interprets `hex`/`hex(N)` bytes by type. `wide`: strings are UTF-16LE (UTF-16 files).
fn decode_hex<'a>(kind: HexKind, bytes: Vec<u8>, wide: bool) -> Data<'a> {
    let kind = kind.type_number();
    let raw = |bytes| Data::Raw { kind, bytes };
    match kind {
        REG_BINARY => Data::Binary(bytes),
        REG_SZ | REG_EXPAND_SZ => match decode_string(&bytes, wide) {
            Some(s) if kind == REG_SZ => Data::Sz(Cow::Owned(s)),
            Some(s) => Data::ExpandSz(Cow::Owned(s)),
            None => raw(bytes),
        },
        REG_MULTI_SZ => match decode_multi(&bytes, wide) {
            Some(list) => Data::MultiSz(list.into_iter().map(Cow::Owned).collect()),
            None => raw(bytes),
        },
        REG_DWORD => match <[u8; 4]>::try_from(bytes.as_slice()) {
            Ok(b) => Data::Dword(u32::from_le_bytes(b)),
            Err(_) => raw(bytes),
        },
        REG_QWORD => match <[u8; 8]>::try_from(bytes.as_slice()) {
            Ok(b) => Data::Qword(u64::from_le_bytes(b)),
            Err(_) => raw(bytes),
        },
        _ => raw(bytes),
    }
}

/// A string's bytes without trailing NULs, as working text. `None` for UTF-16 that is not
/// valid (odd length, unpaired surrogate).
fn decode_string(bytes: &[u8], wide: bool) -> Option<Vec<u8>> {
    if !wide {
        let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
        return Some(bytes[..end].to_vec());
    }
    let units = utf16_units(bytes)?;
    let end = units.iter().rposition(|&u| u != 0).map_or(0, |p| p + 1);
    utf16_to_utf8(&units[..end])
}

/// A REG_MULTI_SZ's strings: NUL-separated, trailing NULs stripped, inner empty strings kept.
fn decode_multi(bytes: &[u8], wide: bool) -> Option<Vec<Vec<u8>>> {
    if !wide {
        let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
        if end == 0 {
            return Some(Vec::new());
        }
        return Some(
            bytes[..end]
                .split(|&b| b == 0)
                .map(<[u8]>::to_vec)
                .collect(),
        );
    }
    let units = utf16_units(bytes)?;
    let end = units.iter().rposition(|&u| u != 0).map_or(0, |p| p + 1);
    if end == 0 {
        return Some(Vec::new());
    }
    units[..end].split(|&u| u == 0).map(utf16_to_utf8).collect()
}

fn utf16_units(bytes: &[u8]) -> Option<Vec<u16>> {
    if bytes.len() % 2 != 0 {
        return None;
    }
    Some(
        bytes
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect(),
    )
}

fn utf16_to_utf8(units: &[u16]) -> Option<Vec<u8>> {
    String::from_utf16(units).ok().map(String::into_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_types_decode_by_encoding() {
        let wide = decode_hex(HexKind::Typed(2), b"a\0b\0\0\0".to_vec(), true);
        assert_eq!(wide, Data::ExpandSz(Cow::Owned(b"ab".to_vec())));
        let narrow = decode_hex(HexKind::Typed(2), b"ab\0".to_vec(), false);
        assert_eq!(narrow, Data::ExpandSz(Cow::Owned(b"ab".to_vec())));
        let multi = decode_hex(HexKind::Typed(7), b"a\0\0b\0\0".to_vec(), false);
        assert_eq!(
            multi,
            Data::MultiSz(vec![
                Cow::Owned(b"a".to_vec()),
                Cow::Owned(b"".to_vec()),
                Cow::Owned(b"b".to_vec())
            ])
        );
        assert_eq!(
            decode_hex(HexKind::Typed(7), vec![0, 0], true),
            Data::MultiSz(vec![])
        );
        assert_eq!(
            decode_hex(HexKind::Typed(4), vec![1, 0, 0, 0], true),
            Data::Dword(1)
        );
        assert_eq!(
            decode_hex(HexKind::Typed(4), vec![1], true),
            Data::Raw {
                kind: 4,
                bytes: vec![1]
            }
        );
        assert_eq!(
            decode_hex(HexKind::Typed(0xb), vec![0xff, 0, 0, 0, 0, 0, 0, 0], true),
            Data::Qword(255)
        );
        assert_eq!(
            decode_hex(HexKind::Typed(2), vec![0x00, 0xd8], true),
            Data::Raw {
                kind: 2,
                bytes: vec![0x00, 0xd8]
            }
        );
        assert_eq!(
            decode_hex(HexKind::Binary, vec![1, 2], true),
            Data::Binary(vec![1, 2])
        );
    }
}
