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
        let url = setup;
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot reach the test server at {url}: {e}"));
        tokio::spawn(connection);
        client
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
    on_a_thread_of_its_own(async move {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(connection);
        client.execute(&sql, &[]).await.expect(&sql)
    })
}

/// The first column of the first row `sql` returns on the database at `url`, as text.
pub fn query_text(url: &str, sql: &str) -> Option<String> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    on_a_thread_of_its_own(async move {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(connection);
        let row = client.query_opt(&sql, &[]).await.expect(&sql)?;
        row.get(0)
    })
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
