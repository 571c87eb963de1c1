//! The questions the engine asks the application: may this Logon in (credentials), and what to do
//! with a Logon for a session nobody registered (the sessions manager).

use crate::codec::Message;
use crate::config::{Role, SessionConfig};
use crate::secret::Secret;
use crate::tag;

use super::SessionId;

/// What a counterparty must present on its Logon: `Username <553>` and `Password <554>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The expected `Username <553>`.
    pub username: String,
    /// The expected `Password <554>`.
    pub password: String,
}

impl Credentials {
    /// What an acceptor's configuration (`Username`, `Password`) asks of a Logon: `None` when
    /// it sets neither, or is an initiator's. A missing one must be absent (or empty).
    pub(super) fn configured(config: &SessionConfig) -> Option<Self> {
        let password = config.password.as_ref().and_then(Secret::value);
        (config.role == Role::Acceptor && (config.username.is_some() || password.is_some())).then(
            || Self {
                username: config.username.clone().unwrap_or_default(),
                password: password.unwrap_or_default().to_owned(),
            },
        )
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Decides whether a Logon's credentials admit it to a session.
pub trait Authenticator: Send {
    /// Whether `logon` may log on to session `id`, for which `expected` credentials are
    /// configured (if any).
    fn authenticate(&self, id: &SessionId, expected: Option<&Credentials>, logon: &Message)
    -> bool;
}

/// The default [`Authenticator`]: a session with configured credentials needs both to match
/// (compared in constant time); a session without them needs none.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConfiguredCredentials;

impl Authenticator for ConfiguredCredentials {
    fn authenticate(
        &self,
        _id: &SessionId,
        expected: Option<&Credentials>,
        logon: &Message,
    ) -> bool {
        let Some(expected) = expected else {
            return true;
        };
        let username = logon.get(tag::USERNAME).unwrap_or_default();
        let password = logon.get(tag::PASSWORD).unwrap_or_default();
        // Both comparisons always run, so the time does not tell which one failed.
        let user_ok = constant_time_eq(username, expected.username.as_bytes());
        let password_ok = constant_time_eq(password, expected.password.as_bytes());
        user_ok & password_ok
    }
}

/// Compares two byte strings in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let len = a.len().max(b.len());
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..len {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0);
    }
    std::hint::black_box(diff) == 0
}

/// What to do with a Logon for a session nobody registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionDecision {
    /// Create the session with the `Session.Default` settings.
    Accept,
    /// Create the session with these settings (CompIDs and role are taken from the Logon).
    AcceptWith(Box<SessionConfig>),
    /// Refuse it (silently, like any refusal before authentication).
    Refuse,
}

/// Decides on Logons for unregistered sessions, when `CreateUnregisteredAcceptorSession` is on.
pub trait SessionsManager: Send {
    /// A Logon arrived for `id`, which is not registered.
    fn on_unregistered_logon(&mut self, id: &SessionId, logon: &Message) -> SessionDecision;
}

/// The default [`SessionsManager`]: accepts every unregistered session with the default settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct AcceptAll;

impl SessionsManager for AcceptAll {
    fn on_unregistered_logon(&mut self, _id: &SessionId, _logon: &Message) -> SessionDecision {
        SessionDecision::Accept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret!"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn credentials_are_redacted_in_debug() {
        let c = Credentials {
            username: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
