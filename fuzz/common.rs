//! Helpers shared by the fuzz targets.

#![allow(dead_code)]

use svcscrub::source::{UTF8_BOM, UTF16LE_BOM};

/// The file a fuzz input stands for: `mode % 4` = 0: the bytes as they are; 1: UTF-16LE with a
/// BOM, transcoded from the bytes read as UTF-8 (lossily); 2: the raw bytes behind a UTF-16LE
/// BOM (odd lengths, unpaired surrogates); 3: the bytes behind a UTF-8 BOM.
pub fn file_bytes(mode: u8, body: &[u8]) -> Vec<u8> {
    match mode % 4 {
        0 => body.to_vec(),
        1 => {
            let mut raw = UTF16LE_BOM.to_vec();
            raw.extend(
                String::from_utf8_lossy(body)
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes),
            );
            raw
        }
        2 => [UTF16LE_BOM, body].concat(),
        _ => [UTF8_BOM, body].concat(),
    }
}

/// An input error is one line: no line break or carriage return in it.
pub fn assert_one_line(message: &str) {
    assert!(
        !message.contains(['\n', '\r']),
        "error message is not one line: {message:?}"
    );
}
