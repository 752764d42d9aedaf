//! Lowering a `.reg` export to a [`FileModel`].

use super::FileModel;
use crate::source::Encoding;
use crate::syntax::reg::RegFile;

pub fn lower<'a>(_file: &RegFile, _text: &'a [u8], _encoding: Encoding) -> FileModel<'a> {
    FileModel::default()
}
