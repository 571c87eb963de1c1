//! A runner for the QuickFIX acceptance suite (`../shared/conformance/quickfix`), written from
//! the description in that folder's README: the script language ([`script`]), message framing
//! and the wait for a close ([`connection`]), field-by-field comparison ([`compare`]), and the
//! execution of scripts and folders ([`runner`]). The scripts are read where they lie; nothing
//! of them is copied into this repository.

pub mod compare;
pub mod connection;
pub mod runner;
pub mod script;

use std::path::PathBuf;

/// The normal-run folders of `definitions/server` (not `future/`).
pub const NORMAL_RUN: &[&str] = &[
    "fix40", "fix41", "fix42", "fix44", "fix50", "fix50sp2", "validate",
];

/// The shared data folder: `FIXGATE_SHARED` if set, else `../shared` beside the repository.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("FIXGATE_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    }
}

/// The suite's folder inside the shared data.
pub fn suite_dir() -> PathBuf {
    shared_dir().join("conformance/quickfix")
}
