//! The `write` stage: atomic writes of fixed files.
//!
//! A file is never written in place: the new bytes go to a temporary file in the same directory
//! (named `.svcscrub-*`), which gets the original's permissions, is flushed to disk, and is then
//! renamed over the target. On any failure the temporary file is removed and the target is left
//! as it was. A file that changed since it was read, or that is a symbolic link, is not written.
//!
//! The filesystem operations go through the [`Fs`] trait so tests can inject failures
//! (a full disk, a failing rename, a read-only directory).
//!
//! What differs between operating systems sits behind the small interface of the `sys`
//! module: [`unix`](self) on Unix, `windows.rs` elsewhere. The steps and their order are
//! decided here, once, for every platform.

use std::fmt;
use std::fs::{self, File, Metadata, Permissions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::InputError;

#[cfg(unix)]
#[path = "unix.rs"]
mod sys;
#[cfg(not(unix))]
#[path = "windows.rs"]
mod sys;

/// Options for [`write_atomic`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Save the original bytes as `FILE.orig` (itself written atomically) before replacing FILE.
    pub backup: bool,
}

/// The filesystem operations a write uses. Every method has the real implementation as its
/// default; tests override one to inject a failure.
pub trait Fs {
    /// Metadata of `path` itself (a symbolic link is not followed).
    fn symlink_metadata(&self, path: &Path) -> io::Result<Metadata> {
        fs::symlink_metadata(path)
    }

    /// Opens `path` for reading (to check it still holds what was read).
    fn open(&self, path: &Path) -> io::Result<File> {
        File::open(path)
    }

    /// A new, empty temporary file in `dir`, removed when dropped. Created with the permissions
    /// a new file gets (0666 minus the umask on Unix).
    fn create_temp(&self, dir: &Path) -> io::Result<NamedTempFile> {
        let mut builder = tempfile::Builder::new();
        builder.prefix(".svcscrub-").suffix(".tmp");
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

    fn write(&self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
        file.write_all(bytes)
    }

    fn sync(&self, file: &File) -> io::Result<()> {
        file.sync_all()
    }

    /// Atomically replaces `to` with `from`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
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
    Write,
    Sync,
    Rename,
}

/// Why a file was not written.
#[derive(Debug)]
pub enum WriteErrorKind {
    /// The file's bytes are not the ones that were read and fixed.
    ChangedSinceRead,
    /// The path is a symbolic link (it would be replaced by a regular file).
    SymbolicLink,
    /// The path is a directory or another non-regular file.
    NotAFile,
    /// An operation failed; `existed` says whether there was a file to leave unchanged.
    Io {
        step: Step,
        error: io::Error,
        existed: bool,
    },
    /// Writing the `FILE.orig` backup failed (the file itself was not touched).
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
            WriteErrorKind::SymbolicLink => "is a symbolic link; not written".into(),
            WriteErrorKind::NotAFile => "is not a regular file; not written".into(),
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
        Step::Write => "cannot write".into(),
        Step::Sync => "cannot flush to disk".into(),
        Step::Rename => "cannot replace the file".into(),
    }
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message())
    }
}

impl std::error::Error for WriteError {}

impl From<WriteError> for InputError {
    fn from(e: WriteError) -> Self {
        InputError::new(e.path.display().to_string(), e.message())
    }
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
    let mut name = path.as_os_str().to_os_string();
    name.push(".orig");
    PathBuf::from(name)
}

/// Replaces `path` with `new_bytes`, atomically, if its current bytes are still
/// `expected_current` (what was read and fixed). Keeps the file's permissions; with
/// `options.backup`, first saves `expected_current` as `FILE.orig`.
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
/// the file holds), so neither the file nor its new bytes are held whole here.
pub fn write_atomic_expecting(
    fs: &dyn Fs,
    path: &Path,
    new_bytes: &Pieces<'_>,
    expected_current: &Pieces<'_>,
    options: WriteOptions,
) -> Result<(), WriteError> {
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
    let meta = fs
        .symlink_metadata(path)
        .map_err(|e| io_error(Step::Inspect, e))?;
    if meta.file_type().is_symlink() {
        return Err(WriteError::new(path, WriteErrorKind::SymbolicLink));
    }
    if !meta.is_file() {
        return Err(WriteError::new(path, WriteErrorKind::NotAFile));
    }
    let mut current = fs.open(path).map_err(|e| io_error(Step::Read, e))?;
    let buffer = usize::try_from(meta.len()).map_or(COMPARE_BUFFER, |len| len + 1);
    if !holds(&mut current, expected_current, buffer).map_err(|e| io_error(Step::Read, e))? {
        return Err(WriteError::new(path, WriteErrorKind::ChangedSinceRead));
    }
    drop(current);
    if options.backup {
        let backup = backup_path(path);
        replace_file(fs, &backup, expected_current, Some(&meta)).map_err(|(step, error)| {
            WriteError::new(
                path,
                WriteErrorKind::Backup {
                    backup: backup.clone(),
                    step,
                    error,
                },
            )
        })?;
    }
    replace_file(fs, path, new_bytes, Some(&meta)).map_err(|(step, error)| io_error(step, error))
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
/// it holds. An existing file keeps its permissions; a symbolic link is refused.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_new_with(&RealFs, path, bytes)
}

/// [`write_new`] through the given filesystem.
pub fn write_new_with(fs: &dyn Fs, path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_new_pieces(fs, path, &|sink| sink(bytes))
}

/// [`write_new_with`], the bytes given in pieces.
pub fn write_new_pieces(fs: &dyn Fs, path: &Path, bytes: &Pieces<'_>) -> Result<(), WriteError> {
    let meta = match fs.symlink_metadata(path) {
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(error) => {
            return Err(WriteError::new(
                path,
                WriteErrorKind::Io {
                    step: Step::Inspect,
                    error,
                    existed: true,
                },
            ));
        }
    };
    if let Some(meta) = &meta {
        if meta.file_type().is_symlink() {
            return Err(WriteError::new(path, WriteErrorKind::SymbolicLink));
        }
        if !meta.is_file() {
            return Err(WriteError::new(path, WriteErrorKind::NotAFile));
        }
    }
    replace_file(fs, path, bytes, meta.as_ref()).map_err(|(step, error)| {
        WriteError::new(
            path,
            WriteErrorKind::Io {
                step,
                error,
                existed: meta.is_some(),
            },
        )
    })
}

/// Temporary file in the target's directory → permissions → bytes → sync → rename over the
/// target. The temporary file is removed on every failure (dropping it deletes it).
fn replace_file(
    fs: &dyn Fs,
    target: &Path,
    bytes: &Pieces<'_>,
    like: Option<&Metadata>,
) -> Result<(), (Step, io::Error)> {
    let mut temp = fs
        .create_temp(temp_dir(target))
        .map_err(|e| (Step::CreateTemp, e))?;
    if let Some(meta) = like {
        // Before any content is written, so the data is never more readable than the original.
        fs.set_permissions(temp.as_file(), meta.permissions())
            .map_err(|e| (Step::Permissions, e))?;
        sys::copy_owner(temp.as_file(), meta);
    }
    let file = temp.as_file_mut();
    bytes(&mut |piece| fs.write(file, piece)).map_err(|e| (Step::Write, e))?;
    fs.sync(temp.as_file()).map_err(|e| (Step::Sync, e))?;
    let temp_path = temp.into_temp_path();
    fs.rename(&temp_path, target)
        .map_err(|e| (Step::Rename, e))?;
    // The temporary name no longer exists; nothing is left to clean up.
    let _ = temp_path.keep();
    sys::sync_dir(temp_dir(target));
    Ok(())
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
        assert_eq!(
            e.to_string(),
            "pkg/setup.ipf: cannot write: no space left on device; original left unchanged"
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
