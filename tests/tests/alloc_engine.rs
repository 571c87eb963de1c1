//! The engine's steady state: routing a logged-on session's inbound messages to the application
//! allocates nothing per message.

use fixgate_core::{
    BeginString, ConnId, Engine, EngineConfig, MemoryStore, Output, Role, SessionConfig, SessionId,
    TimestampPrecision, UtcTimestamp,
};
use fixgate_tests::alloc::{CountingAllocator, allocations_in};
use fixgate_tests::clock::SimClock;
use fixgate_tests::wire::frame;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Polls every output, settling deliveries; returns how many were delivered.
fn drain(engine: &mut Engine, id: &SessionId) -> usize {
    let mut delivered = 0;
    while let Some(output) = engine.poll_output() {
        if let Output::Deliver { session } = output {
            let msg = engine.take_delivered(&session).expect("announced");
            engine.ack(id, &msg).unwrap();
            delivered += 1;
        }
    }
    delivered
}

#[test]
fn inbound_application_messages_allocate_nothing_per_message() {
    let clock = SimClock::new();
    let mut engine = Engine::new(EngineConfig::default(), clock.now());
    let id = SessionId::new("US", "THEM");
    let config = SessionConfig::new(BeginString::Fix44, "", "", Role::Acceptor);
    let store = MemoryStore::new(UtcTimestamp::from_system_time(clock.utc()));
    engine
        .create_session(id.clone(), config, Box::new(store))
        .unwrap();
    engine.register_acceptor(&id).unwrap();
    let time = UtcTimestamp::from_system_time(clock.utc()).format(TimestampPrecision::Millis);
    let message = |msg_type: &str, seq: u64, fields: &str| {
        frame(
            "FIX.4.4",
            &format!(
                "35={msg_type}|34={seq}|49=THEM|52={}|56=US|{fields}",
                time.as_str()
            ),
        )
    };
    let conn = ConnId(1);
    engine.handle_connection_opened(conn, None, clock.now());
    engine.handle_input(conn, clock.now(), &message("A", 1, "98=0|108=30|"));
    drain(&mut engine, &id);
    let orders: Vec<Vec<u8>> = (2..2002)
        .map(|seq| {
            message(
                "D",
                seq,
                "11=ORD|21=1|55=IBM|54=1|60=20261126-14:36:27|38=100|40=1|",
            )
        })
        .collect();
    let (warm, rest) = orders.split_at(1000);
    for order in warm {
        engine.handle_input(conn, clock.now(), order);
        assert_eq!(drain(&mut engine, &id), 1);
    }
    let (delivered, allocations) = allocations_in(|| {
        let mut delivered = 0;
        for order in rest {
            engine.handle_input(conn, clock.now(), order);
            delivered += drain(&mut engine, &id);
        }
        delivered
    });
    assert_eq!(delivered, 1000);
    assert_eq!(allocations, 0, "allocations for 1000 inbound messages");
}
