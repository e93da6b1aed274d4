//! Where a round trip's time goes (steps, snapshots, version-table checks), printed on stderr
//! at the end when MIGRATION_GATE_PROFILE is set: what the round-trip bench's totals are made of.

use std::sync::Mutex;
use std::time::{Duration, Instant};

static SPENT: Mutex<Vec<(&'static str, Duration, u32)>> = Mutex::new(Vec::new());

pub fn add(what: &'static str, since: Instant) {
    let elapsed = since.elapsed();
    let mut spent = SPENT.lock().unwrap();
    match spent.iter_mut().find(|(w, _, _)| *w == what) {
        Some(entry) => {
            entry.1 += elapsed;
            entry.2 += 1;
        }
        None => spent.push((what, elapsed, 1)),
    }
}

/// What was recorded so far, emptied: (what, total, count). The bench reads it per run.
pub fn take() -> Vec<(&'static str, Duration, u32)> {
    std::mem::take(&mut *SPENT.lock().unwrap())
}

pub fn print() {
    if std::env::var_os("MIGRATION_GATE_PROFILE").is_none() {
        return;
    }
    for (what, total, count) in SPENT.lock().unwrap().iter() {
        eprintln!(
            "profile: {what}: {:.3} s in {count} ({:.2} ms each)",
            total.as_secs_f64(),
            total.as_secs_f64() * 1e3 / f64::from(*count)
        );
    }
}
