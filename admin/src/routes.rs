//! The HTTP routes: the status page, `/metrics`, the session list, and the commands, which need
//! the bearer token.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::{get, post};
use fixgate_core::{EngineError, SendError, SeqNum, SessionId};
use fixgate_driver::{Error, FixEngine, Metrics, SessionControl};
use serde::Deserialize;
use tokio::sync::Semaphore;

use crate::view::{EngineView, SessionView, names};
use crate::{Access, export};

/// The status page: plain HTML and a little JavaScript that reads `/api/sessions`.
const STATUS_PAGE: &str = include_str!("status.html");

/// Requests that may wait on the engine task at once: each is a command there (a snapshot, or
/// an operator's command), so a client that floods the listener gets 503s instead of a queue
/// that delays the sessions' own work.
const ENGINE_REQUESTS: usize = 4;

/// What every route shares.
#[derive(Clone)]
struct Shared {
    engine: FixEngine,
    access: Access,
    in_flight: Arc<Semaphore>,
}

/// Every route of the admin listener.
pub(crate) fn router(engine: FixEngine, access: Access) -> Router {
    Router::new()
        .route("/", get(status_page))
        .route("/metrics", get(metrics))
        .route("/api/sessions", get(sessions))
        .route("/api/sessions/{id}", get(session))
        .route("/api/sessions/{id}/{command}", post(command))
        .with_state(Shared {
            engine,
            access,
            in_flight: Arc::new(Semaphore::new(ENGINE_REQUESTS)),
        })
}

async fn status_page() -> Html<&'static str> {
    Html(STATUS_PAGE)
}

async fn metrics(State(shared): State<Shared>) -> Response {
    match snapshot(&shared).await {
        Ok((metrics, now)) => (
            [(header::CONTENT_TYPE, export::CONTENT_TYPE)],
            export::render(metrics, now),
        )
            .into_response(),
        Err(response) => response,
    }
}

async fn sessions(State(shared): State<Shared>) -> Response {
    match snapshot(&shared).await {
        Ok((metrics, now)) => Json(EngineView::new(&metrics, now)).into_response(),
        Err(response) => response,
    }
}

async fn session(State(shared): State<Shared>, Path(name): Path<String>) -> Response {
    match find(&shared, &name).await {
        Ok((metrics, now, i)) => {
            Json(SessionView::new(&metrics.engine.sessions[i], now)).into_response()
        }
        Err(response) => response,
    }
}

/// The body of `logout`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogoutBody {
    /// The Logout's `Text <58>`.
    text: Option<String>,
}

/// The body of `seq-nums`: either number or both.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeqNumsBody {
    sender: Option<u64>,
    target: Option<u64>,
}

/// `POST /api/sessions/{id}/{command}`: checks the token, then carries the command out and
/// answers with the session as it is after it.
async fn command(
    State(shared): State<Shared>,
    Path((name, command)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = shared.access.authorize(&headers) {
        return response;
    }
    let control = match parse_command(&command, &body) {
        Ok(control) => control,
        Err(response) => return response,
    };
    let id: SessionId = match find(&shared, &name).await {
        Ok((metrics, _, i)) => metrics.engine.sessions[i].id.clone(),
        Err(response) => return response,
    };
    tracing::info!(session = %id, ?control, "admin command");
    let turn = match engine_turn(&shared) {
        Ok(turn) => turn,
        Err(response) => return response,
    };
    if let Err(error) = shared.engine.control(id, control).await {
        return refused(&error);
    }
    drop(turn);
    session(State(shared), Path(name)).await
}

/// The command named in the URL, with its body.
fn parse_command(command: &str, body: &[u8]) -> Result<SessionControl, Response> {
    Ok(match command {
        "disconnect" => SessionControl::Disconnect,
        "logout" => {
            let body: LogoutBody = json(body)?;
            SessionControl::Logout(body.text)
        }
        "reset-seq-num-local" => SessionControl::ResetSeqNumLocal,
        "seq-nums" => {
            let body: SeqNumsBody = json(body)?;
            let number = |n: Option<u64>| match n {
                Some(0) => Err(problem(StatusCode::BAD_REQUEST, "a MsgSeqNum starts at 1")),
                n => Ok(n.map(SeqNum::new)),
            };
            let (sender, target) = (number(body.sender)?, number(body.target)?);
            if sender.is_none() && target.is_none() {
                return Err(problem(
                    StatusCode::BAD_REQUEST,
                    "give \"sender\", \"target\" or both",
                ));
            }
            SessionControl::SetSeqNums { sender, target }
        }
        other => {
            return Err(problem(
                StatusCode::NOT_FOUND,
                &format!("no command {other:?}"),
            ));
        }
    })
}

/// A command's JSON body; an empty one is `{}`.
fn json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    let text = match body.iter().all(u8::is_ascii_whitespace) {
        true => b"{}".as_slice(),
        false => body,
    };
    serde_json::from_slice(text)
        .map_err(|e| problem(StatusCode::BAD_REQUEST, &format!("the body: {e}")))
}

/// A snapshot, with the two clocks read together to turn its instants into times.
async fn snapshot(shared: &Shared) -> Result<(Metrics, (Instant, SystemTime)), Response> {
    let _turn = engine_turn(shared)?;
    match shared.engine.metrics().await {
        Ok(metrics) => Ok((metrics, (Instant::now(), SystemTime::now()))),
        Err(error) => Err(refused(&error)),
    }
}

/// A place among the requests that wait on the engine task, or the 503 to answer.
fn engine_turn(shared: &Shared) -> Result<tokio::sync::OwnedSemaphorePermit, Response> {
    Arc::clone(&shared.in_flight)
        .try_acquire_owned()
        .map_err(|_| problem(StatusCode::SERVICE_UNAVAILABLE, "busy: try again"))
}

/// A snapshot and the index of the session named `name` in it.
async fn find(
    shared: &Shared,
    name: &str,
) -> Result<(Metrics, (Instant, SystemTime), usize), Response> {
    let (metrics, now) = snapshot(shared).await?;
    match metrics
        .engine
        .sessions
        .iter()
        .position(|s| names(&s.id, name))
    {
        Some(i) => Ok((metrics, now, i)),
        None => Err(problem(
            StatusCode::NOT_FOUND,
            &format!("no session {name}"),
        )),
    }
}

/// The answer to a command the engine refused.
fn refused(error: &Error) -> Response {
    let status = match error {
        Error::Engine(EngineError::UnknownSession(_)) => StatusCode::NOT_FOUND,
        Error::Engine(EngineError::Send(SendError::Store(_))) => StatusCode::INTERNAL_SERVER_ERROR,
        Error::Engine(_) => StatusCode::CONFLICT,
        Error::Stopped => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    problem(status, &error.to_string())
}

/// An error answer: `{"error": "..."}`.
pub(crate) fn problem(status: StatusCode, text: &str) -> Response {
    (status, Json(serde_json::json!({ "error": text }))).into_response()
}

/// The `WWW-Authenticate` of a 401.
pub(crate) const BEARER: HeaderValue = HeaderValue::from_static("Bearer realm=\"fixgate\"");
