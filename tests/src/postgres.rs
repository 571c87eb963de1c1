//! The test cluster: a fresh database on the PostgreSQL server that `./test.sh` starts
//! (`scripts/postgres.sh`, its URL in `FIXGATE_POSTGRES_URL`).

use std::sync::atomic::{AtomicU32, Ordering};

/// The URL of a new, empty database on the test server, or `None` (after saying why) on a
/// developer's machine without one. Under `CI=true` a missing server fails the test.
pub fn fresh_database() -> Option<String> {
    let Ok(url) = std::env::var("FIXGATE_POSTGRES_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "no PostgreSQL under CI=true: ./test.sh starts one (scripts/postgres.sh) and sets \
             FIXGATE_POSTGRES_URL"
        );
        eprintln!("FIXGATE_POSTGRES_URL is not set: this test needs PostgreSQL (./test.sh)");
        return None;
    };
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "fixgate_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let (setup, create) = (url.clone(), format!("CREATE DATABASE {name}"));
    on_a_thread_of_its_own(async move {
        connect(&setup)
            .await
            .batch_execute(&create)
            .await
            .expect("CREATE DATABASE");
    });
    let (base, _) = url.rsplit_once('/').expect("a URL that names a database");
    Some(format!("{base}/{name}"))
}

/// Runs one SQL statement on the database at `url` (a test's view behind the store's back).
pub fn execute(url: &str, sql: &str) -> u64 {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    on_a_thread_of_its_own(async move { connect(&url).await.execute(&sql, &[]).await.expect(&sql) })
}

/// The first column of the first row `sql` returns on the database at `url`, as text.
pub fn query_text(url: &str, sql: &str) -> Option<String> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    on_a_thread_of_its_own(async move {
        let row = connect(&url)
            .await
            .query_opt(&sql, &[])
            .await
            .expect(&sql)?;
        row.get(0)
    })
}

/// A client of the database at `url`, its connection driven by the current runtime.
async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test server at {url}: {e}"));
    tokio::spawn(connection);
    client
}

/// Runs `work` to its end on a runtime of its own, on a thread of its own: the callers may be
/// inside a runtime already (an async test).
fn on_a_thread_of_its_own<T: Send + 'static>(work: impl Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(work)
    })
    .join()
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// A PostgreSQL cluster of a test's own (`scripts/postgres.sh`), for a test that restarts its
/// server; stopped when dropped.
pub struct Cluster {
    dir: std::path::PathBuf,
    /// The URL of its `postgres` database.
    pub url: String,
}

impl Cluster {
    /// A new cluster in a folder under `parent`, or `None` (after saying why) where PostgreSQL's
    /// server is not installed; under `CI=true` that fails the test.
    pub fn start(parent: &std::path::Path) -> Option<Self> {
        let dir = parent.join("postgres");
        let output = std::process::Command::new(script())
            .arg("start")
            .arg(&dir)
            .output()
            .expect("scripts/postgres.sh runs");
        if !output.status.success() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "no PostgreSQL server under CI=true: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            eprintln!("no PostgreSQL server: this test needs one (./test.sh installs it)");
            return None;
        }
        let url = String::from_utf8(output.stdout)
            .expect("a URL")
            .trim()
            .to_owned();
        Some(Self { dir, url })
    }

    /// Stops the server, and starts it again on its port `down` later: every connection drops.
    pub fn restart(&self, down: std::time::Duration) {
        let status = std::process::Command::new(script())
            .arg("restart")
            .arg(&self.dir)
            .arg(format!("{:.3}", down.as_secs_f64()))
            .status()
            .expect("scripts/postgres.sh runs");
        assert!(status.success(), "the server restarts");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new(script())
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

/// The repository's `scripts/postgres.sh`.
fn script() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/postgres.sh")
}

/// Waits until `done` holds, at most `limit`: for state that nothing signals to the test (a
/// database row, another process's API), asked again every few milliseconds. Whether it held.
pub fn wait_until(limit: std::time::Duration, mut done: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + limit;
    while std::time::Instant::now() < end {
        if done() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    done()
}
