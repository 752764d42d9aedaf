//! The `source` stage: raw bytes in, a [`SourceFile`] with its encoding and working text out.
//!
//! The *working text* is what every parser reads and every edit addresses:
//! - 8-bit files (ANSI code page, or UTF-8 without a BOM): the raw bytes themselves, untouched;
//! - UTF-8 with a BOM: the bytes after the BOM;
//! - UTF-16LE with a BOM: the text decoded to UTF-8 (without the BOM), encoded back by hand on
//!   write, because `encoding_rs` has no UTF-16 encoder;
//! - a Windows Installer database (an OLE compound file): the tab-separated view of its tables
//!   (see [`crate::syntax::msi`]), written back into the database on write.
//!
//! 8-bit bytes are never transcoded, so a Windows-1252 `é` stays the byte `E9` from input to output.

use std::fmt;
use std::io::Read;

use crate::pieces::{READ_FROM, READ_PIECE};
use crate::syntax::msi::database::{self, Database};
use crate::text::{LineCol, LineIndex};

pub const UTF16LE_BOM: &[u8] = b"\xFF\xFE";
pub const UTF16BE_BOM: &[u8] = b"\xFE\xFF";
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How a file's bytes encode its text, decided by its first bytes only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// 8-bit text in the ANSI code page (Windows-1252 for display); the bytes pass through.
    Ansi,
    /// 8-bit text that happens to be valid UTF-8 with non-ASCII characters; no BOM.
    Utf8,
    /// UTF-8 with a byte-order mark (kept on write).
    Utf8Bom,
    /// UTF-16 little-endian with a byte-order mark (regedit 5 exports).
    Utf16Le,
    /// A Windows Installer database: the working text is the UTF-8 view of its tables.
    Database,
}

impl Encoding {
    /// Columns count characters (true) rather than bytes.
    pub fn counts_chars(self) -> bool {
        !matches!(self, Encoding::Ansi)
    }

    /// Whether a text is written with the same bytes in both encodings: true for the same
    /// encoding, and for [`Encoding::Ansi`] and [`Encoding::Utf8`], which both write the text as
    /// it is (which of the two a file is only decides how it is displayed).
    pub fn writes_like(self, other: Encoding) -> bool {
        let plain = |e| matches!(e, Encoding::Ansi | Encoding::Utf8);
        self == other || (plain(self) && plain(other))
    }

    pub fn bom(self) -> &'static [u8] {
        match self {
            Encoding::Utf8Bom => UTF8_BOM,
            Encoding::Utf16Le => UTF16LE_BOM,
            Encoding::Ansi | Encoding::Utf8 | Encoding::Database => b"",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encoding::Ansi => "8-bit ANSI",
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 with BOM",
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Database => "Windows Installer database",
        })
    }
}

/// Why a file's bytes could not be turned into working text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("UTF-16 file has an odd number of bytes ({len}); it is truncated or not UTF-16")]
    OddLength { len: usize },
    #[error("UTF-16 file has an unpaired surrogate 0x{unit:04X} at byte offset {offset}")]
    UnpairedSurrogate { unit: u16, offset: usize },
    #[error("UTF-16 text does not encode back to the same bytes")]
    NotRoundTrip,
    #[error("UTF-16BE is not supported; save it as UTF-16LE (regedit's format)")]
    Utf16Be,
    /// An OLE compound file that is not a database svcscrub reads, or a malformed one.
    #[error("{0}")]
    Database(String),
}

/// One input file: how its bytes are encoded, and its working text.
///
/// The file's bytes are kept only when they *are* the working text (8-bit and UTF-8 files,
/// whose text is the bytes after any BOM). A UTF-16 file keeps only its decoded text: strict
/// decoding is exactly reversible, so [`SourceFile::raw`] encodes the bytes back when they are
/// needed (writing, the changed-since-read check), and the file costs its text's size instead
/// of 1.5 times its own.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as the user named it (or `--stdin-filename`), used in every human-facing message;
    /// the command gives it in the platform's form (see [`crate::paths`]).
    pub path: String,
    pub encoding: Encoding,
    /// The file's bytes (BOM included) or, for UTF-16 files, the decoded text.
    bytes: Vec<u8>,
    /// Where the working text starts in `bytes`: after the BOM, or 0 when `bytes` is the text.
    text_start: usize,
    /// The line index, built on first use (rules and renderers of one file share it).
    lines: std::sync::OnceLock<LineIndex>,
    /// UTF-16 files: code units before every [`UNIT_BLOCK`] bytes of text, built on first use
    /// (see [`raw_offset`]).
    units: std::sync::OnceLock<Vec<usize>>,
    /// A database's own bytes and its original view (shared: a fixed file's copy keeps them).
    database: Option<std::sync::Arc<Database>>,
    /// A database's view, parsed on first use to name positions ([`SourceFile::row_of`]).
    rows: std::sync::OnceLock<Option<crate::syntax::msi::View>>,
}

impl SourceFile {
    /// Detects the encoding and decodes UTF-16. Never fails for 8-bit input.
    pub fn new(path: impl Into<String>, raw: Vec<u8>) -> Result<Self, DecodeError> {
        let path = path.into();
        if raw.starts_with(UTF16BE_BOM) {
            return Err(DecodeError::Utf16Be);
        }
        if raw.starts_with(crate::detect::COMPOUND_FILE_SIGNATURE) {
            let database =
                database::decode(raw).map_err(|e| DecodeError::Database(e.to_string()))?;
            let mut source = Self::with_text(path, Encoding::Database, database.view.clone());
            source.database = Some(std::sync::Arc::new(database));
            return Ok(source);
        }
        if raw.starts_with(UTF16LE_BOM) {
            let decoded = decode_utf16le(&raw[2..])?;
            // A strict decoder (odd lengths and unpaired surrogates are errors) always encodes
            // back to the same units, so the round trip is only re-checked in debug builds.
            debug_assert!(
                encode_utf16le(&decoded) == raw[2..],
                "{}",
                DecodeError::NotRoundTrip
            );
            drop(raw);
            return Ok(Self::with_text(path, Encoding::Utf16Le, decoded));
        }
        let encoding = if raw.starts_with(UTF8_BOM) {
            Encoding::Utf8Bom
        } else if !raw.is_ascii() && std::str::from_utf8(&raw).is_ok() {
            Encoding::Utf8
        } else {
            Encoding::Ansi
        };
        Ok(Self {
            path,
            text_start: encoding.bom().len(),
            encoding,
            bytes: raw,
            lines: std::sync::OnceLock::new(),
            units: std::sync::OnceLock::new(),
            database: None,
            rows: std::sync::OnceLock::new(),
        })
    }

    /// A file of a known encoding from its working text alone (a fixed text, say), without
    /// encoding it to bytes and decoding it again. A UTF-16 text that is not valid UTF-8 is
    /// made valid the way encoding it would (each invalid sequence becomes U+FFFD), so the
    /// text always equals what decoding the encoded bytes gives. `Ansi` and `Utf8` texts are
    /// taken as they are (use [`SourceFile::new`] to detect which of the two a text is). Not
    /// for a database, whose bytes need the database as read: an [`Encoding::Database`] text
    /// made here encodes as the text itself.
    pub fn from_text(path: impl Into<String>, encoding: Encoding, text: Vec<u8>) -> Self {
        let text = match encoding {
            Encoding::Utf16Le => match String::from_utf8(text) {
                Ok(valid) => valid.into_bytes(),
                Err(e) => String::from_utf8_lossy(e.as_bytes())
                    .into_owned()
                    .into_bytes(),
            },
            _ => text,
        };
        Self::with_text(path.into(), encoding, text)
    }

    /// A file of its working text alone (`bytes` starts with no BOM).
    fn with_text(path: String, encoding: Encoding, text: Vec<u8>) -> Self {
        Self {
            path,
            encoding,
            bytes: text,
            text_start: 0,
            lines: std::sync::OnceLock::new(),
            units: std::sync::OnceLock::new(),
            database: None,
            rows: std::sync::OnceLock::new(),
        }
    }

    /// A database's bytes as read, its original view and whether it is signed (`None` for a
    /// text file).
    pub fn database(&self) -> Option<&Database> {
        self.database.as_deref()
    }

    /// Changes the working text in place through `edit`, which gets the buffer and where the
    /// text starts in it (after a kept byte-order mark, which it must leave alone). The file
    /// keeps its encoding; what was built from the old text (the line index) is dropped.
    pub fn edit_text<R>(&mut self, edit: impl FnOnce(&mut Vec<u8>, usize) -> R) -> R {
        self.lines = std::sync::OnceLock::new();
        self.units = std::sync::OnceLock::new();
        self.rows = std::sync::OnceLock::new();
        edit(&mut self.bytes, self.text_start)
    }

    /// The working text every parser reads and every edit addresses.
    pub fn text(&self) -> &[u8] {
        self.bytes.get(self.text_start..).unwrap_or(&[])
    }

    /// The file's bytes: borrowed when they are kept, encoded from the text otherwise
    /// (UTF-16 files; see the type's docs).
    pub fn raw(&self) -> std::borrow::Cow<'_, [u8]> {
        if self.keeps_raw() {
            std::borrow::Cow::Borrowed(&self.bytes)
        } else {
            std::borrow::Cow::Owned(self.encode(self.text()))
        }
    }

    /// Feeds the file's bytes ([`SourceFile::raw`]) to `sink` in order: the kept bytes at
    /// once, a UTF-16 file's encoded a piece at a time (so they are never held whole), a
    /// database's written with its view's changes (an error, and nothing fed, when they
    /// cannot be written: see [`database::encode`]).
    pub fn feed_raw(
        &self,
        sink: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        if self.keeps_raw() {
            return sink(&self.bytes);
        }
        if let Some(db) = &self.database {
            if self.text() == db.view.as_slice() {
                // Unchanged: the bytes as read, without a copy.
                return sink(&db.original);
            }
            let written = database::encode(db, self.text())
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            return sink(&written);
        }
        self.feed_encoded([self.text()], sink)
    }

    /// Feeds a database's bytes as read (for the changed-since-read check and the backup);
    /// `false` for a text file.
    pub fn feed_database_original(
        &self,
        sink: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Option<std::io::Result<()>> {
        let db = self.database.as_ref()?;
        Some(sink(&db.original))
    }

    /// Feeds the bytes of a file of this encoding whose working text is `pieces` joined, in
    /// order: the BOM, then the pieces as they are or, for UTF-16, encoded at most 1 MB of text
    /// at a time. Each piece must start on a character boundary (every piece then encodes as
    /// it would inside the whole text).
    pub fn feed_encoded<'p>(
        &self,
        pieces: impl IntoIterator<Item = &'p [u8]>,
        sink: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        sink(self.encoding.bom())?;
        for piece in pieces {
            if self.encoding != Encoding::Utf16Le {
                sink(piece)?;
                continue;
            }
            let mut rest = piece;
            while !rest.is_empty() {
                // Cut at a character boundary, so no character is split between encodings.
                let mut end = rest.len().min(ENCODE_PIECE);
                while rest.get(end).is_some_and(|b| (0x80..0xC0).contains(b)) {
                    end += 1;
                }
                sink(&encode_utf16le(&rest[..end]))?;
                rest = &rest[end..];
            }
        }
        Ok(())
    }

    /// [`SourceFile::raw`] without a copy when the bytes are kept.
    pub fn into_raw(self) -> Vec<u8> {
        if self.keeps_raw() {
            self.bytes
        } else {
            self.encode(self.text())
        }
    }

    /// `bytes` holds the file's bytes, not just its text.
    fn keeps_raw(&self) -> bool {
        !matches!(self.encoding, Encoding::Utf16Le | Encoding::Database)
            && self.text_start == self.encoding.bom().len()
    }

    /// Encodes a (possibly edited) working text back into this file's encoding, with its BOM.
    ///
    /// A database's view is written into the database ([`database::encode`]); a view that cannot
    /// be (which the fix stage never produces: it re-checks every edited view) gives the
    /// database as read, unchanged. Writing goes through [`SourceFile::feed_raw`], which
    /// reports that error instead.
    pub fn encode(&self, text: &[u8]) -> Vec<u8> {
        let bom = self.encoding.bom();
        match (self.encoding, &self.database) {
            (Encoding::Utf16Le, _) => encode_utf16le_after(bom, text),
            (Encoding::Database, Some(db)) => {
                database::encode(db, text).unwrap_or_else(|_| db.original.clone())
            }
            _ => [bom, text].concat(),
        }
    }

    /// The working text's line index: built once per file (one counting pass) and kept, so
    /// rules and renderers of one file share it.
    pub fn line_index(&self) -> &LineIndex {
        self.lines
            .get_or_init(|| LineIndex::new(self.text(), self.encoding.counts_chars()))
    }

    /// Builds the line index ahead of its first use, counting on the current rayon pool
    /// outside the cell that keeps it (no pool work runs inside a `OnceLock` initializer, where
    /// a waiting thread could take on work that asks for the same cell). Two callers at once
    /// may both count; the first index stored is kept.
    pub fn prepare_line_index(&self) {
        if self.lines.get().is_none() {
            let index = LineIndex::new_on_pool(self.text(), self.encoding.counts_chars());
            // Another thread may have stored the same index meanwhile.
            let _ = self.lines.set(index);
        }
    }

    /// Where `range` starts in a database, as people and tools name it: its table, row and
    /// column. `None` for a text file (whose positions are lines and columns) and for a range
    /// on no row.
    pub fn row_of(&self, range: crate::text::TextRange) -> Option<crate::syntax::msi::RowName> {
        if self.encoding != Encoding::Database {
            return None;
        }
        let text = self.text();
        let view = self
            .rows
            .get_or_init(|| crate::syntax::msi::parse(text).ok())
            .as_ref()?;
        Some(view.row_name(text, view.locate(range.start)?))
    }

    /// The line:column of a working-text offset (builds a line index; for one-off messages).
    pub fn line_col(&self, offset: usize) -> LineCol {
        self.line_index().line_col(self.text(), offset)
    }

    /// Working text as displayable UTF-8 (Windows-1252 decoding for 8-bit files).
    pub fn display_text<'a>(&self, bytes: &'a [u8]) -> std::borrow::Cow<'a, str> {
        to_display(self.encoding, bytes)
    }
}

/// Why a file could not be read into a [`SourceFile`].
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// Bytes a UTF-16 file is read and decoded by at a time: small enough to stay in the cache
/// between the read and the decoding, large enough that system calls do not count.
const DECODE_CHUNK: usize = 256 * 1024;

/// Reads a whole file into a [`SourceFile`] (`len_hint`: its expected size, 0 if unknown).
///
/// A UTF-16 file is decoded while it is read, a chunk at a time, so its bytes are never held
/// whole: reading a 100 MB export takes its 50 MB of text instead of 150 MB, and the page
/// faults of a 100 MB buffer go too. Other files are read into one buffer of their size.
pub fn read_source(
    path: impl Into<String>,
    reader: &mut dyn Read,
    len_hint: usize,
) -> Result<SourceFile, ReadError> {
    let path = path.into();
    let mut head = [0u8; 2];
    let got = read_full(reader, &mut head)?;
    if head[..got] == *UTF16BE_BOM {
        // Refused before the rest is read.
        return Err(DecodeError::Utf16Be.into());
    }
    if head[..got] == *UTF16LE_BOM {
        let mut decoder = Utf16Decoder::with_capacity(len_hint.saturating_sub(2));
        let chunk_len = match len_hint {
            0 => DECODE_CHUNK,
            len => DECODE_CHUNK.min(len.max(4096)),
        };
        let mut chunk = vec![0u8; chunk_len];
        loop {
            let n = read_full(reader, &mut chunk)?;
            decoder.push(&chunk[..n]);
            if n < chunk.len() {
                break;
            }
        }
        let text = decoder.finish()?;
        return Ok(SourceFile::with_text(path, Encoding::Utf16Le, text));
    }
    let mut raw = Vec::with_capacity(len_hint.max(got));
    raw.extend_from_slice(&head[..got]);
    reader.read_to_end(&mut raw)?;
    Ok(SourceFile::new(path, raw)?)
}

/// The largest script read (its offsets are kept in 30 bits).
pub const MAX_SCRIPT_LEN: u64 = 1 << 30;
/// The largest 8-bit or UTF-8 input read (a `.reg` text's offsets are `u32`).
pub const MAX_INPUT_LEN: u64 = 4 << 30;
/// The largest UTF-16 input read: its text takes at least half its bytes.
pub const MAX_UTF16_INPUT_LEN: u64 = (8 << 30) + 2;

/// The most bytes an input that starts with `head` (its first bytes, at least 17 of them
/// when it has that many) may have, and what it is called in the refusal.
pub fn input_limit(head: &[u8]) -> (u64, &'static str) {
    let text = head.strip_prefix(UTF8_BOM).unwrap_or(head);
    if head.starts_with(UTF16LE_BOM) {
        (MAX_UTF16_INPUT_LEN, "larger than 8 GiB")
    } else if text.starts_with(crate::detect::WISE_HEADER_PREFIX) {
        (MAX_SCRIPT_LEN, "script larger than 1 GiB")
    } else {
        (MAX_INPUT_LEN, "larger than 4 GiB")
    }
}

/// Why a file is not read.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("is a directory")]
    Directory,
    #[error("not a regular file (a FIFO, socket or device); not read")]
    NotRegular,
    #[error("{what} ({len} bytes); not read")]
    TooLarge { len: u64, what: String },
}

/// Opens a file that is to be read whole, and returns it with its size: only a regular file
/// of at most `limit` bytes (`what` names the limit in the refusal, e.g. "larger than
/// 64 MiB"). Its type and size are looked at on the opened file, before anything is read;
/// a FIFO is opened without waiting for a writer (on Unix), so naming one never hangs.
pub fn open_regular(
    path: &std::path::Path,
    limit: u64,
    what: &str,
) -> Result<(std::fs::File, u64), OpenError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(OpenError::Directory);
    }
    if !meta.is_file() {
        return Err(OpenError::NotRegular);
    }
    if meta.len() > limit {
        return Err(OpenError::TooLarge {
            len: meta.len(),
            what: what.to_string(),
        });
    }
    Ok((file, meta.len()))
}

/// A reader that fails (`FileTooLarge`) once more than `limit` bytes came from `inner`: a
/// file that grows after its size was looked at, or standard input, is never read past it.
pub struct Limited<R> {
    inner: R,
    left: u64,
    what: &'static str,
}

impl<R> Limited<R> {
    pub fn new(inner: R, limit: u64, what: &'static str) -> Self {
        Self {
            inner,
            left: limit,
            what,
        }
    }
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        match self.left.checked_sub(n as u64) {
            Some(left) => {
                self.left = left;
                Ok(n)
            }
            None => Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                self.what,
            )),
        }
    }
}

/// Reads a regular file of expected size `len` into a [`SourceFile`], never more than
/// `limit.0` bytes (a file that grew past it fails with `limit.1`).
///
/// An 8-bit or UTF-8 file of [`READ_FROM`] bytes or more is read in pieces at their
/// offsets, in parallel on the current thread pool: most of the cost of reading a large file
/// is faulting in the fresh pages of its buffer, and that work divides between cores. A file
/// that turns out shorter or longer than `len` is read again from the start, in one piece, so
/// the result is always the file's bytes as one sequential read gives them. A UTF-16 file of
/// that size is decoded in pieces the same way ([`decode_in_pieces`]), and read again in one
/// piece when that fails, so its errors are those of the sequential read. Other files go
/// through [`read_source`].
pub fn read_file(
    path: impl Into<String>,
    file: &mut std::fs::File,
    len: usize,
    limit: (u64, &'static str),
) -> Result<SourceFile, ReadError> {
    let path = path.into();
    if crate::pieces::split(len, READ_FROM).is_none() {
        return read_source(path, &mut Limited::new(&*file, limit.0, limit.1), len);
    }
    let mut head = [0u8; 2];
    let read = read_exact_at(file, &mut head, 0);
    if matches!(read, Ok(true)) && head == *UTF16LE_BOM {
        if let Some(text) = decode_in_pieces(file, len) {
            return Ok(SourceFile::with_text(path, Encoding::Utf16Le, text));
        }
        use std::io::Seek;
        file.rewind()?;
        return read_source(path, &mut Limited::new(&*file, limit.0, limit.1), len);
    }
    let pieces = match read {
        Ok(true) if head != *UTF16BE_BOM => read_in_pieces(file, len),
        _ => None,
    };
    match pieces {
        // All ASCII, so no BOM and not UTF-8 with non-ASCII characters: 8-bit, detected
        // without another pass over the bytes.
        Some((raw, true)) => Ok(SourceFile::with_text(path, Encoding::Ansi, raw)),
        Some((raw, false)) => Ok(SourceFile::new(path, raw)?),
        None => {
            // Positioned reads move the file's cursor on some systems (Windows).
            use std::io::Seek;
            file.rewind()?;
            read_source(path, &mut Limited::new(&*file, limit.0, limit.1), len)
        }
    }
}

/// The `len` bytes of `file`, read in [`READ_PIECE`] pieces on the thread pool, and whether
/// they are all ASCII (each piece is looked at while it is in the cache); `None` when the file
/// is not exactly `len` bytes long (it changed since its size was taken) or a read failed (the
/// sequential read then reports the error).
fn read_in_pieces(file: &std::fs::File, len: usize) -> Option<(Vec<u8>, bool)> {
    use rayon::prelude::*;
    // Zeroed allocation of this size maps fresh pages lazily, so each worker faults in its own.
    let mut raw = vec![0u8; len];
    let pieces: Option<Vec<bool>> = raw
        .par_chunks_mut(READ_PIECE)
        .enumerate()
        .map(
            |(i, piece)| match read_exact_at(file, piece, i * READ_PIECE) {
                Ok(true) => Some(piece.is_ascii()),
                _ => None,
            },
        )
        .collect();
    let ascii = pieces?.iter().all(|&ascii| ascii);
    let mut probe = [0u8; 1];
    let ends_there = matches!(read_exact_at(file, &mut probe, len), Ok(false));
    ends_there.then_some((raw, ascii))
}

/// Fills `buf` from `offset` of `file`: `Ok(false)` when the file ends first.
fn read_exact_at(file: &std::fs::File, buf: &mut [u8], offset: usize) -> std::io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        match read_at(file, &mut buf[filled..], (offset + filled) as u64) {
            Ok(0) => return Ok(false),
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// One positioned read.
#[cfg(unix)]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

/// One positioned read (it moves the file's cursor too).
#[cfg(windows)]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

/// Positioned reads are not available here: every file goes through [`read_source`].
#[cfg(not(any(unix, windows)))]
fn read_at(_: &std::fs::File, _: &mut [u8], _: u64) -> std::io::Result<usize> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Fills `buf` unless the input ends first; returns how many bytes were read.
fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Working-text bytes as displayable text: UTF-8 as is, 8-bit bytes as Windows-1252.
pub fn to_display(encoding: Encoding, bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match encoding {
        Encoding::Ansi => {
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
        }
        _ => String::from_utf8_lossy(bytes),
    }
}

/// Strict UTF-16LE decoding to UTF-8 bytes (no BOM handling).
pub fn decode_utf16le(bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut decoder = Utf16Decoder::with_capacity(bytes.len());
    decoder.push(bytes);
    decoder.finish()
}

/// Decodes UTF-16LE given in pieces of any length (a file read a chunk at a time), with the
/// errors and offsets [`decode_utf16le`] gives for the whole.
#[derive(Debug, Default)]
pub struct Utf16Decoder {
    out: Vec<u8>,
    /// Up to 3 bytes of an incomplete unit or surrogate pair from the end of the last piece.
    pending: [u8; 4],
    pending_len: usize,
    /// Bytes pushed so far.
    seen: usize,
    /// The first unpaired surrogate and its byte offset (counted from the start of the input);
    /// reported only at the end, because an odd length takes precedence.
    error: Option<(u16, usize)>,
}

impl Utf16Decoder {
    /// `raw_len`: the expected input length, to size the output (ASCII halves it).
    pub fn with_capacity(raw_len: usize) -> Self {
        Self {
            out: Vec::with_capacity(raw_len / 2 + raw_len / 64 + 16),
            ..Self::default()
        }
    }

    pub fn push(&mut self, mut bytes: &[u8]) {
        let start = self.seen;
        self.seen += bytes.len();
        if self.error.is_some() {
            return;
        }
        if self.pending_len > 0 {
            // Complete the pending unit or pair from the head of this piece.
            let take = (4 - self.pending_len).min(bytes.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&bytes[..take]);
            let have = self.pending_len + take;
            let pending = self.pending;
            let base = start - self.pending_len;
            match decode_units(&pending[..have], &mut self.out) {
                Ok(0) => {
                    // Still incomplete: the piece was shorter than what is missing.
                    self.pending_len = have;
                    return;
                }
                Ok(used) => {
                    // `used` covers the old pending bytes and part of this piece.
                    bytes = &bytes[used - self.pending_len..];
                    self.pending_len = 0;
                }
                Err((unit, at)) => {
                    self.error = Some((unit, base + at));
                    return;
                }
            }
        }
        let base = self.seen - bytes.len();
        match decode_units(bytes, &mut self.out) {
            Ok(used) => {
                let rest = &bytes[used..];
                self.pending[..rest.len()].copy_from_slice(rest);
                self.pending_len = rest.len();
            }
            Err((unit, at)) => self.error = Some((unit, base + at)),
        }
    }

    /// The decoded text, or the error for the whole input: an odd length first (it says the
    /// file is not UTF-16 at all), then the first unpaired surrogate. Offsets in errors count
    /// a 2-byte BOM before the input.
    pub fn finish(self) -> Result<Vec<u8>, DecodeError> {
        if self.seen % 2 != 0 {
            return Err(DecodeError::OddLength { len: self.seen + 2 });
        }
        if let Some((unit, offset)) = self.error {
            return Err(DecodeError::UnpairedSurrogate {
                unit,
                offset: offset + 2,
            });
        }
        if self.pending_len > 0 {
            // An even number of bytes is left over: a high surrogate at the end of the input.
            let unit = u16::from_le_bytes([self.pending[0], self.pending[1]]);
            return Err(DecodeError::UnpairedSurrogate {
                unit,
                offset: self.seen - self.pending_len + 2,
            });
        }
        Ok(self.out)
    }
}

/// Where decoded UTF-8 goes: a growing buffer, a slot of known size, or only a count.
trait Utf8Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Utf8Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// A piece's share of the text: filled from its start, and what does not fit goes on a
/// spill of its own (see [`decode_in_pieces`]).
struct Share<'s> {
    buf: &'s mut [u8],
    at: usize,
    spill: Vec<u8>,
}

impl Utf8Sink for Share<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let room = self.buf.len() - self.at;
        if self.spill.is_empty() && bytes.len() <= room {
            self.buf[self.at..self.at + bytes.len()].copy_from_slice(bytes);
            self.at += bytes.len();
        } else {
            let (fits, rest) = bytes.split_at(room.min(bytes.len()));
            self.buf[self.at..self.at + fits.len()].copy_from_slice(fits);
            self.at += fits.len();
            self.spill.extend_from_slice(rest);
        }
    }
}

/// Decodes the complete units of `bytes` onto `out`: returns how many bytes were used (all but
/// a final odd byte, or a final high surrogate whose pair may follow in the next piece), or
/// the first unpaired surrogate and its offset in `bytes`.
///
/// ASCII (the bulk of a regedit export) goes 16 units at a time: a 32-byte block whose units
/// are all below 0x80 is narrowed to 16 bytes with vector code (see BENCHMARKS.md, "UTF-16
/// decoding in one pass": about twice the speed of the byte loop it replaced; earlier
/// measurements put SSE2 intrinsics at the same speed and `encoding_rs::mem`'s validation and
/// conversion at four times the time). What a decoding costs beyond that is first touching
/// the output's pages.
fn decode_units(bytes: &[u8], out: &mut impl Utf8Sink) -> Result<usize, (u16, usize)> {
    let mut i = 0;
    loop {
        while let Some(block) = bytes.get(i..i + 32) {
            // Whole units, then a truncation of each: this form compiles to vector loads,
            // ORs and packs (taking every other byte of the block does not; it stays a byte
            // loop).
            let mut units = [0u16; 16];
            for (unit, pair) in units.iter_mut().zip(block.chunks_exact(2)) {
                *unit = u16::from_le_bytes([pair[0], pair[1]]);
            }
            if units.iter().fold(0, |any, &unit| any | unit) >= 0x80 {
                break;
            }
            let mut narrow = [0u8; 16];
            for (n, &unit) in narrow.iter_mut().zip(&units) {
                *n = unit as u8;
            }
            out.put(&narrow);
            i += 32;
        }
        let Some(&[lo, hi]) = bytes.get(i..i + 2) else {
            return Ok(i);
        };
        let unit = u16::from_le_bytes([lo, hi]);
        match unit {
            0..=0x7F => {
                out.put(&[lo]);
                i += 2;
            }
            0x80..=0x7FF => {
                out.put(&[0xC0 | (unit >> 6) as u8, 0x80 | (unit & 0x3F) as u8]);
                i += 2;
            }
            0xD800..=0xDBFF => {
                let Some(&[lo2, hi2]) = bytes.get(i + 2..i + 4) else {
                    // The pair may complete in the next piece; `finish` reports it otherwise.
                    return Ok(i);
                };
                let low = u16::from_le_bytes([lo2, hi2]);
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err((unit, i));
                }
                let c = 0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
                out.put(&[
                    0xF0 | (c >> 18) as u8,
                    0x80 | ((c >> 12) & 0x3F) as u8,
                    0x80 | ((c >> 6) & 0x3F) as u8,
                    0x80 | (c & 0x3F) as u8,
                ]);
                i += 4;
            }
            0xDC00..=0xDFFF => return Err((unit, i)),
            _ => {
                out.put(&[
                    0xE0 | (unit >> 12) as u8,
                    0x80 | ((unit >> 6) & 0x3F) as u8,
                    0x80 | (unit & 0x3F) as u8,
                ]);
                i += 2;
            }
        }
    }
}

/// The UTF-16 body (after the BOM) of a file of `len` bytes, read and decoded in
/// [`READ_PIECE`] pieces on the thread pool, in one pass: what a large export costs is
/// reading it and first touching the text's pages, and both divide between cores.
///
/// Every unit gives at least one byte of UTF-8, so a piece's text starts no earlier than half
/// its offset in the body: each piece is decoded into that share of a buffer of half the
/// body's size (all of ASCII text fits it exactly), anything longer onto a spill of its own.
/// When some piece's text is not exactly its share, the shares are moved to their places
/// from the last to the first (each moves towards the end, so none is overwritten before it
/// moves) with their spills after them. A surrogate pair across a piece border belongs to the
/// piece of its high half, so every piece reads one unit on each side of it.
///
/// `None` on anything but a clean decoding of exactly `len` bytes (an odd length, an unpaired
/// surrogate, a failed read, a file that changed): the sequential read then gives the text or
/// the error, with its offsets.
fn decode_in_pieces(file: &std::fs::File, len: usize) -> Option<Vec<u8>> {
    use rayon::prelude::*;
    let body = len.checked_sub(2).filter(|b| b % 2 == 0)?;
    // Zeroed allocation maps fresh pages lazily, so each worker faults in its own share.
    let mut text = vec![0u8; body / 2];
    let decoded: Vec<(usize, Vec<u8>)> = text
        .par_chunks_mut(READ_PIECE / 2)
        .enumerate()
        .map_init(Vec::new, |buf, (k, share)| {
            let mut out = Share {
                buf: share,
                at: 0,
                spill: Vec::new(),
            };
            decode_piece(file, body, k, buf, &mut out)?;
            Some((out.at, out.spill))
        })
        .collect::<Option<_>>()?;
    let mut probe = [0u8; 1];
    if !matches!(read_exact_at(file, &mut probe, len), Ok(false)) {
        return None;
    }
    let share = READ_PIECE / 2;
    let exact = |(k, (at, spill)): (usize, &(usize, Vec<u8>))| {
        spill.is_empty() && *at == share.min(text.len() - k * share)
    };
    if decoded.iter().enumerate().all(exact) {
        return Some(text);
    }
    let total: usize = decoded.iter().map(|(at, spill)| at + spill.len()).sum();
    text.resize(total, 0);
    let mut end = total;
    for (k, (at, spill)) in decoded.iter().enumerate().rev() {
        let start = end - at - spill.len();
        text[start + at..end].copy_from_slice(spill);
        text.copy_within(k * share..k * share + at, start);
        end = start;
    }
    Some(text)
}

/// Reads piece `k` of a UTF-16 body of `body` bytes (after the 2-byte BOM of `file`) with
/// the unit before and after it into `buf`, and decodes it onto `out`: the pair whose high
/// half ends the piece is decoded whole, a low half that starts it after a high half is the
/// previous piece's. `None` on a failed or short read or an unpaired surrogate.
fn decode_piece(
    file: &std::fs::File,
    body: usize,
    k: usize,
    buf: &mut Vec<u8>,
    out: &mut impl Utf8Sink,
) -> Option<()> {
    let start = k * READ_PIECE;
    let end = (start + READ_PIECE).min(body);
    let before = if k > 0 { 2 } else { 0 };
    let after = if end < body { 2 } else { 0 };
    buf.resize(before + (end - start) + after, 0);
    if !read_exact_at(file, buf, 2 + start - before).ok()? {
        return None;
    }
    let is_high = |b: &[u8]| matches!(b, [_, hi] if (0xD8..=0xDB).contains(hi));
    let mut from = before;
    if is_high(&buf[..before]) {
        // This piece's first unit completes the previous piece's last.
        from += 2;
    }
    let piece_end = before + (end - start);
    let used = from + decode_units(buf.get(from..piece_end)?, out).ok()?;
    if used < piece_end {
        // A high surrogate ends the piece: decoded with the unit after it.
        let pair = buf.get(used..piece_end + after)?;
        (decode_units(pair, out).ok()? == pair.len() && pair.len() == 4).then_some(())
    } else {
        Some(())
    }
}

/// Text bytes encoded per piece when a UTF-16 file is written (see [`SourceFile::feed_raw`]).
const ENCODE_PIECE: usize = 1 << 20;

/// Encodes UTF-8 working text as UTF-16LE (no BOM). Invalid UTF-8 cannot occur for text that
/// came from [`decode_utf16le`] plus edits made of `str`s; it is replaced rather than panicking.
///
/// ASCII bytes are widened directly; other text goes through [`str::encode_utf16`].
pub fn encode_utf16le(text: &[u8]) -> Vec<u8> {
    encode_utf16le_after(b"", text)
}

/// `prefix` followed by [`encode_utf16le`] of `text`, in one buffer.
fn encode_utf16le_after(prefix: &[u8], text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(prefix.len() + text.len() * 2);
    out.extend_from_slice(prefix);
    let mut rest = text;
    while !rest.is_empty() {
        let ascii = rest.iter().position(|&b| b >= 0x80).unwrap_or(rest.len());
        for chunk in rest[..ascii].chunks(8) {
            let mut wide = [0u8; 16];
            for (i, &b) in chunk.iter().enumerate() {
                wide[2 * i] = b;
            }
            out.extend_from_slice(&wide[..2 * chunk.len()]);
        }
        rest = &rest[ascii..];
        if rest.is_empty() {
            break;
        }
        // The non-ASCII run up to the next ASCII byte (a character boundary in valid UTF-8).
        let run = rest.iter().position(|&b| b < 0x80).unwrap_or(rest.len());
        let s = String::from_utf8_lossy(&rest[..run]);
        for unit in s.encode_utf16() {
            out.extend_from_slice(&unit.to_le_bytes());
        }
        rest = &rest[run..];
    }
    out
}

/// Working-text offset → offset in the file's raw bytes (for JSON/SARIF edit offsets).
///
/// For UTF-16 files this counts the code units before the offset through a sparse index
/// (units before every [`UNIT_BLOCK`] bytes of text, built on first use), so a lookup costs at
/// most one block whatever the order of the offsets asked for.
pub fn raw_offset(source: &SourceFile, text_offset: usize) -> usize {
    let bom = source.encoding.bom().len();
    match source.encoding {
        Encoding::Utf16Le => {
            let text = source.text();
            let offset = text_offset.min(text.len());
            let index = source.units.get_or_init(|| {
                text.chunks(UNIT_BLOCK)
                    .scan(0, |before, block| {
                        let at = *before;
                        *before += utf16_units(block);
                        Some(at)
                    })
                    .collect()
            });
            let k = offset / UNIT_BLOCK;
            let mut units = index.get(k).copied().unwrap_or(0)
                + utf16_units(&text[(k * UNIT_BLOCK).min(offset)..offset]);
            // An offset inside a character counts it as one unit (U+FFFD), as a lossy decoding
            // of the prefix would; `utf16_units` counted a 4-byte lead as two.
            if text.get(offset).is_some_and(|&b| b & 0xC0 == 0x80) {
                let lead = text[..offset].iter().rev().find(|&&b| b & 0xC0 != 0x80);
                if lead.is_some_and(|&b| b >= 0xF0) {
                    units -= 1;
                }
            }
            bom + units * 2
        }
        _ => bom + text_offset,
    }
}

/// Bytes of working text per entry of the UTF-16 offset index.
const UNIT_BLOCK: usize = 4096;

/// UTF-16 code units of UTF-8 bytes: one per character (its first byte, whatever the split)
/// and one more per 4-byte character (a surrogate pair).
fn utf16_units(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .map(|&b| usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_bytes_fed_in_pieces_are_the_raw_bytes() {
        // A UTF-16 text longer than a piece, with characters of every width around the place
        // the first piece would end (the euro sign is three bytes of text, U+1F600 four).
        let mut text = "x".repeat(ENCODE_PIECE - 5);
        text.push_str("\u{20ac}\u{1f600}\u{e9}ab\r\n");
        text.push_str(&"y\u{20ac}".repeat(1000));
        let raw = [UTF16LE_BOM, &encode_utf16le(text.as_bytes())].concat();
        let utf16 = SourceFile::new("a.reg", raw.clone()).unwrap();
        let ansi = SourceFile::new("a.wse", b"caf\xE9\r\n".to_vec()).unwrap();
        let bom = SourceFile::from_text("b.wse", Encoding::Utf8Bom, b"x\r\n".to_vec());
        for (source, expected) in [
            (&utf16, raw),
            (&ansi, b"caf\xE9\r\n".to_vec()),
            (&bom, b"\xEF\xBB\xBFx\r\n".to_vec()),
        ] {
            let mut fed = Vec::new();
            let mut pieces = 0;
            source
                .feed_raw(&mut |piece| {
                    fed.extend_from_slice(piece);
                    pieces += 1;
                    Ok(())
                })
                .unwrap();
            assert_eq!(fed, expected);
            assert_eq!(fed, *source.raw());
            if source.encoding == Encoding::Utf16Le {
                assert!(pieces > 2, "{pieces} pieces");
            }
        }
    }

    fn utf16(s: &str) -> Vec<u8> {
        let mut v = UTF16LE_BOM.to_vec();
        v.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        v
    }

    #[test]
    fn detects_each_encoding() {
        let ansi = SourceFile::new("a", b"caf\xE9\r\n".to_vec()).unwrap();
        assert_eq!(ansi.encoding, Encoding::Ansi);
        assert_eq!(ansi.text(), b"caf\xE9\r\n");
        let utf8 = SourceFile::new("a", "café".as_bytes().to_vec()).unwrap();
        assert_eq!(utf8.encoding, Encoding::Utf8);
        let bom = SourceFile::new("a", b"\xEF\xBB\xBFabc".to_vec()).unwrap();
        assert_eq!(bom.encoding, Encoding::Utf8Bom);
        assert_eq!(bom.text(), b"abc");
        let wide = SourceFile::new("a", utf16("Wíndows\r\n")).unwrap();
        assert_eq!(wide.encoding, Encoding::Utf16Le);
        assert_eq!(wide.text(), "Wíndows\r\n".as_bytes());
    }

    #[test]
    fn encode_gives_back_the_raw_bytes() {
        for raw in [
            utf16("Windows Registry Editor Version 5.00\r\n\r\n日本\r\n"),
            b"\xEF\xBB\xBFx\n".to_vec(),
            b"Document Type: WSE\r\n\xA0".to_vec(),
        ] {
            let src = SourceFile::new("a", raw.clone()).unwrap();
            assert_eq!(src.encode(src.text()), raw);
        }
    }

    #[test]
    fn utf16_files_keep_only_their_text() {
        let raw = utf16("REGEDIT4\r\n日本\u{1F600}\r\n");
        let src = SourceFile::new("a", raw.clone()).unwrap();
        assert_eq!(src.raw(), raw);
        assert_eq!(src.clone().into_raw(), raw);
        // A text of a known encoding gives the same file as its encoded bytes would.
        let text = src.text().to_vec();
        let again = SourceFile::from_text("a", Encoding::Utf16Le, text);
        assert_eq!(again.raw(), raw);
        // Invalid UTF-8 becomes U+FFFD, as encoding and decoding it again would make it.
        let bad = SourceFile::from_text("a", Encoding::Utf16Le, b"a\xFFb\xE6\x97".to_vec());
        let round = SourceFile::new("a", bad.raw().into_owned()).unwrap();
        assert_eq!(bad.text(), round.text());
        let bom = SourceFile::from_text("a", Encoding::Utf8Bom, b"x\n".to_vec());
        assert_eq!(bom.raw(), &b"\xEF\xBB\xBFx\n"[..]);
        let ansi = SourceFile::new("a", b"caf\xE9".to_vec()).unwrap();
        assert!(matches!(ansi.raw(), std::borrow::Cow::Borrowed(b"caf\xE9")));
    }

    #[test]
    fn utf16_errors_are_reported() {
        let mut odd = utf16("ab");
        odd.push(0);
        assert_eq!(
            SourceFile::new("a", odd).unwrap_err(),
            DecodeError::OddLength { len: 7 }
        );
        let mut lone = UTF16LE_BOM.to_vec();
        lone.extend_from_slice(&[b'a', 0, 0x00, 0xD8, b'b', 0]);
        assert_eq!(
            SourceFile::new("a", lone).unwrap_err(),
            DecodeError::UnpairedSurrogate {
                unit: 0xD800,
                offset: 4
            }
        );
    }

    #[test]
    fn fast_paths_agree_with_the_std_codecs() {
        // ASCII runs of every length around the 8-unit fast path, between non-ASCII
        // characters of each UTF-8 width and a surrogate pair.
        for run in 0..20 {
            for other in ["é", "日", "\u{1F600}", "\u{7F}", "\u{80}"] {
                let ascii = "abcdefghijklmnopqrstuvwxyz".repeat(2);
                let text = format!("{}{other}{}{other}", &ascii[..run], &ascii[..run / 2]);
                let raw: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
                assert_eq!(decode_utf16le(&raw).unwrap(), text.as_bytes(), "{text:?}");
                assert_eq!(encode_utf16le(text.as_bytes()), raw, "{text:?}");
            }
        }
        // An unpaired surrogate after a fast-path run is reported at its own offset.
        let mut raw: Vec<u8> = "0123456789abcdef"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        raw.extend_from_slice(&[0x00, 0xDC, b'x', 0]);
        assert_eq!(
            decode_utf16le(&raw).unwrap_err(),
            DecodeError::UnpairedSurrogate {
                unit: 0xDC00,
                offset: 2 + 32
            }
        );
        // Invalid UTF-8 is replaced, as `String::from_utf8_lossy` does.
        let bad = b"ab\xFFcd\xE6\x97";
        let expected: Vec<u8> = String::from_utf8_lossy(bad)
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(encode_utf16le(bad), expected);
    }

    /// Decoding by `char::decode_utf16`, the definition the fast decoder must match.
    fn reference_decode(bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
        if bytes.len() % 2 != 0 {
            return Err(DecodeError::OddLength {
                len: bytes.len() + 2,
            });
        }
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect();
        let mut out = String::new();
        let mut at = 0;
        for c in char::decode_utf16(units.iter().copied()) {
            match c {
                Ok(c) => {
                    out.push(c);
                    at += c.len_utf16();
                }
                Err(e) => {
                    return Err(DecodeError::UnpairedSurrogate {
                        unit: e.unpaired_surrogate(),
                        offset: 2 + 2 * at,
                    });
                }
            }
        }
        Ok(out.into_bytes())
    }

    /// A reader that hands out at most `step` bytes per call.
    struct Trickle<'a> {
        rest: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.rest.len());
            buf[..n].copy_from_slice(&self.rest[..n]);
            self.rest = &self.rest[n..];
            Ok(n)
        }
    }

    #[test]
    fn decoding_in_pieces_matches_the_reference() {
        let wide = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
        let mut cases = vec![
            wide("plain ASCII that is longer than one thirty-two byte block, twice over"),
            wide(
                "aé日\u{1F600}\u{7FF}\u{800}\u{FFFF}\u{10FFFF}b"
                    .repeat(5)
                    .as_str(),
            ),
            Vec::new(),
        ];
        let ascii = wide("0123456789abcdef0123456789");
        for bad in [
            &[0x00, 0xD8][..],         // high surrogate at the end
            &[0x00, 0xD8, b'x', 0],    // high surrogate, then not a low one
            &[0x00, 0xDC, b'x', 0],    // lone low surrogate
            &[0x3D, 0xD8, 0x00, 0xDE], // a valid pair
            &[0x00, 0xD8, 0x00, 0xD8], // two highs
            &[0x00, 0xD8, 0x00],       // odd length after a high surrogate
            b"x",                      // odd length
        ] {
            for at in [0, 1, 7, 16, 17] {
                let mut case = ascii[..2 * at].to_vec();
                case.extend_from_slice(bad);
                case.extend_from_slice(&ascii);
                cases.push(case.clone());
                case.truncate(2 * at + bad.len());
                cases.push(case);
            }
        }
        for case in &cases {
            let expected = reference_decode(case);
            assert_eq!(decode_utf16le(case), expected, "{case:?}");
            for step in 1..=9 {
                let mut decoder = Utf16Decoder::with_capacity(0);
                for piece in case.chunks(step) {
                    decoder.push(piece);
                }
                assert_eq!(decoder.finish(), expected, "step {step}: {case:?}");
                let mut raw = UTF16LE_BOM.to_vec();
                raw.extend_from_slice(case);
                let mut reader = Trickle { rest: &raw, step };
                let read = read_source("a", &mut reader, raw.len());
                match (&read, &expected) {
                    (Ok(src), Ok(text)) => {
                        assert_eq!(src.text(), &text[..]);
                        assert_eq!(src.raw(), raw);
                    }
                    (Err(ReadError::Decode(e)), Err(x)) => assert_eq!(e, x),
                    _ => panic!("step {step}: {case:?}: {read:?}"),
                }
            }
        }
    }

    #[test]
    fn reading_a_large_file_in_pieces_gives_its_bytes() {
        // Not a multiple of the piece size.
        let ascii: Vec<u8> = (0..READ_FROM + READ_PIECE / 3)
            .map(|i| b"item: Edit Registry\r\n  Key=x\r\nend\r\n"[i % 35])
            .collect();
        let with = |at: usize, bytes: &[u8]| {
            let mut raw = ascii.clone();
            raw.splice(at..at + bytes.len(), bytes.iter().copied());
            raw
        };
        let cases = [
            (ascii.clone(), Encoding::Ansi),
            (with(ascii.len() - 10, b"\xE9"), Encoding::Ansi),
            (with(READ_PIECE - 1, "\u{E9}".as_bytes()), Encoding::Utf8),
            (with(0, UTF8_BOM), Encoding::Utf8Bom),
            // Decoded while read, in one piece: the positioned read of its BOM must not leave
            // the file's cursor past it.
            (utf16(&String::from_utf8_lossy(&ascii)), Encoding::Utf16Le),
        ];
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        for (raw, encoding) in cases {
            let mut file = tempfile::tempfile().unwrap();
            std::io::Write::write_all(&mut file, &raw).unwrap();
            // The size the caller expects: right, too small (the file grew), too large (it
            // shrank).
            for len in [raw.len(), raw.len() - 1, raw.len() + 1] {
                std::io::Seek::rewind(&mut file).unwrap();
                let read = pool
                    .install(|| read_file("a", &mut file, len, (MAX_INPUT_LEN, "larger")))
                    .unwrap();
                let expected = SourceFile::new("a", raw.clone()).unwrap();
                assert_eq!(read.encoding, encoding, "expected size {len}");
                assert!(read.text() == expected.text(), "expected size {len}");
                assert!(read.raw() == raw, "expected size {len}");
            }
            let ascii = raw.is_ascii();
            assert_eq!(read_in_pieces(&file, raw.len()), Some((raw.clone(), ascii)));
            assert_eq!(read_in_pieces(&file, raw.len() - 1), None);
            assert_eq!(read_in_pieces(&file, raw.len() + 1), None);
        }
    }

    #[test]
    fn utf16_decoded_in_pieces_is_decoded_as_in_one() {
        // Units of a body of two and a half pieces, ASCII but where a case puts others.
        let units = READ_PIECE + READ_PIECE / 4;
        let line = b"[HKLM\\x]\r\n";
        let base: Vec<u16> = (0..units)
            .map(|i| u16::from(line[i % line.len()]))
            .collect();
        let border = READ_PIECE / 2; // the first unit of the second piece
        let with = |at: usize, put: &[u16]| {
            let mut u = base.clone();
            u[at..at + put.len()].copy_from_slice(put);
            u
        };
        let (high, low) = (0xD83D, 0xDE00); // U+1F600
        let valid = [
            base.clone(),
            // A pair across the border: the first piece decodes it whole.
            with(border - 1, &[high, low]),
            // A pair on either side of it, characters of two and three bytes at it.
            with(border - 2, &[high, low, high, low]),
            with(border - 1, &[0xE9, 0x65E5, 0x672C]),
            // A pair at the very end.
            with(units - 2, &[high, low]),
        ];
        let invalid = [
            // A high surrogate ending a piece, not followed by a low one.
            with(border - 1, &[high]),
            // A low surrogate starting a piece, after something else.
            with(border, &[low]),
            // A high surrogate ending the file.
            with(units - 1, &[high]),
        ];
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let bytes = |u: &[u16]| -> Vec<u8> {
            let mut raw = UTF16LE_BOM.to_vec();
            raw.extend(u.iter().flat_map(|u| u.to_le_bytes()));
            raw
        };
        let mut odd = bytes(&base);
        odd.push(b'x');
        let cases = valid
            .iter()
            .map(|u| (bytes(u), true))
            .chain(invalid.iter().map(|u| (bytes(u), false)))
            .chain([(odd, false)]);
        for (raw, decodes) in cases {
            let mut file = tempfile::tempfile().unwrap();
            std::io::Write::write_all(&mut file, &raw).unwrap();
            let expected = reference_decode(&raw[2..]);
            assert_eq!(expected.is_ok(), decodes);
            let pieces = pool.install(|| decode_in_pieces(&file, raw.len()));
            assert_eq!(pieces.ok_or(()), expected.clone().map_err(|_| ()));
            // The file as read: the text, or the sequential read's error.
            std::io::Seek::rewind(&mut file).unwrap();
            let read = pool.install(|| read_file("a", &mut file, raw.len(), (u64::MAX, "")));
            match (read, expected) {
                (Ok(src), Ok(text)) => assert!(src.text() == text && src.raw() == raw),
                (Err(ReadError::Decode(e)), Err(x)) => assert_eq!(e, x),
                (read, _) => panic!("{:?}", read.map(|s| s.text().len())),
            }
            // A file that is not the expected size is not decoded in pieces.
            for len in [raw.len() - 2, raw.len() + 2] {
                assert_eq!(pool.install(|| decode_in_pieces(&file, len)), None);
            }
        }
    }

    #[test]
    fn utf16_pieces_longer_and_shorter_than_their_share_are_put_in_place() {
        // Four and a half pieces. Each piece is decoded into a share of the text as long as
        // its units and spills what does not fit; these cases make pieces longer than their
        // share (characters of two to four bytes), shorter (a piece whose first unit is the
        // low half of the previous piece's last pair) and exact, side by side, so that moving
        // the shares to their places must not overwrite one that has not moved yet.
        let piece = READ_PIECE / 2; // units per piece
        let units = 4 * piece + piece / 2;
        let line = b"\"ImagePath\"=\"x\"\r\n";
        let base: Vec<u16> = (0..units)
            .map(|i| u16::from(line[i % line.len()]))
            .collect();
        let (high, low) = (0xD83D, 0xDE00); // U+1F600
        let with = |puts: &[(usize, &[u16])]| {
            let mut u = base.clone();
            for &(at, put) in puts {
                u[at..at + put.len()].copy_from_slice(put);
            }
            u
        };
        let cases = [
            // Longer pieces everywhere: the first unit of the text, inside every piece and
            // its last unit.
            with(&[
                (0, &[0xE9]),
                (piece / 3, &[0x65E5, 0x672C]),
                (piece + 7, &[high, low]),
                (2 * piece + piece / 2, &[0xE9; 64]),
                (3 * piece + 1, &[0x65E5; 3]),
                (units - 1, &[0xE9]),
            ]),
            // Pairs across two borders: the pieces after them are one unit short and the
            // pieces before them three bytes long; the piece between stays ASCII.
            with(&[(piece - 1, &[high, low]), (3 * piece - 1, &[high, low])]),
            // A short piece right after a long one, then a long one again.
            with(&[
                (piece / 2, &[0x672C; 100]),
                (2 * piece - 1, &[high, low]),
                (2 * piece + 5, &[0xE9]),
            ]),
            // Only the last (half) piece is longer: nothing before it moves.
            with(&[(4 * piece + 3, &[high, low, 0xE9])]),
        ];
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        for (n, units) in cases.iter().enumerate() {
            let mut raw = UTF16LE_BOM.to_vec();
            raw.extend(units.iter().flat_map(|u| u.to_le_bytes()));
            let expected = reference_decode(&raw[2..]).unwrap();
            let mut file = tempfile::tempfile().unwrap();
            std::io::Write::write_all(&mut file, &raw).unwrap();
            let pieces = pool.install(|| decode_in_pieces(&file, raw.len())).unwrap();
            assert!(pieces == expected, "case {n}");
            std::io::Seek::rewind(&mut file).unwrap();
            let read = pool
                .install(|| read_file("a", &mut file, raw.len(), (u64::MAX, "")))
                .unwrap();
            assert!(read.text() == expected && read.raw() == raw, "case {n}");
        }
    }

    #[test]
    fn reading_8_bit_files_keeps_their_bytes() {
        for raw in [
            &b""[..],
            b"R",
            b"\xFF",
            b"REGEDIT4\r\n\xE9",
            b"\xEF\xBB\xBFx",
        ] {
            for step in [1, 2, 5] {
                let mut reader = Trickle { rest: raw, step };
                let src = read_source("a", &mut reader, 0).unwrap();
                let direct = SourceFile::new("a", raw.to_vec()).unwrap();
                assert_eq!(src.encoding, direct.encoding);
                assert_eq!(src.text(), direct.text());
                assert_eq!(src.raw(), raw);
            }
        }
    }

    #[test]
    fn raw_offsets_account_for_bom_and_width() {
        let src = SourceFile::new("a", utf16("aé\u{1F600}b")).unwrap();
        // "b" is after 1 + 2 + 4 UTF-8 bytes; in UTF-16 after 1 + 1 + 2 units.
        assert_eq!(raw_offset(&src, 7), 2 + 8);
        let bom = SourceFile::new("a", b"\xEF\xBB\xBFabc".to_vec()).unwrap();
        assert_eq!(raw_offset(&bom, 1), 4);
    }

    #[test]
    fn raw_offsets_agree_with_a_lossy_count_at_every_offset() {
        // Long enough for several index blocks, with characters across block boundaries.
        let text = "aé\u{1F600}b日\r\n".repeat(1500);
        let src = SourceFile::new("a", utf16(&text)).unwrap();
        let bytes = text.as_bytes();
        for offset in (0..bytes.len() + 3).rev() {
            let prefix = &bytes[..offset.min(bytes.len())];
            let expected = 2 + String::from_utf8_lossy(prefix).encode_utf16().count() * 2;
            assert_eq!(raw_offset(&src, offset), expected, "{offset}");
        }
    }
}
