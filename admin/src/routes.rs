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
use fixgate_core::{EngineError, SendError, SeqNum};
use fixgate_driver::{Error, SessionControl};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::snapshots::{Snapshot, Snapshots};
use crate::view::{EngineView, SessionView, names};
use crate::{Access, export};

/// The status page: plain HTML and a little JavaScript that reads `/api/sessions`.
const STATUS_PAGE: &str = include_str!("status.html");

/// The largest MsgSeqNum `seq-nums` sets: what a JSON number carries exactly in JavaScript.
const MAX_SEQ_NUM: u64 = (1 << 53) - 1;

/// What every route shares.
#[derive(Clone)]
struct Shared {
    snapshots: Snapshots,
    access: Access,
    /// Taken by a command while it runs: commands go one at a time.
    commands: Arc<Mutex<()>>,
}

/// Every route of the admin listener.
pub(crate) fn router(engine: fixgate_driver::FixEngine, access: Access) -> Router {
    Router::new()
        .route("/", get(status_page))
        .route("/metrics", get(metrics))
        .route("/api/sessions", get(sessions))
        .route("/api/sessions/{id}", get(session))
        .route("/api/sessions/{id}/{command}", post(command))
        .with_state(Shared {
            snapshots: Snapshots::new(engine),
            access,
            commands: Arc::new(Mutex::new(())),
        })
}

async fn status_page() -> Html<&'static str> {
    Html(STATUS_PAGE)
}

async fn metrics(State(shared): State<Shared>) -> Response {
    match snapshot(&shared).await {
        Ok(snapshot) => (
            [(header::CONTENT_TYPE, export::CONTENT_TYPE)],
            export::render(snapshot),
        )
            .into_response(),
        Err(response) => response,
    }
}

async fn sessions(State(shared): State<Shared>) -> Response {
    match snapshot(&shared).await {
        Ok(snapshot) => Json(EngineView::new(&snapshot.0, snapshot.1)).into_response(),
        Err(response) => response,
    }
}

async fn session(State(shared): State<Shared>, Path(name): Path<String>) -> Response {
    match find(&shared, &name).await {
        Ok((snapshot, i)) => {
            Json(SessionView::new(&snapshot.0.engine.sessions[i], snapshot.1)).into_response()
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
    let _one_at_a_time = shared.commands.lock().await;
    let id = match find(&shared, &name).await {
        Ok((snapshot, i)) => snapshot.0.engine.sessions[i].id.clone(),
        Err(response) => return response,
    };
    tracing::info!(session = %id, ?control, "admin command");
    match shared.snapshots.engine().control(id, control).await {
        Ok(after) => {
            let now = (Instant::now(), SystemTime::now());
            Json(SessionView::new(&after, now)).into_response()
        }
        Err(error) => refused(&error),
    }
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
                Some(n) if n > MAX_SEQ_NUM => Err(problem(
                    StatusCode::BAD_REQUEST,
                    &format!("a MsgSeqNum here is at most {MAX_SEQ_NUM}"),
                )),
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

/// A snapshot asked for after the request came.
async fn snapshot(shared: &Shared) -> Result<Snapshot, Response> {
    shared
        .snapshots
        .take()
        .await
        .map_err(|error| refused(&error))
}

/// A snapshot and the index of the session named `name` in it.
async fn find(shared: &Shared, name: &str) -> Result<(Snapshot, usize), Response> {
    let snapshot = snapshot(shared).await?;
    let found = snapshot
        .0
        .engine
        .sessions
        .iter()
        .position(|s| names(&s.id, name));
    match found {
        Some(i) => Ok((snapshot, i)),
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
