//! fixgate's acceptor on the async-io adapter, under smol (issue 7, item 6): sessions created for
//! unregistered Logons with memory stores, and the `fixgate` binary's executor, which answers each
//! NewOrderSingle with one ExecutionReport.
//!
//! ```text
//! smol-acceptor --port P
//! ```

use std::sync::Arc;

use fixgate::apps::{App, Responder};
use fixgate_async_std::{FixEngine, Spawner, TlsConfig};
use fixgate_core::EngineConfig;
use fixgate_tests::bench::number_arg;

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
    let app = Responder::new(App::Executor, false, None);
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
