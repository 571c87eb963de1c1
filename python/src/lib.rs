//! # fixgate-python
//!
//! The `fixgate` Python package's native module (`fixgate._fixgate`): FIX Antenna's session API
//! (`FixEngine`, `SessionId`, `FIXVersion`, `Session`, `FixMessage`, listeners) on fixgate's
//! Rust engine. The engine runs on a thread of its own, on a current-thread tokio runtime; a
//! session's listener is called on that thread with the GIL held, and a `put()` it makes on
//! the same session is the reply to the message it was given (`Context::reply`).
//!
//! The extension module is built by maturin (`python/pyproject.toml` turns on the
//! `extension-module` feature); plain cargo builds link libpython instead.

mod callback;
mod engine;
mod errors;
mod message;
mod session;

use pyo3::prelude::*;

/// The native module: classes, exceptions and the process's engine shutdown.
#[pymodule]
#[pyo3(name = "_fixgate")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<engine::FixEngine>()?;
    m.add_class::<session::SessionId>()?;
    m.add_class::<session::FixVersion>()?;
    m.add_class::<session::Session>()?;
    m.add_class::<message::FixMessage>()?;
    m.add("FixgateError", py.get_type::<errors::FixgateError>())?;
    m.add(
        "SessionFinalized",
        py.get_type::<errors::SessionFinalized>(),
    )?;
    m.add(
        "BackpressureError",
        py.get_type::<errors::BackpressureError>(),
    )?;
    m.add("EngineStopped", py.get_type::<errors::EngineStopped>())?;
    m.add("MessageExpired", py.get_type::<errors::MessageExpired>())?;
    m.add("UnknownSetting", py.get_type::<errors::UnknownSetting>())?;
    m.add("InvalidSetting", py.get_type::<errors::InvalidSetting>())?;
    m.add_function(wrap_pyfunction!(engine::shutdown, m)?)?;
    m.add_function(wrap_pyfunction!(message::read_entry_group, m)?)?;
    m.add_function(wrap_pyfunction!(message::check_group, m)?)?;
    Ok(())
}
