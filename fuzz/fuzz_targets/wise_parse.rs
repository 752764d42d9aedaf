//! The WiseScript parser on arbitrary bytes: it never panics, a parse error points inside the
//! text, an accepted text prints back byte for byte, and the typed views and the lowering
//! work on whatever was accepted. The same bytes also go through `pipeline::load` (encoding
//! detection, format detection, one-line errors).

#![no_main]

use libfuzzer_sys::fuzz_target;
use svcscrub::detect::ScriptKind;
use svcscrub::fix::invariants::total_keys_problems;
use svcscrub::model::wise::lower;
use svcscrub::pipeline;
use svcscrub::syntax::{Syntax, wise};

#[path = "../common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    match wise::parse(data, ScriptKind::Wse) {
        Ok(doc) => {
            assert_eq!(doc.print(data), data, "print(parse(x)) != x");
            for (i, item) in doc.items().iter().enumerate() {
                assert!(item.range().end <= data.len());
                if let Some(er) = doc.edit_registry(data, i as u32) {
                    for key in er.keys() {
                        let _ = (key.root(data), key.data_type(data), key.record());
                    }
                }
            }
            let model = lower(&doc, data, svcscrub::model::Charset::Ansi);
            for write in model.writes() {
                assert!(write.range.end <= data.len() && write.record.end <= data.len());
            }
            let _ = total_keys_problems(&doc, data);
        }
        Err(e) => assert!(e.offset <= data.len(), "error offset past the end"),
    }

    match pipeline::load("fuzz.wse", data.to_vec()) {
        Ok(loaded) => {
            let text = loaded.source.text();
            assert_eq!(loaded.source.encode(text), data, "encode(decode(x)) != x");
            if let Syntax::Script(doc) = &loaded.syntax {
                assert_eq!(doc.print(text), text, "print(parse(x)) != x after load");
            }
        }
        Err(e) => common::assert_one_line(&e.to_string()),
    }
});
