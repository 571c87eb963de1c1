//! The simulated world on its own: flow control, faults and replay.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::executor::{Executor, lock};
use super::socket::{SimListener, SimStream, SimTimer};

const ADDR: ([u8; 4], u16) = ([127, 0, 0, 1], 9000);
const TOTAL: usize = 1 << 20;

/// A writer sends a mebibyte to a reader that stops reading for a second; returns the trace
/// hash, the bytes the writer had written when the freeze ended, and what the reader got.
fn frozen_reader(seed: u64) -> (u64, usize, Vec<u8>) {
    let mut exec = Executor::new(seed);
    let world = exec.world();
    let written = Arc::new(Mutex::new(0usize));
    let received = Arc::new(Mutex::new(Vec::new()));
    let addr = SocketAddr::from(ADDR);
    // The listener, and so the accepted connection, belongs to process 1.
    lock(&world).current = 1;
    let mut listener = SimListener::bind(world.clone(), addr).unwrap();
    {
        let mut w = lock(&world);
        let received = received.clone();
        w.spawn_in(
            1,
            Box::pin(async move {
                let (mut stream, _) = std::future::poll_fn(|cx| listener.poll_accept(cx))
                    .await
                    .unwrap();
                let mut buf = vec![0u8; 4096];
                loop {
                    let n = stream.read(&mut buf).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    lock(&received).extend_from_slice(&buf[..n]);
                }
            }),
        );
        let (writer_world, written) = (world.clone(), written.clone());
        w.spawn_in(
            2,
            Box::pin(async move {
                let mut stream = SimStream::connect(writer_world, addr).unwrap();
                let data: Vec<u8> = (0..TOTAL).map(|i| (i % 251) as u8).collect();
                for chunk in data.chunks(1000) {
                    stream.write_all(chunk).await.unwrap();
                    *lock(&written) += chunk.len();
                }
                stream.shutdown();
            }),
        );
        w.freeze_reads(1, Duration::from_secs(1));
    }
    assert!(!exec.run_until(Duration::from_millis(999)));
    let at_thaw = *lock(&written);
    assert!(
        exec.run_until(Duration::from_secs(600)),
        "the world goes idle"
    );
    let hash = lock(&world).trace.hash();
    let received = std::mem::take(&mut *lock(&received));
    (hash, at_thaw, received)
}

#[test]
fn a_reader_that_stops_reading_holds_its_writer_at_the_pipes_capacity() {
    let (_, at_thaw, received) = frozen_reader(1);
    let capacity = super::net::Faults::default().capacity;
    assert!(
        at_thaw <= capacity && at_thaw + 1000 > capacity - 1000,
        "{at_thaw} bytes written while the reader read nothing"
    );
    let expected: Vec<u8> = (0..TOTAL).map(|i| (i % 251) as u8).collect();
    assert!(received == expected, "every byte, in order");
}

#[test]
fn one_seed_replays_the_same_trace_and_another_does_not() {
    let (a, _, _) = frozen_reader(42);
    let (b, _, _) = frozen_reader(42);
    let (c, _, _) = frozen_reader(43);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn a_timer_fires_at_its_virtual_deadline() {
    let mut exec = Executor::new(3);
    let world = exec.world();
    let fired = Arc::new(Mutex::new(None));
    {
        let mut w = lock(&world);
        let deadline = w.now().mono + Duration::from_secs(30);
        let (timer_world, fired) = (world.clone(), fired.clone());
        w.spawn_in(
            1,
            Box::pin(async move {
                let mut timer = SimTimer::new(timer_world.clone(), deadline);
                // Moved once before it fires.
                timer.move_to(deadline + Duration::from_secs(5));
                timer.await;
                *lock(&fired) = Some(lock(&timer_world).elapsed);
            }),
        );
    }
    assert!(exec.run_until(Duration::from_secs(60)));
    let at = lock(&fired).expect("fired");
    assert!(
        at >= Duration::from_secs(35) && at < Duration::from_millis(35_001),
        "{at:?}"
    );
}
