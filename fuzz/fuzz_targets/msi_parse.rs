//! Windows Installer databases: any bytes behind the compound-file signature go through the
//! source stage (the `msi` crate, guarded) and `pipeline::load`; any bytes are also parsed as a
//! view text. Never a panic; an error is one line; an accepted database encodes back to its own
//! bytes, its view accounts for every byte, every row locates, and deleting any one row of its
//! view is a change the database can take (or a clear error).

#![no_main]

use libfuzzer_sys::fuzz_target;
use svcscrub::detect::COMPOUND_FILE_SIGNATURE;
use svcscrub::pipeline;
use svcscrub::syntax::{Syntax, msi};

#[path = "../common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if let Ok(view) = msi::parse(data) {
        assert!(view.is_lossless(data), "the view does not account for the text");
        for table in &view.tables {
            for row in &table.rows {
                let _ = view.values(data, table, row);
                assert!(view.locate(row.line.start).is_some());
            }
        }
    }
    // Inputs that start with the signature are databases as they are; others get it in front.
    let raw = if data.starts_with(COMPOUND_FILE_SIGNATURE) {
        data.to_vec()
    } else {
        [COMPOUND_FILE_SIGNATURE, data].concat()
    };
    match pipeline::load("fuzz.msi", raw.clone()) {
        Ok(loaded) => {
            let text = loaded.source.text();
            assert!(loaded.source.encode(text) == raw, "encode(decode(x)) != x");
            let Syntax::Msi(view) = &loaded.syntax else {
                panic!("a database that is not read as one");
            };
            assert!(view.is_lossless(text));
            let Some(database) = loaded.source.database() else {
                panic!("a database without its bytes");
            };
            if let Some(row) = view.tables.first().and_then(|t| t.rows.first()) {
                let without = [&text[..row.line.start], &text[row.line.end..]].concat();
                match msi::database::encode(database, &without) {
                    Ok(written) => {
                        let again = pipeline::load("again.msi", written).expect("a written database reads");
                        assert!(again.source.text().len() < text.len());
                    }
                    Err(e) => common::assert_one_line(&e.to_string()),
                }
            }
        }
        Err(e) => common::assert_one_line(&e.to_string()),
    }
});
