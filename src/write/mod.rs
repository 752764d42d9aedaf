//! The `write` stage: atomic writes of fixed files.
//!
//! A file is never written in place: the new bytes go to a temporary file in the same directory
//! (named `.svcscrub-PID-XXXXXX.tmp`), which gets the original's permissions, owner, extended
//! attributes and ACLs, is flushed to disk, and is then renamed over the target. On any failure
//! the temporary file is removed and the target is left as it was. A file that changed since
//! it was read, that is a symbolic link, or that the user may not write, is not written.
//!
//! The replace step of a file fixed in place, in order:
//! 1. look at the file: a regular file, not a link, writable by the user (not by a privileged
//!    bypass), and, with `--backup`, no `FILE.orig` that would be replaced;
//! 2. hold the original open in a way that reveals a writer (a read lease on Linux; the other
//!    platforms' equivalent in `sys`), and check it still holds the bytes that were read;
//! 3. write, flush and give attributes to the temporary file (and the backup's);
//! 4. immediately before the rename, check again: no writer opened the file, the path still
//!    names the same file (device, inode, size, modification time) and it still holds the
//!    bytes that were read;
//! 5. put the backup in place (never over an existing file), rename the fixed file over the
//!    original, and check the hold once more: a writer that opened the original during the
//!    rename gets the original back (from a hard link kept for the moment of the rename).
//!
//! Temporary files are registered while they exist, so an interrupted run removes them
//! ([`remove_temporary_files_on_interrupt`]); what a killed run leaves (`.svcscrub-PID-*.tmp`
//! of a process that no longer runs) is removed by the next write in that directory.
//!
//! The filesystem operations go through the [`Fs`] trait so tests can inject failures
//! (a full disk, a failing rename, a read-only directory, another program's write).
//!
//! What differs between operating systems sits behind the small interface of the `sys`
//! module: `unix.rs` on Unix, `windows.rs` elsewhere. The steps and their order are decided
//! here, once, for every platform.

use std::collections::HashSet;
use std::fmt;
use std::fs::{self, File, Metadata, Permissions};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use tempfile::{NamedTempFile, TempPath};

use crate::error::InputError;

#[cfg(unix)]
#[path = "unix.rs"]
mod sys;
#[cfg(not(unix))]
#[path = "windows.rs"]
mod sys;

/// How `--backup` keeps the original.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backup {
    /// No backup.
    #[default]
    None,
    /// `FILE.orig`; the write is refused when it already exists.
    Simple,
    /// `FILE.orig.N`, one more than the highest number there (as `cp --backup=numbered`).
    Numbered,
}

/// Options for [`write_atomic`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Save the original bytes (written atomically, never over an existing file) before
    /// replacing FILE.
    pub backup: Backup,
}

/// The filesystem operations a write uses. Every method has the real implementation as its
/// default; tests override one to inject a failure.
pub trait Fs {
    /// Metadata of `path` itself (a symbolic link is not followed).
    fn symlink_metadata(&self, path: &Path) -> io::Result<Metadata> {
        fs::symlink_metadata(path)
    }

    /// Whether the user may write `path` (whose metadata is `meta`): judged as the user, so a
    /// read-only file is refused even where a privileged user could write it. An error of kind
    /// `PermissionDenied` means it is read-only.
    fn check_writable(&self, path: &Path, meta: &Metadata) -> io::Result<()> {
        sys::check_writable(path, meta)
    }

    /// Opens `path` for reading (to check it still holds what was read), without following a
    /// symbolic link and without blocking on a FIFO.
    fn open(&self, path: &Path) -> io::Result<File> {
        sys::open_for_reading(path)
    }

    /// A new, empty temporary file in `dir`, removed when dropped. Created with the permissions
    /// a new file gets (0666 minus the umask on Unix), and named so that a later run recognises
    /// it ([`is_temporary_name`]).
    fn create_temp(&self, dir: &Path) -> io::Result<NamedTempFile> {
        let mut builder = tempfile::Builder::new();
        let prefix = temp_prefix();
        builder
            .prefix(&prefix)
            .suffix(TEMP_SUFFIX)
            .rand_bytes(TEMP_RANDOM);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(Permissions::from_mode(0o666));
        }
        builder.tempfile_in(dir)
    }

    fn set_permissions(&self, file: &File, permissions: Permissions) -> io::Result<()> {
        file.set_permissions(permissions)
    }

    /// Gives `to` the extended attributes (ACLs included) of `from`, and no others.
    fn copy_attributes(&self, from: &File, to: &File) -> io::Result<()> {
        sys::copy_attributes(from, to)
    }

    fn write(&self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
        file.write_all(bytes)
    }

    fn sync(&self, file: &File) -> io::Result<()> {
        file.sync_all()
    }

    /// A second name for `original` (a hard link), kept during the rename.
    fn hard_link(&self, original: &Path, link: &Path) -> io::Result<()> {
        fs::hard_link(original, link)
    }

    /// Moves `from` to `to`, failing with `AlreadyExists` rather than replacing a file there.
    fn rename_noclobber(&self, from: &Path, to: &Path) -> io::Result<()> {
        let temp = TempPath::try_from_path(from)?;
        temp.persist_noclobber(to).map_err(|e| {
            // The name is the caller's to remove.
            let _ = e.path.keep();
            e.error
        })
    }

    /// Atomically replaces `to` with `from` (on Windows, an existing `to` through
    /// `ReplaceFileW`, which keeps its attributes and security descriptor).
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        sys::replace(from, to, &spare_name(to))
    }
}

/// The real filesystem.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealFs;

impl Fs for RealFs {}

/// A step of a write, named in error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Looking at the target (`stat`).
    Inspect,
    /// Reading the target's current bytes.
    Read,
    CreateTemp,
    Permissions,
    /// Copying extended attributes and ACLs.
    Attributes,
    Write,
    Sync,
    Rename,
}

/// Why a file was not written.
#[derive(Debug)]
pub enum WriteErrorKind {
    /// The file's bytes are not the ones that were read and fixed.
    ChangedSinceRead,
    /// Another program wrote the file, opened it for writing or replaced it while the fixed
    /// file was being written (found by the checks just before the rename).
    ChangedWhileWriting,
    /// Another program opened the file for writing during the rename itself. `restored`: the
    /// original was put back (that program's changes go to it), the fixed file was dropped.
    OpenedDuringReplace { restored: bool },
    /// Another program has the file open for writing: what it writes could be lost.
    OpenForWriting,
    /// Another program has the file open in a way that excludes reading or replacing it (on
    /// Windows, a sharing violation: an editor that holds the script open, say).
    InUse,
    /// The file is read-only for the user.
    ReadOnly,
    /// The path is a symbolic link (it would be replaced by a regular file).
    SymbolicLink,
    /// The path is a directory or another non-regular file.
    NotAFile,
    /// `--backup` would replace an existing backup.
    BackupExists { backup: PathBuf },
    /// An operation failed; `existed` says whether there was a file to leave unchanged.
    Io {
        step: Step,
        error: io::Error,
        existed: bool,
    },
    /// Writing the backup failed (the file itself was not touched).
    Backup {
        backup: PathBuf,
        step: Step,
        error: io::Error,
    },
}

/// A file that could not be written. Displays as one line: `PATH: what failed; outcome`.
#[derive(Debug)]
pub struct WriteError {
    pub path: PathBuf,
    pub kind: WriteErrorKind,
}

impl WriteError {
    fn new(path: &Path, kind: WriteErrorKind) -> Self {
        Self {
            path: path.to_path_buf(),
            kind,
        }
    }

    /// The message without the path, e.g.
    /// `cannot write: no space left on device; original left unchanged`.
    pub fn message(&self) -> String {
        match &self.kind {
            WriteErrorKind::ChangedSinceRead => "changed since it was read; not written".into(),
            WriteErrorKind::ChangedWhileWriting => {
                "changed by another program while the fixed file was being written; not written"
                    .into()
            }
            WriteErrorKind::OpenedDuringReplace { restored: true } => {
                "opened for writing by another program while it was being replaced; original put back, not written".into()
            }
            WriteErrorKind::OpenedDuringReplace { restored: false } => {
                "opened for writing by another program while it was being replaced; the fixed file is in place and that program may have written to the replaced original".into()
            }
            WriteErrorKind::OpenForWriting => {
                "is open for writing in another program; not written".into()
            }
            WriteErrorKind::InUse => {
                "is open in another program that does not share it (a sharing violation); close it there and run again; original left unchanged".into()
            }
            WriteErrorKind::ReadOnly => "is read-only; not written".into(),
            WriteErrorKind::SymbolicLink => "is a symbolic link; not written".into(),
            WriteErrorKind::NotAFile => "is not a regular file; not written".into(),
            WriteErrorKind::BackupExists { backup } => format!(
                "the backup {} already exists; not written (--backup=numbered keeps every backup)",
                backup.display()
            ),
            WriteErrorKind::Io {
                step,
                error,
                existed,
            } => {
                let outcome = if *existed {
                    "original left unchanged"
                } else {
                    "not written"
                };
                let what = step_description(*step, &self.path);
                if matches!(step, Step::Inspect | Step::Read) {
                    format!("{what}: {}; not written", describe_io(error))
                } else {
                    format!("{what}: {}; {outcome}", describe_io(error))
                }
            }
            WriteErrorKind::Backup { backup, error, .. } => format!(
                "cannot write the backup {}: {}; original left unchanged",
                backup.display(),
                describe_io(error)
            ),
        }
    }
}

fn step_description(step: Step, path: &Path) -> String {
    match step {
        Step::Inspect | Step::Read => "cannot read".into(),
        Step::CreateTemp => format!(
            "cannot create a temporary file in {}",
            temp_dir(path).display()
        ),
        Step::Permissions => "cannot copy permissions".into(),
        Step::Attributes => "cannot copy extended attributes (ACLs)".into(),
        Step::Write => "cannot write".into(),
        Step::Sync => "cannot flush to disk".into(),
        Step::Rename => "cannot replace the file".into(),
    }
}
impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", shown(&self.path), self.message())
    }
}

impl std::error::Error for WriteError {}

impl From<WriteError> for InputError {
    fn from(e: WriteError) -> Self {
        InputError::new(shown(&e.path), e.message())
    }
}

/// The path in its human-facing form (see [`crate::paths`]).
fn shown(path: &Path) -> String {
    crate::paths::human(&path.to_string_lossy())
}

/// A short, lower-case description of an I/O error, without the OS error number.
fn describe_io(e: &io::Error) -> String {
    use io::ErrorKind::*;
    match e.kind() {
        NotFound => "no such file or directory".into(),
        PermissionDenied => "permission denied".into(),
        StorageFull => "no space left on device".into(),
        ReadOnlyFilesystem => "read-only file system".into(),
        QuotaExceeded => "disk quota exceeded".into(),
        CrossesDevices => "cannot move across file systems".into(),
        IsADirectory => "is a directory".into(),
        _ => {
            let text = e.to_string();
            let text = match text.find(" (os error") {
                Some(i) => &text[..i],
                None => &text[..],
            };
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => format!("{:?}", e.kind()).to_lowercase(),
            }
        }
    }
}

/// The directory a temporary file for `path` goes in (`.` for a bare file name).
fn temp_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// `FILE.orig` next to `FILE`.
pub fn backup_path(path: &Path) -> PathBuf {
    with_suffix(path, ".orig")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// `FILE.orig.N` for the first N after every numbered backup of `path` now there (1 when
/// there is none), as `cp --backup=numbered` numbers them.
pub fn numbered_backup_path(path: &Path) -> PathBuf {
    let base = backup_path(path);
    let highest = base
        .file_name()
        .and_then(|name| name.to_str())
        .map_or(0, |name| highest_number(temp_dir(path), name));
    with_suffix(&base, &format!(".{}", highest + 1))
}

/// The highest N of the entries `NAME.N` in `dir` (0 when there is none).
fn highest_number(dir: &Path, name: &str) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let prefix = format!("{name}.");
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let entry = entry.file_name();
            let digits = entry.to_str()?.strip_prefix(&prefix)?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse::<u64>().ok()
        })
        .max()
        .unwrap_or(0)
}

/// Replaces `path` with `new_bytes`, atomically, if its current bytes are still
/// `expected_current` (what was read and fixed). Keeps the file's permissions; with
/// `options.backup`, also saves `expected_current` as a backup.
pub fn write_atomic(
    path: &Path,
    new_bytes: &[u8],
    expected_current: &[u8],
    options: WriteOptions,
) -> Result<(), WriteError> {
    write_atomic_with(&RealFs, path, new_bytes, expected_current, options)
}

/// [`write_atomic`] through the given filesystem.
pub fn write_atomic_with(
    fs: &dyn Fs,
    path: &Path,
    new_bytes: &[u8],
    expected_current: &[u8],
    options: WriteOptions,
) -> Result<(), WriteError> {
    write_atomic_expecting(
        fs,
        path,
        &|sink| sink(new_bytes),
        &|sink| sink(expected_current),
        options,
    )
}

/// Bytes given in pieces: called with a sink, it feeds the pieces to it in order and stops at
/// the first error. For a caller that does not hold the bytes whole (a fixed file's original
/// is its fixed text with the changed spans' original bytes put back).
pub type Pieces<'p> = dyn Fn(&mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> + 'p;

/// [`write_atomic_with`], the bytes given in pieces. The file is compared with the expected
/// ones as it is read, a buffer at a time, and the backup is written from them (they are what
/// the file holds), so neither the file nor its new bytes are held whole here. The steps are
/// those of the module's documentation.
pub fn write_atomic_expecting(
    fs: &dyn Fs,
    path: &Path,
    new_bytes: &Pieces<'_>,
    expected_current: &Pieces<'_>,
    options: WriteOptions,
) -> Result<(), WriteError> {
    let error = |kind| WriteError::new(path, kind);
    let io_error = |step, error| {
        WriteError::new(
            path,
            WriteErrorKind::Io {
                step,
                error,
                existed: true,
            },
        )
    };
    // 1. Look at the file.
    let meta = fs
        .symlink_metadata(path)
        .map_err(|e| io_error(Step::Inspect, e))?;
    if meta.file_type().is_symlink() {
        return Err(error(WriteErrorKind::SymbolicLink));
    }
    if !meta.is_file() {
        return Err(error(WriteErrorKind::NotAFile));
    }
    check_writable(fs, path, &meta)?;
    let backup = match options.backup {
        Backup::None => None,
        Backup::Simple => {
            let backup = backup_path(path);
            if fs.symlink_metadata(&backup).is_ok() {
                return Err(error(WriteErrorKind::BackupExists { backup }));
            }
            Some(backup)
        }
        Backup::Numbered => Some(numbered_backup_path(path)),
    };
    let dir = temp_dir(path);
    remove_leftovers_once(dir);

    // 2. Hold the original and check what it holds.
    let file = fs
        .open(path)
        .map_err(|e| in_use_or(path, e, |e| io_error(Step::Read, e)))?;
    let held = sys::Held::new(file).map_err(|e| match e.kind() {
        io::ErrorKind::WouldBlock => error(WriteErrorKind::OpenForWriting),
        _ => io_error(Step::Read, e),
    })?;
    let held_meta = held
        .file()
        .metadata()
        .map_err(|e| io_error(Step::Read, e))?;
    if !held_meta.is_file() || !sys::same_identity(&meta, &held_meta) {
        return Err(error(WriteErrorKind::ChangedSinceRead));
    }
    let buffer = usize::try_from(held_meta.len()).map_or(COMPARE_BUFFER, |len| len + 1);
    if !holds(&mut held.file(), expected_current, buffer).map_err(|e| io_error(Step::Read, e))? {
        return Err(error(WriteErrorKind::ChangedSinceRead));
    }

    // 3. The fixed file and the backup, ready to be put in place.
    let fixed = prepare(fs, path, new_bytes, Some((&held_meta, held.file())))
        .map_err(|(step, error)| io_error(step, error))?;
    let backup_error = |backup: &Path, (step, error)| {
        WriteError::new(
            path,
            WriteErrorKind::Backup {
                backup: backup.to_path_buf(),
                step,
                error,
            },
        )
    };
    let backup_temp = match &backup {
        Some(backup) => Some(
            prepare(
                fs,
                backup,
                expected_current,
                Some((&held_meta, held.file())),
            )
            .map_err(|e| backup_error(backup, e))?,
        ),
        None => None,
    };
    // A second name for the original while it is replaced, so it can be put back (not on a
    // file system without hard links). Not on Windows: no writer can open the file while it is
    // held, and a program that holds it open without sharing deletion would keep the second
    // name from being removed.
    let kept = if cfg!(unix) {
        keep_link(fs, path)
    } else {
        None
    };

    // 4. Check again, immediately before the rename.
    let unchanged = !held.writer_seen()
        && fs
            .symlink_metadata(path)
            .is_ok_and(|now| sys::same_identity(&held_meta, &now))
        && held.file().rewind().is_ok()
        && holds(&mut held.file(), expected_current, buffer).unwrap_or(false);
    if !unchanged {
        return Err(error(WriteErrorKind::ChangedWhileWriting));
    }

    // 5. Put the backup in place, then the fixed file.
    let placed = match (backup, backup_temp) {
        (Some(backup), Some(temp)) => Some(place_backup(fs, path, backup, temp, options.backup)?),
        _ => None,
    };
    let renamed = {
        let mut pending = pending_files();
        let renamed = fs.rename(&fixed, path);
        if renamed.is_ok() {
            if let Some(placed) = &placed {
                // From here the backup belongs to the user: an interrupt no longer removes it.
                pending.forget(placed);
            }
        }
        renamed
    };
    if let Err(e) = renamed {
        if let Some(placed) = placed {
            let _ = fs::remove_file(&placed);
            pending_files().forget(&placed);
        }
        return Err(in_use_or(path, e, |e| io_error(Step::Rename, e)));
    }
    // The temporary name no longer exists; nothing is left to clean up.
    fixed.keep();
    if held.writer_seen() {
        // A writer opened the original between the last check and the rename: it is blocked
        // until the hold is released, then writes to the original's inode. Give that inode its
        // name back, so its changes land where the user sees them.
        let restored = kept
            .as_ref()
            .is_some_and(|kept| fs.rename(kept, path).is_ok());
        if restored {
            if let Some(placed) = &placed {
                let _ = fs::remove_file(placed);
            }
        }
        return Err(error(WriteErrorKind::OpenedDuringReplace { restored }));
    }
    drop(kept);
    drop(held);
    sys::sync_dir(dir);
    Ok(())
}

/// A sharing violation as [`WriteErrorKind::InUse`], any other error as `otherwise` says.
fn in_use_or(
    path: &Path,
    error: io::Error,
    otherwise: impl FnOnce(io::Error) -> WriteError,
) -> WriteError {
    if sys::is_sharing_violation(&error) {
        WriteError::new(path, WriteErrorKind::InUse)
    } else {
        otherwise(error)
    }
}

/// A free name beside `path` for the original while `ReplaceFileW` replaces it. Not a
/// temporary file's name: a run that dies in the middle leaves the original there, and no
/// later run removes it.
fn spare_name(path: &Path) -> PathBuf {
    temp_dir(path).join(format!(
        "{}{}{SPARE_SUFFIX}",
        temp_prefix(),
        random_suffix()
    ))
}

/// [`Fs::check_writable`] as a write error.
fn check_writable(fs: &dyn Fs, path: &Path, meta: &Metadata) -> Result<(), WriteError> {
    fs.check_writable(path, meta).map_err(|e| {
        let kind = if e.kind() == io::ErrorKind::PermissionDenied {
            WriteErrorKind::ReadOnly
        } else {
            WriteErrorKind::Io {
                step: Step::Inspect,
                error: e,
                existed: true,
            }
        };
        WriteError::new(path, kind)
    })
}

/// Puts the backup's temporary file in place under `backup`, never over an existing file: a
/// numbered backup takes the next free number instead. Returns the backup's path, registered
/// as pending until the fixed file is in place.
fn place_backup(
    fs: &dyn Fs,
    path: &Path,
    mut backup: PathBuf,
    temp: Pending,
    mode: Backup,
) -> Result<PathBuf, WriteError> {
    // Numbers taken meanwhile by another run are skipped, a bounded number of times.
    for _ in 0..100 {
        let mut pending = pending_files();
        match fs.rename_noclobber(&temp, &backup) {
            Ok(()) => {
                pending.add(backup.clone());
                drop(pending);
                temp.keep();
                return Ok(backup);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && mode == Backup::Numbered => {
                drop(pending);
                backup = numbered_backup_path(path);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(WriteError::new(
                    path,
                    WriteErrorKind::BackupExists { backup },
                ));
            }
            Err(error) => {
                return Err(WriteError::new(
                    path,
                    WriteErrorKind::Backup {
                        backup,
                        step: Step::Rename,
                        error,
                    },
                ));
            }
        }
    }
    Err(WriteError::new(
        path,
        WriteErrorKind::BackupExists { backup },
    ))
}

/// A hard link to `path` under a temporary name, removed when dropped; `None` where the file
/// system has no hard links (or the link fails for another reason: it is only a safeguard).
fn keep_link(fs: &dyn Fs, path: &Path) -> Option<Pending> {
    let dir = temp_dir(path);
    for _ in 0..10 {
        let name = dir.join(format!(
            "{}{}{}",
            temp_prefix(),
            random_suffix(),
            TEMP_SUFFIX
        ));
        let mut pending = pending_files();
        match fs.hard_link(path, &name) {
            Ok(()) => {
                pending.add(name.clone());
                drop(pending);
                return match TempPath::try_from_path(&name) {
                    Ok(path) => Some(Pending::registered(path, name)),
                    Err(_) => {
                        let _ = fs::remove_file(&name);
                        pending_files().forget(&name);
                        None
                    }
                };
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(_) => return None,
        }
    }
    None
}

/// Six characters for a temporary name, different on every call.
fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(CALLS.fetch_add(1, Ordering::Relaxed));
    let mut n = hasher.finish();
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..TEMP_RANDOM)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u64) as usize];
            n /= ALPHABET.len() as u64;
            char::from(c)
        })
        .collect()
}

/// Whether `file` holds exactly `expected`, read a buffer (of at most `buffer` bytes, and at
/// most [`COMPARE_BUFFER`]) at a time.
fn holds(file: &mut dyn Read, expected: &Pieces<'_>, buffer: usize) -> io::Result<bool> {
    let mut buf = vec![0u8; buffer.clamp(1, COMPARE_BUFFER)];
    let mut same = true;
    expected(&mut |mut piece| {
        while same && !piece.is_empty() {
            let n = piece.len().min(buf.len());
            let got = read_up_to(file, &mut buf[..n])?;
            same = got == n && buf[..n] == piece[..n];
            piece = &piece[n..];
        }
        Ok(())
    })?;
    // And nothing after them.
    Ok(same && read_up_to(file, &mut buf[..1])? == 0)
}

/// Bytes compared per read when a file is checked against what it should hold.
const COMPARE_BUFFER: usize = 1 << 20;

/// Reads until `buf` is full or the file ends; the number of bytes read.
fn read_up_to(file: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Writes `bytes` to `path` (for `-o FILE`), atomically, whether or not it exists and whatever
/// it holds. An existing file keeps its permissions and attributes; a symbolic link or a file
/// the user may not write is refused.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_new_with(&RealFs, path, bytes)
}

/// [`write_new`] through the given filesystem.
pub fn write_new_with(fs: &dyn Fs, path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_new_pieces(fs, path, &|sink| sink(bytes))
}

/// [`write_new_with`], the bytes given in pieces.
pub fn write_new_pieces(fs: &dyn Fs, path: &Path, bytes: &Pieces<'_>) -> Result<(), WriteError> {
    let io_error = |step, error, existed| {
        WriteError::new(
            path,
            WriteErrorKind::Io {
                step,
                error,
                existed,
            },
        )
    };
    let meta = match fs.symlink_metadata(path) {
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(error) => return Err(io_error(Step::Inspect, error, true)),
    };
    let existing = match &meta {
        Some(meta) => {
            if meta.file_type().is_symlink() {
                return Err(WriteError::new(path, WriteErrorKind::SymbolicLink));
            }
            if !meta.is_file() {
                return Err(WriteError::new(path, WriteErrorKind::NotAFile));
            }
            check_writable(fs, path, meta)?;
            // Read for its attributes only.
            Some(
                fs.open(path)
                    .map_err(|e| io_error(Step::Inspect, e, true))?,
            )
        }
        None => None,
    };
    let dir = temp_dir(path);
    remove_leftovers_once(dir);
    let like = meta.as_ref().zip(existing.as_ref());
    let temp = prepare(fs, path, bytes, like)
        .map_err(|(step, error)| io_error(step, error, meta.is_some()))?;
    let renamed = {
        let _pending = pending_files();
        fs.rename(&temp, path)
    };
    renamed.map_err(|e| in_use_or(path, e, |e| io_error(Step::Rename, e, meta.is_some())))?;
    temp.keep();
    sys::sync_dir(dir);
    Ok(())
}

/// A temporary file for `target`, in its directory, with `bytes`, flushed to disk, and with
/// the permissions, owner and attributes of `like` (the original's metadata and open file).
/// It is removed on every failure, and when the result is dropped before it is renamed.
fn prepare(
    fs: &dyn Fs,
    target: &Path,
    bytes: &Pieces<'_>,
    like: Option<(&Metadata, &File)>,
) -> Result<Pending, (Step, io::Error)> {
    let mut temp = {
        let mut pending = pending_files();
        let temp = fs
            .create_temp(temp_dir(target))
            .map_err(|e| (Step::CreateTemp, e))?;
        pending.add(temp.path().to_path_buf());
        temp
    };
    let registered = temp.path().to_path_buf();
    let result = (|| {
        if let Some((meta, original)) = like {
            // Before any content is written, so the data is never more readable than the
            // original.
            fs.set_permissions(temp.as_file(), meta.permissions())
                .map_err(|e| (Step::Permissions, e))?;
            sys::copy_owner(temp.as_file(), meta);
            fs.copy_attributes(original, temp.as_file())
                .map_err(|e| (Step::Attributes, e))?;
        }
        let file = temp.as_file_mut();
        bytes(&mut |piece| fs.write(file, piece)).map_err(|e| (Step::Write, e))?;
        fs.sync(temp.as_file()).map_err(|e| (Step::Sync, e))
    })();
    match result {
        Ok(()) => {
            // The file is closed: only its name is needed from here.
            Ok(Pending::registered(temp.into_temp_path(), registered))
        }
        Err(e) => {
            drop(temp);
            pending_files().forget(&registered);
            Err(e)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Temporary names, the files an interrupt must remove, and what a killed run left.

/// Temporary files are `.svcscrub-PID-XXXXXX.tmp`: the process id tells a later run whether
/// the file's writer still runs.
const TEMP_PREFIX: &str = ".svcscrub-";
const TEMP_SUFFIX: &str = ".tmp";
const TEMP_RANDOM: usize = 6;
/// The suffix of [`spare_name`]s.
const SPARE_SUFFIX: &str = ".replaced";

fn temp_prefix() -> String {
    format!("{TEMP_PREFIX}{}-", std::process::id())
}

/// The process id in a temporary file name this tool makes, `.svcscrub-PID-XXXXXX.tmp`.
pub fn temporary_name_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(TEMP_PREFIX)?.strip_suffix(TEMP_SUFFIX)?;
    let (pid, random) = rest.split_once('-')?;
    let valid = !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && random.len() == TEMP_RANDOM
        && random.bytes().all(|b| b.is_ascii_alphanumeric());
    valid.then(|| pid.parse().ok()).flatten()
}

/// Whether `name` is a temporary file name this tool makes.
pub fn is_temporary_name(name: &str) -> bool {
    temporary_name_pid(name).is_some()
}

/// Removes the temporary files a killed run left in `dir` (those of processes that no longer
/// run); the number removed. Files of a process that still runs are left alone.
pub fn remove_leftovers(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let own = std::process::id();
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(temporary_name_pid) else {
                return false;
            };
            pid != own
                && !sys::process_runs(pid)
                && entry.file_type().is_ok_and(|t| t.is_file())
                && fs::remove_file(entry.path()).is_ok()
        })
        .count()
}

/// [`remove_leftovers`], once per directory and run.
fn remove_leftovers_once(dir: &Path) {
    static DONE: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let first = DONE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashSet::new)
        .insert(dir.to_path_buf());
    if first {
        remove_leftovers(dir);
    }
}

/// Paths that exist only while a write runs (temporary files, the backup before the fixed file
/// is in place): an interrupt removes them. Held while a pending file is created, placed or
/// renamed, so an interrupt sees each either before or after, never half way.
struct PendingFiles(Vec<PathBuf>);

static PENDING: Mutex<PendingFiles> = Mutex::new(PendingFiles(Vec::new()));

fn pending_files() -> MutexGuard<'static, PendingFiles> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

impl PendingFiles {
    fn add(&mut self, path: PathBuf) {
        self.0.push(path);
    }

    fn forget(&mut self, path: &Path) {
        if let Some(i) = self.0.iter().rposition(|p| p == path) {
            self.0.swap_remove(i);
        }
    }
}

/// A temporary name registered in [`PENDING`]: removed (file and registration) when dropped,
/// unless kept.
struct Pending {
    path: Option<TempPath>,
    registered: PathBuf,
}

impl Pending {
    fn registered(path: TempPath, registered: PathBuf) -> Self {
        Self {
            path: Some(path),
            registered,
        }
    }

    /// The name no longer exists (it was renamed): nothing to remove.
    fn keep(mut self) {
        if let Some(path) = self.path.take() {
            let _ = path.keep();
        }
    }
}

impl std::ops::Deref for Pending {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.registered
    }
}

impl AsRef<Path> for Pending {
    fn as_ref(&self) -> &Path {
        &self.registered
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        // The file first: an interrupt in between removes a name that is already gone.
        drop(self.path.take());
        pending_files().forget(&self.registered);
    }
}

/// From now on, SIGINT and SIGTERM (Ctrl+C on Windows, where the platform half provides it)
/// remove the temporary files of the writes in progress before the process ends as the signal
/// says. Writes that were not started stay not started; the originals are untouched.
pub fn remove_temporary_files_on_interrupt() {
    sys::on_interrupt(remove_pending_files);
}

/// Removes every pending file and keeps [`PENDING`] locked, so no write starts or finishes
/// after it: the process is about to end.
fn remove_pending_files() {
    let pending = pending_files();
    for path in &pending.0 {
        let _ = fs::remove_file(path);
    }
    std::mem::forget(pending);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line() {
        let e = WriteError::new(
            Path::new("pkg/setup.ipf"),
            WriteErrorKind::Io {
                step: Step::Write,
                error: io::Error::from(io::ErrorKind::StorageFull),
                existed: true,
            },
        );
        // The path in the platform's form (`pkg\\setup.ipf` on Windows).
        assert_eq!(
            e.to_string(),
            format!(
                "pkg{}setup.ipf: cannot write: no space left on device; original left unchanged",
                std::path::MAIN_SEPARATOR
            )
        );
        let e = WriteError::new(
            Path::new("setup.ipf"),
            WriteErrorKind::Io {
                step: Step::CreateTemp,
                error: io::Error::from(io::ErrorKind::PermissionDenied),
                existed: false,
            },
        );
        assert_eq!(
            e.to_string(),
            "setup.ipf: cannot create a temporary file in .: permission denied; not written"
        );
    }

    #[test]
    fn backup_path_appends_orig() {
        assert_eq!(
            backup_path(Path::new("a/setup.IPF")),
            PathBuf::from("a/setup.IPF.orig")
        );
    }
}
