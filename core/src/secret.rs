//! Secret settings (`Password`): written in the settings themselves, or kept out of them as
//! `env:NAME` (an environment variable) or `file:PATH` (a file's contents, without the trailing
//! line break). Core does no I/O: the caller reads the references (the driver does, when it
//! makes a session), and a session refuses a configuration that still holds one.

use std::fmt;

/// A secret setting's value, as written.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    /// The secret itself.
    Value(String),
    /// `env:NAME`: the value of environment variable `NAME`.
    Env(String),
    /// `file:PATH`: the contents of the file at `PATH`.
    File(String),
}

impl Secret {
    /// Reads a setting's text: `env:NAME`, `file:PATH`, or the secret itself.
    pub fn parse(text: &str) -> Self {
        if let Some(name) = text.strip_prefix("env:") {
            Self::Env(name.to_owned())
        } else if let Some(path) = text.strip_prefix("file:") {
            Self::File(path.to_owned())
        } else {
            Self::Value(text.to_owned())
        }
    }

    /// The secret, once it is a value (not a reference still to be read).
    pub fn value(&self) -> Option<&str> {
        match self {
            Self::Value(value) => Some(value),
            Self::Env(_) | Self::File(_) => None,
        }
    }
}

/// Shows where a secret comes from, never the secret.
impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value(_) => f.write_str("Value(<redacted>)"),
            Self::Env(name) => f.debug_tuple("Env").field(name).finish(),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_read_by_prefix_and_values_are_never_shown() {
        assert_eq!(Secret::parse("env:FIX_PW"), Secret::Env("FIX_PW".into()));
        assert_eq!(
            Secret::parse("file:/run/pw"),
            Secret::File("/run/pw".into())
        );
        let value = Secret::parse("hunter2");
        assert_eq!(value.value(), Some("hunter2"));
        assert_eq!(format!("{value:?}"), "Value(<redacted>)");
        assert_eq!(Secret::parse("env:X").value(), None);
    }
}
