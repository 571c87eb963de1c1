//! What both codec benchmarks measure the same way.

use std::hint::black_box;

use bytes::BytesMut;
use fixgate_core::codec::{FieldWriter, HeaderField, Value, encode_frame};
use fixgate_core::{TimestampPrecision, UtcTimestamp, tag};

/// The 203-byte NewOrderSingle of `shared/research/perf-anchors.md` section 4.
pub(crate) const NOS: &[u8] = include_bytes!("../fixtures/new_order_single.fix");
/// The 291-byte ExecutionReport of the same page.
pub(crate) const ER: &[u8] = include_bytes!("../fixtures/execution_report.fix");

/// Encodes the ExecutionReport fixture from pre-formatted values with MsgSeqNum `seq`, into
/// reused buffers (the anchors' `encode_er_str`). Returns the frame's length. SendingTime is
/// formatted whole each time through the public `UtcTimestamp::format` (a session keeps the last
/// second's text and writes only the fraction; QuickFIX's anchor sets it as a fixed string).
pub(crate) fn encode_er(
    body: &mut FieldWriter,
    out: &mut BytesMut,
    seq: u64,
    sending_time: UtcTimestamp,
) -> usize {
    body.clear();
    out.clear();
    body.str(37, "ORD-000000001234")
        .str(11, "CLORD-000000001234")
        .str(17, "EXEC-000000001234-1")
        .str(150, "F")
        .str(39, "2")
        .str(1, "ACCOUNT01")
        .str(55, "AAPL")
        .str(54, "1")
        .str(38, "100")
        .str(40, "2")
        .str(44, "187.25")
        .str(59, "0")
        .str(32, "100")
        .str(31, "187.25")
        .str(151, "0")
        .str(14, "100")
        .str(6, "187.25")
        .str(60, "20261126-14:36:27.123456");
    let sending_time = sending_time.format(TimestampPrecision::Micros);
    let mut header = [
        HeaderField::new(tag::MSG_SEQ_NUM, Value::Uint(black_box(seq))),
        HeaderField::new(tag::SENDER_COMP_ID, Value::Text(b"ACCEPTOR01")),
        HeaderField::new(tag::SENDING_TIME, Value::Text(sending_time.as_bytes())),
        HeaderField::new(tag::TARGET_COMP_ID, Value::Text(b"INITIATOR01")),
    ];
    encode_frame(out, b"FIX.4.4", b"8", &mut header, body.as_bytes()).len()
}
