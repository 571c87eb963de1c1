//! `/metrics`: a [`Metrics`] snapshot in the Prometheus text format (version 0.0.4), written by
//! prometheus-client. Every name and label is listed in docs/metrics.md.

use std::fmt;

use fixgate_core::SessionState;
use fixgate_core::metrics::{Counts, Reason, SessionMetrics};
use fixgate_driver::Histogram;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::snapshots::Snapshot;
use crate::view::unix_seconds;

/// The `Content-Type` of what [`render`] writes.
pub(crate) const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// `snapshot` in the Prometheus text format.
pub(crate) fn render(snapshot: Snapshot) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Scrape(snapshot)));
    let mut text = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
        .expect("writing to a String cannot fail");
    text
}

/// One scrape's snapshot, which the registry encodes once.
#[derive(Debug)]
struct Scrape(Snapshot);

type Labels = Vec<(&'static str, String)>;

/// One sample's value.
enum Sample {
    Counter(u64),
    Gauge(i64),
    Seconds(f64),
}

/// A family's samples: its labels and values.
type Rows = Vec<(Labels, Sample)>;

impl Collector for Scrape {
    fn encode(&self, mut out: DescriptorEncoder<'_>) -> fmt::Result {
        let (metrics, now) = &*self.0;
        use MetricType::{Counter, Gauge};
        let engine = &metrics.engine;
        let out = &mut out;
        family(
            out,
            "fixgate_pending_logon_connections",
            "Connections open and waiting for their Logon",
            Gauge,
            vec![(vec![], Sample::Gauge(gauge(engine.pending_logon)))],
        )?;
        family(
            out,
            "fixgate_refusals",
            "Connections refused before they reached a session, by reason",
            Counter,
            by_reason(&Vec::new(), &engine.refusals, true),
        )?;
        let by_state = engine.sessions_by_state();
        family(
            out,
            "fixgate_sessions",
            "Sessions by state",
            Gauge,
            by_state
                .iter()
                .map(|(state, n)| (vec![("state", state.to_owned())], Sample::Gauge(gauge(n))))
                .collect(),
        )?;
        family(
            out,
            "fixgate_waiting_messages",
            "Puts and replies waiting for room on their connections",
            Gauge,
            vec![(vec![], Sample::Gauge(gauge(metrics.waiting)))],
        )?;
        histogram(
            out,
            "fixgate_store_commit_duration_seconds",
            "Store commits, from the request to the outcome",
            &metrics.store_commit,
        )?;
        histogram(
            out,
            "fixgate_settle_duration_seconds",
            "Application messages, from the arrival of their bytes to their settlement",
            &metrics.settle,
        )?;

        let sessions = &engine.sessions;
        let each = |rows: &dyn Fn(&SessionMetrics, Labels) -> Rows| -> Rows {
            sessions
                .iter()
                .flat_map(|s| rows(s, vec![("session", s.id.to_string())]))
                .collect()
        };
        family(
            out,
            "fixgate_session_state",
            "1 for the session's state, 0 for the others",
            Gauge,
            each(&|s, id| {
                SessionState::LABELS
                    .iter()
                    .map(|state| {
                        (
                            with(&id, &[("state", state)]),
                            Sample::Gauge(i64::from(s.state.label() == *state)),
                        )
                    })
                    .collect()
            }),
        )?;
        per_session_gauge(
            out,
            sessions,
            "fixgate_session_connected",
            "1 while a connection is linked to the session",
            |s| i64::from(s.connected),
        )?;
        per_session_gauge(
            out,
            sessions,
            "fixgate_session_next_sender_seq_num",
            "The MsgSeqNum of the next message the session sends",
            |s| gauge(s.next_sender_seq.get()),
        )?;
        per_session_gauge(
            out,
            sessions,
            "fixgate_session_next_target_seq_num",
            "The MsgSeqNum the session expects next",
            |s| gauge(s.next_target_seq.get()),
        )?;
        family(
            out,
            "fixgate_session_messages",
            "Messages received and sent, session-level (admin) and application (app) apart",
            Counter,
            each(&|s, id| {
                let c = &s.counters;
                vec![
                    (
                        with(&id, &[("direction", "in"), ("kind", "app")]),
                        Sample::Counter(c.app_messages_in),
                    ),
                    (
                        with(&id, &[("direction", "in"), ("kind", "admin")]),
                        Sample::Counter(c.admin_messages_in),
                    ),
                    (
                        with(&id, &[("direction", "out"), ("kind", "app")]),
                        Sample::Counter(c.app_messages_out),
                    ),
                    (
                        with(&id, &[("direction", "out"), ("kind", "admin")]),
                        Sample::Counter(c.admin_messages_out),
                    ),
                ]
            }),
        )?;
        family(
            out,
            "fixgate_session_bytes",
            "Bytes received and sent on the session's connections",
            Counter,
            each(&|s, id| in_out(&id, s.counters.bytes_in, s.counters.bytes_out)),
        )?;
        family(
            out,
            "fixgate_session_resend_requests",
            "ResendRequests received and sent",
            Counter,
            each(&|s, id| {
                in_out(
                    &id,
                    s.counters.resend_requests_in,
                    s.counters.resend_requests_out,
                )
            }),
        )?;
        family(
            out,
            "fixgate_session_gap_fills",
            "SequenceReset-GapFills received and sent",
            Counter,
            each(&|s, id| in_out(&id, s.counters.gap_fills_in, s.counters.gap_fills_out)),
        )?;
        family(
            out,
            "fixgate_session_rejects",
            "Session-level Rejects received and sent, by SessionRejectReason; reasons never counted are left out",
            Counter,
            each(&|s, id| {
                let mut rows = by_reason(
                    &with(&id, &[("direction", "in")]),
                    &s.counters.rejects_received,
                    false,
                );
                rows.extend(by_reason(
                    &with(&id, &[("direction", "out")]),
                    &s.counters.rejects_sent,
                    false,
                ));
                rows
            }),
        )?;
        family(
            out,
            "fixgate_session_disconnects",
            "Connections that ended, by reason; reasons never counted are left out",
            Counter,
            each(&|s, id| by_reason(&id, &s.counters.disconnects, false)),
        )?;
        per_session_gauge(
            out,
            sessions,
            "fixgate_session_unsettled_messages",
            "Application messages delivered and not yet settled",
            |s| gauge(s.unsettled),
        )?;
        per_session_gauge(
            out,
            sessions,
            "fixgate_session_queued_out_of_order_messages",
            "Messages received ahead of a gap, waiting for it to be filled",
            |s| gauge(s.queued_out_of_order),
        )?;
        per_session_gauge(
            out,
            sessions,
            "fixgate_session_held_messages",
            "Outbound messages held behind a resend in progress or an unanswered Logon",
            |s| gauge(s.held_messages),
        )?;
        per_session_gauge(
            out,
            sessions,
            "fixgate_session_unwritten_bytes",
            "Bytes handed to the connection and not yet written",
            |s| gauge(s.unwritten_bytes),
        )?;
        per_session_gauge(
            out,
            sessions,
            "fixgate_session_backpressured",
            "1 while put() meets backpressure (MaxOutboundBytes unwritten)",
            |s| i64::from(s.backpressured),
        )?;
        let times: [(&str, &str, LastAt); 2] = [
            (
                "fixgate_session_last_received_timestamp_seconds",
                "Unix time of the last input from the counterparty (a message or a garbled frame); absent before the first message",
                |s| s.last_received,
            ),
            (
                "fixgate_session_last_sent_timestamp_seconds",
                "Unix time of the last message sent; absent before any",
                |s| s.last_sent,
            ),
        ];
        for (name, help, time) in times {
            let rows = each(&|s, id| {
                time(s)
                    .map(|at| (id, Sample::Seconds(unix_seconds(at, *now))))
                    .into_iter()
                    .collect()
            });
            family(out, name, help, Gauge, rows)?;
        }
        Ok(())
    }
}

/// When a session last received or sent, read from its snapshot.
type LastAt = fn(&SessionMetrics) -> Option<std::time::Instant>;

/// Writes one family: its name, help, type, and each sample.
fn family(
    out: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    kind: MetricType,
    rows: Rows,
) -> fmt::Result {
    let mut encoder = out.encode_descriptor(name, help, None, kind)?;
    for (labels, sample) in &rows {
        let sample_encoder = encoder.encode_family(labels)?;
        match *sample {
            Sample::Counter(n) => ConstCounter::new(n).encode(sample_encoder)?,
            Sample::Gauge(n) => ConstGauge::new(n).encode(sample_encoder)?,
            Sample::Seconds(s) => ConstGauge::new(s).encode(sample_encoder)?,
        }
    }
    Ok(())
}

/// Writes a gauge with one sample per session, `value` of each.
fn per_session_gauge(
    out: &mut DescriptorEncoder<'_>,
    sessions: &[SessionMetrics],
    name: &str,
    help: &str,
    value: impl Fn(&SessionMetrics) -> i64,
) -> fmt::Result {
    let rows = sessions
        .iter()
        .map(|s| (vec![("session", s.id.to_string())], Sample::Gauge(value(s))))
        .collect();
    family(out, name, help, MetricType::Gauge, rows)
}

/// Writes a latency histogram, in seconds.
fn histogram(
    out: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    histogram: &Histogram,
) -> fmt::Result {
    let mut encoder = out.encode_descriptor(name, help, None, MetricType::Histogram)?;
    // prometheus-client adds the buckets up itself: it takes each bucket's own count.
    let mut below = 0;
    let mut buckets: Vec<(f64, u64)> = histogram
        .buckets()
        .map(|(bound, cumulative)| {
            let own = cumulative - below;
            below = cumulative;
            (bound.as_secs_f64(), own)
        })
        .collect();
    buckets.push((f64::INFINITY, histogram.count() - below));
    encoder.encode_histogram::<prometheus_client::encoding::NoLabelSet>(
        histogram.sum().as_secs_f64(),
        histogram.count(),
        &buckets,
        None,
    )
}

/// `labels` and more.
fn with(labels: &Labels, more: &[(&'static str, &str)]) -> Labels {
    let mut all = labels.clone();
    all.extend(more.iter().map(|(k, v)| (*k, (*v).to_owned())));
    all
}

/// A pair of samples, `direction="in"` and `direction="out"`.
fn in_out(labels: &Labels, received: u64, sent: u64) -> Rows {
    vec![
        (
            with(labels, &[("direction", "in")]),
            Sample::Counter(received),
        ),
        (with(labels, &[("direction", "out")]), Sample::Counter(sent)),
    ]
}

/// A sample per reason, labelled `reason`; with `zeros`, the reasons never counted too.
fn by_reason<R: Reason>(labels: &Labels, counts: &Counts<R>, zeros: bool) -> Rows {
    counts
        .iter()
        .filter(|(_, n)| zeros || *n > 0)
        .map(|(reason, n)| (with(labels, &[("reason", reason)]), Sample::Counter(n)))
        .collect()
}

/// A count or a number as a gauge's value.
fn gauge(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}
