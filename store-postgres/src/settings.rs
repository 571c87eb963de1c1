//! [`PostgresSettings`] from `engine.properties`.

use std::time::Duration;

use fixgate_core::Secret;
use fixgate_core::properties::Properties;

use crate::{PgError, PostgresSettings};

impl PostgresSettings {
    /// The engine keys `PostgresUrl` (required; `env:NAME` and `file:PATH` are read here),
    /// `InstanceName` (default: the host's name), `FailoverTimeout` (milliseconds),
    /// `PostgresPoolSize`, `PostgresResendCache` and `PreferredSessions` (session ids as the
    /// status page shows them, `SENDER->TARGET`, comma-separated; unset: every session). Errors
    /// name the key, never the URL.
    pub fn from_properties(properties: &Properties) -> Result<Self, PgError> {
        let invalid =
            |e: fixgate_core::properties::PropertiesError| PgError::Settings(e.to_string());
        let url = properties.get("PostgresUrl").ok_or_else(|| {
            PgError::Settings("StorageType = postgres needs PostgresUrl".to_owned())
        })?;
        let url = fixgate_driver::read_secret("PostgresUrl", &Secret::parse(url))
            .map_err(|e| PgError::Settings(e.to_string()))?;
        let instance = match properties.get("InstanceName") {
            Some(name) => name.to_owned(),
            None => host_name(),
        };
        let mut settings = Self::new(url, instance);
        if let Some(ms) = properties
            .value::<u64>("FailoverTimeout")
            .map_err(invalid)?
        {
            settings.failover_timeout = Duration::from_millis(ms);
        }
        if let Some(size) = properties.value("PostgresPoolSize").map_err(invalid)? {
            settings.pool_size = size;
        }
        if let Some(cache) = properties.value("PostgresResendCache").map_err(invalid)? {
            settings.resend_cache = cache;
        }
        if let Some(list) = properties.get("PreferredSessions") {
            let ids = list.split(',').map(str::trim).filter(|id| !id.is_empty());
            settings.prefers = Some(ids.map(str::to_owned).collect());
        }
        Ok(settings)
    }
}

/// The host's name: an instance that restarts on the same host claims its sessions back at once.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "fixgate".to_owned())
}
