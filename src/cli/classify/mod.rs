//! `seqmodels classify`: train, apply and evaluate sentence classifiers. Training (and its
//! defaults by data size) is in `train.rs`, `predict` and `eval` in `apply.rs`.

mod apply;
mod train;

use std::path::Path;

use clap::{Args, Subcommand, ValueEnum};
use seqmodels::classify::{Column, Dataset, LongSentence, Source, TableOptions};
use seqmodels::Progress;

pub use apply::{EvalArgs, PredictArgs};
pub use train::TrainArgs;
use train::DEFAULTS_HELP;

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    #[command(subcommand)]
    pub command: ClassifyCommand,
}

#[derive(Debug, Subcommand)]
pub enum ClassifyCommand {
    /// Train a classifier on labelled sentences (or cross-validate one with --cv); the epoch
    /// with the best dev accuracy is saved (the last one without a dev set).
    #[command(after_help = DEFAULTS_HELP)]
    Train(Box<TrainArgs>),
    /// Label sentences given as arguments, or one per line on stdin.
    Predict(PredictArgs),
    /// Accuracy, per-class precision/recall/F1, macro F1 and the confusion matrix on a file.
    Eval(EvalArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FileFormat {
    /// From the extension: .csv is csv, .tsv/.tab is tsv, anything else is lines.
    Auto,
    /// Comma-separated, RFC 4180 quoting.
    Csv,
    /// Tab-separated.
    Tsv,
    /// `label sentence` lines (the SST files).
    Lines,
}

/// How to read a labelled file.
#[derive(Debug, Clone, Args)]
pub struct ReadArgs {
    /// Layout of the labelled files.
    #[arg(long = "input-format", value_enum, default_value_t = FileFormat::Auto)]
    pub input_format: FileFormat,
    /// CSV/TSV: the text column, a 0-based position or a header name.
    #[arg(long, default_value = "0")]
    pub text_column: String,
    /// CSV/TSV: the label column, a 0-based position or a header name.
    #[arg(long, default_value = "1")]
    pub label_column: String,
    /// CSV/TSV: the first row names the columns.
    #[arg(long)]
    pub header: bool,
}

impl ReadArgs {
    fn read(&self, path: &Path) -> anyhow::Result<Dataset> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let format = match self.input_format {
            FileFormat::Auto => match ext.as_str() {
                "csv" => FileFormat::Csv,
                "tsv" | "tab" => FileFormat::Tsv,
                _ => FileFormat::Lines,
            },
            f => f,
        };
        let table = TableOptions {
            text: self.text_column.parse::<Column>()?,
            label: self.label_column.parse::<Column>()?,
            header: self.header,
            delimiter: Some(if format == FileFormat::Tsv {
                b'\t'
            } else {
                b','
            }),
        };
        read_warning(match format {
            FileFormat::Lines => Source::LabelledLines(path),
            _ => Source::Table(path, &table),
        })
    }
}

/// The sentences of `source`, with a warning for each text cut at `--max-line-bytes`.
fn read_warning(source: Source<'_>) -> anyhow::Result<Dataset> {
    let (data, cuts) = Dataset::read(&source)?;
    super::common::warn_cuts(&cuts);
    Ok(data)
}

/// A warning naming each sentence (the first ten) longer than a classifier reads, as training
/// or evaluation found them: only its first `MAX_WORDS` words were used.
fn warn_long_sentences(long: &[LongSentence]) {
    for sentence in long.iter().take(10) {
        eprintln!("warning: {sentence}");
    }
    if long.len() > 10 {
        eprintln!(
            "warning: {} more sentence(s) cut like these",
            long.len() - 10
        );
    }
}

pub fn run(args: ClassifyArgs, progress: &dyn Progress) -> anyhow::Result<()> {
    match args.command {
        ClassifyCommand::Train(args) => train::train(*args, progress),
        ClassifyCommand::Predict(args) => apply::predict(args),
        ClassifyCommand::Eval(args) => apply::eval(args),
    }
}

/// The Emojify classes 0-4.
const EMOJIFY: [&str; 5] = ["❤️", "⚾", "😄", "😞", "🍴"];

fn label_names(spec: Option<&str>) -> Vec<String> {
    match spec {
        None => Vec::new(),
        Some(s) if s.eq_ignore_ascii_case("emojify") => {
            EMOJIFY.iter().map(|s| (*s).to_owned()).collect()
        }
        Some(s) => s.split(',').map(|n| n.trim().to_owned()).collect(),
    }
}
