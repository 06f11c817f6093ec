//! Command-line interface: one file per command group, each converting its arguments into the
//! library's types, calling the library and printing; what several groups share is in `common`.

mod charlm;
mod classify;
mod common;
mod dates;
mod doctor;
mod embed;
mod progress;
mod seq2seq;
#[cfg(feature = "serve")]
mod serve;
mod translate;

use clap::{Parser, Subcommand};

use common::{at_most, byte_count};

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

    /// The longest line read from any text file or stdin, in bytes (K, M, G: KiB, MiB, GiB):
    /// a longer one is an error naming its line, or, where a model reads only the start of a
    /// text (a classifier's sentences), cut with a warning. Memory stays bounded by it.
    #[arg(long, global = true, default_value = "1M", value_name = "BYTES", value_parser = byte_count)]
    pub max_line_bytes: usize,

    #[command(subcommand)]
    pub command: Command,
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
    /// Serve the models over HTTP (JSON), with dynamic batching, limits and metrics.
    #[cfg(feature = "serve")]
    Serve(serve::ServeArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    seqmodels::device::set_threads(cli.threads);
    seqmodels::text::set_max_line_bytes(cli.max_line_bytes);
    let progress = progress::Bar::new(cli.quiet);
    match cli.command {
        Command::Doctor(args) => doctor::run(args, &progress),
        Command::Embed(args) => embed::run(args, cli.threads, &progress),
        Command::Classify(args) => classify::run(args, &progress),
        Command::Charlm(args) => charlm::run(args, &progress),
        Command::Seq2seq(args) => seq2seq::run(args, &progress),
        Command::Translate(args) => translate::run(args),
        Command::Dates(args) => dates::run(args),
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve::run(args, cli.threads),
    }
}
