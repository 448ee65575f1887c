//! A barcode scanner on a pseudo-terminal: each scan is written as data + the framing's suffix
//! (and an optional prefix), exactly as a serial scanner sends it.

use std::io;
use std::sync::Arc;

use super::pty::Pty;
use crate::scanner::Framing;

/// A simulated serial scanner.
pub struct ScannerSim {
    pty: Arc<Pty>,
    framing: Framing,
    prefix: Option<String>,
}

impl ScannerSim {
    /// A scanner that ends each scan per `framing`.
    pub fn new(framing: Framing) -> io::Result<Self> {
        Ok(Self {
            pty: Arc::new(Pty::new("scanner")?),
            framing,
            prefix: None,
        })
    }

    /// A scanner that also sends `prefix` before each scan.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// The path the driver opens (a stable symlink to the current `/dev/pts/N`).
    pub fn port_path(&self) -> String {
        self.pty.path()
    }

    /// The current `/dev/pts/N`, while plugged in.
    pub fn pts_path(&self) -> Option<String> {
        self.pty.pts_path()
    }

    /// Scans `data`: writes prefix + data + suffix.
    pub async fn scan(&self, data: &str) -> io::Result<()> {
        let mut bytes = self.prefix.clone().unwrap_or_default().into_bytes();
        bytes.extend_from_slice(data.as_bytes());
        bytes.extend_from_slice(&self.framing.suffix_bytes());
        self.send_raw(&bytes).await
    }

    /// Writes raw bytes (noise, partial frames) to the line.
    pub async fn send_raw(&self, bytes: &[u8]) -> io::Result<()> {
        let pty = Arc::clone(&self.pty);
        let bytes = bytes.to_vec();
        tokio::task::spawn_blocking(move || pty.write_all(&bytes))
            .await
            .map_err(|e| io::Error::other(format!("simulator write task failed: {e}")))?
    }

    /// Writes raw bytes from a plain thread, returning once the last byte is in the pty (for
    /// latency measurements that must not include a task hop).
    pub fn send_raw_blocking(&self, bytes: &[u8]) -> io::Result<()> {
        self.pty.write_all(bytes)
    }

    /// Pulls the cable: the driver's reads fail until [`ScannerSim::replug`].
    pub fn unplug(&self) {
        self.pty.unplug();
    }

    /// Plugs the scanner back in, at the same `port_path()`.
    pub fn replug(&self) -> io::Result<()> {
        self.pty.replug()
    }

    /// True while plugged in.
    pub fn is_plugged(&self) -> bool {
        self.pty.is_plugged()
    }
}
