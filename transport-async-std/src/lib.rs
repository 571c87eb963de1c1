//! The async-io/futures-io adapter for async-std and smol: it will wire fixgate-core's sans-IO engine to sockets and timers (issue "adapters"); it has no API yet.
