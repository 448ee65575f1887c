//! One running process per data folder: `omo up`, `omo edge` and `omo cloud` (on SQLite) hold
//! an exclusive lock on `omo.lock` in their data folder (or `<database>.lock` beside a SQLite
//! file) for as long as they run; a second one is refused with the holder's pid.
//!
//! The lock is the operating system's (`flock`), so it is released when the process ends, even
//! when it is killed; the file itself stays (removing it would race with a starting process).

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
    #[error("cannot lock {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl DataLock {
    /// Locks the data folder `dir` (created if missing) through `dir/omo.lock`.
    pub fn folder(dir: &Path) -> Result<DataLock, LockError> {
        std::fs::create_dir_all(dir).map_err(|source| LockError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
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
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
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
    fn only_sqlite_files_are_locked() {
        assert_eq!(
            sqlite_path("sqlite:///var/omo/cloud.db?mode=rwc"),
            Some(PathBuf::from("/var/omo/cloud.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x@h/db"), None);
    }
}
