//! The write stage's platform half for Windows (and any other non-Unix system): the same
//! interface as `unix.rs`. The parent module decides the steps and their order.

use std::fs::{File, Metadata};
use std::path::Path;

/// A new file is owned by its creator; ownership is not copied here.
pub fn copy_owner(_file: &File, _meta: &Metadata) {}

/// A directory cannot be opened for flushing here; the rename itself is durable enough.
pub fn sync_dir(_dir: &Path) {}
