//! The in-memory pipeline over one file: bytes → source → format → syntax. No filesystem.

use crate::detect::{self, Format};
use crate::error::InputError;
use crate::source::SourceFile;
use crate::syntax::{self, Syntax};

/// A file that was decoded, recognised and parsed.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub source: SourceFile,
    pub format: Format,
    pub syntax: Syntax,
}

/// Runs the `source`, `detect` and `syntax` stages on one file's bytes.
pub fn load(path: &str, raw: Vec<u8>) -> Result<Loaded, InputError> {
    let source = SourceFile::new(path, raw).map_err(|e| InputError::new(path, e.to_string()))?;
    let text = source.text();
    let format = detect::detect(text, source.encoding)
        .map_err(|e| InputError::at(path, source.line_col(e.offset), e.message))?;
    let syntax = syntax::parse(text, format)
        .map_err(|e| InputError::at(path, source.line_col(e.offset), e.message))?;
    Ok(Loaded {
        source,
        format,
        syntax,
    })
}
