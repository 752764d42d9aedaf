//! The Unix half of the write stage (see the parent module for the steps and their order).

use std::fs::{File, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Best effort: give the new file the original's owner and group (possible for root, or for
/// a group the user belongs to). Failing to does not stop the write.
pub fn copy_owner(file: &File, meta: &Metadata) {
    let Ok(current) = file.metadata() else {
        return;
    };
    if current.uid() != meta.uid() || current.gid() != meta.gid() {
        let _ = std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid()));
    }
}

/// Best effort: make the rename durable. The file is already in place, so a failure here is
/// not an error of the write.
pub fn sync_dir(dir: &Path) {
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}
