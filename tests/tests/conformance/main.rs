//! The QuickFIX acceptance suite against our acceptor: `tests/conformance/at.properties` with the
//! `fixgate` binary's echo application, on 127.0.0.1 and an ephemeral port. Every normal-run
//! folder of `../shared/conformance/quickfix` runs in parallel against the tokio adapter; a FIX
//! 4.4 and a FIXT folder run against the async-io adapter too.
//!
//! `tests/conformance/expected-failures.txt` is a ratchet: a script that fails must be listed
//! there with its reason, and a listed script that passes fails the test too, so that the list
//! only shrinks. Without `../shared` a developer's run skips; under `CI=true` that is a failure.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use fixgate::apps::{App, Responder};
use fixgate_core::properties::Properties;
use fixgate_core::{EngineConfig, MemoryStore, SessionConfig, SessionId, UtcTimestamp};
use fixgate_tests::conformance::compare::FieldFormats;
use fixgate_tests::conformance::report as conformance_report;
use fixgate_tests::conformance::runner::{
    Outcome, RunnerConfig, ScriptResult, report, run_folders,
};
use fixgate_tests::conformance::{NORMAL_RUN, at_sessions, suite_dir};
use fixgate_tokio::{FixEngine, TlsConfig};

/// The suite's folder, or `None` (after saying why) when a developer's run may skip.
fn suite() -> Option<PathBuf> {
    let dir = suite_dir();
    if dir.join("definitions/fields.fmt").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "the QuickFIX acceptance suite is missing under CI=true: {} (set FIXGATE_SHARED)",
        dir.display()
    );
    eprintln!(
        "skipping: the QuickFIX acceptance suite is not at {} (set FIXGATE_SHARED)",
        dir.display()
    );
    None
}

fn repo_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

/// `folder/script: reason` lines; `#` comments and blank lines skipped.
fn expected_failures() -> BTreeMap<String, String> {
    let path = repo_file("conformance/expected-failures.txt");
    let text = std::fs::read_to_string(&path).expect("the ratchet file");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, reason) = l.split_once(':').unwrap_or((l, ""));
            (name.trim().to_owned(), reason.trim().to_owned())
        })
        .collect()
}

/// The AT acceptor's engine settings, its sessions (dictionaries loaded), and the `fixgate`
/// binary's own echo application.
fn at_acceptor() -> (EngineConfig, Vec<(SessionId, SessionConfig)>, Responder) {
    let path = repo_file("conformance/at.properties");
    let text = std::fs::read_to_string(&path).expect("at.properties");
    let properties = Properties::parse(&text, "at.properties").expect("valid properties");
    let config = properties.engine_config().expect("engine settings");
    let sessions = at_sessions();
    let dictionaries = sessions
        .iter()
        .filter_map(|(id, c)| Some((id.clone(), Arc::clone(c.dictionary.as_ref()?))))
        .collect();
    let echo = Responder::new(App::Echo, false, None).with_dictionaries(dictionaries, None);
    (config, sessions, echo)
}

fn memory_store() -> Box<MemoryStore> {
    Box::new(MemoryStore::new(UtcTimestamp::from_system_time(
        SystemTime::now(),
    )))
}

/// Starts the AT acceptor on the tokio adapter, on an ephemeral loopback port.
async fn start_on_tokio() -> (FixEngine, SocketAddr) {
    let (config, sessions, echo) = at_acceptor();
    let engine = FixEngine::start_with_app(config, Some(loopback()), TlsConfig::default(), echo)
        .await
        .expect("listening");
    for (id, session_config) in sessions {
        let session = engine
            .create_session(id, session_config, memory_store())
            .await
            .expect("session created");
        session.connect().await.expect("registered");
        // The handle is dropped, not finalized: the session stays registered for the run.
    }
    let addr = engine.local_addr().expect("bound");
    (engine, addr)
}

/// Starts the AT acceptor on the async-io adapter, on a smol executor of its own thread, which
/// serves it until the test process ends.
fn start_on_async_io() -> SocketAddr {
    let (config, sessions, echo) = at_acceptor();
    let executor = Arc::new(smol::Executor::new());
    let spawner: fixgate_async_std::Spawner = {
        let executor = executor.clone();
        Arc::new(move |task| executor.spawn(task).detach())
    };
    let (bound, addr) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        smol::block_on(executor.run(async move {
            let engine = fixgate_async_std::FixEngine::start_with_app(
                config,
                Some(loopback()),
                spawner,
                TlsConfig::default(),
                echo,
            )
            .await
            .expect("listening");
            for (id, session_config) in sessions {
                let session = engine
                    .create_session(id, session_config, memory_store())
                    .await
                    .expect("session created");
                session.connect().await.expect("registered");
            }
            bound.send(engine.local_addr().expect("bound")).unwrap();
            futures_lite::future::pending::<()>().await;
        }));
    });
    addr.recv().expect("the acceptor started")
}

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Runs `folders` against `addr` and checks the outcome against the ratchet: every failure
/// listed, every listed script of these folders failing.
fn run_and_check(suite: &Path, addr: SocketAddr, folders: &[&str]) -> Vec<ScriptResult> {
    let formats = std::fs::read_to_string(suite.join("definitions/fields.fmt")).unwrap();
    let config = RunnerConfig {
        addr,
        expect_timeout: Duration::from_secs(10),
        formats: FieldFormats::parse(&formats).unwrap(),
    };
    let dirs: Vec<PathBuf> = folders
        .iter()
        .map(|f| suite.join("definitions/server").join(f))
        .collect();
    let results = run_folders(&config, &dirs);
    report(&results);

    let mut expected = expected_failures();
    expected.retain(|name, _| folders.iter().any(|f| name.starts_with(&format!("{f}/"))));
    let mut unexpected_failures = Vec::new();
    let mut unexpected_passes = Vec::new();
    for result in &results {
        let listed = expected.remove(&result.name).is_some();
        match (&result.outcome, listed) {
            (Outcome::Fail(_), false) => unexpected_failures.push(result.line()),
            (Outcome::Pass, true) => unexpected_passes.push(result.name.clone()),
            _ => {}
        }
    }
    assert!(
        unexpected_failures.is_empty() && unexpected_passes.is_empty() && expected.is_empty(),
        "scripts failing that expected-failures.txt does not list:\n{}\n\
         listed scripts that now pass (remove them from the list):\n{}\n\
         listed scripts that were not run:\n{}",
        unexpected_failures.join("\n"),
        unexpected_passes.join("\n"),
        expected.keys().cloned().collect::<Vec<_>>().join("\n"),
    );
    results
}

/// Every normal-run folder, in parallel, against the acceptor on tokio.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickfix_acceptance_suite() {
    let Some(suite) = suite() else { return };
    let (_engine, addr) = start_on_tokio().await;
    let results = tokio::task::spawn_blocking(move || run_and_check(&suite, addr, NORMAL_RUN))
        .await
        .unwrap();
    check_report(&results);
}

/// `docs/conformance.md` is what this run reports (written again with `FIXGATE_WRITE_REPORT=1`).
fn check_report(results: &[ScriptResult]) {
    let (file, tests) = conformance_report::paths();
    let own = conformance_report::own_tests(&tests).expect("our tests");
    let text = conformance_report::render(results, &own);
    if std::env::var_os("FIXGATE_WRITE_REPORT").is_some() {
        std::fs::write(&file, &text).expect("the report written");
    }
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        committed == text,
        "{} is stale: run FIXGATE_WRITE_REPORT=1 cargo test -p fixgate-tests --test conformance",
        file.display()
    );
}

/// A FIX 4.4 and a FIXT folder against the same acceptor on the async-io adapter (smol).
#[test]
fn quickfix_folders_on_async_io() {
    let Some(suite) = suite() else { return };
    let addr = start_on_async_io();
    let results = run_and_check(&suite, addr, &["fix44", "fix50sp2"]);
    assert_eq!(results.len(), 119, "both folders ran");
}
