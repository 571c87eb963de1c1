//! Snapshots of the engine for the listener's reads. Each is a command to the engine task, so
//! however many clients ask and however often, one is in flight at a time and they are at least
//! [`MIN_INTERVAL`] apart; every reader is still served a snapshot asked for after it arrived,
//! never an older one.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use fixgate_driver::{Error, FixEngine, Metrics};
use tokio::sync::Mutex;

/// The least time between two snapshots.
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// A snapshot, and both clocks read when it came: they turn its instants into times.
pub(crate) type Snapshot = Arc<(Metrics, (Instant, SystemTime))>;

/// The snapshots of one engine.
#[derive(Clone)]
pub(crate) struct Snapshots {
    engine: FixEngine,
    /// The last snapshot and when it was asked for; held while one is taken.
    last: Arc<Mutex<Option<(Instant, Snapshot)>>>,
}

impl Snapshots {
    pub(crate) fn new(engine: FixEngine) -> Self {
        Self {
            engine,
            last: Arc::new(Mutex::new(None)),
        }
    }

    /// A snapshot asked for after this call began. It is taken by a task of its own, which ends
    /// its work even when the caller goes away: a client that drops its requests leaves at most
    /// one command on the engine's queue.
    pub(crate) async fn take(&self) -> Result<Snapshot, Error> {
        let arrived = Instant::now();
        let this = self.clone();
        let taking = tokio::spawn(async move {
            let mut last = this.last.lock_owned().await;
            if let Some((asked, snapshot)) = &*last {
                if *asked >= arrived {
                    return Ok(Arc::clone(snapshot));
                }
                tokio::time::sleep_until((*asked + MIN_INTERVAL).into()).await;
            }
            let asked = Instant::now();
            let metrics = this.engine.metrics().await?;
            let snapshot = Arc::new((metrics, (Instant::now(), SystemTime::now())));
            *last = Some((asked, Arc::clone(&snapshot)));
            Ok(snapshot)
        });
        taking.await.map_err(|_| Error::Stopped)?
    }

    /// The engine, for commands.
    pub(crate) fn engine(&self) -> &FixEngine {
        &self.engine
    }
}
