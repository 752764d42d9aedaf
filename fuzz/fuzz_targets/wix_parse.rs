//! The WiX source reader: the first input byte picks how the rest becomes a file (as is; UTF-16LE
//! with a BOM transcoded from it; raw bytes behind a UTF-16LE BOM; behind a UTF-8 BOM). It never
//! panics; an error is one line; an accepted source encodes back to its bytes, its tree accounts
//! for every byte, and its views read and its edits apply without panicking: every registry
//! element removed and every `Key` rewritten gives a text that parses again.

#![no_main]

use libfuzzer_sys::fuzz_target;
use svcscrub::detect::{Format, WixSchema};
use svcscrub::fix::apply_edits;
use svcscrub::pipeline;
use svcscrub::syntax::{Syntax, wix};

#[path = "../common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    // The parser alone, on any bytes (detection would turn most away).
    for schema in [WixSchema::V3, WixSchema::V4, WixSchema::Unqualified] {
        if let Ok(doc) = wix::parse(body, schema) {
            assert!(doc.is_lossless(body), "the tree does not account for the text");
        }
    }
    let raw = common::file_bytes(mode, body);
    match pipeline::load("fuzz.wxs", raw.clone()) {
        Ok(loaded) => {
            let text = loaded.source.text();
            assert_eq!(loaded.source.encode(text), raw, "encode(decode(x)) != x");
            let (Syntax::Wix(doc), Format::Wix(schema)) = (&loaded.syntax, loaded.format) else {
                return;
            };
            assert!(doc.is_lossless(text), "the tree does not account for the text");
            for op in doc.registry_operations(text) {
                let element = op.element();
                let _ = (element.key(doc, text), element.root(doc, text));
                let _ = doc.multi_strings(text, element.index);
                let removed = apply_edits(text, &[doc.removal(text, element.element)])
                    .expect("a removal fits the text");
                let after = wix::parse(&removed, schema).expect("a removal parses again");
                assert!(after.elements.len() < doc.elements.len());
                if let Some(key) = doc.attribute(text, element.element, "Key") {
                    let rewrite = doc.attribute_rewrite(key, b"SYSTEM\\CurrentControlSet\\<&'\">");
                    let rewritten = apply_edits(text, &[rewrite]).expect("a rewrite fits");
                    wix::parse(&rewritten, schema).expect("a rewrite parses again");
                }
            }
            for service in doc.service_installs() {
                let _ = (service.field(doc, text, "Name"), service.dependencies(doc, text));
            }
        }
        Err(e) => common::assert_one_line(&e.to_string()),
    }
});
