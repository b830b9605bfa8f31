//! `ripple`: a streaming SQL server that speaks the PostgreSQL wire
//! protocol and keeps materialized views up to date with differential
//! dataflow. This binary wires the pieces together: configuration, logging,
//! recovery from the data directory, the timely workers, the coordinator
//! task and the pgwire listener, and shuts them down in order.

mod auth;
mod clock;
mod coordinator;
mod http;
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
    /// Address of the HTTP API (`/api/sql`, the SUBSCRIBE WebSocket,
    /// webhook sources); `off` for none. It checks `--auth` with HTTP Basic
    /// passwords and serves HTTPS with `--tls-cert`; without TLS a
    /// non-loopback address needs `--auth trust`.
    #[arg(long, default_value = "127.0.0.1:6876")]
    http_listen: String,
    /// Directory holding the durable log.
    #[arg(long, default_value = "./ripple-data")]
    data_dir: PathBuf,
    /// Timely worker threads (default: available cores).
    #[arg(long)]
    workers: Option<usize>,
    /// Acknowledge writes without fsync (benchmarks only: a crash may lose writes).
    #[arg(long)]
    unsafe_no_fsync: bool,
    /// Take a checkpoint (and truncate the log) once the log has grown by
    /// this many bytes since the last one.
    #[arg(long, default_value_t = 256 << 20)]
    checkpoint_log_bytes: u64,
    /// Do not store materialized views' contents in checkpoints: after a
    /// restart every view is recomputed before it answers reads.
    #[arg(long)]
    no_view_checkpoints: bool,
    /// A SUBSCRIBE whose client has more than this many updates waiting
    /// (not yet read) ends with error 53000 instead of buffering more.
    #[arg(long, default_value_t = 1_000_000)]
    subscribe_backlog: usize,
    /// Milliseconds between clock ticks (10 to 60000). Each tick advances
    /// logical time with no write needed: SUBSCRIBE progress, temporal
    /// filters and reads of views over them move on at least this often.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    tick_interval_ms: u64,
    /// Milliseconds of history to keep behind the current time (0 to one
    /// day), so `SUBSCRIBE … AS OF` may start that far back, e.g. to resume
    /// after a disconnect; kept in memory only, so not across a restart.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=86_400_000))]
    retain_history_ms: u64,
    /// Rounds a WITH RECURSIVE may take before it stops with error 54000
    /// (PostgreSQL has no limit and runs until memory runs out).
    #[arg(long, default_value_t = 10_000)]
    max_recursion_rounds: u64,
    /// PEM certificate chain for TLS (with --tls-key); without them an
    /// SSLRequest is answered "no" and clients that require TLS stop.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for TLS (with --tls-cert).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// File of `user:password` lines, checked before the roles made with
    /// CREATE ROLE … PASSWORD. Giving it makes `--auth` default to
    /// scram-sha-256.
    #[arg(long)]
    users_file: Option<PathBuf>,
    /// How clients authenticate: `trust` (anyone, as any user),
    /// `password` (cleartext; use with TLS), `scram-sha-256`, or
    /// `trust-loopback` (trust on the loopback interface, scram-sha-256 from
    /// anywhere else). A wrong password fails with 28P01. Default:
    /// trust-loopback, or scram-sha-256 with --users-file.
    #[arg(long, value_enum)]
    auth: Option<auth::AuthMethod>,
}

/// The TLS acceptor for `--tls-cert`/`--tls-key`, if given.
fn tls_acceptor(args: &Args) -> anyhow::Result<Option<pgwire::tokio::TlsAcceptor>> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls;
    let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else {
        return Ok(None);
    };
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("reading the TLS certificate {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("reading the TLS key {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the TLS certificate and key do not match")?;
    Ok(Some(pgwire::tokio::TlsAcceptor::from(Arc::new(config))))
}

/// How long a shutdown waits for a coordinator busy with a statement …
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
/// … and for the shutdown checkpoint.
const SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

fn main() -> anyhow::Result<()> {
    let started = std::time::Instant::now();
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
    runtime.block_on(serve(args, workers, started))
}

async fn serve(args: Args, workers: usize, started: std::time::Instant) -> anyhow::Result<()> {
    let (wal, recovered) = catalog::wal::Wal::open(&args.data_dir, !args.unsafe_no_fsync)
        .map_err(|e| anyhow::anyhow!("{}", e.message))
        .context("opening the data directory")?;
    info!(
        segments = recovered.segments,
        log_bytes = recovered.log_bytes,
        checkpoint = recovered.checkpoint.is_some(),
        ms = started.elapsed().as_millis() as u64,
        "recovery: read the data directory"
    );
    let tls = tls_acceptor(&args)?;
    let cluster = dataflow::Cluster::start(workers, args.max_recursion_rounds)
        .map_err(|e| anyhow::anyhow!(e))
        .context("starting timely workers")?;
    info!(workers, data_dir = %args.data_dir.display(), tls = tls.is_some(), "starting ripple");
    let (tx, rx) = mpsc::unbounded_channel();
    let roles = auth::RoleDirectory::default();
    let mut coord = coordinator::Coordinator::new(
        clock::Clock::new(),
        wal,
        cluster,
        tx.clone(),
        roles.clone(),
        coordinator::DurabilityConfig {
            checkpoint_log_bytes: args.checkpoint_log_bytes,
            view_checkpoints: !args.no_view_checkpoints,
        },
        started,
    );
    coord.set_subscribe_backlog(args.subscribe_backlog);
    coord.set_retain_history(args.retain_history_ms);
    coord
        .recover(recovered)
        .map_err(|e| anyhow::anyhow!("{}", e.message))
        .context("replaying the log")?;
    let final_checkpoint = coord.final_checkpoint();
    // The coordinator gets a thread of its own: planning and computing a
    // large write is synchronous work, and must not stall the sessions'
    // network I/O or the signal handling on the shared runtime.
    let coord_thread = std::thread::Builder::new()
        .name("coordinator".into())
        .spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map(|rt| rt.block_on(coord.run(rx)))
        })
        .context("starting the coordinator thread")?;
    let ticker = tx.clone();
    let tick = std::time::Duration::from_millis(args.tick_interval_ms);
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(tick);
        // a late tick is not made up for with a burst of them
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
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
    let mut credentials = auth::Credentials::new(roles.clone());
    if let Some(path) = &args.users_file {
        credentials.load_file(path)?;
    }
    let method = args.auth.unwrap_or(if args.users_file.is_some() {
        auth::AuthMethod::Scram
    } else {
        auth::AuthMethod::TrustLoopback
    });
    let credentials = Arc::new(credentials);
    if args.http_listen != "off" {
        // without TLS, Basic authentication off loopback would send
        // passwords across the network in cleartext
        let loopback = args
            .http_listen
            .parse::<std::net::SocketAddr>()
            .map(|a| a.ip().is_loopback())
            .unwrap_or(args.http_listen.starts_with("localhost:"));
        if !loopback && tls.is_none() && args.auth != Some(auth::AuthMethod::Trust) {
            anyhow::bail!(
                "--http-listen {}: without --tls-cert the HTTP API would take passwords in \
                 cleartext, so it listens only on a loopback address (or with --auth trust)",
                args.http_listen
            );
        }
        // the HTTP API is an addition: a port already taken is logged, not fatal
        match TcpListener::bind(&args.http_listen).await {
            Ok(l) => {
                let https = tls.is_some();
                info!(addr = %args.http_listen, https, "serving the HTTP API");
                let auth = http::HttpAuth::new(method, credentials.clone(), roles.clone());
                tokio::spawn(http::serve(l, tls.clone(), tx.clone(), auth));
            }
            Err(e) => {
                warn!(addr = %args.http_listen, error = %e, "the HTTP API is off: cannot listen")
            }
        }
    }
    let stop = tx.clone();
    info!(?method, "authentication");
    let handlers = session::Handlers::new(tx, method, credentials, roles);
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let h = Arc::clone(&handlers);
                    let tls = tls.clone();
                    tokio::spawn(async move {
                        if let Err(e) = pgwire::tokio::process_socket(socket, tls, h).await {
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
    let _ = stop.send(coordinator::Request::Shutdown);
    // The coordinator writes a shutdown checkpoint when the log has grown
    // since the last one. Every acknowledged write is already in the log,
    // so this is only for a faster next start: it is not waited for long,
    // and a checkpoint cut short is discarded at the next start-up.
    let start = std::time::Instant::now();
    while !coord_thread.is_finished() {
        let waited = start.elapsed();
        let checkpointing = final_checkpoint.load(std::sync::atomic::Ordering::Relaxed);
        if waited >= SHUTDOWN_WAIT || (waited >= BUSY_WAIT && !checkpointing) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    info!("stopped");
    // Open client connections must not keep the process alive.
    std::process::exit(0)
}
