//! Device simulators that speak the real protocols on pseudo-terminals, so drivers are tested over
//! a real serial port path. Each simulator owns the pty's master side; the driver opens
//! [`ScannerSim::port_path`] / [`ScaleSim::port_path`] like any serial device.
//!
//! `port_path()` is a symlink (in the temp directory) to the current `/dev/pts/N`. The simulator
//! keeps the slave side open itself, so the driver can close and reopen the port freely; `unplug()`
//! closes both sides (the driver's reads fail, as when a USB cable is pulled) and `replug()` makes a
//! new pty and points the same path at it.

mod pty;
mod scale;
mod scanner;

pub use pty::remove_leftover_links;
pub use scale::{ScaleSim, ScaleSimState};
pub use scanner::ScannerSim;
