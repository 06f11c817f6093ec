//! `seqmodels serve`: the models behind an HTTP API, with dynamic batching, limits and
//! metrics, as translation toolkits ship them (OpenNMT-py's REST server, Marian's server;
//! TorchServe and Triton for the batching and the metrics).
//!
//! The server is a consumer of the capabilities, as the command line is: it loads translators,
//! classifiers, word vectors and character models with their own loaders and answers with
//! their own calls. Its parts:
//!
//! - [`registry`](ModelSpec): which models, from flags or a JSON file, and finding the one a
//!   request names;
//! - `worker`: a thread per model (per replica, for translators) fed by a bounded
//!   channel, which gathers concurrent requests into batches (up to `--max-batch` inputs or
//!   `--max-wait-ms`) and runs the model off the async threads;
//! - `translate`, `classify`, `embed`, `charlm`: one module per endpoint family, each with its
//!   request and answer shapes;
//! - `limits`: what a request may be and the JSON errors (400, 413, 422, 503);
//! - `metrics`: the Prometheus text of `GET /metrics`;
//! - `routes`: the router, `GET /v1/models`, `GET /healthz`.
//!
//! HTTP is axum on tokio, on a few threads (`http_threads`); libtorch gets its own thread
//! count (`threads`), shared out among the `replicas` of each translator, so that batching,
//! not threads fighting over cores, decides throughput.
//! SIGTERM or Ctrl-C stops the listener, lets every request in flight finish, and returns.
//!
//! ```no_run
//! use seqmodels::serve::{ServeConfig, Server};
//! # fn main() -> seqmodels::Result<()> {
//! let server = Server::bind(ServeConfig::default())?; // the built-in dates model
//! println!("listening on http://{}", server.local_addr());
//! server.run() // until SIGTERM or Ctrl-C
//! # }
//! ```

mod charlm;
mod classify;
mod embed;
mod limits;
mod metrics;
mod registry;
mod routes;
mod translate;
mod worker;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use limits::Limits;
pub use registry::{read_config, ModelKind, ModelSource, ModelSpec, BUILTIN_DATES};
pub use worker::Batching;

use crate::error::{Error, Result};
use metrics::Metrics;
use registry::{Registry, WorkerSettings};
use routes::AppState;

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Where to listen; port 0 picks a free port ([`Server::local_addr`] says which).
    pub addr: SocketAddr,
    /// Listen on an address other than loopback. The server has no authentication and no
    /// TLS: anyone who can reach the port can use the models and their CPU or GPU time.
    pub allow_remote: bool,
    /// The models; the built-in dates translator when empty.
    pub models: Vec<ModelSpec>,
    /// Where the models run.
    pub device: tch::Device,
    /// How concurrent requests are gathered into batches.
    pub batching: Batching,
    /// What a request may be.
    pub limits: Limits,
    /// How long a request may wait for its model before it gets a 503.
    pub timeout: Duration,
    /// libtorch intra-op threads; 0: one per core.
    pub threads: usize,
    /// Copies of each translator, each on its own thread with `threads / replicas` libtorch
    /// threads and `max_batch / replicas` inputs at a time, decoding batches side by side;
    /// 0: [`auto_replicas`].
    pub replicas: usize,
    /// Threads that read and write HTTP (the model work is on the models' own threads).
    pub http_threads: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            allow_remote: false,
            models: Vec::new(),
            device: tch::Device::Cpu,
            batching: Batching::default(),
            limits: Limits::default(),
            timeout: Duration::from_secs(30),
            threads: 0,
            replicas: 0,
            http_threads: 2,
        }
    }
}

impl ServeConfig {
    /// Checks the address, the limits and the batching.
    pub fn validate(&self) -> Result<()> {
        if !self.addr.ip().is_loopback() && !self.allow_remote {
            return Err(Error::Config(format!(
                "{} is not a loopback address: the server has no authentication and no TLS, so \
                 anyone who can reach it can use the models; pass --allow-remote to serve there \
                 anyway (behind a proxy that authenticates), or use 127.0.0.1",
                self.addr
            )));
        }
        self.limits.validate()?;
        if self.batching.max_batch == 0 || self.http_threads == 0 {
            return Err(Error::Config(
                "--max-batch and --http-threads must be at least 1".into(),
            ));
        }
        if self.timeout.is_zero() {
            return Err(Error::Config("--timeout must be above 0".into()));
        }
        Ok(())
    }
}

/// How many copies of each translator the server runs when `--replicas` is not given: on the
/// CPU one per libtorch thread, at most 4; on a GPU one.
///
/// A translator decodes in a loop of small steps (a batch of 64 dates is a few matrices of 64
/// rows per step), which libtorch shares out poorly over threads: on 2 cores
/// (`COMPARE_FLAGS="--replicas 1" scripts/bench/serve.sh 5`), 64 concurrent clients of the
/// built-in dates model got 2,603-3,102 inputs/s from two copies of one thread and 32 inputs
/// each, against 2,270-2,365 from one copy with both threads and 64 inputs, in 10.9-13.2 CPU
/// seconds against 16.3-17.0. Each copy holds the model once more in memory.
pub fn auto_replicas(device: tch::Device, threads: usize) -> usize {
    match device {
        tch::Device::Cpu => threads.clamp(1, 4),
        _ => 1,
    }
}

/// A server with its models loaded and its port bound, ready to [`run`](Server::run).
pub struct Server {
    runtime: tokio::runtime::Runtime,
    listener: tokio::net::TcpListener,
    local_addr: SocketAddr,
    state: Arc<AppState>,
    workers: Vec<JoinHandle<()>>,
    shutdown: Shutdown,
}

impl Server {
    /// Binds `config.addr`, starts a worker per model and waits until every model is loaded;
    /// a model that cannot be loaded is an error naming it.
    pub fn bind(config: ServeConfig) -> Result<Server> {
        config.validate()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.http_threads)
            .thread_name("http")
            .enable_all()
            .build()
            .map_err(|e| Error::io("starting the HTTP runtime for", config.addr.to_string(), e))?;
        let shutdown = runtime.block_on(async { Shutdown::listen() })?;
        let listener = std::net::TcpListener::bind(config.addr)
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| Error::io("listening on", config.addr.to_string(), e))?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| Error::io("listening on", config.addr.to_string(), e))?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(listener)
                .map_err(|e| Error::io("listening on", config.addr.to_string(), e))?
        };
        let threads = match config.threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        crate::device::set_threads(threads);
        let replicas = match config.replicas {
            0 => auto_replicas(config.device, threads),
            n => n,
        };
        let metrics = Arc::new(Metrics::default());
        let settings = WorkerSettings {
            batching: config.batching,
            max_queue: config.limits.max_queue,
            threads: worker::Threads { replicas, threads },
            device: config.device,
            metrics: metrics.clone(),
        };
        let (registry, workers) = Registry::load(&config.models, &settings)?;
        let state = Arc::new(AppState {
            registry,
            metrics,
            limits: config.limits,
            timeout: config.timeout,
        });
        Ok(Server {
            runtime,
            listener,
            local_addr,
            state,
            workers,
            shutdown,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `kind/name (source)` of each model loaded, for a start-up line.
    pub fn models(&self) -> Vec<String> {
        self.state
            .registry
            .info
            .iter()
            .map(|m| format!("{}/{} ({})", m.kind.flag(), m.name, m.source))
            .collect()
    }

    /// Answers requests until SIGTERM or SIGINT (Ctrl-C), then stops listening, lets every
    /// request in flight finish, stops the models' workers and returns.
    pub fn run(self) -> Result<()> {
        let Server {
            runtime,
            listener,
            local_addr,
            state,
            workers,
            shutdown,
        } = self;
        let app = routes::router(state.clone());
        let served = runtime.block_on(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown.signalled())
                .await
        });
        // Every connection has ended: drop what holds the workers' queues, then wait for them.
        drop(runtime);
        drop(state);
        for worker in workers {
            let _ = worker.join();
        }
        served.map_err(|e| Error::io("serving on", local_addr.to_string(), e))
    }
}

/// SIGTERM and SIGINT, listened for from the start, so that one that comes while models load
/// or just after the server says it is ready ends it gracefully too.
struct Shutdown {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl Shutdown {
    fn listen() -> Result<Shutdown> {
        use tokio::signal::unix::{signal, SignalKind};
        let listen = |kind: SignalKind, name: &str| {
            signal(kind).map_err(|e| Error::io("listening for", name.to_owned(), e))
        };
        Ok(Shutdown {
            terminate: listen(SignalKind::terminate(), "SIGTERM")?,
            interrupt: listen(SignalKind::interrupt(), "SIGINT")?,
        })
    }

    async fn signalled(mut self) {
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
        }
    }
}
