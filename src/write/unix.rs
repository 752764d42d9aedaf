//! The Unix half of the write stage (see the parent module for the steps and their order).
//!
//! The system calls std does not offer (`faccessat`, `fcntl` leases, `kill`) go through
//! `libc`, each in one small `unsafe` block on a file descriptor this module owns.

use std::ffi::CString;
use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// Opens `path` for reading: not through a symbolic link (`O_NOFOLLOW`), and without waiting
/// for a writer when it turns out to be a FIFO (`O_NONBLOCK`; a regular file ignores it).
pub fn open_for_reading(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

/// Never on Unix: no sharing modes there.
pub fn is_sharing_violation(_error: &io::Error) -> bool {
    false
}

/// Renames `from` over `to` (atomic on one file system); `spare` is for Windows.
pub fn replace(from: &Path, to: &Path, _spare: &Path) -> io::Result<()> {
    std::fs::rename(from, to)
}

/// Whether the user may write `path`, as the user: `faccessat(W_OK, AT_EACCESS)`, which
/// applies the effective ids, the groups, ACLs and read-only mounts. For root that check
/// always passes, so a file whose mode gives nobody write permission (`chmod a-w`, the
/// Unix form of a read-only file) is refused as well.
pub fn check_writable(path: &Path, meta: &Metadata) -> io::Result<()> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid == 0 {
        return if meta.mode() & 0o222 == 0 {
            Err(io::ErrorKind::PermissionDenied.into())
        } else {
            Ok(())
        };
    }
    let path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `path` is a valid NUL-terminated string that lives across the call.
    let status =
        unsafe { libc::faccessat(libc::AT_FDCWD, path.as_ptr(), libc::W_OK, libc::AT_EACCESS) };
    if status == 0 {
        return Ok(());
    }
    let error = io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::EACCES | libc::EPERM) => Err(io::ErrorKind::PermissionDenied.into()),
        _ => Err(error),
    }
}

/// The original, held open while it is replaced. On Linux it holds a read lease: any open of
/// the file for writing (or a truncation) breaks it, and the writer waits (up to
/// `/proc/sys/fs/lease-break-time` seconds) until the lease is released, which happens when
/// this is dropped. Elsewhere, or where the file system or the user's rights allow no lease
/// (a file the user does not own, NFS), the later checks of identity and content remain.
pub struct Held {
    file: File,
    lease: bool,
}

impl Held {
    /// Takes the lease. `WouldBlock` when the file is still open for writing somewhere after
    /// a few tries over a fifth of a second (a descriptor can be open for an instant: a
    /// process forked by another thread holds copies of its parent's until it runs its
    /// program).
    pub fn new(file: File) -> io::Result<Self> {
        let mut tries = 0;
        loop {
            match take_lease(&file) {
                Ok(lease) => return Ok(Self { file, lease }),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && tries < 10 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub fn file(&self) -> &File {
        &self.file
    }

    /// Whether a writer has opened the file since it was held (as far as this platform can
    /// tell: only with a lease).
    pub fn writer_seen(&self) -> bool {
        self.lease && lease_broken(&self.file)
    }
}

/// `fcntl` command: the signal sent when I/O is possible or a lease is broken (Linux;
/// not in the `libc` crate).
#[cfg(target_os = "linux")]
const F_SETSIG: libc::c_int = 10;

#[cfg(target_os = "linux")]
fn take_lease(file: &File) -> io::Result<bool> {
    let fd = file.as_raw_fd();
    // A broken lease signals its holder, SIGIO by default, which would end the process. The
    // break is read with F_GETLEASE instead: the signal becomes SIGURG (ignored unless a
    // handler is installed) for the instant before the owner is cleared, then none at all.
    // SAFETY: fcntl on a descriptor this function's caller owns, with integer arguments.
    unsafe {
        libc::fcntl(fd, F_SETSIG, libc::SIGURG);
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETLEASE, libc::F_RDLCK) } != 0 {
        let error = io::Error::last_os_error();
        return match error.raw_os_error() {
            Some(libc::EAGAIN) => Err(io::ErrorKind::WouldBlock.into()),
            // Not the owner (no CAP_LEASE), or no leases on this file system.
            _ => Ok(false),
        };
    }
    // SAFETY: as above.
    unsafe {
        libc::fcntl(fd, libc::F_SETOWN, 0);
    }
    Ok(true)
}

#[cfg(target_os = "linux")]
fn lease_broken(file: &File) -> bool {
    // SAFETY: fcntl on a descriptor `file` owns.
    let lease = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLEASE) };
    lease != libc::F_RDLCK
}

#[cfg(not(target_os = "linux"))]
fn take_lease(_file: &File) -> io::Result<bool> {
    Ok(false)
}

#[cfg(not(target_os = "linux"))]
fn lease_broken(_file: &File) -> bool {
    false
}

/// The same file, unchanged by the look of it: device, inode, size and modification time.
pub fn same_identity(a: &Metadata, b: &Metadata) -> bool {
    a.dev() == b.dev()
        && a.ino() == b.ino()
        && a.size() == b.size()
        && a.mtime() == b.mtime()
        && a.mtime_nsec() == b.mtime_nsec()
}

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

/// Gives `to` exactly the extended attributes of `from`: ACLs (`system.posix_acl_access`),
/// `user.*`, and whatever else the user may set; an attribute `to` got by itself (from a
/// directory's default ACL) and `from` lacks is removed. A file system without extended
/// attributes has none to copy.
pub fn copy_attributes(from: &File, to: &File) -> io::Result<()> {
    use xattr::FileExt;
    if !xattr::SUPPORTED_PLATFORM {
        return Ok(());
    }
    let names: Vec<_> = match from.list_xattr() {
        Ok(names) => names.collect(),
        Err(e) if unsupported(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    let present: Vec<_> = to.list_xattr().map(Iterator::collect).unwrap_or_default();
    for name in present.iter().filter(|name| !names.contains(name)) {
        to.remove_xattr(name)?;
    }
    for name in &names {
        let Some(value) = from.get_xattr(name)? else {
            continue;
        };
        // One that is already right (a security label the new file got) is not set again,
        // which could need a privilege.
        if to.get_xattr(name).ok().flatten().as_deref() != Some(&value[..]) {
            to.set_xattr(name, &value)?;
        }
    }
    Ok(())
}

fn unsupported(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Unsupported || e.raw_os_error() == Some(libc::ENOTSUP)
}

/// Whether a process with id `pid` runs on this machine (`kill(pid, 0)`: no such process is
/// `ESRCH`; one of another user's is `EPERM` and runs).
pub fn process_runs(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return true;
    }
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let status = unsafe { libc::kill(pid, 0) };
    status == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Best effort: make the rename durable. The file is already in place, so a failure here is
/// not an error of the write.
pub fn sync_dir(dir: &Path) {
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}

/// On SIGINT or SIGTERM: `cleanup`, then end as the signal's default action does (so the
/// parent sees the signal). A thread of its own waits for them, so `cleanup` runs outside a
/// signal handler. Installed once.
pub fn on_interrupt(cleanup: fn()) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("interrupt".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    cleanup();
                    let _ = signal_hook::low_level::emulate_default_handler(signal);
                    std::process::exit(128 + signal);
                }
            });
    });
}
