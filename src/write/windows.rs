//! The write stage's platform half for Windows (and any other non-Unix system): the same
//! interface as `unix.rs`. The parent module decides the steps and their order.
//!
//! On Windows:
//! - a file with the read-only attribute is refused;
//! - the original is held open sharing reads and deletion but not writing: while it is held, a
//!   program that opens the file for writing gets a sharing violation, and a program that
//!   already has it open for writing (an editor) makes the hold fail with one, so the file is
//!   not written ([`is_sharing_violation`]);
//! - the fixed file replaces the original through `ReplaceFileW`, which gives it the original's
//!   attributes (hidden, system, archive, …), creation time, security descriptor (owner and
//!   ACLs), alternate data streams and short name.
//!
//! Elsewhere (a non-Unix, non-Windows system) the portable minimum applies.

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::path::Path;

/// Opens `path` for reading. On Windows, sharing it with readers and with the rename that will
/// replace it, not with writers (see the module).
pub fn open_for_reading(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        use windows_sys::Win32::Storage::FileSystem::{FILE_SHARE_DELETE, FILE_SHARE_READ};
        options.share_mode(FILE_SHARE_READ | FILE_SHARE_DELETE);
    }
    options.open(path)
}

/// Whether `error` says another program has the file open in a way that excludes this use
/// (`ERROR_SHARING_VIOLATION`, `ERROR_LOCK_VIOLATION`, or `ReplaceFileW`'s "the replaced file
/// could not be removed", which leaves both files as they were).
pub fn is_sharing_violation(error: &io::Error) -> bool {
    #[cfg(windows)]
    {
        use windows_sys::Win32::Foundation::{
            ERROR_LOCK_VIOLATION, ERROR_SHARING_VIOLATION, ERROR_UNABLE_TO_REMOVE_REPLACED,
        };
        matches!(
            error
                .raw_os_error()
                .and_then(|code| u32::try_from(code).ok()),
            Some(ERROR_SHARING_VIOLATION | ERROR_LOCK_VIOLATION | ERROR_UNABLE_TO_REMOVE_REPLACED)
        )
    }
    #[cfg(not(windows))]
    {
        let _ = error;
        false
    }
}

/// Moves `from` over `to`. When `to` exists, on Windows, through `ReplaceFileW` (see the
/// module), with the original first moved to `spare` (a free name in the same directory): on
/// every failure the original is back under its name. Elsewhere a rename.
pub fn replace(from: &Path, to: &Path, spare: &Path) -> io::Result<()> {
    #[cfg(windows)]
    if std::fs::symlink_metadata(to).is_ok() {
        return replace_file(from, to, spare);
    }
    let _ = spare;
    std::fs::rename(from, to)
}

#[cfg(windows)]
fn replace_file(from: &Path, to: &Path, spare: &Path) -> io::Result<()> {
    use std::os::windows::ffi::OsStrExt;
    use windows_sys::Win32::Foundation::ERROR_UNABLE_TO_MOVE_REPLACEMENT_2;
    use windows_sys::Win32::Storage::FileSystem::ReplaceFileW;

    let wide = |p: &Path| -> Vec<u16> { p.as_os_str().encode_wide().chain([0]).collect() };
    let (replaced, replacement, backup) = (wide(to), wide(from), wide(spare));
    // SAFETY: the three names are NUL-terminated UTF-16 strings that live across the call; the
    // two reserved pointers are null as the function requires.
    let done = unsafe {
        ReplaceFileW(
            replaced.as_ptr(),
            replacement.as_ptr(),
            backup.as_ptr(),
            0,
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if done != 0 {
        // The original, under the spare name, is no longer needed.
        let _ = std::fs::remove_file(spare);
        return Ok(());
    }
    let error = io::Error::last_os_error();
    if error.raw_os_error() == Some(ERROR_UNABLE_TO_MOVE_REPLACEMENT_2 as i32) {
        // The original was moved to the spare name and the fixed file could not take its
        // place: the original goes back.
        std::fs::rename(spare, to)?;
    }
    Err(error)
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
