//! A pseudo-terminal with a stable path that can be unplugged and replugged.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serialport::{SerialPort, TTYPort};

static NEXT: AtomicU64 = AtomicU64::new(0);

struct Plugged {
    master: TTYPort,
    /// Kept open so the master never sees EIO when the driver closes its side.
    _slave: TTYPort,
    pts: String,
}

/// A pty pair behind a stable symlink.
pub(crate) struct Pty {
    link: PathBuf,
    plugged: Mutex<Option<Plugged>>,
}

fn make_pair() -> io::Result<Plugged> {
    let (mut master, slave) = TTYPort::pair().map_err(io::Error::from)?;
    let pts = slave
        .name()
        .ok_or_else(|| io::Error::other("pty slave has no name"))?;
    // Short poll timeouts keep simulator threads responsive.
    master
        .set_timeout(Duration::from_millis(50))
        .map_err(io::Error::from)?;
    Ok(Plugged {
        master,
        _slave: slave,
        pts,
    })
}

impl Pty {
    pub(crate) fn new(label: &str) -> io::Result<Self> {
        let plugged = make_pair()?;
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let link = std::env::temp_dir().join(format!("omo-sim-{}-{n}-{label}", std::process::id()));
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&plugged.pts, &link)?;
        Ok(Self {
            link,
            plugged: Mutex::new(Some(plugged)),
        })
    }

    pub(crate) fn path(&self) -> String {
        self.link.to_string_lossy().into_owned()
    }

    pub(crate) fn pts_path(&self) -> Option<String> {
        self.lock().as_ref().map(|p| p.pts.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Plugged>> {
        self.plugged.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A handle on the master side, if plugged in.
    pub(crate) fn master(&self) -> Option<TTYPort> {
        self.lock()
            .as_ref()
            .and_then(|p| p.master.try_clone_native().ok())
    }

    pub(crate) fn is_plugged(&self) -> bool {
        self.lock().is_some()
    }

    /// Closes the pty: the driver's reads fail and the path dangles.
    pub(crate) fn unplug(&self) {
        *self.lock() = None;
    }

    /// A new pty behind the same path.
    pub(crate) fn replug(&self) -> io::Result<()> {
        let plugged = make_pair()?;
        let tmp = self.link.with_extension("new");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&plugged.pts, &tmp)?;
        std::fs::rename(&tmp, &self.link)?;
        *self.lock() = Some(plugged);
        Ok(())
    }

    /// Writes all of `bytes` to the master side (the driver reads them).
    pub(crate) fn write_all(&self, bytes: &[u8]) -> io::Result<()> {
        let mut master = self
            .master()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "simulator unplugged"))?;
        master.write_all(bytes)?;
        master.flush()
    }
}

/// Reads what the driver wrote, waiting up to the master's timeout; `Ok(0)` when nothing came.
/// EIO (no slave open) and timeouts are reported as `Ok(0)` after a short pause.
pub(crate) fn read_some(master: &mut TTYPort, buf: &mut [u8]) -> io::Result<usize> {
    match master.read(buf) {
        Ok(n) => Ok(n),
        Err(e) if e.kind() == io::ErrorKind::TimedOut => Ok(0),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
        Err(e) => {
            tracing::trace!(error = %e, "pty master read failed; retrying");
            std::thread::sleep(Duration::from_millis(20));
            Ok(0)
        }
    }
}

impl Pty {
    /// Removes the symlink (idempotent); the pty itself lives on until dropped.
    pub(crate) fn remove_link(&self) {
        let _ = std::fs::remove_file(&self.link);
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        self.remove_link();
    }
}

/// Removes the links this process's simulators made in the temporary folder that are still
/// there (when a simulator was never dropped, e.g. a task that outlived the stop grace).
pub fn remove_leftover_links() {
    let prefix = format!("omo-sim-{}-", std::process::id());
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
