//! What a worker does on its connection: open a session's store, commit a batch, let a session
//! go. Each runs in one transaction, and every write checks the session's fencing token in it.

use std::time::Duration;

use bytes::Bytes;
use fixgate_core::{SeqNum, UtcTimestamp};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Statement};

use crate::PgError;
use crate::batch::{Batch, db};
use crate::service::Conn;

/// A commit in one statement, so in one round trip with an implicit transaction: the numbers
/// and the answered inbound numbers are updated only if the token still holds (which takes the
/// row's lock), and the messages inserted only for a session that update found. It returns how
/// many sessions it updated: none means another instance claimed the session.
pub(crate) const COMMIT: &str = "
    WITH owned AS (
        UPDATE fixgate_sessions SET next_sender = $3, next_target = $4, answered = $5
        WHERE session = $1 AND token = $2
        RETURNING session
    ), stored AS (
        INSERT INTO fixgate_messages (session, seq, answers, frame)
        SELECT owned.session, m.seq, m.answers, m.frame
        FROM owned, unnest($6::int8[], $7::int8[], $8::bytea[]) AS m(seq, answers, frame)
    )
    SELECT count(*) FROM owned";

/// A job for a worker.
#[derive(Debug)]
pub(crate) enum Work {
    /// Claims a session (creating its row if needed) and loads what a store needs.
    Open {
        session: String,
        instance: String,
        lease: Duration,
        now: UtcTimestamp,
        /// How many of the last messages to load.
        tail: i64,
        /// Whether this instance prefers the session; if not, it claims the session only
        /// while no live instance prefers it.
        preferred: bool,
    },
    /// Writes a batch if the token still holds; with `create`, first creates the session
    /// (which must be new) and claims it.
    Commit {
        session: String,
        token: i64,
        batch: Batch,
        create: Option<Create>,
    },
    /// Gives a session up, so that another instance may claim it at once.
    Release { session: String, token: i64 },
    /// Lists the sessions `instance` owns that a live other instance prefers.
    WantedElsewhere { instance: String },
    /// Lists which of `sessions` `instance` could claim now (each with whether it prefers it).
    Claimable {
        instance: String,
        sessions: Vec<String>,
        preferred: Vec<bool>,
    },
}

/// The claim of a session that the database must not know yet.
#[derive(Debug)]
pub(crate) struct Create {
    pub(crate) instance: String,
    pub(crate) created: UtcTimestamp,
    pub(crate) lease: Duration,
}

/// A worker's outcome.
#[derive(Debug)]
pub(crate) enum Done {
    Opened(Loaded),
    /// The token the batch was written with.
    Committed(i64),
    Released,
    Sessions(Vec<String>),
}

/// A session's state as a new owner finds it.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) token: i64,
    pub(crate) created: UtcTimestamp,
    pub(crate) next_sender: SeqNum,
    pub(crate) next_target: SeqNum,
    /// The last messages, oldest first.
    pub(crate) tail: Vec<(SeqNum, Option<SeqNum>, Bytes)>,
    /// Inbound numbers at or above `next_target` that stored replies answer, in order.
    pub(crate) answered: Vec<SeqNum>,
    /// The highest number stored.
    pub(crate) highest: Option<SeqNum>,
}

impl Work {
    /// Does the work in one transaction on `conn`.
    pub(crate) async fn run(&self, conn: &mut Conn) -> Result<Done, PgError> {
        match self {
            Self::Open {
                session,
                instance,
                lease,
                now,
                tail,
                preferred,
            } => open(
                &mut conn.client,
                session,
                instance,
                *lease,
                *now,
                *tail,
                *preferred,
            )
            .await
            .map(Done::Opened),
            Self::Commit {
                session,
                token,
                batch,
                create,
            } if batch.reset.is_none() && !batch.rewrites && create.is_none() => {
                match commit(&conn.client, &conn.commit, session, *token, batch).await {
                    // Tried again after an answer was lost on a broken connection: the batch
                    // landed the first time, and is written again.
                    Err(PgError::Db(e)) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                        let again = batch.written_again();
                        commit_changing(&mut conn.client, session, *token, &again, None)
                            .await
                            .map(Done::Committed)
                    }
                    outcome => outcome.map(|()| Done::Committed(*token)),
                }
            }
            Self::Commit {
                session,
                token,
                batch,
                create,
            } => commit_changing(&mut conn.client, session, *token, batch, create.as_ref())
                .await
                .map(Done::Committed),
            Self::Release { session, token } => {
                conn.client
                    .execute(
                        "UPDATE fixgate_sessions SET owner = NULL, lease_until = NULL
                         WHERE session = $1 AND token = $2",
                        &[session, token],
                    )
                    .await?;
                Ok(Done::Released)
            }
            Self::Claimable {
                instance,
                sessions,
                preferred,
            } => {
                let rows = conn
                    .client
                    .query(
                        "SELECT c.session
                         FROM unnest($2::text[], $3::bool[]) AS c(session, preferred)
                         LEFT JOIN fixgate_sessions AS s ON s.session = c.session
                         WHERE (s.session IS NULL OR s.owner IS NULL OR s.owner = $1
                                OR s.lease_until < clock_timestamp())
                           AND (c.preferred OR NOT EXISTS (
                               SELECT 1 FROM fixgate_instances AS i
                               WHERE i.name <> $1 AND i.lease_until > clock_timestamp()
                                 AND (i.prefers IS NULL OR c.session = ANY(i.prefers))))",
                        &[instance, sessions, preferred],
                    )
                    .await?;
                Ok(Done::Sessions(
                    rows.into_iter().map(|row| row.get(0)).collect(),
                ))
            }
            Self::WantedElsewhere { instance } => {
                let rows = conn
                    .client
                    .query(
                        "SELECT s.session FROM fixgate_sessions AS s
                         WHERE s.owner = $1 AND EXISTS (
                             SELECT 1 FROM fixgate_instances AS i
                             WHERE i.name <> $1 AND i.lease_until > clock_timestamp()
                               AND (i.prefers IS NULL OR s.session = ANY(i.prefers)))",
                        &[instance],
                    )
                    .await?;
                Ok(Done::Sessions(
                    rows.into_iter().map(|row| row.get(0)).collect(),
                ))
            }
        }
    }
}

/// Microseconds since the Unix epoch, as the tables keep times.
fn micros(time: UtcTimestamp) -> i64 {
    time.unix_secs() * 1_000_000 + i64::from(time.subsec_nanos() / 1_000)
}

fn from_micros(micros: i64) -> UtcTimestamp {
    let nanos = (micros.rem_euclid(1_000_000) * 1_000) as u32;
    UtcTimestamp::from_unix(micros.div_euclid(1_000_000), nanos)
        .unwrap_or_else(|| UtcTimestamp::from_system_time(std::time::UNIX_EPOCH))
}

fn seq(n: i64) -> SeqNum {
    SeqNum::new(n.max(1) as u64)
}

async fn open(
    client: &mut Client,
    session: &str,
    instance: &str,
    lease: Duration,
    now: UtcTimestamp,
    tail: i64,
    preferred: bool,
) -> Result<Loaded, PgError> {
    let tx = client.transaction().await?;
    tx.execute(
        "INSERT INTO fixgate_sessions (session, created, next_sender, next_target)
         VALUES ($1, timestamptz 'epoch' + $2::bigint * interval '1 microsecond', 1, 1)
         ON CONFLICT (session) DO NOTHING",
        &[&session, &micros(now)],
    )
    .await?;
    let lease_ms = lease.as_millis() as i64;
    let claimed = tx
        .query_opt(
            "UPDATE fixgate_sessions
             SET owner = $2, token = token + 1,
                 lease_until = clock_timestamp() + $3::bigint * interval '1 millisecond'
             WHERE session = $1
               AND (owner IS NULL OR owner = $2 OR lease_until < clock_timestamp())
               AND ($4 OR NOT EXISTS (
                   SELECT 1 FROM fixgate_instances AS i
                   WHERE i.name <> $2 AND i.lease_until > clock_timestamp()
                     AND (i.prefers IS NULL OR $1 = ANY(i.prefers))))
             RETURNING token, (extract(epoch FROM created) * 1000000)::bigint,
                       next_sender, next_target, answered,
                       (SELECT max(seq) FROM fixgate_messages WHERE session = $1)",
            &[&session, &instance, &lease_ms, &preferred],
        )
        .await?;
    let Some(row) = claimed else {
        let owner: Option<String> = tx
            .query_one(
                "SELECT owner FROM fixgate_sessions WHERE session = $1",
                &[&session],
            )
            .await?
            .get(0);
        return Err(match owner {
            Some(owner) => PgError::OwnedElsewhere {
                session: session.to_owned(),
                owner,
            },
            None => PgError::Standby(session.to_owned()),
        });
    };
    let mut messages: Vec<_> = tx
        .query(
            "SELECT seq, answers, frame FROM fixgate_messages
             WHERE session = $1 ORDER BY seq DESC LIMIT $2",
            &[&session, &tail],
        )
        .await?
        .into_iter()
        .map(|row| {
            let answers: Option<i64> = row.get(1);
            let frame: Vec<u8> = row.get(2);
            (seq(row.get(0)), answers.map(seq), Bytes::from(frame))
        })
        .collect();
    messages.reverse();
    tx.commit().await?;
    let answered: Vec<i64> = row.get(4);
    let highest: Option<i64> = row.get(5);
    Ok(Loaded {
        token: row.get(0),
        created: from_micros(row.get(1)),
        next_sender: seq(row.get(2)),
        next_target: seq(row.get(3)),
        tail: messages,
        answered: answered.into_iter().map(seq).collect(),
        highest: highest.map(seq),
    })
}

/// A batch with messages and numbers only, in one statement ([`COMMIT`]).
async fn commit(
    client: &Client,
    statement: &Statement,
    session: &str,
    token: i64,
    batch: &Batch,
) -> Result<(), PgError> {
    let (next_sender, next_target) = batch.numbers;
    let (seqs, answers, frames) = batch.columns();
    let row = client
        .query_one(
            statement,
            &[
                &session,
                &token,
                &db(next_sender),
                &db(next_target),
                &batch.answered_column(),
                &seqs,
                &answers,
                &frames,
            ],
        )
        .await?;
    match row.get::<_, i64>(0) {
        0 => Err(PgError::Fenced),
        _ => Ok(()),
    }
}

/// A batch that resets the sequence, writes numbers again, or creates the session, in a
/// transaction of a few statements (rare: a sequence reset, a number moved back, a batch
/// written again after its commit failed, the first commit of a session made for an
/// unregistered Logon).
async fn commit_changing(
    client: &mut Client,
    session: &str,
    mut token: i64,
    batch: &Batch,
    create: Option<&Create>,
) -> Result<i64, PgError> {
    let tx = client.transaction().await?;
    if let Some(create) = create {
        let lease_ms = create.lease.as_millis() as i64;
        let row = tx
            .query_opt(
                "INSERT INTO fixgate_sessions
                     (session, created, next_sender, next_target, owner, token, lease_until)
                 VALUES ($1, timestamptz 'epoch' + $2::bigint * interval '1 microsecond', 1, 1,
                         $3, 1, clock_timestamp() + $4::bigint * interval '1 millisecond')
                 ON CONFLICT (session) DO NOTHING
                 RETURNING token",
                &[
                    &session,
                    &micros(create.created),
                    &create.instance,
                    &lease_ms,
                ],
            )
            .await?;
        token = match row {
            Some(row) => row.get(0),
            None => return Err(PgError::Known(session.to_owned())),
        };
    }
    let created = batch.reset.map(micros);
    let (next_sender, next_target) = batch.numbers;
    // First: the row lock, and the token's check. A claim by another instance either waits
    // for this transaction or has already moved the token, and then nothing is written.
    let owned = tx
        .execute(
            "UPDATE fixgate_sessions
             SET next_sender = $3, next_target = $4, answered = $6,
                 created = COALESCE(timestamptz 'epoch' + $5::bigint * interval '1 microsecond', created)
             WHERE session = $1 AND token = $2",
            &[
                &session,
                &token,
                &db(next_sender),
                &db(next_target),
                &created,
                &batch.answered_column(),
            ],
        )
        .await?;
    if owned == 0 {
        return Err(PgError::Fenced);
    }
    let (seqs, answers, frames) = batch.columns();
    if batch.reset.is_some() {
        tx.execute(
            "DELETE FROM fixgate_messages WHERE session = $1",
            &[&session],
        )
        .await?;
    } else if batch.rewrites {
        tx.execute(
            "DELETE FROM fixgate_messages WHERE session = $1 AND seq = ANY($2)",
            &[&session, &seqs],
        )
        .await?;
    }
    tx.execute(
        "INSERT INTO fixgate_messages (session, seq, answers, frame)
         SELECT $1, * FROM unnest($2::int8[], $3::int8[], $4::bytea[])",
        &[&session, &seqs, &answers, &frames],
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}
