//! TLS for the listening port, from `TlsCertificate` and `TlsPrivateKey` (PEM files).

use std::sync::Arc;

use fixgate_core::properties::Properties;
use fixgate_tokio::TlsConfig;
use fixgate_tokio::rustls;
use fixgate_tokio::rustls::pki_types::pem::PemObject;
use fixgate_tokio::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The TLS server configuration the properties ask for, if any.
pub(crate) fn server_config(
    properties: &Properties,
    file: &str,
) -> Result<Option<TlsConfig>, String> {
    let (cert, key) = match (
        properties.get("TlsCertificate"),
        properties.get("TlsPrivateKey"),
    ) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (cert, key),
        _ => {
            return Err(format!(
                "{file}: TlsCertificate and TlsPrivateKey go together"
            ));
        }
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{file}: TlsCertificate: {cert}: {e}"))?;
    if chain.is_empty() {
        return Err(format!(
            "{file}: TlsCertificate: {cert}: no certificate in it"
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("{file}: TlsPrivateKey: {key}: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| format!("{file}: TlsCertificate/TlsPrivateKey: {e}"))?;
    Ok(Some(TlsConfig {
        server: Some(Arc::new(server)),
        ..TlsConfig::default()
    }))
}

/// The TLS client configuration of `fixgate initiate --tls-ca FILE`: it trusts the certificates
/// in that PEM file, and checks the acceptor's against `server_name` (by default its address).
pub(crate) fn client_config(
    ca: &std::path::Path,
    server_name: Option<&str>,
) -> Result<TlsConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("--tls-ca: {}: {e}", ca.display()))?;
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| format!("--tls-ca: {}: {e}", ca.display()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let server_name = server_name
        .map(|name| {
            rustls::pki_types::ServerName::try_from(name.to_owned())
                .map_err(|e| format!("--tls-name: {name}: {e}"))
        })
        .transpose()?;
    Ok(TlsConfig {
        client: Some(Arc::new(client)),
        server_name,
        ..TlsConfig::default()
    })
}
