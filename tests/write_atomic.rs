//! Atomic writes: permissions kept, backups, refusals, and injected failures that must leave
//! the original intact and no temporary file behind.

mod common;

use common::names;
use std::cell::Cell;
use std::fs::{self, File, Metadata};
use std::io::{self, ErrorKind, Write};
use std::path::{Path, PathBuf};

use svcscrub::write::{
    Backup, Fs, RealFs, WriteErrorKind, WriteOptions, backup_path, write_atomic,
    write_atomic_expecting, write_atomic_with, write_new, write_new_with,
};
use tempfile::NamedTempFile;

const ORIGINAL: &[u8] = b"Document Type: WSE\r\nitem: Global\r\n  Title=Caf\xE9\r\nend\r\n";
const FIXED: &[u8] = b"Document Type: WSE\r\nitem: Global\r\nend\r\n";

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("setup.wse");
    fs::write(&path, ORIGINAL).unwrap();
    (dir, path)
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// A filesystem whose `nth` call (0-based) of operation `op` fails with `kind`.
struct Faulty {
    op: &'static str,
    nth: usize,
    kind: ErrorKind,
    seen: Cell<usize>,
}

impl Faulty {
    fn new(op: &'static str, kind: ErrorKind) -> Self {
        Self::nth(op, 0, kind)
    }

    fn nth(op: &'static str, nth: usize, kind: ErrorKind) -> Self {
        Self {
            op,
            nth,
            kind,
            seen: Cell::new(0),
        }
    }

    fn hit(&self, op: &str) -> io::Result<()> {
        if op != self.op {
            return Ok(());
        }
        let n = self.seen.get();
        self.seen.set(n + 1);
        if n == self.nth {
            Err(io::Error::from(self.kind))
        } else {
            Ok(())
        }
    }
}

impl Fs for Faulty {
    fn symlink_metadata(&self, path: &Path) -> io::Result<Metadata> {
        self.hit("symlink_metadata")?;
        RealFs.symlink_metadata(path)
    }

    fn open(&self, path: &Path) -> io::Result<File> {
        self.hit("open")?;
        RealFs.open(path)
    }

    fn create_temp(&self, dir: &Path) -> io::Result<NamedTempFile> {
        self.hit("create_temp")?;
        RealFs.create_temp(dir)
    }

    fn set_permissions(&self, file: &File, permissions: fs::Permissions) -> io::Result<()> {
        self.hit("set_permissions")?;
        RealFs.set_permissions(file, permissions)
    }

    fn write(&self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
        if let Err(e) = self.hit("write") {
            // A full disk: part of the data gets written first.
            file.write_all(&bytes[..bytes.len() / 2])?;
            return Err(e);
        }
        RealFs.write(file, bytes)
    }

    fn sync(&self, file: &File) -> io::Result<()> {
        self.hit("sync")?;
        RealFs.sync(file)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.hit("rename")?;
        RealFs.rename(from, to)
    }

    fn rename_noclobber(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.hit("rename_noclobber")?;
        RealFs.rename_noclobber(from, to)
    }
}

#[test]
fn replaces_the_file_and_keeps_its_permissions() {
    let (dir, path) = setup();
    #[cfg(unix)]
    set_mode(&path, 0o640);
    write_atomic(&path, FIXED, ORIGINAL, WriteOptions::default()).unwrap();
    assert_eq!(fs::read(&path).unwrap(), FIXED);
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o640);
    assert_eq!(names(dir.path()), ["setup.wse"]);
}

#[cfg(unix)]
#[test]
fn keeps_unusual_permissions_too() {
    let (_dir, path) = setup();
    set_mode(&path, 0o604);
    write_atomic(&path, FIXED, ORIGINAL, WriteOptions::default()).unwrap();
    assert_eq!(mode(&path), 0o604);
}

#[test]
fn backup_keeps_the_original_bytes() {
    let (dir, path) = setup();
    #[cfg(unix)]
    set_mode(&path, 0o600);
    write_atomic(
        &path,
        FIXED,
        ORIGINAL,
        WriteOptions {
            backup: Backup::Simple,
        },
    )
    .unwrap();
    assert_eq!(fs::read(&path).unwrap(), FIXED);
    let backup = dir.path().join("setup.wse.orig");
    assert_eq!(backup_path(&path), backup);
    assert_eq!(fs::read(&backup).unwrap(), ORIGINAL);
    #[cfg(unix)]
    assert_eq!(mode(&backup), 0o600);
    assert_eq!(names(dir.path()), ["setup.wse", "setup.wse.orig"]);
}

#[test]
fn refuses_a_file_changed_since_it_was_read() {
    let (dir, path) = setup();
    fs::write(&path, b"edited meanwhile\r\n").unwrap();
    let err = write_atomic(
        &path,
        FIXED,
        ORIGINAL,
        WriteOptions {
            backup: Backup::Simple,
        },
    )
    .unwrap_err();
    assert!(matches!(err.kind, WriteErrorKind::ChangedSinceRead));
    assert_eq!(
        err.to_string(),
        format!("{}: changed since it was read; not written", path.display())
    );
    assert_eq!(fs::read(&path).unwrap(), b"edited meanwhile\r\n");
    assert_eq!(names(dir.path()), ["setup.wse"]);
}

/// The expected bytes given in pieces (as `fix` gives a file's original, which it does not
/// keep whole) are compared with the file as it is read, a buffer at a time: a difference in
/// any piece, a longer or a shorter file is refused; the backup is written from the pieces.
#[test]
fn expected_bytes_in_pieces() {
    let cuts = [0, 0, 7, 7, 20, ORIGINAL.len() - 1, ORIGINAL.len()];
    let pieces = |sink: &mut dyn FnMut(&[u8]) -> io::Result<()>| {
        cuts.windows(2)
            .try_for_each(|w| sink(&ORIGINAL[w[0]..w[1]]))
    };
    let fixed = |sink: &mut dyn FnMut(&[u8]) -> io::Result<()>| FIXED.chunks(5).try_for_each(sink);
    let mut changed_at_end = ORIGINAL.to_vec();
    *changed_at_end.last_mut().unwrap() = b'!';
    let longer = [ORIGINAL, b"x"].concat();
    let shorter = &ORIGINAL[..ORIGINAL.len() - 1];
    for meanwhile in [&changed_at_end[..], &longer, shorter, b""] {
        let (_dir, path) = setup();
        fs::write(&path, meanwhile).unwrap();
        let err = write_atomic_expecting(&RealFs, &path, &fixed, &pieces, WriteOptions::default())
            .unwrap_err();
        assert!(matches!(err.kind, WriteErrorKind::ChangedSinceRead));
        assert_eq!(fs::read(&path).unwrap(), meanwhile);
    }
    let (dir, path) = setup();
    write_atomic_expecting(
        &RealFs,
        &path,
        &fixed,
        &pieces,
        WriteOptions {
            backup: Backup::Simple,
        },
    )
    .unwrap();
    assert_eq!(fs::read(&path).unwrap(), FIXED);
    assert_eq!(fs::read(backup_path(&path)).unwrap(), ORIGINAL);
    assert_eq!(names(dir.path()), ["setup.wse", "setup.wse.orig"]);
}

#[test]
fn a_file_that_cannot_be_opened_again_is_left_alone() {
    let (dir, path) = setup();
    let fs_ = Faulty::new("open", ErrorKind::PermissionDenied);
    let err = write_atomic_with(
        &fs_,
        &path,
        FIXED,
        ORIGINAL,
        WriteOptions {
            backup: Backup::Simple,
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("cannot read") && err.to_string().contains("permission denied"),
        "{err}"
    );
    assert_eq!(fs::read(&path).unwrap(), ORIGINAL);
    assert_eq!(names(dir.path()), ["setup.wse"]);
}

#[cfg(unix)]
#[test]
fn refuses_a_symbolic_link() {
    let (dir, path) = setup();
    let link = dir.path().join("link.wse");
    std::os::unix::fs::symlink(&path, &link).unwrap();
    let err = write_atomic(&link, FIXED, ORIGINAL, WriteOptions::default()).unwrap_err();
    assert!(matches!(err.kind, WriteErrorKind::SymbolicLink));
    assert_eq!(err.message(), "is a symbolic link; not written");
    assert_eq!(fs::read(&path).unwrap(), ORIGINAL);
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );

    let err = write_new(&link, FIXED).unwrap_err();
    assert!(matches!(err.kind, WriteErrorKind::SymbolicLink));
    assert_eq!(fs::read(&path).unwrap(), ORIGINAL);
    assert_eq!(names(dir.path()), ["link.wse", "setup.wse"]);
}

#[test]
fn refuses_a_directory_and_a_missing_file() {
    let (dir, path) = setup();
    let err = write_atomic(dir.path(), FIXED, ORIGINAL, WriteOptions::default()).unwrap_err();
    assert_eq!(err.message(), "is not a regular file; not written");
    let err = write_new(dir.path(), FIXED).unwrap_err();
    assert_eq!(err.message(), "is not a regular file; not written");
    let missing = dir.path().join("gone.wse");
    let err = write_atomic(&missing, FIXED, ORIGINAL, WriteOptions::default()).unwrap_err();
    assert_eq!(
        err.message(),
        "cannot read: no such file or directory; not written"
    );
    assert_eq!(fs::read(&path).unwrap(), ORIGINAL);
    assert_eq!(names(dir.path()), ["setup.wse"]);
}

#[test]
fn disk_full_leaves_the_original_and_no_temporary_file() {
    let (dir, path) = setup();
    let fs_ = Faulty::new("write", ErrorKind::StorageFull);
    let err = write_atomic_with(&fs_, &path, FIXED, ORIGINAL, WriteOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: cannot write: no space left on device; original left unchanged",
            path.display()
        )
    );
    assert_eq!(fs::read(&path).unwrap(), ORIGINAL);
    assert_eq!(names(dir.path()), ["setup.wse"]);
}

#[test]
fn failing_rename_leaves_the_original_and_no_temporary_file() {
    let (dir, path) = setup();
    let fs_ = Faulty::new("rename", ErrorKind::CrossesDevices);
    let err = write_atomic_with(&fs_, &path, FIXED, ORIGINAL, WriteOptions::default()).unwrap_err();
    assert_eq!(
        err.message(),
        "cannot replace the file: cannot move across file systems; original left unchanged"
    );
    assert_eq!(fs::read(&path).unwrap(), ORIGINAL);
    assert_eq!(names(dir.path()), ["setup.wse"]);
}

#[test]
fn failing_sync_and_permissions_leave_no_trace() {
    for op in ["sync", "set_permissions"] {
        let (dir, path) = setup();
        let fs_ = Faulty::new(op, ErrorKind::Other);
        let err =
            write_atomic_with(&fs_, &path, FIXED, ORIGINAL, WriteOptions::default()).unwrap_err();
        assert!(
            err.message().ends_with("; original left unchanged"),
            "{err}"
        );
        assert_eq!(fs::read(&path).unwrap(), ORIGINAL);
        assert_eq!(names(dir.path()), ["setup.wse"]);
    }
}

#[test]
fn read_only_directory_through_the_injection_seam() {
    let (dir, path) = setup();
    let fs_ = Faulty::new("create_temp", ErrorKind::PermissionDenied);
    let err = write_atomic_with(&fs_, &path, FIXED, ORIGINAL, WriteOptions::default()).unwrap_err();
    assert_eq!(
        err.message(),
        format!(
            "cannot create a temporary file in {}: permission denied; original left unchanged",
            dir.path().display()
        )
    );
    assert_eq!(fs::read(&path).unwrap(), ORIGINAL);
    assert_eq!(names(dir.path()), ["setup.wse"]);
}

/// With a real `chmod 0555`. Root ignores directory permissions, so the check only means
/// something for other users; as root the write simply succeeds.
#[cfg(unix)]
#[test]
fn read_only_directory_for_real() {
    let (dir, path) = setup();
    set_mode(dir.path(), 0o555);
    let privileged = File::create(dir.path().join("probe")).is_ok();
    let _ = fs::remove_file(dir.path().join("probe"));
    let result = write_atomic(&path, FIXED, ORIGINAL, WriteOptions::default());
    set_mode(dir.path(), 0o755);
    if privileged {
        eprintln!("running with privileges: directory permissions are not enforced");
        result.unwrap();
    } else {
        let err = result.unwrap_err();
        assert!(err.message().contains("permission denied"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), ORIGINAL);
    }
    assert_eq!(names(dir.path()), ["setup.wse"]);
}

#[test]
fn failing_backup_leaves_everything_as_it_was() {
    // The fixed file is prepared first (temporary file 0, write 0, sync 0), then the backup
    // (1, 1, 1), which is put in place without replacing anything.
    for (op, nth, kind) in [
        ("write", 1, ErrorKind::StorageFull),
        ("sync", 1, ErrorKind::Other),
        ("create_temp", 1, ErrorKind::PermissionDenied),
        ("rename_noclobber", 0, ErrorKind::PermissionDenied),
    ] {
        let (dir, path) = setup();
        let fs_ = Faulty::nth(op, nth, kind);
        let err = write_atomic_with(
            &fs_,
            &path,
            FIXED,
            ORIGINAL,
            WriteOptions {
                backup: Backup::Simple,
            },
        )
        .unwrap_err();
        assert!(
            matches!(err.kind, WriteErrorKind::Backup { .. }),
            "{op}: {err}"
        );
        assert!(
            err.message().starts_with(&format!(
                "cannot write the backup {}: ",
                backup_path(&path).display()
            )),
            "{err}"
        );
        assert!(err.message().ends_with("; original left unchanged"));
        assert_eq!(fs::read(&path).unwrap(), ORIGINAL);
        assert_eq!(names(dir.path()), ["setup.wse"], "{op}");
    }
}

/// A full disk that takes the backup but not the fixed file: no backup is left either (it
/// is written only once the fixed file is ready to replace the original).
#[test]
fn full_disk_for_the_fixed_file_writes_no_backup() {
    struct FullForFixed;
    impl Fs for FullForFixed {
        fn write(&self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
            if bytes == FIXED {
                return Err(ErrorKind::StorageFull.into());
            }
            RealFs.write(file, bytes)
        }
    }
    let (dir, path) = setup();
    let options = WriteOptions {
        backup: Backup::Simple,
    };
    let err = write_atomic_with(&FullForFixed, &path, FIXED, ORIGINAL, options).unwrap_err();
    assert_eq!(
        err.message(),
        "cannot write: no space left on device; original left unchanged"
    );
    assert_eq!(fs::read(&path).unwrap(), ORIGINAL);
    assert_eq!(names(dir.path()), ["setup.wse"]);
}

/// The rename of the fixed file fails after the backup was put in place: the backup goes
/// again (the original is still there, unchanged), so a later `--backup` is not refused.
#[test]
fn failure_after_the_backup_removes_the_backup() {
    let (dir, path) = setup();
    let fs_ = Faulty::new("rename", ErrorKind::PermissionDenied);
    let options = WriteOptions {
        backup: Backup::Simple,
    };
    let err = write_atomic_with(&fs_, &path, FIXED, ORIGINAL, options).unwrap_err();
    assert!(matches!(err.kind, WriteErrorKind::Io { .. }), "{err}");
    assert_eq!(fs::read(&path).unwrap(), ORIGINAL);
    assert_eq!(names(dir.path()), ["setup.wse"]);
}

/// `--backup` never replaces a backup: an existing `FILE.orig` refuses the write.
#[test]
fn an_existing_backup_is_never_replaced() {
    let (dir, path) = setup();
    let backup = backup_path(&path);
    fs::write(&backup, b"precious\n").unwrap();
    let options = WriteOptions {
        backup: Backup::Simple,
    };
    let err = write_atomic(&path, FIXED, ORIGINAL, options).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: the backup {} already exists; not written (--backup=numbered keeps every backup)",
            path.display(),
            backup.display()
        )
    );
    assert_eq!(fs::read(&backup).unwrap(), b"precious\n");
    assert_eq!(fs::read(&path).unwrap(), ORIGINAL);
    assert_eq!(names(dir.path()), ["setup.wse", "setup.wse.orig"]);
}

/// A backup that appears while the fixed file is written (another run) is not replaced
/// either: the backup is put in place with a rename that never replaces a file.
#[test]
fn a_backup_made_meanwhile_is_not_replaced() {
    struct MakesBackup(PathBuf);
    impl Fs for MakesBackup {
        fn sync(&self, file: &File) -> io::Result<()> {
            let _ = fs::write(&self.0, b"made meanwhile");
            RealFs.sync(file)
        }
    }
    let (dir, path) = setup();
    let fs_ = MakesBackup(backup_path(&path));
    let options = WriteOptions {
        backup: Backup::Simple,
    };
    let err = write_atomic_with(&fs_, &path, FIXED, ORIGINAL, options).unwrap_err();
    assert!(
        matches!(err.kind, WriteErrorKind::BackupExists { .. }),
        "{err}"
    );
    assert_eq!(fs::read(backup_path(&path)).unwrap(), b"made meanwhile");
    assert_eq!(fs::read(&path).unwrap(), ORIGINAL);
    assert_eq!(names(dir.path()), ["setup.wse", "setup.wse.orig"]);
}

/// `--backup=numbered`: `FILE.orig.N` after the highest N there, never over a file; a plain
/// `FILE.orig` and names that only look numbered do not count.
#[test]
fn numbered_backups_take_the_next_number() {
    let (dir, path) = setup();
    let numbered = WriteOptions {
        backup: Backup::Numbered,
    };
    fs::write(backup_path(&path), b"plain").unwrap();
    write_atomic(&path, FIXED, ORIGINAL, numbered).unwrap();
    assert_eq!(
        fs::read(dir.path().join("setup.wse.orig.1")).unwrap(),
        ORIGINAL
    );
    let second: &[u8] = b"Document Type: WSE\r\nend?\r\n";
    write_atomic(&path, second, FIXED, numbered).unwrap();
    assert_eq!(
        fs::read(dir.path().join("setup.wse.orig.2")).unwrap(),
        FIXED
    );
    fs::write(dir.path().join("setup.wse.orig.9"), b"nine").unwrap();
    fs::write(dir.path().join("setup.wse.orig.x1"), b"not a number").unwrap();
    write_atomic(&path, FIXED, second, numbered).unwrap();
    assert_eq!(
        fs::read(dir.path().join("setup.wse.orig.10")).unwrap(),
        second
    );
    assert_eq!(fs::read(backup_path(&path)).unwrap(), b"plain");
    assert_eq!(
        fs::read(dir.path().join("setup.wse.orig.9")).unwrap(),
        b"nine"
    );
    assert_eq!(
        names(dir.path()),
        [
            "setup.wse",
            "setup.wse.orig",
            "setup.wse.orig.1",
            "setup.wse.orig.10",
            "setup.wse.orig.2",
            "setup.wse.orig.9",
            "setup.wse.orig.x1"
        ]
    );
}

/// A file without write permission is refused, even for root (who could write it).
#[cfg(unix)]
#[test]
fn refuses_a_read_only_file() {
    let (dir, path) = setup();
    set_mode(&path, 0o444);
    let err = write_atomic(&path, FIXED, ORIGINAL, WriteOptions::default()).unwrap_err();
    assert!(matches!(err.kind, WriteErrorKind::ReadOnly), "{err}");
    assert_eq!(err.message(), "is read-only; not written");
    let err = write_new(&path, FIXED).unwrap_err();
    assert_eq!(err.message(), "is read-only; not written");
    assert_eq!(fs::read(&path).unwrap(), ORIGINAL);
    assert_eq!(mode(&path), 0o444);
    assert_eq!(names(dir.path()), ["setup.wse"]);
}

#[test]
fn output_file_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("clean.wse");
    write_new(&out, FIXED).unwrap();
    assert_eq!(fs::read(&out).unwrap(), FIXED);
    // Same permissions as any newly created file (the umask applies).
    #[cfg(unix)]
    {
        let reference = dir.path().join("reference");
        File::create(&reference).unwrap();
        assert_eq!(mode(&out), mode(&reference));
        fs::remove_file(reference).unwrap();
    }
    assert_eq!(names(dir.path()), ["clean.wse"]);
}

#[test]
fn output_file_is_written_even_when_identical() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("clean.wse");
    fs::write(&out, FIXED).unwrap();
    #[cfg(unix)]
    set_mode(&out, 0o640);
    #[cfg(unix)]
    let before = {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(&out).unwrap().ino()
    };
    write_new(&out, FIXED).unwrap();
    assert_eq!(fs::read(&out).unwrap(), FIXED);
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // A new file was put in place (the rename gives it a new inode).
        assert_ne!(fs::metadata(&out).unwrap().ino(), before);
        assert_eq!(mode(&out), 0o640);
    }
}

#[test]
fn output_file_failure_says_not_written_when_it_did_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("clean.wse");
    let fs_ = Faulty::new("write", ErrorKind::StorageFull);
    let err = write_new_with(&fs_, &out, FIXED).unwrap_err();
    assert_eq!(
        err.message(),
        "cannot write: no space left on device; not written"
    );
    assert!(names(dir.path()).is_empty());

    fs::write(&out, b"old").unwrap();
    let fs_ = Faulty::new("rename", ErrorKind::PermissionDenied);
    let err = write_new_with(&fs_, &out, FIXED).unwrap_err();
    assert_eq!(
        err.message(),
        "cannot replace the file: permission denied; original left unchanged"
    );
    assert_eq!(fs::read(&out).unwrap(), b"old");
    assert_eq!(names(dir.path()), ["clean.wse"]);
}

#[test]
fn bare_file_name_uses_the_current_directory() {
    // Relative paths with no directory part: the temporary file goes in `.`. Checked through
    // the seam, without changing the test process's working directory.
    struct Recorder(std::cell::RefCell<Option<PathBuf>>);
    impl Fs for Recorder {
        fn symlink_metadata(&self, _: &Path) -> io::Result<Metadata> {
            Err(ErrorKind::NotFound.into())
        }
        fn create_temp(&self, dir: &Path) -> io::Result<NamedTempFile> {
            *self.0.borrow_mut() = Some(dir.to_path_buf());
            Err(ErrorKind::PermissionDenied.into())
        }
    }
    let rec = Recorder(std::cell::RefCell::new(None));
    let err = write_new_with(&rec, Path::new("clean.wse"), FIXED).unwrap_err();
    assert_eq!(rec.0.borrow().as_deref(), Some(Path::new(".")));
    assert_eq!(
        err.to_string(),
        "clean.wse: cannot create a temporary file in .: permission denied; not written"
    );
}

/// Runs a command of the `acl`/`attr` packages; `None` when it is not installed.
#[cfg(unix)]
fn tool(program: &str, args: &[&str], path: &Path) -> Option<std::process::Output> {
    std::process::Command::new(program)
        .args(args)
        .arg(path)
        .output()
        .ok()
}

/// Whether the file system of `path` takes user extended attributes and POSIX ACLs, set with
/// `setfattr`/`setfacl`. Where it does not (or the tools are missing) the test is skipped
/// with a message, except under `CI=true`, whose machine has both.
#[cfg(unix)]
fn attributes_supported(path: &Path) -> bool {
    let ok = |out: Option<std::process::Output>| out.is_some_and(|o| o.status.success());
    let supported = ok(tool("setfattr", &["-n", "user.probe", "-v", "1"], path))
        && ok(tool("setfattr", &["-x", "user.probe"], path))
        && ok(tool("setfacl", &["-m", "u:nobody:r"], path))
        && ok(tool("setfacl", &["-b"], path));
    if !supported {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI: setfattr/setfacl must work on the temporary directory's file system"
        );
        eprintln!(
            "skipped: no user extended attributes or POSIX ACLs here (or no setfattr/setfacl)"
        );
    }
    supported
}

#[cfg(unix)]
fn attributes_of(path: &Path) -> (String, String) {
    let text = |out: Option<std::process::Output>| {
        String::from_utf8(out.expect("tool runs").stdout).unwrap()
    };
    let xattrs = text(tool(
        "getfattr",
        &["-d", "--absolute-names", "-m", "user\\."],
        path,
    ));
    let acl = text(tool(
        "getfacl",
        &["--omit-header", "--absolute-names"],
        path,
    ));
    (xattrs, acl)
}

/// An ACL entry (`u:nobody:r`) and a `user.*` attribute survive the replace, and so does
/// the backup's; an ACL the directory's default would give the new file is not added.
#[cfg(unix)]
#[test]
fn extended_attributes_and_acls_are_copied() {
    let (dir, path) = setup();
    if !attributes_supported(&path) {
        return;
    }
    set_mode(&path, 0o640);
    assert!(
        tool(
            "setfattr",
            &["-n", "user.origin", "-v", "capture 42"],
            &path
        )
        .unwrap()
        .status
        .success()
    );
    assert!(
        tool("setfacl", &["-m", "u:nobody:r"], &path)
            .unwrap()
            .status
            .success()
    );
    // New files in the directory would get a default ACL the original does not have.
    assert!(
        tool("setfacl", &["-d", "-m", "u:daemon:rw"], dir.path())
            .unwrap()
            .status
            .success()
    );
    let before = attributes_of(&path);
    assert!(
        before.0.contains("user.origin=\"capture 42\""),
        "{before:?}"
    );
    assert!(before.1.contains("user:nobody:r--"), "{before:?}");
    let options = WriteOptions {
        backup: Backup::Simple,
    };
    write_atomic(&path, FIXED, ORIGINAL, options).unwrap();
    assert_eq!(fs::read(&path).unwrap(), FIXED);
    let rel =
        |(x, a): (String, String), from: &Path| (x.replace(&from.display().to_string(), "F"), a);
    assert_eq!(rel(attributes_of(&path), &path), rel(before.clone(), &path));
    let backup = backup_path(&path);
    assert_eq!(rel(attributes_of(&backup), &backup), rel(before, &path));
    assert_eq!(mode(&path), 0o640);
}

/// Hard links: the name given is replaced by the fixed file; the file's other names keep
/// the original bytes (they still name the original, which is not written in place).
#[cfg(unix)]
#[test]
fn other_hard_links_keep_the_original() {
    let (dir, path) = setup();
    let other = dir.path().join("other-name.wse");
    fs::hard_link(&path, &other).unwrap();
    write_atomic(&path, FIXED, ORIGINAL, WriteOptions::default()).unwrap();
    assert_eq!(fs::read(&path).unwrap(), FIXED);
    assert_eq!(fs::read(&other).unwrap(), ORIGINAL);
    assert_eq!(names(dir.path()), ["other-name.wse", "setup.wse"]);
}

/// A killed run's temporary files (`.svcscrub-PID-XXXXXX.tmp` of a process that no longer
/// runs) are removed by the next write in that directory; those of a running process, and
/// files that only look alike, are left alone.
#[cfg(unix)]
#[test]
fn leftovers_of_a_killed_run_are_removed_by_the_next_write() {
    let (dir, path) = setup();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let alive = std::process::id();
    let leftover = format!(".svcscrub-{dead}-aB3xY9.tmp");
    let running = format!(".svcscrub-{alive}-Qw7Er2.tmp");
    let lookalikes = [
        ".svcscrub-abc.tmp",
        ".svcscrub-12-short.tmp",
        "x.svcscrub-1-aaaaaa.tmp",
    ];
    for name in [leftover.as_str(), running.as_str()]
        .iter()
        .chain(&lookalikes)
    {
        fs::write(dir.path().join(name), b"partial").unwrap();
    }
    write_atomic(&path, FIXED, ORIGINAL, WriteOptions::default()).unwrap();
    let mut expected = vec![running.clone(), "setup.wse".to_string()];
    expected.extend(lookalikes.iter().map(|s| s.to_string()));
    expected.sort();
    assert_eq!(names(dir.path()), expected);
}
