//! The write stage's platform half for Windows (and any other non-Unix system): the same
//! interface as `unix.rs`. The parent module decides the steps and their order.
//!
//! What this half does today is the portable minimum; where Windows can do better it says so
//! (the read-only attribute, sharing modes, `ReplaceFileW`, a console control handler).

use std::fs::{File, Metadata};
use std::io;
use std::path::Path;

/// Opens `path` for reading.
pub fn open_for_reading(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// A file with the read-only attribute is refused.
pub fn check_writable(_path: &Path, meta: &Metadata) -> io::Result<()> {
    if meta.permissions().readonly() {
        Err(io::ErrorKind::PermissionDenied.into())
    } else {
        Ok(())
    }
}

/// The original, held open while it is replaced. (Opened without write sharing, a writer
/// would get a sharing violation instead of writing to a file about to be replaced; until
/// then only the checks of identity and content guard it.)
pub struct Held {
    file: File,
}

impl Held {
    pub fn new(file: File) -> io::Result<Self> {
        Ok(Self { file })
    }

    pub fn file(&self) -> &File {
        &self.file
    }

    pub fn writer_seen(&self) -> bool {
        false
    }
}

/// The same file, unchanged by the look of it: size and modification time (std gives no file
/// index here).
pub fn same_identity(a: &Metadata, b: &Metadata) -> bool {
    a.len() == b.len() && a.modified().ok() == b.modified().ok()
}

/// A new file is owned by its creator; ownership is not copied here.
pub fn copy_owner(_file: &File, _meta: &Metadata) {}

/// Extended attributes and ACLs are not copied here (`ReplaceFileW` keeps them).
pub fn copy_attributes(_from: &File, _to: &File) -> io::Result<()> {
    Ok(())
}

/// Without a way to ask, every process is taken to run: a leftover temporary file is kept.
pub fn process_runs(_pid: u32) -> bool {
    true
}

/// A directory cannot be opened for flushing here; the rename itself is durable enough.
pub fn sync_dir(_dir: &Path) {}

/// No console control handler yet: an interrupted run may leave its temporary file, which
/// names its process.
pub fn on_interrupt(_cleanup: fn()) {}
