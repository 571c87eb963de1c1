//! The tokio adapter: it will wire fixgate-core's sans-IO engine to tokio sockets and timers (issue "adapters"); it has no API yet.
