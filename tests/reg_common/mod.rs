//! Helpers shared by the `.reg` integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use svcscrub::detect::RegVersion;
use svcscrub::model::{FileModel, reg::lower};
use svcscrub::source::{Encoding, SourceFile};
use svcscrub::syntax::reg::{self, RegFile};

#[path = "../common/locate.rs"]
mod locate;

/// The corpus, or `None` after printing why `test` is skipped (see `locate`).
pub fn corpus_or_skip(test: &str) -> Option<PathBuf> {
    locate::corpus(test)
}

/// Every `.reg` file of the corpus, sorted, as (relative name, path).
pub fn corpus_reg_files(corpus: &Path) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    for sub in ["regashii", "real", "other"] {
        let dir = corpus.join("reg").join(sub);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("reg"))
            {
                let name = format!(
                    "{sub}/{}",
                    path.file_name().unwrap_or_default().to_string_lossy()
                );
                files.push((name, path));
            }
        }
    }
    files.sort();
    files
}

/// Parses an 8-bit working text, failing the test on a missing header.
pub fn parse(text: &str) -> RegFile {
    let version = if text.trim_start().starts_with("REGEDIT4") {
        RegVersion::Regedit4
    } else {
        RegVersion::Regedit5
    };
    let file = reg::parse(text.as_bytes(), version).expect("header");
    assert_eq!(file.print(text.as_bytes()), text.as_bytes(), "lossless");
    assert!(file.is_lossless());
    file
}

pub fn lower_ansi<'a>(file: &RegFile, text: &'a str) -> FileModel<'a> {
    lower(file, text.as_bytes(), Encoding::Ansi)
}

/// UTF-16LE bytes with a BOM.
pub fn utf16(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

/// Loads raw bytes through the source stage.
pub fn source(raw: Vec<u8>) -> SourceFile {
    SourceFile::new("test.reg", raw).expect("decodes")
}

pub fn s(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
