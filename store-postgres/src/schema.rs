//! The tables, created and migrated by the store itself.
//!
//! - `fixgate_schema`: the schema's version (one row).
//! - `fixgate_sessions`: one row per session. Its numbers, the inbound numbers at or above the
//!   next target that stored replies answer (`answered`: settled out of order, so not delivered
//!   again), when its current sequence began, and who owns it: `owner` (an instance's name),
//!   `token` (the fencing token, one more at every claim) and `lease_until` (by the database's
//!   clock). Every write a store makes checks the token in its own transaction.
//! - `fixgate_messages`: the session's outbound messages, each with the inbound MsgSeqNum it
//!   answers (`answers`, DESIGN.md section 4), so that a new owner knows what was processed.
//! - `fixgate_instances`: the instances alive (`lease_until`, renewed with their sessions'
//!   leases) and the sessions each prefers (`prefers`, the sessions' ids; NULL: every one). An
//!   instance stands by for a session that a live instance prefers and it does not.

use tokio_postgres::Client;

/// The migrations, in order: the schema is at version `i + 1` once `MIGRATIONS[i]` has run.
const MIGRATIONS: &[&str] = &[
    // Version 1.
    "CREATE TABLE fixgate_sessions (
        session     text        PRIMARY KEY,
        created     timestamptz NOT NULL,
        next_sender bigint      NOT NULL,
        next_target bigint      NOT NULL,
        answered    bigint[]    NOT NULL DEFAULT '{}',
        owner       text,
        token       bigint      NOT NULL DEFAULT 0,
        lease_until timestamptz
    );
    CREATE TABLE fixgate_messages (
        session text   NOT NULL REFERENCES fixgate_sessions ON DELETE CASCADE,
        seq     bigint NOT NULL,
        answers bigint,
        frame   bytea  NOT NULL,
        PRIMARY KEY (session, seq)
    );
    CREATE TABLE fixgate_instances (
        name        text        PRIMARY KEY,
        prefers     text[],
        lease_until timestamptz NOT NULL
    );",
];

/// The version this build writes.
pub(crate) const VERSION: i32 = MIGRATIONS.len() as i32;

/// Any number, the same in every instance: migrations run one instance at a time.
const MIGRATION_LOCK: i64 = 0x6669_7867_6174_6531;

/// Brings the database's schema to [`VERSION`], in one transaction. A database written by a
/// newer build is refused rather than written in a format it does not know.
pub(crate) async fn migrate(client: &mut Client) -> Result<(), crate::PgError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS fixgate_schema (version integer NOT NULL)")
        .await?;
    let found: i32 = match tx
        .query_opt("SELECT version FROM fixgate_schema", &[])
        .await?
    {
        Some(row) => row.get(0),
        None => {
            tx.execute("INSERT INTO fixgate_schema VALUES (0)", &[])
                .await?;
            0
        }
    };
    if found > VERSION {
        return Err(crate::PgError::NewerSchema {
            found,
            known: VERSION,
        });
    }
    for migration in &MIGRATIONS[found as usize..] {
        tx.batch_execute(migration).await?;
    }
    tx.execute("UPDATE fixgate_schema SET version = $1", &[&VERSION])
        .await?;
    tx.commit().await?;
    Ok(())
}
