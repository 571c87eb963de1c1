//! A runner for the QuickFIX acceptance suite (`../shared/conformance/quickfix`), written from
//! the description in that folder's README: the script language ([`script`]), message framing
//! and the wait for a close ([`connection`]), field-by-field comparison ([`compare`]), and the
//! execution of scripts and folders ([`runner`]). The scripts are read where they lie; nothing
//! of them is copied into this repository.

pub mod compare;
pub mod connection;
pub mod report;
pub mod runner;
pub mod script;

use std::path::PathBuf;

use fixgate_core::properties::Properties;
use fixgate_core::{SessionConfig, SessionId};
use fixgate_dictionary::Dictionaries;

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

/// How `tests/conformance/at.properties` names the shared folder, relative to itself.
const SHARED_FROM_PROPERTIES: &str = "../../../shared/";

/// The AT acceptor's sessions from `tests/conformance/at.properties`, with their data
/// dictionaries loaded (read where they lie in the shared folder, `FIXGATE_SHARED` included).
pub fn at_sessions() -> Vec<(SessionId, SessionConfig)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("conformance/at.properties");
    let text = std::fs::read_to_string(&path).expect("at.properties");
    let properties = Properties::parse(&text, "at.properties").expect("valid properties");
    let mut dictionaries = Dictionaries::new(path.parent().expect("a folder"));
    let shared = shared_dir();
    let mut sessions = properties.sessions().expect("sessions");
    for (_, config) in &mut sessions {
        let files = &mut config.dictionary_files;
        for file in [
            &mut files.data_dictionary,
            &mut files.transport_data_dictionary,
            &mut files.app_data_dictionary,
        ]
        .into_iter()
        .flatten()
        {
            if let Some(rest) = file.strip_prefix(SHARED_FROM_PROPERTIES) {
                *file = shared.join(rest).to_string_lossy().into_owned();
            }
        }
        dictionaries
            .attach(config)
            .expect("the suite's dictionaries load");
    }
    sessions
}
