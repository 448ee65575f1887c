//! Keeps a run on one CPU. The cloud's SQLite connection lives on sqlx's worker thread, and the
//! simulation hands it every statement and waits: across two cores each hand-off wakes an idle
//! core, which on this machine made a run five times slower (measured: 346 against 1,664
//! checkouts/s). A run therefore runs on a thread of its own pinned to one CPU, before the
//! database is opened, so the worker thread it spawns inherits the pin. Pinning is a speed-up
//! only: where it is not possible the run goes on unpinned, and nothing it decides depends on it.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Runs pinned to each CPU now, so concurrent runs spread over the CPUs.
static BUSY: Mutex<BTreeMap<usize, usize>> = Mutex::new(BTreeMap::new());

/// A run's hold on its CPU, given back on drop.
pub struct Pinned(usize);

impl Drop for Pinned {
    fn drop(&mut self) {
        let mut busy = BUSY.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(runs) = busy.get_mut(&self.0) {
            *runs = runs.saturating_sub(1);
        }
    }
}

/// Pins the calling thread to the allowed CPU with the fewest pinned runs; `None` if it could
/// not (one CPU only, or the calls failed).
#[cfg(target_os = "linux")]
pub fn to_one_cpu() -> Option<Pinned> {
    // SAFETY: `cpu_set_t` is plain data for which all zeroes is a valid (empty) set; the two
    // calls read and write only the set passed, with its true size, for the calling thread (0).
    unsafe {
        let mut allowed: libc::cpu_set_t = std::mem::zeroed();
        let size = std::mem::size_of::<libc::cpu_set_t>();
        if libc::sched_getaffinity(0, size, &mut allowed) != 0 {
            return None;
        }
        let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| libc::CPU_ISSET(cpu, &allowed))
            .collect();
        if cpus.len() < 2 {
            return None;
        }
        let mut busy = BUSY.lock().unwrap_or_else(|e| e.into_inner());
        let cpu = *cpus
            .iter()
            .min_by_key(|cpu| busy.get(cpu).copied().unwrap_or(0))?;
        let mut one: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut one);
        if libc::sched_setaffinity(0, size, &one) != 0 {
            return None;
        }
        *busy.entry(cpu).or_default() += 1;
        Some(Pinned(cpu))
    }
}

/// Elsewhere runs stay unpinned.
#[cfg(not(target_os = "linux"))]
pub fn to_one_cpu() -> Option<Pinned> {
    None
}
