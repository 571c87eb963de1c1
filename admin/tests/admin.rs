//! The admin listener over real loopback sockets: a counterparty logs on and trades with a
//! tokio engine, and the test reads `/metrics` and `/api/sessions` and runs the commands over
//! HTTP, checking each command as the counterparty sees it.

mod common;

use std::time::Duration;

use common::{Counterparty, Rig, TOKEN, http, sample};
use fixgate_core::{Secret, SessionId};

/// `/metrics` counts exactly the messages and bytes the counterparty sent and received.
#[tokio::test]
async fn metrics_count_what_the_counterparty_sent_and_received() {
    let rig = Rig::start().await;
    let mut peer = Counterparty::log_on(&rig).await;
    for n in 0..5 {
        peer.send("D", &format!("11=O{n}|55=X|54=1|38=1|40=1|"))
            .await;
    }
    for _ in 0..5 {
        peer.expect("8").await;
    }
    let (status, text) = http(rig.admin, "GET", "/metrics", None, "").await;
    assert_eq!(status, 200, "{text}");
    let id = "ISLD->CLIENT";
    let messages = |direction, kind| {
        sample(
            &text,
            "fixgate_session_messages_total",
            &[("session", id), ("direction", direction), ("kind", kind)],
        )
    };
    assert_eq!(messages("in", "app"), Some(5.0), "{text}");
    assert_eq!(messages("in", "admin"), Some(1.0));
    assert_eq!(messages("out", "app"), Some(5.0));
    assert_eq!(messages("out", "admin"), Some(1.0));
    let bytes = |direction| {
        sample(
            &text,
            "fixgate_session_bytes_total",
            &[("session", id), ("direction", direction)],
        )
    };
    assert_eq!(bytes("in"), Some(peer.written as f64));
    assert_eq!(bytes("out"), Some(peer.read as f64));
    let seq = |name| sample(&text, name, &[("session", id)]);
    assert_eq!(seq("fixgate_session_next_sender_seq_num"), Some(7.0));
    assert_eq!(seq("fixgate_session_next_target_seq_num"), Some(7.0));
    assert_eq!(seq("fixgate_session_connected"), Some(1.0));
    assert_eq!(
        sample(
            &text,
            "fixgate_session_state",
            &[("session", id), ("state", "active")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "fixgate_sessions", &[("state", "active")]),
        Some(1.0)
    );
    // Every order was settled by its reply: the histogram saw five.
    assert_eq!(
        sample(&text, "fixgate_settle_duration_seconds_count", &[]),
        Some(5.0),
        "{text}"
    );

    // A connection for no session is refused and counted by its reason.
    let mut stranger = Counterparty::connect(&rig).await;
    stranger.send_as("NOBODY", "A", "98=0|108=30|").await;
    stranger.expect_closed().await;
    let (_, text) = http(rig.admin, "GET", "/metrics", None, "").await;
    assert_eq!(
        sample(
            &text,
            "fixgate_refusals_total",
            &[("reason", "unknown_session")]
        ),
        Some(1.0),
        "{text}"
    );
}

/// On a durable store the commits are timed: each burst's fsync, from the engine's request to
/// its outcome.
#[tokio::test]
async fn store_commits_are_timed() {
    let dir = tempfile::tempdir().unwrap();
    let rig = Rig::start_durable(dir.path()).await;
    let mut peer = Counterparty::log_on(&rig).await;
    for n in 0..3 {
        peer.send("D", &format!("11=O{n}|55=X|54=1|38=1|40=1|"))
            .await;
        peer.expect("8").await;
    }
    let (_, text) = http(rig.admin, "GET", "/metrics", None, "").await;
    let commits = sample(&text, "fixgate_store_commit_duration_seconds_count", &[]);
    // The Logon's answer and each report waited for a commit of their own.
    assert!(commits.is_some_and(|n| n >= 4.0), "{text}");
    let sum = sample(&text, "fixgate_store_commit_duration_seconds_sum", &[]);
    assert!(sum.is_some_and(|s| s > 0.0), "{text}");
    let inf = sample(
        &text,
        "fixgate_store_commit_duration_seconds_bucket",
        &[("le", "+Inf")],
    );
    assert_eq!(inf, commits, "{text}");
    // Cumulative: no bucket holds more than the next.
    let buckets: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with("fixgate_store_commit_duration_seconds_bucket"))
        .map(|l| l.rsplit_once(' ').unwrap().1.parse().unwrap())
        .collect();
    assert_eq!(buckets.len(), 22, "{text}");
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{text}");
}

/// `/api/sessions` shows each session's state, numbers and counters as JSON.
#[tokio::test]
async fn the_session_list_shows_state_numbers_and_counters() {
    let rig = Rig::start().await;
    let mut peer = Counterparty::log_on(&rig).await;
    peer.send("D", "11=O1|55=X|54=1|38=1|40=1|").await;
    peer.expect("8").await;
    let (status, body) = http(rig.admin, "GET", "/api/sessions", None, "").await;
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let session = &json["sessions"][0];
    assert_eq!(session["id"], "ISLD->CLIENT");
    assert_eq!(session["state"], "active");
    assert_eq!(session["connected"], true);
    assert_eq!(session["next_sender_seq_num"], 3);
    assert_eq!(session["next_target_seq_num"], 3);
    assert_eq!(session["counters"]["app_messages_in"], 1);
    assert_eq!(session["counters"]["app_messages_out"], 1);
    assert!(session["last_received"].as_str().unwrap().ends_with('Z'));
    assert_eq!(json["sessions_by_state"]["active"], 1);

    let (status, one) = http(rig.admin, "GET", "/api/sessions/ISLD-%3ECLIENT", None, "").await;
    assert_eq!(status, 200, "{one}");
    let one: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(one["id"], "ISLD->CLIENT");
    let (status, _) = http(rig.admin, "GET", "/api/sessions/NOPE-%3EX", None, "").await;
    assert_eq!(status, 404);
}

/// Commands without the token, or with a wrong one, are refused with 401 and change nothing.
#[tokio::test]
async fn commands_without_the_token_are_refused_and_change_nothing() {
    let rig = Rig::start().await;
    let mut peer = Counterparty::log_on(&rig).await;
    let path = "/api/sessions/ISLD-%3ECLIENT/seq-nums";
    let body = r#"{"sender": 100}"#;
    for token in [None, Some("wrong"), Some("")] {
        let (status, answer) = http(rig.admin, "POST", path, token, body).await;
        assert_eq!(status, 401, "{token:?}: {answer}");
    }
    let (status, _) = http(
        rig.admin,
        "POST",
        "/api/sessions/ISLD-%3ECLIENT/disconnect",
        None,
        "",
    )
    .await;
    assert_eq!(status, 401);
    // Nothing changed: still connected, and the next message carries the next number.
    peer.send("1", "112=STILL|").await;
    let heartbeat = peer.expect("0").await;
    assert!(heartbeat.contains("|34=2|"), "{heartbeat}");
    assert!(heartbeat.contains("|112=STILL|"), "{heartbeat}");
}

/// Every command takes effect as the counterparty sees it.
#[tokio::test]
async fn every_command_takes_effect_as_the_counterparty_sees_it() {
    let rig = Rig::start().await;
    let base = "/api/sessions/ISLD-%3ECLIENT";
    let command = |name: &str, body: &str| {
        let (path, body) = (format!("{base}/{name}"), body.to_owned());
        async move { http(rig.admin, "POST", &path, Some(TOKEN), &body).await }
    };

    // seq-nums: the next message we send carries the number set, and the one we expect moves.
    let mut peer = Counterparty::log_on(&rig).await;
    let (status, answer) = command("seq-nums", r#"{"sender": 50, "target": 2}"#).await;
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["next_sender_seq_num"], 50);
    peer.send("1", "112=T1|").await;
    let heartbeat = peer.expect("0").await;
    assert!(heartbeat.contains("|34=50|"), "{heartbeat}");

    // logout, with a text: the counterparty gets a Logout that carries it.
    let (status, answer) = command("logout", r#"{"text": "end of day"}"#).await;
    assert_eq!(status, 200, "{answer}");
    let logout = peer.expect("5").await;
    assert!(logout.contains("|58=end of day|"), "{logout}");
    peer.send("5", "").await;
    peer.expect_closed().await;

    // A command that does not fit the state is refused: a Logout needs a session logged on.
    let (status, _) = command("logout", "").await;
    assert_eq!(status, 409);

    // disconnect: the connection ends at once, without a Logout.
    let mut peer = Counterparty::log_on_at(&rig, 4).await;
    let (status, answer) = command("disconnect", "").await;
    assert_eq!(status, 200, "{answer}");
    let seen = peer.expect_closed().await;
    assert!(!seen.iter().any(|m| m.contains("|35=5|")), "{seen:?}");

    // reset-seq-num-local: the next Logon is answered with 34=1.
    let (status, answer) = command("reset-seq-num-local", "").await;
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["next_sender_seq_num"], 1);
    assert_eq!(answer["next_target_seq_num"], 1);
    let peer = Counterparty::log_on_at(&rig, 1).await;
    assert!(peer.logon_reply.contains("|34=1|"), "{}", peer.logon_reply);

    // Unknown commands and sessions, and bad bodies.
    assert_eq!(command("explode", "").await.0, 404);
    assert_eq!(command("seq-nums", "{}").await.0, 400);
    assert_eq!(command("seq-nums", r#"{"sender": 0}"#).await.0, 400);
    let (status, _) = http(
        rig.admin,
        "POST",
        "/api/sessions/NOPE-%3EX/disconnect",
        Some(TOKEN),
        "",
    )
    .await;
    assert_eq!(status, 404);
    drop(peer);
    tokio::time::timeout(Duration::from_secs(10), rig.engine.shutdown())
        .await
        .unwrap();
}

/// `AdminToken` kept in a file is read when the listener starts; one that names an unset
/// variable stops it from starting, and the error names the variable, not a token.
#[tokio::test]
async fn a_token_kept_in_a_file_is_read_and_an_unset_variable_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("admin-token");
    std::fs::write(&path, "from-a-file\n").unwrap();
    let ids = [SessionId::new("ISLD", "CLIENT")];
    let file = Secret::File(path.display().to_string());
    let rig = Rig::start_with_token(&ids, file).await.unwrap();
    let path = "/api/sessions/ISLD-%3ECLIENT/seq-nums";
    let body = r#"{"target": 9}"#;
    let (status, answer) = http(rig.admin, "POST", path, Some("from-a-file"), body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        http(rig.admin, "POST", path, Some(TOKEN), body).await.0,
        401
    );

    let unset = Secret::Env("FIXGATE_ADMIN_TOKEN_NEVER_SET".into());
    let error = Rig::start_with_token(&ids, unset)
        .await
        .err()
        .expect("refused");
    let text = error.to_string();
    assert!(text.contains("FIXGATE_ADMIN_TOKEN_NEVER_SET"), "{text}");
}

/// Many readers at once, with no token, neither fail nor keep an operator's command out: reads
/// share snapshots, and commands do not wait behind them.
#[tokio::test]
async fn many_readers_at_once_are_served_and_do_not_lock_commands_out() {
    let rig = Rig::start().await;
    let _peer = Counterparty::log_on(&rig).await;
    let reads: Vec<_> = (0..20)
        .map(|i| {
            let path = if i % 2 == 0 {
                "/metrics"
            } else {
                "/api/sessions"
            };
            tokio::spawn(http(rig.admin, "GET", path, None, ""))
        })
        .collect();
    let command = http(
        rig.admin,
        "POST",
        "/api/sessions/ISLD-%3ECLIENT/seq-nums",
        Some(TOKEN),
        r#"{"sender": 40}"#,
    );
    let (status, answer) = command.await;
    assert_eq!(status, 200, "{answer}");
    for read in reads {
        let (status, body) = read.await.unwrap();
        assert_eq!(status, 200, "{body}");
    }
    // A read that began after the command sees it.
    let (_, text) = http(rig.admin, "GET", "/metrics", None, "").await;
    let next = sample(
        &text,
        "fixgate_session_next_sender_seq_num",
        &[("session", "ISLD->CLIENT")],
    );
    assert_eq!(next, Some(40.0));
}
