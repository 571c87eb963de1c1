//! The `session_input` fuzz target's properties over inputs generated from seeds
//! (`fuzz::session_input_from_seed`): FIX-shaped messages in every mode, so that each run tries
//! the session's rules (NextExpectedMsgSeqNum, resets, gaps, chunked ResendRequests, garbled
//! messages) rather than its framing. It found a Logon with ResetSeqNumFlag and a
//! NextExpectedMsgSeqNum above 1 that reset the numbers before it was refused.

#[test]
fn generated_session_inputs_keep_the_targets_properties() {
    for seed in 1..=10_000 {
        fixgate_tests::fuzz::session_input(&fixgate_tests::fuzz::session_input_from_seed(seed));
    }
}
