//! Session schedules: Logons outside the window are refused, the sequence resets when a new
//! period starts, and a logged-on session logs out when the window closes.

use std::time::Duration;

use fixgate_core::{BeginString, DisconnectReason, LogonRefusal, Role, SeqNum, SessionConfig};
use fixgate_tests::peer::{ScriptedPeer, Seen, THEM, US};

/// The simulation starts at 2026-11-26 12:00:00 UTC.
fn config(start: &str, end: &str) -> SessionConfig {
    let mut config = SessionConfig::new(BeginString::Fix44, US, THEM, Role::Acceptor);
    config.set("StartTime", start).unwrap();
    config.set("EndTime", end).unwrap();
    config
}

#[test]
fn logon_outside_the_window_is_refused() {
    let mut peer = ScriptedPeer::with_config(config("13:00:00", "17:00:00"));
    let logon = peer.logon(30);
    peer.deliver(&logon);
    assert_eq!(
        peer.take(),
        [Seen::Disconnect(DisconnectReason::LogonRefused(
            LogonRefusal::OutsideSchedule
        ))]
    );
}

#[test]
fn sequence_resets_when_a_new_period_starts() {
    // Open since 11:00 today; the store was created at the simulation's start (12:00), inside
    // today's period, so the first Logon does not reset.
    let mut peer = ScriptedPeer::with_config(config("11:00:00", "10:00:00"));
    peer.log_on();
    let hb = peer.message("0", "");
    peer.deliver(&hb);
    peer.session.disconnect(peer.clock.now()).unwrap();
    peer.take();
    // Tomorrow, 11:30: a new period began at 11:00.
    peer.clock.advance(Duration::from_secs(23 * 3600 + 1800));
    peer.session.handle_connected(peer.clock.now());
    peer.next_seq = 1;
    let logon = peer.logon(30);
    peer.deliver(&logon);
    assert_eq!(peer.sent(), ["35=A|34=1|98=0|108=30"]);
    assert_eq!(peer.session.next_target_seq(), SeqNum::new(2));
}

#[test]
fn logged_on_session_logs_out_when_the_window_closes() {
    let mut peer = ScriptedPeer::with_config(config("08:00:00", "12:00:30"));
    peer.log_on();
    peer.wait(Duration::from_secs(20));
    assert!(peer.sent().iter().all(|m| !m.starts_with("35=5")));
    peer.wait(Duration::from_secs(11));
    assert_eq!(peer.sent(), ["35=5|34=2|58=Session end"]);
    // No reply: LogoutTimeout ends the connection.
    peer.wait(Duration::from_secs(2));
    assert_eq!(
        peer.take(),
        [Seen::Disconnect(DisconnectReason::LogoutTimeout)]
    );
}

#[test]
fn a_zone_named_in_the_settings_needs_its_rules_before_a_session_is_made() {
    let mut config = config("08:00:00", "17:00:00");
    config.set("TimeZone", "America/New_York").unwrap();
    let store =
        fixgate_core::MemoryStore::new(fixgate_core::UtcTimestamp::from_unix(0, 0).unwrap());
    let clock = fixgate_tests::clock::SimClock::new();
    let made = fixgate_core::Session::new(config, Box::new(store), clock.now());
    assert_eq!(
        made.err(),
        Some(fixgate_core::ConfigError::UnresolvedTimeZone {
            name: "America/New_York".into()
        })
    );
}
