//! `ripple`: a streaming SQL server that speaks the PostgreSQL wire
//! protocol and keeps materialized views up to date with differential
//! dataflow. This binary wires the pieces together: configuration, logging,
//! recovery from the data directory, the timely workers, the coordinator
//! task and the pgwire listener, and shuts them down in order.

mod clock;
mod coordinator;
mod pgtypes;
mod session;

use anyhow::Context;
use clap::Parser;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tracing::{info, warn};

/// A streaming SQL server: PostgreSQL wire protocol, incrementally
/// maintained materialized views.
#[derive(Parser, Debug)]
#[command(name = "ripple", version, about)]
struct Args {
    /// Address to accept PostgreSQL connections on.
    #[arg(long, default_value = "127.0.0.1:6875")]
    listen: String,
    /// Directory holding the durable log.
    #[arg(long, default_value = "./ripple-data")]
    data_dir: PathBuf,
    /// Timely worker threads (default: available cores).
    #[arg(long)]
    workers: Option<usize>,
    /// Acknowledge writes without fsync (benchmarks only: a crash may lose writes).
    #[arg(long)]
    unsafe_no_fsync: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let workers = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(args, workers))
}

async fn serve(args: Args, workers: usize) -> anyhow::Result<()> {
    let (wal, records) = catalog::wal::Wal::open(&args.data_dir, !args.unsafe_no_fsync)
        .map_err(|e| anyhow::anyhow!("{}", e.message))
        .context("opening the data directory")?;
    let cluster = dataflow::Cluster::start(workers)
        .map_err(|e| anyhow::anyhow!(e))
        .context("starting timely workers")?;
    info!(workers, data_dir = %args.data_dir.display(), "starting ripple");
    let (tx, rx) = mpsc::unbounded_channel();
    let mut coord = coordinator::Coordinator::new(
        catalog::Catalog::new(),
        clock::Clock::new(),
        wal,
        cluster,
        tx.clone(),
    );
    coord
        .recover(records)
        .map_err(|e| anyhow::anyhow!("{}", e.message))
        .context("replaying the log")?;
    let coord_task = tokio::spawn(coord.run(rx));
    let ticker = tx.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(std::time::Duration::from_millis(1000));
        loop {
            interval.tick().await;
            if ticker.send(coordinator::Request::Tick).is_err() {
                break;
            }
        }
    });
    let listener = TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    info!(addr = %args.listen, "accepting PostgreSQL connections");
    let handlers = session::Handlers::new(tx);
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let h = Arc::clone(&handlers);
                    tokio::spawn(async move {
                        if let Err(e) = pgwire::tokio::process_socket(socket, None, h).await {
                            warn!(%peer, error = %e, "connection ended with an error");
                        }
                    });
                }
                Err(e) => warn!(error = %e, "accept failed"),
            },
            _ = tokio::signal::ctrl_c() => break,
            _ = sigterm.recv() => break,
        }
    }
    info!("shutting down");
    drop(handlers);
    coord_task.abort();
    let _ = coord_task.await;
    info!("stopped");
    // Open client connections must not keep the process alive.
    std::process::exit(0)
}
