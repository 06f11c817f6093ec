//! Command-line interface: one file per command group, each converting its arguments into the
//! library's types.

mod charlm;
mod classify;
mod dates;
mod doctor;
mod embed;
mod progress;
mod seq2seq;
mod translate;

use clap::{Args, Parser, Subcommand};
use seqmodels::DeviceSpec;

/// Sequence models on libtorch: word embeddings, sentence classifiers, character language
/// models and attention seq2seq translation, in one binary.
#[derive(Debug, Parser)]
#[command(name = "seqmodels", version, about, long_about = None)]
pub struct Cli {
    /// Print no progress bars (they are also off when stderr is not a terminal).
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// libtorch intra-op threads; 0 keeps libtorch's default (one per core).
    #[arg(long, global = true, default_value_t = 0, value_name = "N", value_parser = at_most::<1024>)]
    pub threads: usize,

    #[command(subcommand)]
    pub command: Command,
}

/// Where to run: shared by every command that computes.
#[derive(Debug, Clone, Args)]
pub struct DeviceArgs {
    /// auto (first GPU if any, else CPU), cpu, cuda or cuda:N. Asking for CUDA where there is
    /// none is an error, never a silent fallback.
    #[arg(long, default_value = "auto", value_parser = parse_device)]
    pub device: DeviceSpec,
}

fn parse_device(s: &str) -> Result<DeviceSpec, String> {
    s.parse().map_err(|e: seqmodels::Error| e.to_string())
}

/// A count of at least 1 (a batch size, a number of neighbours): 0 would do nothing.
pub(crate) fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>().map_err(|e| format!("{e}"))? {
        0 => Err("must be at least 1".into()),
        n => Ok(n),
    }
}

/// A count of at most `MAX`, for the options whose memory or time grows with them, so that a
/// mistyped value is refused at once rather than exhausting the machine.
pub(crate) fn at_most<const MAX: usize>(s: &str) -> Result<usize, String> {
    let n: usize = s.parse().map_err(|e| format!("{e}"))?;
    if n > MAX {
        return Err(format!("{n} is more than the {MAX} allowed"));
    }
    Ok(n)
}

/// A count from 1 to `MAX` (how many samples or dates to print): 0 would print nothing.
pub(crate) fn between_one_and<const MAX: usize>(s: &str) -> Result<usize, String> {
    match at_most::<MAX>(s)? {
        0 => Err("must be at least 1".into()),
        n => Ok(n),
    }
}

/// A factor of at least 1 (the GPU word2vec trainer's row cap).
pub(crate) fn at_least_one(s: &str) -> Result<f64, String> {
    let x: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if x >= 1.0 {
        Ok(x)
    } else {
        Err(format!("{x} is below 1"))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the seqmodels and libtorch versions, threads and GPUs, and check each device.
    Doctor(doctor::DoctorArgs),
    /// Word embeddings: train skip-gram from a corpus, convert, query, evaluate, debias.
    Embed(embed::EmbedArgs),
    /// Sentence classifiers (emoji, sentiment): averaging baseline and LSTM over word vectors.
    Classify(classify::ClassifyArgs),
    /// Character-level language models: train on names or text, sample, evaluate.
    Charlm(charlm::CharlmArgs),
    /// Train and evaluate attention seq2seq translators.
    Seq2seq(seq2seq::Seq2seqArgs),
    /// Translate dates (built-in model) or text with a trained model, with beam search.
    Translate(translate::TranslateArgs),
    /// Generate human-written dates paired with ISO dates.
    Dates(dates::DatesArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    seqmodels::device::set_threads(cli.threads);
    let progress = progress::Bar::new(cli.quiet);
    match cli.command {
        Command::Doctor(args) => doctor::run(args, &progress),
        Command::Embed(args) => embed::run(args, cli.threads, &progress),
        Command::Classify(args) => classify::run(args, &progress),
        Command::Charlm(args) => charlm::run(args, &progress),
        Command::Seq2seq(args) => seq2seq::run(args, &progress),
        Command::Translate(args) => translate::run(args),
        Command::Dates(args) => dates::run(args),
    }
}
