//! The package's exceptions, and the engine's errors turned into them (the engine's typed
//! reason is the exception's message).

use fixgate_core::EngineError;
use pyo3::PyErr;
use pyo3::create_exception;
use pyo3::exceptions::PyException;

create_exception!(
    fixgate,
    FixgateError,
    PyException,
    "An error of the FIX engine; its message carries the engine's reason."
);
create_exception!(
    fixgate,
    SessionFinalized,
    FixgateError,
    "The session was finalized: it can no longer be used (finalize() runs once)."
);
create_exception!(
    fixgate,
    BackpressureError,
    FixgateError,
    "The session's connection holds MaxOutboundBytes unwritten: a put() inside a callback \
     does not wait, it raises this."
);
create_exception!(
    fixgate,
    EngineStopped,
    FixgateError,
    "The engine has stopped (FixEngine.stop() or the interpreter's exit)."
);
create_exception!(
    fixgate,
    MessageExpired,
    FixgateError,
    "A message given to on_new_message was used after the callback returned: it is valid only \
     inside the callback; copy() keeps one."
);

create_exception!(
    fixgate,
    UnknownSetting,
    FixgateError,
    "A session setting that fixgate does not know (create_session's settings take the \
     properties' session keys: HeartBtInt, ResetOnLogon, Username…)."
);
create_exception!(
    fixgate,
    InvalidSetting,
    FixgateError,
    "A session setting with a value that does not fit it, or one that create_session's own \
     arguments decide (BeginString, SenderCompID, TargetCompID, ConnectionType)."
);

/// The Python exception for one of the driver's errors.
pub(crate) fn engine_error(error: fixgate_driver::Error) -> PyErr {
    match error {
        fixgate_driver::Error::Engine(error) => core_error(error),
        fixgate_driver::Error::Stopped => EngineStopped::new_err(error.to_string()),
        other => FixgateError::new_err(other.to_string()),
    }
}

/// The Python exception for one of the core engine's errors.
pub(crate) fn core_error(error: EngineError) -> PyErr {
    let text = error.to_string();
    match error {
        EngineError::Backpressure(_) => BackpressureError::new_err(text),
        EngineError::Send(fixgate_core::SendError::Finalized) => SessionFinalized::new_err(text),
        other => FixgateError::new_err(format!("{}: {text}", kind(&other))),
    }
}

/// The name of an engine error's kind, for messages that would not otherwise tell it.
fn kind(error: &EngineError) -> &'static str {
    match error {
        EngineError::DuplicateSession(_) => "DuplicateSession",
        EngineError::UnknownSession(_) => "UnknownSession",
        EngineError::WrongRole(_) => "WrongRole",
        EngineError::Config(_) => "Config",
        EngineError::Send(_) => "Send",
        EngineError::Backpressure(_) => "Backpressure",
        _ => "EngineError",
    }
}
