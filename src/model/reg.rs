//! Lowering a `.reg` export to a [`FileModel`], and decoding its value data.
//!
//! Operations in line order: a `[-key]` line deletes the key tree (its values are ignored by
//! regedit); any other key line creates its key (regedit opens it with `RegCreateKeyEx`, even
//! when the block only deletes values), and each of its value records sets (`"name"=data`) or
//! deletes (`"name"=-`) a value. Values before any key line, dropped and opaque records (see
//! [`ValueData`]) do nothing. A block's operations share one path statement (the key line).
//!
//! Strings are installed as written: `%` is no reference here. In an 8-bit file regedit reads
//! `hex(1)`, `hex(2)` and `hex(7)` bytes as 8-bit text too, whatever they hold (a regedit 5
//! export re-saved as 8-bit keeps UTF-16 bytes there, which install cut at their first NUL);
//! its strings decode as such, NULs included.

use std::borrow::Cow;

use super::{All, Charset, Data, FileModel, Hive, OpKind, Operation, Origin, Selection};
use crate::source::Encoding;
use crate::syntax::reg::{
    HexBytes, HexKind, KeyBlock, KeyLine, RegFile, ValueData, ValueRecord, unescape,
};

use super::kind::{
    BINARY as REG_BINARY, DWORD as REG_DWORD, EXPAND_SZ as REG_EXPAND_SZ, MULTI_SZ as REG_MULTI_SZ,
    QWORD as REG_QWORD, SZ as REG_SZ,
};

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
        ops: crate::pieces::concat(parts),
        charset: Charset::of(encoding),
        ..FileModel::default()
    }
}

/// The operations of key block `block` (number `block_index`), if `selection` wants its key.
fn lower_block<'a>(
    file: &RegFile,
    text: &'a [u8],
    encoding: Encoding,
    selection: &impl Selection,
    block_index: usize,
    block: &KeyBlock,
    ops: &mut Vec<Operation<'a>>,
) {
    let key = &block.key;
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
    let seq = |record: u64| (u64::from(container) << 32) | record;
    ops.push(Operation {
        kind: if key.delete {
            OpKind::DeleteKey
        } else {
            OpKind::CreateKey
        },
        hive,
        key: subkey.clone(),
        key_range: Some(key.subkey),
        unresolved: false,
        value: None,
        data: Data::None,
        nuls: 0,
        range: key.line,
        record: key.range,
        wow64_64: false,
        origin: Origin {
            container,
            index: Origin::KEY_LINE,
        },
        block: 0,
        seq: seq(0),
        statement: Some(container),
    });
    if key.delete {
        return;
    }
    for (index, record) in file.block_records(block).iter().enumerate() {
        let Some(value) = record.value() else {
            continue;
        };
        let (kind, data, nuls) = if matches!(value.data, ValueData::Delete { .. }) {
            (OpKind::DeleteValue, Data::None, 0)
        } else {
            let Some((data, nuls)) = decode_value_exact(value, text, encoding) else {
                continue;
            };
            (OpKind::SetValue, data, nuls)
        };
        ops.push(Operation {
            kind,
            hive,
            key: subkey.clone(),
            key_range: Some(key.subkey),
            unresolved: false,
            value: Some(value_name(value, text)),
            data,
            nuls,
            range: record.line,
            record: record.range,
            wow64_64: false,
            origin: Origin {
                container,
                index: u32::try_from(index).unwrap_or(u32::MAX - 1),
            },
            block: 0,
            seq: seq(index as u64 + 1),
            statement: Some(container),
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
    decode_value_exact(value, text, encoding).map(|(data, _)| data)
}

/// As [`decode_value`], with the number of NUL characters that ended the string data (see
/// [`super::Operation::nuls`]): a quoted string gets regedit's terminator; hex strings keep
/// their own.
pub fn decode_value_exact<'a>(
    value: &ValueRecord,
    text: &'a [u8],
    encoding: Encoding,
) -> Option<(Data<'a>, u8)> {
    match value.data {
        ValueData::String { range, escaped } => {
            let inner = slice(text, range).get(1..range.len().saturating_sub(1))?;
            let data = Data::Sz(if escaped {
                unescape(inner)
            } else {
                Cow::Borrowed(inner)
            });
            Some((data, 1))
        }
        ValueData::Dword { digits, .. } => {
            let n = slice(text, digits).iter().try_fold(0u32, |n, &d| {
                let digit = char::from(d).to_digit(16)?;
                n.checked_mul(16)?.checked_add(digit)
            })?;
            Some((Data::Dword(n), 0))
        }
        ValueData::Hex {
            kind, bytes, count, ..
        } => {
            let mut raw = Vec::with_capacity(count);
            raw.extend(HexBytes::new(slice(text, bytes)));
            let wide = encoding == Encoding::Utf16Le;
            let nuls = trailing_nuls(&raw, wide);
            Some((decode_hex(kind, raw, wide), nuls))
        }
        ValueData::Delete { .. }
        | ValueData::MultiLineString { .. }
        | ValueData::Invalid { .. }
        | ValueData::Broken { .. } => None,
    }
}

/// How many NUL characters (bytes, or UTF-16 units when `wide`) end `bytes`, at most 255.
fn trailing_nuls(bytes: &[u8], wide: bool) -> u8 {
    let count = if wide {
        bytes
            .rchunks_exact(2)
            .take_while(|unit| unit == &[0, 0])
            .count()
    } else {
        bytes.iter().rev().take_while(|&&b| b == 0).count()
    };
    u8::try_from(count).unwrap_or(u8::MAX)
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
