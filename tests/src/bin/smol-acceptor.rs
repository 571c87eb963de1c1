//! fixgate's acceptor on the async-io adapter, under smol (issue 7, item 6): sessions created for
//! unregistered Logons with memory stores, and an executor that answers each NewOrderSingle with
//! one ExecutionReport, as `fixgate --app executor` does on tokio.
//!
//! ```text
//! smol-acceptor --port P
//! ```

use std::sync::Arc;

use fixgate_async_std::{Application, Context, FixEngine, Spawner, TlsConfig};
use fixgate_core::codec::FieldWriter;
use fixgate_core::{Delivered, EngineConfig, SessionId, tag};
use fixgate_tests::bench::number_arg;

/// Fills every order at its price.
struct Executor {
    executions: u64,
    body: FieldWriter,
}

impl Application for Executor {
    fn on_message(&mut self, ctx: &mut Context<'_>, session: &SessionId, delivered: Delivered) {
        let msg = delivered.message();
        if msg.msg_type() != b"D" {
            let _ = ctx.ack(session, &delivered);
            return;
        }
        self.executions += 1;
        let qty = msg.get(tag::ORDER_QTY).unwrap_or(b"0");
        let price = msg.get(44).unwrap_or(b"0");
        self.body.clear();
        self.body
            .uint(37, self.executions)
            .bytes(tag::CL_ORD_ID, msg.get(tag::CL_ORD_ID).unwrap_or_default())
            .uint(17, self.executions)
            .char(150, b'F')
            .char(39, b'2')
            .bytes(tag::SYMBOL, msg.get(tag::SYMBOL).unwrap_or_default())
            .bytes(54, msg.get(54).unwrap_or_default())
            .bytes(tag::ORDER_QTY, qty)
            .bytes(32, qty)
            .bytes(31, price)
            .uint(151, 0)
            .bytes(14, qty)
            .bytes(6, price);
        let _ = ctx.reply(session, delivered, b"8", self.body.as_bytes());
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port = u16::try_from(number_arg(&args, "--port", 9876)).expect("a port");
    // One thread runs every task, as the tokio binary's current-thread runtime does: each
    // message crosses tasks, and cross-thread wake-ups would cost more than the FIX work.
    let executor = Arc::new(smol::Executor::new());
    let spawner: Spawner = {
        let executor = executor.clone();
        Arc::new(move |task| executor.spawn(task).detach())
    };
    let config = EngineConfig {
        create_unregistered_acceptor_session: true,
        ..EngineConfig::default()
    };
    let app = Executor {
        executions: 0,
        body: FieldWriter::new(),
    };
    smol::block_on(executor.run(async {
        let addr = ([127, 0, 0, 1], port).into();
        let _engine =
            FixEngine::start_with_app(config, Some(addr), spawner, TlsConfig::default(), app)
                .await
                .expect("listen");
        println!("smol-acceptor listening on 127.0.0.1:{port}");
        futures_lite::future::pending::<()>().await;
    }));
}
