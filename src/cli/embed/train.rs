//! `embed train`: word2vec (skip-gram or CBOW; negative sampling, hierarchical softmax or both)
//! on a corpus file, on the CPU's Hogwild threads or a GPU (the library chooses by device; the
//! GPU trainer runs skip-gram with negative sampling only), optionally scored on analogies
//! after every epoch.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use seqmodels::embeddings::eval::{self, EvalOptions};
use seqmodels::embeddings::{formats, Embeddings};
use seqmodels::train::{Stop, DEFAULT_SEED};
use seqmodels::word2vec::{self, Arch, TrainReport, Word2VecConfig};
use seqmodels::{DeviceSpec, Progress};

use super::FormatArg;
use crate::cli::common;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Corpus: one sentence or paragraph per line, whitespace-separated tokens; .gz accepted.
    #[arg(long)]
    pub corpus: PathBuf,
    /// Where to write the vectors.
    #[arg(long)]
    pub out: PathBuf,
    /// Output format [default: from --out's name: .txt/.vec text, .glove/.glove.txt GloVe,
    /// else word2vec binary].
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// skipgram: each context word predicts the centre (better for rare words and semantic
    /// analogies); cbow: the mean of the context predicts it (several times faster; better for
    /// frequent words and syntactic analogies).
    #[arg(long, value_enum, default_value_t = ArchArg::Skipgram)]
    pub arch: ArchArg,
    /// Hierarchical softmax over a Huffman tree of the vocabulary; alone with --negative 0,
    /// beside negative sampling otherwise.
    #[arg(long)]
    pub hs: bool,
    #[arg(long, default_value_t = 100)]
    pub dim: usize,
    /// Maximum distance between a word and its context (a random smaller window is drawn per word).
    #[arg(long, default_value_t = 5)]
    pub window: usize,
    /// Negative samples per example; 0 turns negative sampling off (needs --hs).
    #[arg(long, default_value_t = 5)]
    pub negative: usize,
    /// Words seen fewer times are dropped.
    #[arg(long, default_value_t = 5)]
    pub min_count: usize,
    /// Down-sampling threshold for frequent words (0: off).
    #[arg(long, default_value_t = 1e-3)]
    pub sample: f64,
    /// Initial learning rate [default: 0.025 for skipgram, 0.05 for cbow, as the word2vec C
    /// tool].
    #[arg(long)]
    pub alpha: Option<f64>,
    /// Final learning rate (linear decay over all epochs, or over --time-budget if that ends
    /// first).
    #[arg(long, default_value_t = 0.0001)]
    pub min_alpha: f64,
    /// Passes over the corpus, at most.
    #[arg(long, default_value_t = 5, value_parser = common::at_most::<1_000_000>)]
    pub epochs: usize,
    /// Stop training once this much wall time has passed since the vocabulary pass, e.g. 90s,
    /// 10m, 1h, and write the vectors trained so far. The learning rate then falls linearly
    /// with the larger of the share of words done (over all --epochs) and the share of the
    /// budget spent, so it reaches --min-alpha when the budget ends.
    #[arg(long, value_parser = common::parse_duration)]
    pub time_budget: Option<Duration>,
    /// Keep only the N most frequent words.
    #[arg(long)]
    pub max_vocab: Option<usize>,
    /// Lower-case tokens.
    #[arg(long)]
    pub lowercase: bool,
    /// Read corpus lines that are not UTF-8 with U+FFFD for the bad bytes (default: an error naming the line).
    #[arg(long)]
    pub lossy: bool,
    /// Seeds the initial vectors and every random draw (subsampling, windows, negatives); only
    /// --threads 1 runs are reproducible.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Evaluate on this analogy file after every epoch (restricted to the 30,000 most frequent words).
    #[arg(long)]
    pub eval_analogies: Option<PathBuf>,
    /// Where to train: cpu runs Hogwild threads (--threads sets how many); a GPU (cuda, cuda:N,
    /// or auto on a machine with one) runs the batched libtorch trainer, for skip-gram with
    /// negative sampling only (auto trains the other models on the CPU).
    #[arg(long, default_value = "cpu", value_parser = common::parse_device)]
    pub device: DeviceSpec,
    /// Pairs per batch of the GPU trainer.
    #[arg(long, default_value_t = word2vec::BATCH_PAIRS, value_parser = common::positive)]
    pub batch_pairs: usize,
    /// GPU trainer: a word updated n times in one batch moves by the sum of its updates divided
    /// by max(1, n / CAP) (1: their mean; very large: their sum).
    #[arg(long, value_name = "CAP", default_value_t = word2vec::ROW_CAP, value_parser = common::at_least_one)]
    pub row_cap: f64,
}

/// `--arch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArchArg {
    /// Skip-gram (word2vec -cbow 0, gensim sg=1).
    Skipgram,
    /// Continuous bag of words, the context's mean (word2vec -cbow 1, gensim sg=0 cbow_mean=1).
    Cbow,
}

impl From<ArchArg> for Arch {
    fn from(a: ArchArg) -> Self {
        match a {
            ArchArg::Skipgram => Arch::SkipGram,
            ArchArg::Cbow => Arch::Cbow,
        }
    }
}

impl TrainArgs {
    /// The library's settings; `threads` 0 takes the library's default (every core).
    fn config(&self, threads: usize) -> Word2VecConfig {
        let arch = Arch::from(self.arch);
        Word2VecConfig {
            arch,
            hs: self.hs,
            dim: self.dim,
            window: self.window,
            negative: self.negative,
            min_count: self.min_count,
            sample: self.sample,
            alpha: self.alpha.unwrap_or(arch.default_alpha()),
            min_alpha: self.min_alpha,
            epochs: self.epochs,
            time_budget: self.time_budget,
            threads: if threads > 0 {
                threads
            } else {
                Word2VecConfig::default().threads
            },
            seed: self.seed,
            max_vocab: self.max_vocab,
            lowercase: self.lowercase,
            lossy: self.lossy,
        }
    }
}

pub(super) fn train(
    args: TrainArgs,
    threads: usize,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let config = args.config(threads);
    // The format, from the name or --format, is settled before any work.
    let format = super::out_format(args.format, &args.out, false)?;
    // Only skip-gram with negative sampling runs on a GPU: asked for one, say so before looking
    // for it; on auto, the CPU is the one device that runs the other models.
    let device = match args.device {
        DeviceSpec::Cuda(_) => {
            config.check_batched()?;
            args.device.resolve()?
        }
        DeviceSpec::Auto if config.check_batched().is_err() => tch::Device::Cpu,
        spec => spec.resolve()?,
    };
    // The CPU trainer does not use libtorch; keep libtorch's pool from competing for the cores.
    if device == tch::Device::Cpu {
        tch::set_num_threads(1);
    }
    let options = EvalOptions {
        restrict_vocab: 30_000,
        ..EvalOptions::default()
    };
    let mut score_analogies = |epoch: usize, emb: &Embeddings| -> seqmodels::Result<()> {
        if let Some(path) = &args.eval_analogies {
            let r = eval::evaluate_analogies(emb, path, &options)?;
            eprintln!(
                "epoch {epoch}: analogy accuracy {:.2}% ({}/{} seen of {})",
                100.0 * r.total.accuracy(),
                r.total.correct,
                r.total.seen,
                r.total.total
            );
        }
        Ok(())
    };
    // Without --eval-analogies no callback: on the CPU each call copies the vectors.
    let after_epoch: Option<word2vec::EpochCallback<'_>> = match args.eval_analogies {
        Some(_) => Some(&mut score_analogies),
        None => None,
    };
    let batch = word2vec::Batch {
        pairs: args.batch_pairs,
        row_cap: args.row_cap,
    };
    let (emb, report) =
        word2vec::train_on(&args.corpus, &config, device, batch, progress, after_epoch)?;
    formats::write(&emb, &args.out, format)?;
    println!("{}", summary(&report, &config, device, &args));
    Ok(())
}

/// "trained 21 words x 16 dims (skip-gram, negative sampling (5), alpha 0.025) on 48000 corpus
/// words, 3 epochs on cpu in 0.2 s (720000 words/s); wrote v.bin", with where the time budget
/// stopped the run when it did.
fn summary(
    report: &TrainReport,
    config: &Word2VecConfig,
    device: tch::Device,
    args: &TrainArgs,
) -> String {
    let seconds: f64 = report.epochs.iter().map(|e| e.seconds).sum();
    let words: u64 = report.epochs.iter().map(|e| e.words).sum();
    let stopped = match (report.stop, report.epochs.last(), config.time_budget) {
        (Stop::TimeBudget, Some(last), Some(budget)) => format!(
            "; stopped by the time budget of {} s {} epoch {}",
            budget.as_secs_f64(),
            if last.complete { "after" } else { "in" },
            last.epoch
        ),
        _ => String::new(),
    };
    format!(
        "trained {} words x {} dims ({}, alpha {}) on {} corpus words, {} epochs on {} in {:.1} s ({:.0} words/s){stopped}; wrote {}",
        report.vocab_size,
        config.dim,
        config.model_name(),
        config.alpha,
        report.corpus_words,
        report.epochs.len(),
        seqmodels::device::device_name(device),
        seconds,
        words as f64 / seconds.max(1e-9),
        args.out.display()
    )
}
