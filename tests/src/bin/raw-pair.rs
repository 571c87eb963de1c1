//! The raw-socket ceiling for the session benchmark: the same bytes as a FIX order flow (the
//! 203-byte NewOrderSingle out, the 291-byte ExecutionReport back) with the same window, over
//! loopback TCP, and no FIX work at all: fixed-size framing, one write per batch.
//!
//! ```text
//! raw-pair server --port P [--spin]                 (P = 0: any free port, printed)
//! raw-pair client --port P --count N [--window W]     (W = 0: no limit)
//! raw-pair client --port P --count N --rate R [--spin] (open loop: order i due at i / R s)
//! ```
//! The client prints one JSON line with the keys of `fixgate initiate --json`; paced, the
//! latency of each report counts from its order's due time (no coordinated omission). With
//! `--spin`, reads poll the socket in a loop instead of sleeping until it is readable, as
//! fixgate's `ReceiveSpinningTimeout` does: the ceiling for that mode.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use fixgate_tests::bench::number_arg;
use fixgate_tests::fixtures::{EXECUTION_REPORT, NEW_ORDER_SINGLE};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str, default: u64| number_arg(&args, name, default);
    let port = value("--port", 19879) as u16;
    let spin = args.iter().any(|a| a == "--spin");
    match args.get(1).map(String::as_str) {
        Some("server") => server(port, spin),
        Some("client") if args.iter().any(|a| a == "--rate") => {
            paced(port, value("--count", 10_000), value("--rate", 1000), spin)
        }
        Some("client") => client(port, value("--count", 100_000), value("--window", 100)),
        _ => {
            eprintln!("usage: raw-pair server --port P | client --port P --count N [--window W]");
            std::process::exit(64);
        }
    }
}

/// How long a spinning read polls before it sleeps, as `ReceiveSpinningTimeout = 2000` does.
const SPIN_FOR: Duration = Duration::from_millis(2);

/// Reads what has arrived; with `spin`, polls (yielding the CPU in between) for up to
/// [`SPIN_FOR`] before it sleeps until something arrives.
fn read(stream: &mut TcpStream, buf: &mut [u8], spin: bool) -> io::Result<usize> {
    let started = Instant::now();
    while spin && started.elapsed() < SPIN_FOR {
        match rustix::net::recv(&*stream, &mut *buf, rustix::net::RecvFlags::DONTWAIT) {
            Ok((n, _)) => return Ok(n),
            Err(rustix::io::Errno::AGAIN) => std::thread::yield_now(),
            Err(e) => return Err(e.into()),
        }
    }
    stream.read(buf)
}

/// Answers every 203 bytes read with the 291-byte report, all answers to one read in one write.
fn server(port: u16, spin: bool) {
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    // Port 0 takes a free one: the line tells which.
    println!(
        "raw-pair listening on {}",
        listener.local_addr().expect("bound")
    );
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        stream.set_nodelay(true).expect("nodelay");
        let mut buf = vec![0u8; 64 * 1024];
        let mut pending = 0usize;
        let mut out = Vec::with_capacity(128 * 1024);
        loop {
            let n = match read(&mut stream, &mut buf, spin) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            pending += n;
            out.clear();
            while pending >= NEW_ORDER_SINGLE.len() {
                pending -= NEW_ORDER_SINGLE.len();
                out.extend_from_slice(EXECUTION_REPORT);
            }
            if stream.write_all(&out).is_err() {
                break;
            }
        }
    }
}

/// Sends `count` orders with at most `window` outstanding and counts the reports.
fn client(port: u16, count: u64, window: u64) {
    let window = if window == 0 { count } else { window };
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut reader = stream.try_clone().expect("clone");
    let start = Instant::now();
    let (mut sent, mut received, mut partial) = (0u64, 0u64, 0usize);
    let mut out = Vec::with_capacity(128 * 1024);
    let mut buf = vec![0u8; 64 * 1024];
    while received < count {
        out.clear();
        // At most 256 orders per write, so that an unbounded window still reads as it goes.
        let burst_end = sent + 256;
        while sent < count && sent - received < window && sent < burst_end {
            out.extend_from_slice(NEW_ORDER_SINGLE);
            sent += 1;
        }
        if !out.is_empty() {
            stream.write_all(&out).expect("write");
        }
        let n = reader.read(&mut buf).expect("read");
        assert!(n > 0, "the server closed");
        partial += n;
        received += (partial / EXECUTION_REPORT.len()) as u64;
        partial %= EXECUTION_REPORT.len();
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{{\"sent\":{sent},\"received\":{received},\"seconds\":{seconds:.6},\"msgs_per_s\":{:.1},\"window\":{window}}}",
        received as f64 / seconds
    );
}

/// Sends order i at `i / rate` seconds (a thread of its own that waits until each is due), and
/// times each report from its order's due time.
fn paced(port: u16, count: u64, rate: u64, spin: bool) {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut writer = stream.try_clone().expect("clone");
    let mut reader = stream;
    let due = move |i: u64| Duration::from_secs_f64(i as f64 / rate as f64);
    let start = Instant::now();
    let sender = std::thread::spawn(move || {
        // Timer slack 1 ns, as `fixgate initiate` and qf-peer set it.
        let _ = rustix::thread::set_current_timer_slack(std::num::NonZeroU64::new(1));
        for i in 0..count {
            // Sleep until shortly before the due time, then spin, as `fixgate initiate` does:
            // yielding the CPU meanwhile, so that the reader on the same core is not held up.
            if let Some(wait) = due(i).checked_sub(start.elapsed()) {
                std::thread::sleep(wait.saturating_sub(Duration::from_micros(50)));
                while start.elapsed() < due(i) {
                    std::thread::yield_now();
                }
            }
            writer.write_all(NEW_ORDER_SINGLE).expect("write");
        }
    });
    let (mut received, mut partial) = (0u64, 0usize);
    let mut latencies_us = Vec::with_capacity(count as usize);
    let mut buf = vec![0u8; 64 * 1024];
    while received < count {
        let n = read(&mut reader, &mut buf, spin).expect("read");
        assert!(n > 0, "the server closed");
        let at = start.elapsed();
        partial += n;
        while partial >= EXECUTION_REPORT.len() {
            partial -= EXECUTION_REPORT.len();
            latencies_us.push((at - due(received)).as_secs_f64() * 1e6);
            received += 1;
        }
    }
    sender.join().expect("the sender");
    let sent = count;
    let seconds = start.elapsed().as_secs_f64();
    latencies_us.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies_us[((latencies_us.len() as f64 - 1.0) * p).round() as usize];
    // Reports a millisecond or more late (the machine's stalls), per mille, as `fixgate initiate`.
    let stalled = latencies_us.len() - latencies_us.partition_point(|&l| l < 1000.0);
    let stalled_permille = 1000.0 * stalled as f64 / latencies_us.len() as f64;
    println!(
        "{{\"sent\":{sent},\"received\":{received},\"seconds\":{seconds:.6},\"msgs_per_s\":{:.1},\"p50_us\":{:.1},\"p99_us\":{:.1},\"p999_us\":{:.1},\"max_us\":{:.1},\"over_1ms_permille\":{stalled_permille:.1}}}",
        received as f64 / seconds,
        pct(0.5),
        pct(0.99),
        pct(0.999),
        pct(1.0)
    );
}
