//! One running process per data folder: `omo up`, `omo edge` and `omo cloud` (on SQLite) hold
//! an exclusive lock on `omo.lock` in their data folder (or `<database>.lock` beside a SQLite
//! file) for as long as they run; a second one is refused with the holder's pid.
//!
//! The lock is the operating system's (`flock`), so it is released when the process ends, even
//! when it is killed; the file itself stays (removing it would race with a starting process).
//!
//! A data folder holds secrets (the edge's exit-pass key and lane-screen secret, the cloud's
//! wallet secrets, the funding token), so it is private: created with mode 0700, refused when
//! another user owns it, and made 0700 again when it is open to others. The lock file is opened
//! without following a symbolic link, so nobody can point it at another file to clobber.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

/// The lock file's name inside a data folder.
pub const LOCK_FILE: &str = "omo.lock";

/// A held lock: keep it alive for the life of the process.
#[derive(Debug)]
pub struct DataLock {
    _file: File,
}

/// Why a lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "{} is in use by another omo process (pid {pid}, per {}); stop it or give another folder",
        what.display(),
        path.display()
    )]
    Held {
        what: PathBuf,
        path: PathBuf,
        pid: String,
    },
    #[error(
        "{} belongs to user {owner}, not to this process's user {me}: a data folder holds secrets, \
         so it must be this user's own (give another folder, or chown it)",
        path.display()
    )]
    Foreign { path: PathBuf, owner: u32, me: u32 },
    #[error("cannot lock {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// This process's effective user id.
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Makes `dir` a private data folder: created with mode 0700 if missing; refused when another
/// user owns it; its mode set to 0700 when group or others may enter it.
pub fn private_folder(dir: &Path) -> Result<(), LockError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    let io = |source| LockError::Io {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io)?;
    let meta = std::fs::metadata(dir).map_err(io)?;
    let me = effective_uid();
    if meta.uid() != me {
        return Err(LockError::Foreign {
            path: dir.to_path_buf(),
            owner: meta.uid(),
            me,
        });
    }
    if meta.mode() & 0o077 != 0 {
        tracing::warn!(
            folder = %dir.display(),
            mode = format!("{:o}", meta.mode() & 0o777),
            "the data folder was open to other users; it is now 0700"
        );
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(())
}

impl DataLock {
    /// Locks the data folder `dir` (created private if missing, see [`private_folder`]) through
    /// `dir/omo.lock`.
    pub fn folder(dir: &Path) -> Result<DataLock, LockError> {
        private_folder(dir)?;
        Self::acquire(dir, &dir.join(LOCK_FILE))
    }

    /// Locks a SQLite database given by URL (`sqlite://PATH[?...]`) through `PATH.lock`; `None`
    /// for other databases (PostgreSQL is shared by design) and in-memory SQLite.
    pub fn sqlite_url(url: &str) -> Result<Option<DataLock>, LockError> {
        let Some(path) = sqlite_path(url) else {
            return Ok(None);
        };
        let mut lock = path.as_os_str().to_owned();
        lock.push(".lock");
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| LockError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        Self::acquire(&path, Path::new(&lock)).map(Some)
    }

    fn acquire(what: &Path, path: &Path) -> Result<DataLock, LockError> {
        let io = |source| LockError::Io {
            path: path.to_path_buf(),
            source,
        };
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                return Err(LockError::Held {
                    what: what.to_path_buf(),
                    path: path.to_path_buf(),
                    pid: if pid.is_empty() { "unknown" } else { pid }.to_string(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(DataLock { _file: file })
    }
}

/// The file of a `sqlite:` URL, or `None` (not SQLite, or in memory).
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let file = rest.split('?').next().unwrap_or_default();
    if file.is_empty() || file == ":memory:" || url.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_a_folder_is_refused_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataLock::folder(dir.path()).unwrap();
        let error = DataLock::folder(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains(&format!("pid {}", std::process::id())),
            "{error}"
        );
        drop(first);
        DataLock::folder(dir.path()).unwrap();
    }

    #[test]
    fn a_data_folder_is_private_and_its_lock_never_follows_a_link() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let root = tempfile::tempdir().unwrap();
        let fresh = root.path().join("fresh/data");
        let lock = DataLock::folder(&fresh).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o777;
        assert_eq!(mode(&fresh), 0o700);
        assert_eq!(mode(&fresh.join(LOCK_FILE)), 0o600);
        drop(lock);

        // A folder open to others is closed again.
        let open = root.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        drop(DataLock::folder(&open).unwrap());
        assert_eq!(mode(&open), 0o700);

        // A lock file planted as a link to someone's file: refused, the file untouched.
        let planted = root.path().join("planted");
        std::fs::create_dir(&planted).unwrap();
        let victim = root.path().join("victim.txt");
        std::fs::write(&victim, "precious\n").unwrap();
        std::os::unix::fs::symlink(&victim, planted.join(LOCK_FILE)).unwrap();
        assert!(DataLock::folder(&planted).is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");

        // Another user's folder is refused (only root can make one to try).
        if effective_uid() == 0 {
            let foreign = root.path().join("foreign");
            std::fs::create_dir(&foreign).unwrap();
            std::os::unix::fs::chown(&foreign, Some(12345), None).unwrap();
            let error = DataLock::folder(&foreign).unwrap_err();
            assert!(
                matches!(error, LockError::Foreign { owner: 12345, .. }),
                "{error}"
            );
            assert!(std::fs::metadata(foreign.join(LOCK_FILE)).is_err());
        }
    }

    #[test]
    fn only_sqlite_files_are_locked() {
        assert_eq!(
            sqlite_path("sqlite:///var/omo/cloud.db?mode=rwc"),
            Some(PathBuf::from("/var/omo/cloud.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x@h/db"), None);
    }
}
