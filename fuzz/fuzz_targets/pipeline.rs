//! The whole check + fix pipeline on a package of up to three files, in memory. The input is
//! a mode byte and the files separated by NUL bytes (which no accepted 8-bit file contains);
//! the mode picks unsafe fixes, a declared service, and which files become UTF-16LE.
//!
//! Checked (see `tests/common/invariants.rs`): no panic; diagnostics and edits lie inside the
//! text; every fixed file re-loads in its encoding and format, keeps the bytes outside its
//! changed spans, has no new `Total Keys` problem and no applicable fix left; a file changes
//! exactly when `check` reported an applicable fix; a second fix changes nothing; and each
//! of the first fixes of `check`, applied alone, gives a file that loads.

#![no_main]

use libfuzzer_sys::fuzz_target;
use svcscrub::pipeline::{self, Loaded, Options};

#[path = "../common.rs"]
mod common;
#[path = "../../tests/common/invariants.rs"]
mod invariants;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let files: Vec<Loaded> = body
        .split(|&b| b == 0)
        .take(3)
        .enumerate()
        .filter_map(|(i, part)| {
            // Bits 2..: UTF-16 for file i; everything else as the bytes are.
            let wide = mode >> (2 + i) & 1 == 1;
            let raw = common::file_bytes(u8::from(wide), part);
            let name = format!("pkg/file{i}");
            match pipeline::load(&name, raw) {
                Ok(loaded) => Some(loaded),
                Err(e) => {
                    common::assert_one_line(&e.to_string());
                    None
                }
            }
        })
        .collect();
    if files.is_empty() {
        return;
    }
    let declared = if mode & 2 != 0 {
        vec!["Foo".to_string(), "kbstuff".to_string()]
    } else {
        Vec::new()
    };
    let options = Options {
        declared_services: &declared,
        unsafe_fixes: mode & 1 != 0,
        enabled: None,
        keep: None,
    };
    invariants::check_package(&files, &options, 8);
});
