//! The applications of the `fixgate` binary, as a library so that tests run the acceptor's own
//! executor and echo in process (the QuickFIX acceptance suite plays against this echo).

pub mod apps;
pub mod failover;
pub mod message_logs;
pub mod stores;
