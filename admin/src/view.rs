//! The JSON of `/api/sessions`: a [`Metrics`] snapshot with readable times and names. Its fields
//! are listed in docs/metrics.md.

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime};

use fixgate_core::metrics::{Counts, Reason, SessionCounters, SessionMetrics};
use fixgate_core::{Role, SessionId};
use fixgate_driver::Metrics;
use serde::Serialize;

/// Everything `/api/sessions` shows.
#[derive(Debug, Serialize)]
pub(crate) struct EngineView {
    /// Connections waiting for their Logon.
    pending_logon: usize,
    /// Refusals by reason.
    refusals: BTreeMap<&'static str, u64>,
    /// Sessions by state.
    sessions_by_state: BTreeMap<&'static str, u64>,
    /// Puts and replies waiting for room.
    waiting_messages: usize,
    /// When the snapshot was taken.
    now: String,
    sessions: Vec<SessionView>,
}

/// One session, as `/api/sessions` and the status page show it.
#[derive(Debug, Serialize)]
pub(crate) struct SessionView {
    /// The id as the URLs take it: `ISLD->TW`.
    id: String,
    sender_comp_id: String,
    target_comp_id: String,
    role: &'static str,
    state: &'static str,
    connected: bool,
    next_sender_seq_num: u64,
    next_target_seq_num: u64,
    /// The last message in and out, RFC 3339 in UTC; `null` before any.
    last_received: Option<String>,
    last_sent: Option<String>,
    unsettled_messages: usize,
    queued_out_of_order_messages: usize,
    held_messages: usize,
    unwritten_bytes: usize,
    backpressured: bool,
    counters: CountersView,
}

/// A session's counters.
#[derive(Debug, Serialize)]
struct CountersView {
    app_messages_in: u64,
    admin_messages_in: u64,
    app_messages_out: u64,
    admin_messages_out: u64,
    bytes_in: u64,
    bytes_out: u64,
    resend_requests_in: u64,
    resend_requests_out: u64,
    gap_fills_in: u64,
    gap_fills_out: u64,
    /// By reason, only the reasons counted.
    rejects_sent: BTreeMap<&'static str, u64>,
    rejects_received: BTreeMap<&'static str, u64>,
    disconnects: BTreeMap<&'static str, u64>,
}

impl EngineView {
    /// The view of `metrics`, taken at `now`.
    pub(crate) fn new(metrics: &Metrics, now: (Instant, SystemTime)) -> Self {
        let engine = &metrics.engine;
        Self {
            pending_logon: engine.pending_logon,
            refusals: counted(&engine.refusals),
            sessions_by_state: counted(&engine.sessions_by_state()),
            waiting_messages: metrics.waiting,
            now: rfc3339(now.1),
            sessions: engine
                .sessions
                .iter()
                .map(|s| SessionView::new(s, now))
                .collect(),
        }
    }
}

impl SessionView {
    pub(crate) fn new(s: &SessionMetrics, now: (Instant, SystemTime)) -> Self {
        let at = |instant: Option<Instant>| instant.map(|i| rfc3339(wall_clock(i, now)));
        Self {
            id: s.id.to_string(),
            sender_comp_id: s.id.sender_comp_id.clone(),
            target_comp_id: s.id.target_comp_id.clone(),
            role: match s.role {
                Role::Acceptor => "acceptor",
                _ => "initiator",
            },
            state: s.state.label(),
            connected: s.connected,
            next_sender_seq_num: s.next_sender_seq.get(),
            next_target_seq_num: s.next_target_seq.get(),
            last_received: at(s.last_received),
            last_sent: at(s.last_sent),
            unsettled_messages: s.unsettled,
            queued_out_of_order_messages: s.queued_out_of_order,
            held_messages: s.held_messages,
            unwritten_bytes: s.unwritten_bytes,
            backpressured: s.backpressured,
            counters: CountersView::new(&s.counters),
        }
    }
}

impl CountersView {
    fn new(c: &SessionCounters) -> Self {
        Self {
            app_messages_in: c.app_messages_in,
            admin_messages_in: c.admin_messages_in,
            app_messages_out: c.app_messages_out,
            admin_messages_out: c.admin_messages_out,
            bytes_in: c.bytes_in,
            bytes_out: c.bytes_out,
            resend_requests_in: c.resend_requests_in,
            resend_requests_out: c.resend_requests_out,
            gap_fills_in: c.gap_fills_in,
            gap_fills_out: c.gap_fills_out,
            rejects_sent: counted(&c.rejects_sent),
            rejects_received: counted(&c.rejects_received),
            disconnects: counted(&c.disconnects),
        }
    }
}

/// The reasons counted at least once, with their counts.
fn counted<R: Reason>(counts: &Counts<R>) -> BTreeMap<&'static str, u64> {
    counts.iter().filter(|(_, n)| *n > 0).collect()
}

/// The wall-clock time of `instant`, by a pair of readings of both clocks taken together.
fn wall_clock(instant: Instant, (mono, utc): (Instant, SystemTime)) -> SystemTime {
    match mono.checked_duration_since(instant) {
        Some(ago) => utc - ago,
        None => utc + instant.duration_since(mono),
    }
}

/// The Unix time of `instant`, in seconds.
pub(crate) fn unix_seconds(instant: Instant, now: (Instant, SystemTime)) -> f64 {
    wall_clock(instant, now)
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// `time` as RFC 3339 in UTC, to the millisecond.
fn rfc3339(time: SystemTime) -> String {
    match jiff::Timestamp::try_from(time) {
        Ok(ts) => format!("{ts:.3}"),
        Err(_) => String::new(),
    }
}

/// Whether `id` is the session named `name` (its display form, as the URLs carry it).
pub(crate) fn names(id: &SessionId, name: &str) -> bool {
    id.to_string() == name
}
