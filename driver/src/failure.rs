//! Why an initiator could not get in, in words its user can act on: the typed reason of a
//! connection that did not open ([`ConnectFailure`]), and the line logged for every failed
//! attempt at the default level (`warn`), with what to check.

use std::io;
use std::net::SocketAddr;

use fixgate_core::{DisconnectReason, SessionId};

/// Why an initiator's connection could not be opened. The session tries again after
/// `ReconnectInterval`, backing off.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectFailure {
    /// The TCP connection did not open: `ConnectionRefused` when nothing listens on the port.
    #[error("cannot connect: {0}")]
    Tcp(io::ErrorKind),
    /// rustls refused the TLS handshake, most often for the acceptor's certificate: not
    /// trusted, made for another name, or a CA certificate where a server's belongs.
    #[cfg(feature = "tls")]
    #[error("TLS handshake refused: {0}")]
    Tls(futures_rustls::rustls::Error),
    /// The TLS handshake did not complete: the connection failed during it, or it took longer
    /// than `LogonTimeout` (`TimedOut`).
    #[error("TLS handshake failed: {0}")]
    TlsHandshake(io::ErrorKind),
}

impl ConnectFailure {
    /// What the user should check.
    fn hint(&self) -> &'static str {
        match self {
            Self::Tcp(io::ErrorKind::ConnectionRefused) => {
                "nothing listens there: check that the acceptor runs, and the host and port"
            }
            Self::Tcp(_) => "check the host and port, and the network between",
            #[cfg(feature = "tls")]
            Self::Tls(error) => tls_hint(error),
            Self::TlsHandshake(_) => {
                "check that the acceptor speaks TLS on this port, and its TLS settings"
            }
        }
    }
}

/// What to check when rustls refused the handshake.
#[cfg(feature = "tls")]
fn tls_hint(error: &futures_rustls::rustls::Error) -> &'static str {
    use futures_rustls::rustls::{CertificateError, Error};
    let Error::InvalidCertificate(error) = error else {
        return "check the TLS settings of both ends";
    };
    match error {
        CertificateError::UnknownIssuer => {
            "the acceptor's certificate is not among the trusted ones, nor signed by one of them: \
             check the CA file (fixgate initiate --tls-ca)"
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "the acceptor's certificate does not carry the name we expect: check the server name \
             (fixgate initiate --tls-name; by default the address) against its subjectAltName"
        }
        // rustls has no variant of its own for webpki's CaUsedAsEndEntity, whose text is its
        // name.
        CertificateError::Other(other) if other.to_string() == "CaUsedAsEndEntity" => {
            "the acceptor's certificate is a CA certificate (basicConstraints CA:TRUE, as a plain \
             `openssl req -x509` makes), which TLS refuses as a server's; make a leaf certificate: \
             openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
             -keyout key.pem -out cert.pem -days 365 -subj /CN=localhost \
             -addext basicConstraints=critical,CA:FALSE \
             -addext subjectAltName=DNS:localhost,IP:127.0.0.1"
        }
        _ => "check the acceptor's certificate",
    }
}

/// Logs a failed attempt of initiator `session` to open its connection to `addr`.
pub(crate) fn log_connect_failed(session: &SessionId, addr: SocketAddr, reason: &ConnectFailure) {
    tracing::warn!(
        "{session}: cannot log on to {addr}: {reason}; {}",
        reason.hint()
    );
}

/// Logs the end of an initiator's connection before its Logon was answered; other ends are
/// not failures to get in, and are left to the debug log.
pub(crate) fn log_logon_failed(session: &SessionId, reason: &DisconnectReason) {
    let (sender, target) = (&session.sender_comp_id, &session.target_comp_id);
    match reason {
        DisconnectReason::LogonUnanswered => tracing::warn!(
            "{session}: cannot log on: the acceptor closed the connection without answering our \
             Logon. Acceptors refuse an unknown CompID, wrong credentials or an address they do \
             not allow in silence: check the CompIDs we sent (SenderCompID {sender}, \
             TargetCompID {target}, the acceptor's own), the Username and Password, that the \
             acceptor allows our address, and whether it expects TLS"
        ),
        DisconnectReason::LogonTimeout => tracing::warn!(
            "{session}: cannot log on: no answer to our Logon within LogonTimeout: check that \
             a FIX acceptor listens there, and whether it expects TLS"
        ),
        DisconnectReason::LogonRefused(refusal) => tracing::warn!(
            "{session}: cannot log on: the acceptor's answer to our Logon was refused \
             ({refusal:?})"
        ),
        _ => {}
    }
}
