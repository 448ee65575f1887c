//! A scale on a pseudo-terminal that answers Toledo 8217 or MT-SICS commands from a background
//! thread, with knobs for the load, motion, overload, and faults (silence, slow replies, noise
//! bytes, unplug/replug). The thread stops when the simulator is dropped.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::pty::{Pty, read_some};
use crate::scale::toledo8217::{self, bits};
use crate::scale::{ScaleProtocol, mtsics};

/// The simulated scale's condition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScaleSimState {
    /// The load on the platter, in grams.
    pub grams: i64,
    pub motion: bool,
    pub overload: bool,
    pub underload: bool,
    /// Zero offset set by `Z`, in grams.
    pub zero_g: i64,
    /// Tare set by `T`, in grams.
    pub tare_g: i64,
    /// Fault: answer nothing.
    pub silent: bool,
    /// Fault: wait this long before each answer.
    pub reply_delay_ms: u64,
    /// Fault: send noise bytes before each answer.
    pub noise: bool,
}

impl ScaleSimState {
    fn shown(&self) -> i64 {
        self.grams - self.zero_g - self.tare_g
    }
}

/// A simulated serial scale.
pub struct ScaleSim {
    pty: Arc<Pty>,
    state: Arc<Mutex<ScaleSimState>>,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicU64>,
}

impl ScaleSim {
    /// A scale speaking `protocol`, with nothing on it.
    pub fn new(protocol: ScaleProtocol) -> io::Result<Self> {
        let pty = Arc::new(Pty::new("scale")?);
        let state = Arc::new(Mutex::new(ScaleSimState::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicU64::new(0));
        let worker = Worker {
            pty: Arc::clone(&pty),
            state: Arc::clone(&state),
            stop: Arc::clone(&stop),
            requests: Arc::clone(&requests),
            protocol,
            line: Vec::new(),
            pending_stable: false,
            repeat: false,
        };
        std::thread::Builder::new()
            .name("omo-scale-sim".into())
            .spawn(move || worker.run())?;
        Ok(Self {
            pty,
            state,
            stop,
            requests,
        })
    }

    /// The path the driver opens (a stable symlink to the current `/dev/pts/N`).
    pub fn port_path(&self) -> String {
        self.pty.path()
    }

    /// The current `/dev/pts/N`, while plugged in.
    pub fn pts_path(&self) -> Option<String> {
        self.pty.pts_path()
    }

    fn with<R>(&self, f: impl FnOnce(&mut ScaleSimState) -> R) -> R {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Puts `grams` on the platter.
    pub fn set_weight(&self, grams: i64) {
        self.with(|s| s.grams = grams);
    }
    pub fn set_motion(&self, on: bool) {
        self.with(|s| s.motion = on);
    }
    pub fn set_overload(&self, on: bool) {
        self.with(|s| s.overload = on);
    }
    pub fn set_underload(&self, on: bool) {
        self.with(|s| s.underload = on);
    }
    /// Fault: stop answering (true) or answer again (false).
    pub fn set_silent(&self, on: bool) {
        self.with(|s| s.silent = on);
    }
    /// Fault: answer each command after `delay`.
    pub fn set_reply_delay(&self, delay: Duration) {
        self.with(|s| s.reply_delay_ms = delay.as_millis() as u64);
    }
    /// Fault: send noise bytes before each answer.
    pub fn set_noise(&self, on: bool) {
        self.with(|s| s.noise = on);
    }
    /// The scale's condition now.
    pub fn state(&self) -> ScaleSimState {
        self.with(|s| s.clone())
    }
    /// Commands received so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
    /// Pulls the cable: the driver's reads fail until [`ScaleSim::replug`].
    pub fn unplug(&self) {
        self.pty.unplug();
    }
    /// Plugs the scale back in, at the same `port_path()`.
    pub fn replug(&self) -> io::Result<()> {
        self.pty.replug()
    }
}

impl Drop for ScaleSim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // The worker thread holds the pty until its next poll; the path goes now, so a process
        // that exits right after dropping its simulators leaves no link behind.
        self.pty.remove_link();
    }
}

struct Worker {
    pty: Arc<Pty>,
    state: Arc<Mutex<ScaleSimState>>,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicU64>,
    protocol: ScaleProtocol,
    line: Vec<u8>,
    pending_stable: bool,
    repeat: bool,
}

impl Worker {
    fn snapshot(&self) -> ScaleSimState {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn run(mut self) {
        let mut buf = [0u8; 256];
        while !self.stop.load(Ordering::Relaxed) {
            let Some(mut master) = self.pty.master() else {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            };
            while !self.stop.load(Ordering::Relaxed) && self.pty.is_plugged() {
                let n = read_some(&mut master, &mut buf).unwrap_or(0);
                for &b in &buf[..n] {
                    if let Some(reply) = self.on_byte(b) {
                        self.send(&mut master, &reply);
                    }
                }
                if let Some(reply) = self.unsolicited() {
                    self.send(&mut master, &reply);
                }
            }
        }
    }

    fn send(&self, master: &mut serialport::TTYPort, reply: &[u8]) {
        let s = self.snapshot();
        if s.silent {
            return;
        }
        if s.reply_delay_ms > 0 {
            std::thread::sleep(Duration::from_millis(s.reply_delay_ms));
        }
        let mut bytes = Vec::new();
        if s.noise {
            bytes.extend_from_slice(b"\xff\x13~#");
        }
        bytes.extend_from_slice(reply);
        // A driver that is not reading (closed port) must not stall the simulator.
        let _ = master.write_all(&bytes).and_then(|_| master.flush());
    }

    fn on_byte(&mut self, b: u8) -> Option<Vec<u8>> {
        match self.protocol {
            ScaleProtocol::Toledo8217 => self.toledo(b & 0x7f),
            ScaleProtocol::MtSics => {
                if b == b'\r' || b == b'\n' {
                    let line = std::mem::take(&mut self.line);
                    if line.is_empty() {
                        return None;
                    }
                    self.requests.fetch_add(1, Ordering::Relaxed);
                    return Some(self.sics(&String::from_utf8_lossy(&line)));
                }
                if self.line.len() < 64 {
                    self.line.push(b);
                }
                None
            }
        }
    }

    fn status_bits(s: &ScaleSimState) -> u8 {
        let mut v = 0;
        if s.motion {
            v |= bits::MOTION;
        }
        if s.overload {
            v |= bits::OVER_CAPACITY;
        }
        if s.underload || s.shown() < 0 {
            v |= bits::UNDER_ZERO;
        }
        if s.shown() == 0 {
            v |= bits::CENTRE_OF_ZERO;
        }
        if s.tare_g != 0 {
            v |= bits::NET;
        }
        v
    }

    fn toledo(&mut self, b: u8) -> Option<Vec<u8>> {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let reply = match b {
            b'W' => {
                let status = Self::status_bits(&s);
                if status & (bits::MOTION | bits::OVER_CAPACITY | bits::UNDER_ZERO) != 0
                    || s.shown() > 99_999
                {
                    toledo8217::encode_status(
                        status
                            | if s.shown() > 99_999 {
                                bits::OVER_CAPACITY
                            } else {
                                0
                            },
                    )
                } else {
                    toledo8217::encode_weight_kg(s.shown(), s.tare_g != 0)
                }
            }
            b'Z' => {
                if !s.motion && s.tare_g == 0 {
                    s.zero_g = s.grams;
                }
                toledo8217::encode_status(Self::status_bits(&s))
            }
            b'T' => {
                if !s.motion && s.shown() > 0 {
                    s.tare_g += s.shown();
                }
                toledo8217::encode_status(Self::status_bits(&s))
            }
            b'C' => {
                if !s.motion {
                    s.tare_g = 0;
                }
                toledo8217::encode_status(Self::status_bits(&s))
            }
            _ => return None,
        };
        self.requests.fetch_add(1, Ordering::Relaxed);
        Some(reply)
    }

    fn sics_weight(s: &ScaleSimState) -> Vec<u8> {
        if s.overload {
            b"S +\r\n".to_vec()
        } else if s.underload {
            b"S -\r\n".to_vec()
        } else {
            mtsics::encode_weight(!s.motion, s.shown())
        }
    }

    fn sics(&mut self, line: &str) -> Vec<u8> {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        self.repeat = false;
        self.pending_stable = false;
        match line.trim() {
            "S" if s.motion && !s.overload && !s.underload => {
                // Answered once the weight settles (see `unsolicited`).
                self.pending_stable = true;
                Vec::new()
            }
            "S" | "SI" => Self::sics_weight(&s),
            "SIR" => {
                self.repeat = true;
                Self::sics_weight(&s)
            }
            "Z" if s.motion => b"Z I\r\n".to_vec(),
            "Z" => {
                s.zero_g = s.grams;
                s.tare_g = 0;
                b"Z A\r\n".to_vec()
            }
            "T" if s.motion => b"T I\r\n".to_vec(),
            "T" => {
                s.tare_g += s.shown();
                let t = s.tare_g;
                format!("T S {:>10}.{:03} kg\r\n", t / 1000, (t % 1000).abs()).into_bytes()
            }
            "@" => b"I4 A \"OMO-SIM-0001\"\r\n".to_vec(),
            _ => b"ES\r\n".to_vec(),
        }
    }

    /// Replies not triggered by a byte just read: a deferred `S`, or the `SIR` stream.
    fn unsolicited(&mut self) -> Option<Vec<u8>> {
        if self.protocol != ScaleProtocol::MtSics {
            return None;
        }
        let s = self.snapshot();
        if self.pending_stable && !s.motion {
            self.pending_stable = false;
            return Some(Self::sics_weight(&s));
        }
        if self.repeat {
            return Some(Self::sics_weight(&s));
        }
        None
    }
}
