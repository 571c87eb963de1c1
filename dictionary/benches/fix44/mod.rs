//! What both validation benchmarks read: QuickFIX's FIX 4.4 dictionary and the two fixtures.

use std::path::Path;
use std::sync::Arc;

use fixgate_core::dictionary::Dictionary;

/// The 203-byte NewOrderSingle of `shared/research/perf-anchors.md`.
pub(crate) const NOS: &[u8] = include_bytes!("../../../core/benches/fixtures/new_order_single.fix");
/// The 291-byte ExecutionReport of the same page.
pub(crate) const ER: &[u8] = include_bytes!("../../../core/benches/fixtures/execution_report.fix");

/// FIX44.xml from `../shared` (or `$FIXGATE_SHARED`); `None`, said on stderr, when it is absent.
pub(crate) fn dictionary() -> Option<Arc<Dictionary>> {
    let shared = std::env::var_os("FIXGATE_SHARED").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
        Into::into,
    );
    let file = shared.join("conformance/quickfix/spec/FIX44.xml");
    match fixgate_dictionary::load(&file) {
        Ok(dictionary) => Some(Arc::new(dictionary)),
        Err(error) => {
            eprintln!("skipping: no dictionary at {} ({error})", file.display());
            None
        }
    }
}
