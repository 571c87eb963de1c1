//! The benchmark fixtures of `shared/research/perf-anchors.md` section 4, byte for byte. The files
//! live beside core's benchmark, which reads the same bytes.

/// FIX 4.4 NewOrderSingle, 203 bytes.
pub const NEW_ORDER_SINGLE: &[u8] =
    include_bytes!("../../core/benches/fixtures/new_order_single.fix");

/// FIX 4.4 ExecutionReport, 291 bytes.
pub const EXECUTION_REPORT: &[u8] =
    include_bytes!("../../core/benches/fixtures/execution_report.fix");
