//! The relay watchdog: a tiny separate process that owns a gate's relay output, so the gate
//! reaches its safe level even when the edge dies without cleaning up (SIGKILL, OOM kill, panic
//! with `abort`).
//!
//! **Why a process.** rppal resets a pin when its `OutputPin` is dropped, which happens only on a
//! clean exit. On SIGKILL nothing runs: the pin keeps its last level, so a relay energised for a
//! 500 ms pulse (or held for a fire alarm) would stay energised and the gate would stay open. The
//! kernel does one thing for a killed process for sure: it closes its file descriptors. The
//! watchdog reads its commands from a pipe whose only writer is the edge; end of file means the
//! edge is gone, and the watchdog drives the safe level at once.
//!
//! **Safe level.** Normally the relay released (gate closed): a dead edge must not leave the
//! store open. While a fire alarm holds the gate, the safe level is the relay *held* (gate open):
//! people must be able to leave a burning building, and an edge crash during an evacuation must
//! not close the exit on them. The hold stays after the edge dies; the next edge releases it
//! when it reads the alarm input inactive. (The alarm should also be wired to the gate
//! controller's emergency-release input; this is the software line.)
//!
//! **Pulses end in the watchdog.** The edge sends `pulse <ms>`; the watchdog energises the relay
//! and releases it itself after `ms`, so a stalled edge cannot stretch a pulse either.
//!
//! Protocol on the watchdog's standard input, one command a line: `pulse <ms>` (1..=60000),
//! `hold on`, `hold off`. It answers `ready` on standard output once the pin is at its safe level.
//! SIGTERM or SIGINT to the watchdog also drives the safe level before it exits. The watchdog
//! itself being SIGKILLed is the case left to the hardware (see docs/GATE-SAFETY.md).

use std::ffi::OsString;
use std::future::Future;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tokio::time::Instant;
use tracing::{debug, warn};

use super::GateError;

/// The longest pulse the watchdog accepts, in ms.
pub const MAX_PULSE_MS: u64 = 60_000;

/// One command to the watchdog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayCommand {
    /// Energise the relay for this long, then release it (unless held).
    Pulse(Duration),
    /// Hold the relay energised (fire alarm) or release the hold.
    Hold(bool),
}

impl RelayCommand {
    /// Parses one line of the protocol.
    pub fn parse(line: &str) -> Result<Self, GateError> {
        let bad = || GateError::Fault(format!("bad watchdog command {line:?}"));
        let mut words = line.split_whitespace();
        let command = match (words.next(), words.next()) {
            (Some("pulse"), Some(ms)) => {
                let ms: u64 = ms.parse().map_err(|_| bad())?;
                if !(1..=MAX_PULSE_MS).contains(&ms) {
                    return Err(bad());
                }
                RelayCommand::Pulse(Duration::from_millis(ms))
            }
            (Some("hold"), Some("on")) => RelayCommand::Hold(true),
            (Some("hold"), Some("off")) => RelayCommand::Hold(false),
            _ => return Err(bad()),
        };
        if words.next().is_some() {
            return Err(bad());
        }
        Ok(command)
    }

    /// The command as one line (without the newline).
    pub fn line(&self) -> String {
        match self {
            RelayCommand::Pulse(d) => format!("pulse {}", d.as_millis()),
            RelayCommand::Hold(true) => "hold on".into(),
            RelayCommand::Hold(false) => "hold off".into(),
        }
    }
}

/// A relay output the watchdog drives: a GPIO line, or the simulated pin's file.
pub trait RelayPin: Send {
    /// Energises (`true`) or releases the relay.
    fn set(&mut self, active: bool) -> Result<(), GateError>;
    /// A pulse starts (the simulated pin logs it, for tests that count openings).
    fn pulse_started(&mut self, _length: Duration) {}
}

/// Runs the watchdog loop: pin to the safe level, `ready()`, then commands from `input` until it
/// ends or `stop` completes; then the safe level again (released, or held during a fire alarm).
/// Returns whether the relay was left held.
pub async fn run<R, S>(
    input: R,
    pin: &mut dyn RelayPin,
    ready: impl FnOnce(),
    stop: S,
) -> Result<bool, GateError>
where
    R: AsyncBufRead + Unpin,
    S: Future<Output = ()>,
{
    pin.set(false)?;
    ready();
    let mut lines = input.lines();
    let mut held = false;
    let mut pulse_ends: Option<Instant> = None;
    tokio::pin!(stop);
    loop {
        let deadline = pulse_ends;
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) => match RelayCommand::parse(&line) {
                    Ok(RelayCommand::Pulse(length)) => {
                        pin.set(true)?;
                        pin.pulse_started(length);
                        pulse_ends = Instant::now().checked_add(length);
                    }
                    Ok(RelayCommand::Hold(on)) => {
                        held = on;
                        pulse_ends = None;
                        pin.set(on)?;
                    }
                    Err(error) => warn!(%error, "gate watchdog: ignoring a command"),
                },
                // End of file: the edge closed its end or died.
                Ok(None) => break,
                Err(error) => {
                    warn!(%error, "gate watchdog: cannot read commands");
                    break;
                }
            },
            _ = sleep_until(deadline), if deadline.is_some() => {
                pulse_ends = None;
                if !held {
                    pin.set(false)?;
                }
            }
            _ = &mut stop => break,
        }
    }
    debug!(
        held,
        "gate watchdog: the edge is gone; driving the safe level"
    );
    pin.set(held)?;
    Ok(held)
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The simulated relay: a sysfs-like directory with `value` (`1` energised, `0` released,
/// rewritten atomically) and `pulses` (one line per pulse: its length in ms), so a test in
/// another process can watch the pin.
pub struct FilePin {
    dir: PathBuf,
}

impl FilePin {
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, GateError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|e| GateError::Fault(format!("cannot create {}: {e}", dir.display())))?;
        Ok(Self { dir })
    }

    /// The pin's level as last written: `Some(true)` energised, `None` if never written.
    pub fn read(dir: &Path) -> Option<bool> {
        match std::fs::read_to_string(dir.join("value")).ok()?.trim() {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        }
    }

    /// How many pulses the pin has had (over every run of the edge).
    pub fn pulses(dir: &Path) -> usize {
        std::fs::read_to_string(dir.join("pulses"))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }
}

impl RelayPin for FilePin {
    fn set(&mut self, active: bool) -> Result<(), GateError> {
        let tmp = self.dir.join("value.tmp");
        std::fs::write(&tmp, if active { "1\n" } else { "0\n" })
            .and_then(|()| std::fs::rename(&tmp, self.dir.join("value")))
            .map_err(|e| GateError::Fault(format!("simulated pin {}: {e}", self.dir.display())))
    }

    fn pulse_started(&mut self, length: Duration) {
        let line = format!("{}\n", length.as_millis());
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("pulses"))
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(error) = appended {
            warn!(%error, "simulated pin: cannot log a pulse");
        }
    }
}

/// A relay on a GPIO line (BCM number), owned by the watchdog process. The pin is *not* reset
/// when the watchdog exits: it stays at the safe level the watchdog drove last.
pub struct GpioPin {
    pin: rppal::gpio::OutputPin,
    active_high: bool,
}

impl GpioPin {
    pub fn new(bcm: u8, active_high: bool) -> Result<Self, GateError> {
        let gpio = rppal::gpio::Gpio::new()
            .map_err(|e| GateError::Gpio(format!("no usable GPIO on this machine: {e}")))?;
        let mut pin = gpio
            .get(bcm)
            .map_err(|e| GateError::Gpio(format!("relay pin {bcm}: {e}")))?
            .into_output();
        pin.set_reset_on_drop(false);
        Ok(Self { pin, active_high })
    }
}

impl RelayPin for GpioPin {
    fn set(&mut self, active: bool) -> Result<(), GateError> {
        if active == self.active_high {
            self.pin.set_high();
        } else {
            self.pin.set_low();
        }
        Ok(())
    }
}

/// How to start a watchdog process: the program (the `omo` binary) and its arguments
/// (`gate-watchdog --pin-dir DIR` or `gate-watchdog --gpio N [--active-low]`).
#[derive(Debug, Clone)]
pub struct WatchdogSpec {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

/// The edge's handle on its watchdog process: commands go down its standard input. Dropping it
/// closes the pipe, and the watchdog drives the safe level and exits.
pub struct Watchdog {
    name: String,
    stdin: Mutex<Option<ChildStdin>>,
    child: Mutex<Child>,
}

impl Watchdog {
    /// Starts the watchdog and waits for its `ready` (the pin is at its safe level).
    pub fn spawn(name: impl Into<String>, spec: &WatchdogSpec) -> Result<Self, GateError> {
        let name = name.into();
        let fail = |what: String| GateError::Unavailable(format!("{name}: gate watchdog {what}"));
        let mut command = Command::new(&spec.program);
        command
            .args(&spec.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        // Its own process group: a Ctrl-C in the terminal stops the edge, whose exit then
        // closes the pipe; the watchdog is not killed before it can drive the safe level.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command
            .spawn()
            .map_err(|e| fail(format!("cannot start {}: {e}", spec.program.display())))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| fail("has no stdout".into()))?;
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        if line.trim() != "ready" {
            let _ = child.kill();
            let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
            return Err(fail(format!(
                "did not start ({status}); see its error above"
            )));
        }
        Ok(Self {
            name,
            stdin: Mutex::new(child.stdin.take()),
            child: Mutex::new(child),
        })
    }

    /// Sends one command.
    pub fn send(&self, command: RelayCommand) -> Result<(), GateError> {
        let mut stdin = self.stdin.lock().unwrap_or_else(PoisonError::into_inner);
        let pipe = stdin.as_mut().ok_or_else(|| {
            GateError::Fault(format!("{}: the gate watchdog is stopped", self.name))
        })?;
        writeln!(pipe, "{}", command.line())
            .and_then(|()| pipe.flush())
            .map_err(|e| GateError::Fault(format!("{}: the gate watchdog is gone: {e}", self.name)))
    }

    /// The watchdog's process id.
    pub fn pid(&self) -> u32 {
        self.child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .id()
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // End of file: the watchdog drives the safe level and exits promptly.
        drop(
            self.stdin
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let _ = self
            .child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .wait();
    }
}

#[cfg(test)]
mod tests;
