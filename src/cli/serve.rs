//! `seqmodels serve`: the flags of the HTTP server, turned into a
//! [`seqmodels::serve::ServeConfig`]; the server itself is in the library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use seqmodels::serve::{self, Batching, Limits, ModelKind, ModelSpec, ServeConfig, Server};

use super::common::{at_most, byte_count, parse_duration, positive, DeviceArgs};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the address is printed on stdout).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Listen on an address other than loopback (0.0.0.0, a LAN address). RISK: the server
    /// has no authentication and no TLS; anyone who can reach the port can run the models and
    /// use their CPU or GPU time. Put an authenticating proxy in front of it.
    #[arg(long)]
    pub allow_remote: bool,
    /// A translator to serve: `dates` (the built-in model) or NAME=DIR; repeatable. Without any
    /// model named, the built-in dates model is served as `dates`.
    #[arg(long, value_name = "NAME=DIR|dates")]
    pub translator: Vec<String>,
    /// A sentence classifier to serve, NAME=DIR (written by `classify train`); repeatable.
    #[arg(long, value_name = "NAME=DIR")]
    pub classifier: Vec<String>,
    /// Word vectors to serve, NAME=FILE (any format `embed` reads); repeatable.
    #[arg(long, value_name = "NAME=FILE")]
    pub vectors: Vec<String>,
    /// A character language model to serve, NAME=DIR; repeatable.
    #[arg(long, value_name = "NAME=DIR")]
    pub charlm: Vec<String>,
    /// A JSON file naming models as the flags do: {"translator": ["dates", "fr=models/fr"],
    /// "classifier": [...], "vectors": [...], "charlm": [...]} (paths relative to the file).
    #[arg(long, value_name = "FILE")]
    pub models: Option<PathBuf>,
    /// The most inputs a model decodes at once (concurrent requests are batched), shared among
    /// a translator's replicas.
    #[arg(long, default_value_t = 64, value_parser = positive)]
    pub max_batch: usize,
    /// How long the first request of a batch waits for others, in milliseconds.
    #[arg(long, default_value_t = 5, value_parser = at_most::<10_000>)]
    pub max_wait_ms: usize,
    /// A request that waits longer than this for its model gets a 503 (0.5s, 30s, 2m).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// The largest request body (K, M: KiB, MiB); larger is a 413.
    #[arg(long, default_value = "1M", value_parser = byte_count)]
    pub max_body_bytes: usize,
    /// The most inputs (texts, words, samples) in one request; more is a 422.
    #[arg(long, default_value_t = 256, value_parser = positive)]
    pub max_inputs: usize,
    /// The longest input in bytes; longer is a 422.
    #[arg(long, default_value_t = 4096, value_parser = positive)]
    pub max_input_bytes: usize,
    /// The widest beam a translation request may ask for; wider is a 422.
    #[arg(long, default_value_t = 16, value_parser = positive)]
    pub max_beam_width: usize,
    /// The most characters a charlm sample may ask for (max_len); more is a 422.
    #[arg(long, default_value_t = 2000, value_parser = positive)]
    pub max_sample_chars: usize,
    /// The most neighbours an embedding query may ask for (k); more is a 422.
    #[arg(long, default_value_t = 1000, value_parser = positive)]
    pub max_neighbours: usize,
    /// The most requests waiting for one model; more get a 503 at once.
    #[arg(long, default_value_t = 1024, value_parser = positive)]
    pub max_queue: usize,
    /// Threads that read and write HTTP (the models run on threads of their own).
    #[arg(long, default_value_t = 2, value_parser = at_most::<256>)]
    pub http_threads: usize,
    /// Copies of each translator, decoding batches side by side, each with --threads / N
    /// libtorch threads and --max-batch / N inputs at a time; 0: one per --threads on the CPU,
    /// at most 4 (small batches decode faster side by side than with every thread on one), one
    /// on a GPU.
    #[arg(long, default_value_t = 0, value_parser = at_most::<256>)]
    pub replicas: usize,
    #[command(flatten)]
    pub device: DeviceArgs,
}

/// Serves until SIGTERM or Ctrl-C; `threads` is the global `--threads`.
pub fn run(args: ServeArgs, threads: usize) -> anyhow::Result<()> {
    limit_malloc_arenas();
    limit_onednn_cache();
    let mut models = match &args.models {
        Some(path) => serve::read_config(path)?,
        None => Vec::new(),
    };
    let flags = [
        (ModelKind::Translator, &args.translator),
        (ModelKind::Classifier, &args.classifier),
        (ModelKind::Vectors, &args.vectors),
        (ModelKind::Charlm, &args.charlm),
    ];
    for (kind, specs) in flags {
        for spec in specs {
            models.push(ModelSpec::parse(kind, spec)?);
        }
    }
    let config = ServeConfig {
        addr: args.addr,
        allow_remote: args.allow_remote,
        models,
        device: args.device.device.resolve()?,
        batching: Batching {
            max_batch: args.max_batch,
            max_wait: Duration::from_millis(args.max_wait_ms as u64),
        },
        limits: Limits {
            max_body_bytes: args.max_body_bytes,
            max_inputs: args.max_inputs,
            max_input_bytes: args.max_input_bytes,
            max_beam_width: args.max_beam_width,
            max_sample_chars: args.max_sample_chars,
            max_neighbours: args.max_neighbours,
            max_queue: args.max_queue,
        },
        timeout: args.timeout,
        threads,
        replicas: args.replicas,
        http_threads: args.http_threads,
    };
    let server = Server::bind(config)?;
    eprintln!("serving {}", server.models().join(", "));
    // Scripts and tests read the address (port 0 picks one) from this line.
    println!("listening on http://{}", server.local_addr());
    server.run()?;
    eprintln!("stopped: every request in flight was answered");
    Ok(())
}

/// Caps glibc's malloc at two arenas for the server's process. glibc gives threads that
/// allocate at once arenas of their own, and a server's async threads and model workers keep
/// them fragmented: under `scripts/bench/serve.sh`'s soak load RSS crept from 161 to 187 MiB
/// over three minutes, and with two arenas from 161 to 169 MiB, at the same throughput.
/// A `MALLOC_ARENA_MAX` the user set is left to glibc.
fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tuning parameter; it is called before the server's threads
    // start.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// The most oneDNN primitives libtorch keeps for the server, unless the user set
/// `ONEDNN_PRIMITIVE_CACHE_CAPACITY` already.
const ONEDNN_CACHE: &str = "16";

/// Bounds oneDNN's cache of compiled primitives. libtorch keeps one per tensor shape it has run
/// (up to 1,024), and a server's batches come in ever new shapes (batch size by input length),
/// so under `scripts/bench/serve.sh`'s soak RSS crept from 158 to 178 MiB over five minutes;
/// with the cache off it stayed within 148-160 MiB.
fn limit_onednn_cache() {
    const VAR: &str = "ONEDNN_PRIMITIVE_CACHE_CAPACITY";
    if std::env::var_os(VAR).is_none() {
        // oneDNN reads the variable when libtorch first uses it, after this; no other thread
        // reads the environment yet.
        std::env::set_var(VAR, ONEDNN_CACHE);
    }
}
