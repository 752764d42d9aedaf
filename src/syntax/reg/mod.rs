//! Lossless `.reg` parser (`FORMATS.md` §2).

use super::SyntaxError;
use crate::detect::RegVersion;

/// A parsed registry export.
#[derive(Clone, Debug)]
pub struct RegFile {
    pub version: RegVersion,
}

pub fn parse(_text: &[u8], _version: RegVersion) -> Result<RegFile, SyntaxError> {
    Err(SyntaxError::new(0, ".reg parsing is not implemented yet"))
}
