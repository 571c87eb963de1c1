//! Reads the secrets that settings keep out of the file (core's [`Secret`]: `env:NAME`,
//! `file:PATH`). The driver does it when it makes a session, so that core stays free of I/O.

use std::io;

use fixgate_core::{Secret, SessionConfig};

/// Replaces a `Password` that names where it is kept with the secret read from there.
pub(crate) fn read_secrets(config: &mut SessionConfig) -> io::Result<()> {
    if let Some(secret) = &mut config.password {
        *secret = Secret::Value(read_secret("Password", secret)?);
    }
    Ok(())
}

/// The secret setting `key` itself: from the environment, from a file (without its trailing
/// line break), or as written. The errors name the setting and the place, never the secret.
pub fn read_secret(key: &str, secret: &Secret) -> io::Result<String> {
    match secret {
        Secret::Value(value) => Ok(value.clone()),
        Secret::Env(name) => std::env::var(name).map_err(|_| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{key}: environment variable {name} is not set (or not Unicode)"),
            )
        }),
        Secret::File(path) => match std::fs::read_to_string(path) {
            Ok(text) => Ok(text
                .strip_suffix('\n')
                .map_or(text.as_str(), |t| t.strip_suffix('\r').unwrap_or(t))
                .to_owned()),
            Err(error) => Err(io::Error::new(
                error.kind(),
                format!("{key}: cannot read {path}: {error}"),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use fixgate_core::{BeginString, Role};

    use super::*;

    fn config(password: &str) -> SessionConfig {
        let mut config = SessionConfig::new(BeginString::Fix44, "A", "B", Role::Acceptor);
        config.set("Password", password).unwrap();
        config
    }

    #[test]
    fn a_file_is_read_without_its_line_break_and_errors_name_the_place() {
        let dir = std::env::temp_dir().join(format!("fixgate-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("password");
        std::fs::write(&path, "s3cret\r\n").unwrap();
        let mut from_file = config(&format!("file:{}", path.display()));
        read_secrets(&mut from_file).unwrap();
        assert_eq!(from_file.password, Some(Secret::Value("s3cret".into())));
        std::fs::remove_dir_all(&dir).unwrap();
        let mut missing = config(&format!("file:{}", path.display()));
        let error = read_secrets(&mut missing).unwrap_err().to_string();
        assert!(error.starts_with("Password: cannot read "), "{error}");
        let mut unset = config("env:FIXGATE_TEST_SECRET_THAT_IS_NEVER_SET");
        let error = read_secrets(&mut unset).unwrap_err().to_string();
        assert_eq!(
            error,
            "Password: environment variable FIXGATE_TEST_SECRET_THAT_IS_NEVER_SET is not set \
             (or not Unicode)"
        );
        let mut plain = config("plain");
        read_secrets(&mut plain).unwrap();
        assert_eq!(plain.password, Some(Secret::Value("plain".into())));
    }
}
