//! # fixgate-admin
//!
//! What an operator sees and does, on one HTTP listener (`MetricsAddress`), served by axum on
//! tokio beside a fixgate engine:
//!
//! - `GET /metrics`: every counter in the Prometheus text format (docs/metrics.md);
//! - `GET /api/sessions` and `GET /api/sessions/{id}`: the sessions as JSON;
//! - `POST /api/sessions/{id}/disconnect`, `/logout` (`{"text": "..."}`),
//!   `/reset-seq-num-local` and `/seq-nums` (`{"sender": N, "target": N}`): commands, which
//!   need `Authorization: Bearer <AdminToken>`;
//! - `GET /`: a status page that refreshes itself.
//!
//! Reads are open to whoever reaches the address, which is why `MetricsAddress` belongs on
//! loopback (or behind a proxy that authenticates); commands always need the token, and without
//! an `AdminToken` they are refused. Session ids in URLs are their display form,
//! percent-encoded: `ISLD-%3ETW` for `ISLD->TW`.

#![warn(missing_docs)]

mod export;
mod routes;
mod snapshots;
mod view;

use std::io;
use std::net::SocketAddr;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fixgate_core::Secret;
use fixgate_core::properties::{Properties, PropertiesError};
use fixgate_driver::FixEngine;

/// Where the admin listener listens and the token its commands need.
#[derive(Clone, Debug)]
pub struct AdminConfig {
    /// `MetricsAddress`: the listener's address.
    pub address: SocketAddr,
    /// `AdminToken`: the bearer token of commands (`env:NAME` and `file:PATH` are read when the
    /// listener starts); `None` refuses every command.
    pub token: Option<Secret>,
}

/// Why the admin settings cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// `MetricsAddress` is not an address.
    #[error(transparent)]
    Properties(#[from] Box<PropertiesError>),
    /// `AdminToken` names an unset variable or a file that cannot be read (the error names the
    /// place, never the token).
    #[error("cannot read a secret: {0}")]
    Secret(io::Error),
    /// `AdminToken` is empty.
    #[error("AdminToken is empty")]
    EmptyToken,
    /// The listener cannot be bound.
    #[error("MetricsAddress {0}: {1}")]
    Listen(SocketAddr, io::Error),
}

impl AdminConfig {
    /// `MetricsAddress` and `AdminToken` (`env:NAME`, `file:PATH` or the token itself) from
    /// `properties`; `None` when `MetricsAddress` is not set (the listener is
    /// off).
    pub fn from_properties(properties: &Properties) -> Result<Option<Self>, AdminError> {
        let Some(address) = properties
            .value::<SocketAddr>("MetricsAddress")
            .map_err(Box::new)?
        else {
            return Ok(None);
        };
        let token = properties.get("AdminToken").map(Secret::parse);
        Ok(Some(Self { address, token }))
    }
}

/// Who may run commands: the holder of the token.
#[derive(Clone)]
pub(crate) struct Access {
    token: Option<String>,
}

impl Access {
    /// Whether `headers` carry the token; otherwise the 401 to answer.
    pub(crate) fn authorize(&self, headers: &HeaderMap) -> Result<(), Response> {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let text = match (&self.token, given) {
            (Some(token), Some(given)) if same(token.as_bytes(), given.trim().as_bytes()) => {
                return Ok(());
            }
            (None, _) => "commands are off: no AdminToken is set",
            (Some(_), None) => "a command needs Authorization: Bearer <AdminToken>",
            (Some(_), Some(_)) => "wrong token",
        };
        let mut response = routes::problem(StatusCode::UNAUTHORIZED, text);
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, routes::BEARER);
        Err(response.into_response())
    }
}

/// Compares two tokens in a time that depends on their lengths only.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// The running admin listener; dropping it leaves it running with the process, [`stop`]
/// ends it.
///
/// [`stop`]: Self::stop
#[derive(Debug)]
pub struct Admin {
    local_addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Admin {
    /// Reads the token, binds `config.address` and serves the routes for `engine` on the
    /// current tokio runtime.
    pub async fn serve(engine: FixEngine, config: AdminConfig) -> Result<Self, AdminError> {
        let token = match &config.token {
            Some(secret) => {
                let token = fixgate_driver::read_secret("AdminToken", secret)
                    .map_err(AdminError::Secret)?;
                if token.is_empty() {
                    return Err(AdminError::EmptyToken);
                }
                Some(token)
            }
            None => None,
        };
        let bind = |error| AdminError::Listen(config.address, error);
        let listener = tokio::net::TcpListener::bind(config.address)
            .await
            .map_err(bind)?;
        let local_addr = listener.local_addr().map_err(bind)?;
        let app = routes::router(engine, Access { token });
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "the admin listener failed");
            }
        });
        Ok(Self { local_addr, task })
    }

    /// The address it is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops serving.
    pub fn stop(self) {
        self.task.abort();
    }
}
