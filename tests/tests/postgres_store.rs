//! The PostgreSQL store's own rules: session ownership (a lease with a fencing token), the
//! schema's version, the server's durability, and the bounded tail kept for resends. The store
//! contract it shares with the file store is in `store_contract.rs`.

use std::time::{Duration, Instant};

use fixgate_core::{MessageStore, SeqNum, SessionId, StoreError, UtcTimestamp};
use fixgate_postgres::{PgError, Postgres, PostgresSettings};
use fixgate_tests::postgres::{execute, fresh_database, wait_until};

fn session() -> SessionId {
    SessionId::new("FIXGATE", "CLIENT")
}

fn now() -> UtcTimestamp {
    UtcTimestamp::from_unix(1_795_694_400, 0).unwrap()
}

fn instance(url: &str, name: &str) -> Postgres {
    Postgres::connect(PostgresSettings::new(url, name)).unwrap()
}

fn s(n: u64) -> SeqNum {
    SeqNum::new(n)
}

#[test]
fn a_session_has_one_owner_and_is_free_again_when_its_store_is_dropped() {
    let Some(url) = fresh_database() else { return };
    let (a, b) = (instance(&url, "a"), instance(&url, "b"));
    let store = a.open(&session(), now()).unwrap();
    match b.open(&session(), now()) {
        Err(PgError::OwnedElsewhere { owner, .. }) => assert_eq!(owner, "a"),
        other => panic!("b opened a session that a owns: {other:?}"),
    }
    drop(store);
    // The release is sent without waiting: b gets the session once it has landed.
    assert!(wait_until(Duration::from_secs(5), || b
        .open(&session(), now())
        .is_ok()));
}

#[test]
fn a_claim_by_another_instance_fences_every_later_write_of_the_old_owner() {
    let Some(url) = fresh_database() else { return };
    let a = instance(&url, "a");
    let mut store = a.open(&session(), now()).unwrap();
    store.append(s(1), b"one", None).unwrap();
    store.sync_handle().unwrap().sync().unwrap();
    store.append(s(2), b"two", None).unwrap();
    // Another instance claims the session, as a takeover does.
    assert_eq!(
        execute(
            &url,
            "UPDATE fixgate_sessions SET owner = 'b', token = token + 1"
        ),
        1
    );
    assert_eq!(store.sync_handle().unwrap().sync(), Err(StoreError::Fenced));
    assert!(store.lease().is_lost());
    assert_eq!(store.append(s(3), b"three", None), Err(StoreError::Fenced));
    assert_eq!(
        execute(&url, "SELECT 1 FROM fixgate_messages"),
        1,
        "only the message committed before the claim is stored"
    );
}

#[test]
fn the_keeper_notices_a_takeover_without_any_write() {
    let Some(url) = fresh_database() else { return };
    let mut settings = PostgresSettings::new(&url, "a");
    settings.failover_timeout = Duration::from_millis(400);
    let a = Postgres::connect(settings).unwrap();
    let store = a.open(&session(), now()).unwrap();
    let lease = store.lease().clone();
    assert!(lease.holds(Instant::now()));
    execute(
        &url,
        "UPDATE fixgate_sessions SET owner = 'b', token = token + 1",
    );
    assert!(wait_until(Duration::from_secs(5), || lease.is_lost()));
    assert!(!lease.holds(Instant::now()));
}

#[test]
fn a_lapsed_lease_can_be_claimed_and_a_live_one_cannot() {
    let Some(url) = fresh_database() else { return };
    let a = instance(&url, "a");
    let store = a.open(&session(), now()).unwrap();
    let b = instance(&url, "b");
    assert!(matches!(
        b.open(&session(), now()),
        Err(PgError::OwnedElsewhere { .. })
    ));
    // The owner stopped renewing long ago (its lease lapsed by the database's clock).
    execute(
        &url,
        "UPDATE fixgate_sessions SET owner = 'gone', token = token + 1,
                lease_until = now() - interval '1 second'",
    );
    drop(store);
    let taken = b.open(&session(), now()).unwrap();
    assert!(taken.lease().holds(Instant::now()));
}

#[test]
fn only_the_last_messages_are_kept_for_resends() {
    let Some(url) = fresh_database() else { return };
    let mut settings = PostgresSettings::new(&url, "a");
    settings.resend_cache = 2;
    let a = Postgres::connect(settings).unwrap();
    let mut store = a.open(&session(), now()).unwrap();
    for n in 1..=5 {
        store
            .append(s(n), format!("m{n}").as_bytes(), None)
            .unwrap();
    }
    store.sync_handle().unwrap().sync().unwrap();
    let read = |store: &fixgate_postgres::PgStore| {
        let mut seqs = Vec::new();
        store
            .read_range(s(1), s(10), &mut |seq, _| seqs.push(seq.get()))
            .unwrap();
        seqs
    };
    assert_eq!(read(&store), [4, 5]);
    drop(store);
    let store = a.open(&session(), now()).unwrap();
    assert_eq!(read(&store), [4, 5]);
    assert_eq!(store.next_sender_seq(), s(6));
    assert_eq!(execute(&url, "SELECT 1 FROM fixgate_messages"), 5);
}

#[test]
fn a_schema_from_a_newer_fixgate_is_refused() {
    let Some(url) = fresh_database() else { return };
    drop(instance(&url, "a"));
    execute(&url, "UPDATE fixgate_schema SET version = 99");
    match Postgres::connect(PostgresSettings::new(&url, "a")) {
        Err(PgError::NewerSchema { found: 99, .. }) => {}
        other => panic!("a newer schema was not refused: {other:?}"),
    }
}

#[test]
fn settings_out_of_range_and_an_unreachable_server_are_errors() {
    let mut settings = PostgresSettings::new("postgresql://fixgate@127.0.0.1:1/none", "a");
    settings.pool_size = 9;
    assert!(matches!(
        Postgres::connect(settings.clone()),
        Err(PgError::Settings(_))
    ));
    settings.pool_size = 2;
    assert!(matches!(Postgres::connect(settings), Err(PgError::Db(_))));
}

#[test]
fn a_session_the_database_knows_is_never_created_for_an_unregistered_logon() {
    let Some(url) = fresh_database() else { return };
    let a = instance(&url, "a");
    drop(a.open(&session(), now()).unwrap());
    // Known (even though nobody owns it now): the first commit refuses, nothing is written.
    let mut known = a.create(&session(), now());
    known.append(s(1), b"logon", None).unwrap();
    assert_eq!(known.sync_handle().unwrap().sync(), Err(StoreError::Fenced));
    assert!(known.lease().is_lost());
    assert_eq!(execute(&url, "SELECT 1 FROM fixgate_messages"), 0);
    // New: created and claimed by its first commit.
    let other = SessionId::new("FIXGATE", "NEWCOMER");
    let mut new = a.create(&other, now());
    new.append(s(1), b"logon", None).unwrap();
    new.sync_handle().unwrap().sync().unwrap();
    assert!(new.lease().holds(Instant::now()));
    assert_eq!(
        execute(
            &url,
            "SELECT 1 FROM fixgate_sessions WHERE session = 'FIXGATE->NEWCOMER' \
             AND owner = 'a' AND next_sender = 2"
        ),
        1
    );
}

#[test]
fn a_standby_claims_a_session_only_while_no_live_instance_prefers_it() {
    let Some(url) = fresh_database() else { return };
    let id = session().to_string();
    let with = |name: &str, prefers: Vec<String>| {
        let mut settings = PostgresSettings::new(&url, name);
        settings.failover_timeout = Duration::from_millis(400);
        settings.prefers = Some(prefers);
        Postgres::connect(settings).unwrap()
    };
    let a = with("a", vec![id.clone()]);
    let b = with("b", vec![]);
    assert!(wait_until(Duration::from_secs(5), || execute(
        &url,
        "SELECT 1 FROM fixgate_instances"
    ) == 2));
    // Free, but a prefers it: b stands by, and a claims it. A session nobody prefers is b's
    // to claim.
    let unknown = SessionId::new("FIXGATE", "UNKNOWN");
    assert_eq!(
        b.claimable(&[session(), unknown.clone()]).unwrap(),
        [unknown.to_string()]
    );
    assert_eq!(
        a.claimable(&[session()]).unwrap(),
        std::slice::from_ref(&id)
    );
    assert!(matches!(
        b.open(&session(), now()),
        Err(PgError::Standby(_))
    ));
    let held = a.open(&session(), now()).unwrap();
    drop(held);
    assert!(matches!(
        b.open(&session(), now()),
        Err(PgError::Standby(_))
    ));
    // a stops: once its own lease lapses, b takes the session.
    drop(a);
    let mut taken = None;
    wait_until(Duration::from_secs(5), || {
        taken = b.open(&session(), now()).ok();
        taken.is_some()
    });
    assert!(
        taken.is_some(),
        "b never claimed the session a stopped preferring"
    );
    assert_eq!(
        b.claimable(&[session()]).unwrap(),
        std::slice::from_ref(&id),
        "b's own"
    );
    // a comes back: b is told to give the session back when it is not logged on.
    let _a = with("a", vec![id.clone()]);
    assert!(wait_until(Duration::from_secs(5), || b
        .wanted_elsewhere()
        .unwrap()
        == [id.clone()]));
}

#[test]
fn a_commit_that_landed_though_its_answer_was_lost_is_written_again() {
    let Some(url) = fresh_database() else { return };
    let a = instance(&url, "a");
    let mut store = a.open(&session(), now()).unwrap();
    store.append(s(1), b"one", None).unwrap();
    store.sync_handle().unwrap().sync().unwrap();
    // Message 2 is in the database already, as after a commit whose answer never came back.
    execute(
        &url,
        "INSERT INTO fixgate_messages SELECT session, 2, NULL, 'two'::bytea FROM fixgate_sessions",
    );
    store.append(s(2), b"two", None).unwrap();
    store.append(s(3), b"three", None).unwrap();
    store.sync_handle().unwrap().sync().unwrap();
    assert_eq!(execute(&url, "SELECT 1 FROM fixgate_messages"), 3);
    drop(store);
    let store = a.open(&session(), now()).unwrap();
    assert_eq!(store.next_sender_seq(), s(4));
}
