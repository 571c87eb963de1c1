//! QuickFIX-format XML data dictionaries, compiled into the tables that
//! [`fixgate_core::dictionary`] validates with.
//!
//! Users already keep one XML dictionary per venue; fixgate reads the same files. A FIX 4.x
//! session takes one (`DataDictionary`); a FIXT.1.1 session takes the transport dictionary and
//! one application dictionary (`TransportDataDictionary`, `AppDataDictionary`), merged into one
//! table.
//!
//! ```no_run
//! use fixgate_dictionary::Dictionaries;
//! # fn sessions() -> Vec<fixgate_core::SessionConfig> { Vec::new() }
//!
//! let mut dictionaries = Dictionaries::new("/etc/fixgate");
//! for mut config in sessions() {
//!     // Reads `DataDictionary` & co. from the settings; sessions share each file's tables.
//!     dictionaries.attach(&mut config)?;
//! }
//! # Ok::<(), fixgate_dictionary::LoadError>(())
//! ```

mod xml;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fixgate_core::dictionary::{BuildError, Dictionary, DictionaryBuilder};
use fixgate_core::{BeginString, SessionConfig};

/// Why a dictionary could not be loaded. The message names the file, the line, the element and
/// the reason.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("{}: {source}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The XML is not a valid dictionary.
    #[error("{}:{line}: {element}: {reason}", file.display())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// The line of the element.
        line: u32,
        /// The element, with its name: `<field name='Symbol'>`.
        element: String,
        /// What is wrong.
        reason: String,
    },
    /// The tables could not be compiled.
    #[error("{}: {source}", file.display())]
    Build {
        /// The file (the application dictionary, for FIXT).
        file: PathBuf,
        /// The reason.
        source: BuildError,
    },
    /// The session's dictionary settings do not fit together.
    #[error("{key}: {reason}")]
    Settings {
        /// The setting at fault.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Loads the dictionary of a FIX 4.x session from one XML file.
pub fn load(path: &Path) -> Result<Dictionary, LoadError> {
    let parsed = read(path)?;
    let mut builder = DictionaryBuilder::new(parsed.version.clone());
    add(&mut builder, parsed, path, true)?;
    builder.build().map_err(|source| LoadError::Build {
        file: path.to_owned(),
        source,
    })
}

/// Loads a FIXT.1.1 session's dictionary: the transport dictionary's header, trailer and
/// session-level messages with the application dictionary's messages.
pub fn load_fixt(transport: &Path, app: &Path) -> Result<Dictionary, LoadError> {
    let transport_parsed = read(transport)?;
    let app_parsed = read(app)?;
    let mut builder = DictionaryBuilder::new(transport_parsed.version.clone());
    add(&mut builder, transport_parsed, transport, true)?;
    builder.seal_transport();
    add(&mut builder, app_parsed, app, false)?;
    builder.build().map_err(|source| LoadError::Build {
        file: app.to_owned(),
        source,
    })
}

/// Compiles one dictionary from XML text; `origin` names it in errors.
pub fn from_xml(text: &str, origin: &Path) -> Result<Dictionary, LoadError> {
    let parsed = xml::parse(text).map_err(|e| invalid(origin, e))?;
    let mut builder = DictionaryBuilder::new(parsed.version.clone());
    add(&mut builder, parsed, origin, true)?;
    builder.build().map_err(|source| LoadError::Build {
        file: origin.to_owned(),
        source,
    })
}

fn read(path: &Path) -> Result<xml::Parsed, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        file: path.to_owned(),
        source,
    })?;
    xml::parse(&text).map_err(|e| invalid(path, e))
}

fn invalid(file: &Path, e: xml::XmlError) -> LoadError {
    LoadError::Invalid {
        file: file.to_owned(),
        line: e.line,
        element: e.element,
        reason: e.reason,
    }
}

/// Adds a parsed file to `builder`; `frame` takes its header and trailer too.
fn add(
    builder: &mut DictionaryBuilder,
    parsed: xml::Parsed,
    file: &Path,
    frame: bool,
) -> Result<(), LoadError> {
    let build_error = |source| LoadError::Build {
        file: file.to_owned(),
        source,
    };
    for field in parsed.fields {
        builder
            .field(field.tag, &field.name, field.field_type, field.values)
            .map_err(build_error)?;
    }
    if frame {
        builder.header(parsed.header).map_err(build_error)?;
        builder.trailer(parsed.trailer).map_err(build_error)?;
    }
    for (msg_type, layout) in parsed.messages {
        builder.message(&msg_type, layout).map_err(build_error)?;
    }
    Ok(())
}

/// Loads the dictionaries that sessions' settings name, each file once, and attaches them.
#[derive(Debug)]
pub struct Dictionaries {
    base: PathBuf,
    loaded: HashMap<(PathBuf, Option<PathBuf>), Arc<Dictionary>>,
}

impl Dictionaries {
    /// Relative paths in the settings are resolved from `base`: the folder of the properties
    /// file they come from.
    pub fn new(base: impl Into<PathBuf>) -> Self {
        Self {
            base: base.into(),
            loaded: HashMap::new(),
        }
    }

    /// Loads the dictionary that `config`'s settings name (`UseDataDictionary`,
    /// `DataDictionary`, `TransportDataDictionary`, `AppDataDictionary`) into
    /// [`SessionConfig::dictionary`]. Without a path (or with `UseDataDictionary=N`), the
    /// session has none. A dictionary of another FIX version than the session's is an error.
    pub fn attach(&mut self, config: &mut SessionConfig) -> Result<(), LoadError> {
        let files = &config.dictionary_files;
        if files.use_data_dictionary == Some(false) {
            config.dictionary = None;
            return Ok(());
        }
        let fixt = config.begin_string == BeginString::Fixt11;
        let (key, main, app) = if fixt {
            let transport = files
                .transport_data_dictionary
                .clone()
                .or_else(|| files.data_dictionary.clone());
            (
                "TransportDataDictionary",
                transport,
                files.app_data_dictionary.clone(),
            )
        } else {
            ("DataDictionary", files.data_dictionary.clone(), None)
        };
        let dictionary = match (main, app) {
            (None, None) if files.use_data_dictionary == Some(true) => {
                return Err(LoadError::Settings {
                    key: "UseDataDictionary",
                    reason: format!("Y needs {key}"),
                });
            }
            (None, None) => {
                config.dictionary = None;
                return Ok(());
            }
            (Some(_), None) if fixt => {
                return Err(LoadError::Settings {
                    key: "AppDataDictionary",
                    reason: "a FIXT.1.1 session needs one beside TransportDataDictionary".into(),
                });
            }
            (None, Some(_)) => {
                return Err(LoadError::Settings {
                    key: "TransportDataDictionary",
                    reason: "a FIXT.1.1 session needs one beside AppDataDictionary".into(),
                });
            }
            (Some(main), app) => self.get(&main, app.as_deref())?,
        };
        let expected = config.begin_string.as_str();
        if dictionary.begin_string() != expected {
            return Err(LoadError::Settings {
                key,
                reason: format!(
                    "the dictionary describes {}, the session is {expected}",
                    dictionary.begin_string()
                ),
            });
        }
        config.dictionary = Some(dictionary);
        Ok(())
    }

    fn get(&mut self, main: &str, app: Option<&str>) -> Result<Arc<Dictionary>, LoadError> {
        let main = self.base.join(main);
        let app = app.map(|a| self.base.join(a));
        let key = (main, app);
        if let Some(loaded) = self.loaded.get(&key) {
            return Ok(Arc::clone(loaded));
        }
        let dictionary = Arc::new(match &key.1 {
            None => load(&key.0)?,
            Some(app) => load_fixt(&key.0, app)?,
        });
        self.loaded.insert(key, Arc::clone(&dictionary));
        Ok(dictionary)
    }
}
