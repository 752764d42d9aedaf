//! Lowering a WiseScript document to a [`FileModel`].

use super::FileModel;
use crate::syntax::wise::Document;

pub fn lower<'a>(_doc: &Document, _text: &'a [u8]) -> FileModel<'a> {
    FileModel::default()
}
