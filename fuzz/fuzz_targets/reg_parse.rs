//! The `.reg` parser in both encodings: the first input byte picks how the rest becomes a
//! file (8-bit as is; UTF-16LE with BOM transcoded from it; raw bytes behind a UTF-16 BOM, to
//! reach the decoding errors; behind a UTF-8 BOM). It never panics, an accepted file encodes
//! back to its bytes and prints back byte for byte, its nodes tile the text, and every value
//! decodes without panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use svcscrub::detect::RegVersion;
use svcscrub::model::reg::lower;
use svcscrub::pipeline;
use svcscrub::syntax::{Syntax, reg};

#[path = "../common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    for version in [RegVersion::Regedit4, RegVersion::Regedit5] {
        if let Ok(file) = reg::parse(body, version) {
            assert!(file.is_lossless(), "nodes do not tile the text");
            assert_eq!(file.print(body), body, "print(parse(x)) != x");
        }
    }

    let raw = common::file_bytes(mode, body);
    match pipeline::load("fuzz.reg", raw.clone()) {
        Ok(loaded) => {
            let text = loaded.source.text();
            assert_eq!(loaded.source.encode(text), raw, "encode(decode(x)) != x");
            if let Syntax::Reg(file) = &loaded.syntax {
                assert!(file.is_lossless(), "nodes do not tile the text");
                assert_eq!(file.print(text), text, "print(parse(x)) != x after load");
                let model = lower(file, text, loaded.source.encoding);
                for write in model.writes() {
                    assert!(write.range.end <= text.len() && write.record.end <= text.len());
                }
            }
        }
        Err(e) => common::assert_one_line(&e.to_string()),
    }
});
