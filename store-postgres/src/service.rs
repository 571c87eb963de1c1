//! The store's own thread: a tokio runtime that runs the connections to PostgreSQL, so that no
//! caller's executor waits on the database. Callers (the runtime's blocking pool, at a commit)
//! hand it work and block on the answer; a pool of workers, one connection each, takes the work
//! in turn, and one more connection keeps the leases.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tokio_postgres::{Client, NoTls};

use crate::PgError;
use crate::lease::Leases;
use crate::work::{Done, Work};

/// How long a worker waits before it dials the database again.
const REDIAL: Duration = Duration::from_millis(100);

/// What a worker is given: the work, by when it must be done, and where the answer goes.
struct Job {
    work: Work,
    deadline: Instant,
    reply: mpsc::SyncSender<Result<Done, PgError>>,
}

/// The handle to the store's thread. Dropping the last one ends the thread once its work is done.
#[derive(Debug)]
pub(crate) struct Service {
    jobs: async_channel::Sender<Job>,
    /// The thread's runtime, for the lease keeper.
    runtime: tokio::runtime::Handle,
    thread: Mutex<Option<thread::JoinHandle<()>>>,
}

impl Service {
    /// Starts the thread with `workers` connections to `config` (made on first use), after a
    /// first connection that checks the server's durability and migrates the schema; that one
    /// is handed back. Blocks the calling thread until then.
    pub(crate) fn start(
        config: tokio_postgres::Config,
        workers: usize,
    ) -> Result<(Self, Client), PgError> {
        let (jobs, queue) = async_channel::unbounded::<Job>();
        let (started, start) = mpsc::sync_channel(1);
        let thread = thread::Builder::new()
            .name("fixgate-postgres".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => return drop(started.send(Err(PgError::Thread(e.to_string())))),
                };
                let first = runtime.block_on(async {
                    let mut first = connect(&config).await?;
                    check_durability(&first).await?;
                    crate::schema::migrate(&mut first).await?;
                    Ok(first)
                });
                let failed = first.is_err();
                let _ = started.send(first.map(|first| (first, runtime.handle().clone())));
                if failed {
                    return;
                }
                let config = Arc::new(config);
                let mut tasks = tokio::task::JoinSet::new();
                for _ in 0..workers {
                    tasks.spawn_on(worker(Arc::clone(&config), queue.clone()), runtime.handle());
                }
                drop(queue);
                runtime.block_on(async { while tasks.join_next().await.is_some() {} });
            })
            .map_err(|e| PgError::Thread(e.to_string()))?;
        let (first, runtime) = start.recv().map_err(|_| PgError::Stopped)??;
        let service = Self {
            jobs,
            runtime,
            thread: Mutex::new(Some(thread)),
        };
        Ok((service, first))
    }

    /// Runs the lease keeper on the store's thread, on its own connection.
    pub(crate) fn keep_leases(
        &self,
        leases: Arc<Leases>,
        client: Client,
        prefers: Option<Vec<String>>,
    ) {
        self.runtime
            .spawn(crate::lease::keep(leases, client, prefers));
    }

    /// Does `work` on a worker and waits for its outcome, at most until `deadline` (the worker
    /// gives up then, and so does the caller). Blocks the calling thread.
    pub(crate) fn call(&self, work: Work, deadline: Instant) -> Result<Done, PgError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let job = Job {
            work,
            deadline,
            reply,
        };
        self.jobs.try_send(job).map_err(|_| PgError::Stopped)?;
        answer.recv().map_err(|_| PgError::Stopped)?
    }

    /// Hands `work` to a worker without waiting for its outcome.
    pub(crate) fn send(&self, work: Work, deadline: Instant) {
        let (reply, _) = mpsc::sync_channel(1);
        let _ = self.jobs.try_send(Job {
            work,
            deadline,
            reply,
        });
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.jobs.close();
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread
            && thread.thread().id() != thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

/// One connection, taking jobs until the queue closes. A connection that breaks is dialled again,
/// and its job tried again on the new one, until the job's deadline.
async fn worker(config: Arc<tokio_postgres::Config>, jobs: async_channel::Receiver<Job>) {
    let mut client: Option<Conn> = None;
    while let Ok(job) = jobs.recv().await {
        // A job that waited past its deadline is not sent at all: polled once, it would reach
        // the server even though its caller has given up on it.
        if Instant::now() >= job.deadline {
            let _ = job.reply.try_send(Err(PgError::Timeout));
            continue;
        }
        let deadline = tokio::time::Instant::from_std(job.deadline);
        let outcome = tokio::time::timeout_at(deadline, attempt(&config, &mut client, &job.work))
            .await
            .unwrap_or(Err(PgError::Timeout));
        if matches!(outcome, Err(PgError::Timeout)) {
            // The transaction's fate is unknown: the connection is not used again.
            client = None;
        }
        let _ = job.reply.try_send(outcome);
    }
}

/// Does `work`, dialling (again) as long as the connection is what failed.
async fn attempt(
    config: &tokio_postgres::Config,
    client: &mut Option<Conn>,
    work: &Work,
) -> Result<Done, PgError> {
    loop {
        let connected = match client.take() {
            Some(connected) if !connected.client.is_closed() => connected,
            _ => match Conn::open(config).await {
                Ok(connected) => connected,
                Err(error) => {
                    tracing::warn!(%error, "cannot reach PostgreSQL; trying again");
                    tokio::time::sleep(REDIAL).await;
                    continue;
                }
            },
        };
        let connected = client.insert(connected);
        match work.run(connected).await {
            Err(PgError::Db(error)) if connected.client.is_closed() => {
                tracing::warn!(%error, "the connection to PostgreSQL broke; trying again");
                *client = None;
                tokio::time::sleep(REDIAL).await;
            }
            outcome => return outcome,
        }
    }
}

/// A worker's connection, with the statement every commit runs prepared once.
pub(crate) struct Conn {
    pub(crate) client: Client,
    pub(crate) commit: tokio_postgres::Statement,
}

impl Conn {
    async fn open(config: &tokio_postgres::Config) -> Result<Self, PgError> {
        let client = connect(config).await?;
        let commit = client.prepare(crate::work::COMMIT).await?;
        Ok(Self { client, commit })
    }
}

/// A new connection, its driving half spawned on the current runtime. Commits wait for the
/// server's WAL flush whatever the server's default says.
pub(crate) async fn connect(config: &tokio_postgres::Config) -> Result<Client, PgError> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "a PostgreSQL connection ended");
        }
    });
    client
        .batch_execute("SET synchronous_commit = on; SET application_name = 'fixgate'")
        .await?;
    Ok(client)
}

/// Refuses a server that would lose committed transactions in a crash.
async fn check_durability(client: &Client) -> Result<(), PgError> {
    for setting in ["fsync", "full_page_writes"] {
        let row = client.query_one(&format!("SHOW {setting}"), &[]).await?;
        let value: String = row.get(0);
        if value != "on" {
            return Err(PgError::NotDurable { setting, value });
        }
    }
    Ok(())
}
