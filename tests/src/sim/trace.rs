//! The trace of a run, kept as a hash: two runs of one seed must end with the same one.

use std::fmt::Write;

/// A running hash (FNV-1a, 64 bits) of the events of a run, and how many there were.
#[derive(Clone, Debug)]
pub struct Trace {
    hash: u64,
    events: u64,
    line: String,
}

impl Default for Trace {
    fn default() -> Self {
        Self {
            hash: 0xcbf2_9ce4_8422_2325,
            events: 0,
            line: String::new(),
        }
    }
}

impl Trace {
    /// Adds one event, described by `event`, at virtual time `at_micros`. With
    /// `FIXGATE_SIM_TRACE` set, it is printed too.
    pub fn record(&mut self, at_micros: u128, event: std::fmt::Arguments<'_>) {
        self.line.clear();
        let _ = write!(self.line, "{at_micros} {event}");
        if printing() {
            eprintln!("{}", self.line);
        }
        for byte in self.line.bytes().chain([b'\n']) {
            self.hash = (self.hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.events += 1;
    }

    /// The hash of every event so far.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// How many events were recorded.
    pub fn events(&self) -> u64 {
        self.events
    }
}

/// Whether `FIXGATE_SIM_TRACE` asks for the trace on stderr.
fn printing() -> bool {
    static PRINT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PRINT.get_or_init(|| std::env::var_os("FIXGATE_SIM_TRACE").is_some())
}
