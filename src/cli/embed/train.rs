//! `embed train`: word2vec (skip-gram or CBOW; negative sampling, hierarchical softmax or both),
//! optionally with fastText's subwords (`--subwords`, written as fastText's `.bin`), on a corpus
//! file, on the CPU's Hogwild threads or a GPU (the library chooses by device; the GPU trainer
//! runs skip-gram with negative sampling only), optionally scored on analogies after every
//! epoch.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use seqmodels::embeddings::eval::{self, EvalOptions};
use seqmodels::embeddings::formats::{self, Format};
use seqmodels::embeddings::Embeddings;
use seqmodels::progress::ProgressEvent;
use seqmodels::train::{Stop, DEFAULT_SEED};
use seqmodels::word2vec::{self, Arch, Next, State, TrainReport, Word2VecConfig};
use seqmodels::{DeviceSpec, Progress};

use super::FormatArg;
use crate::cli::common;

/// The model settings are the saved ones on `--resume`: giving any is an error rather than
/// silently ignored.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("model").multiple(true))]
pub struct TrainArgs {
    /// Corpus: one sentence or paragraph per line, whitespace-separated tokens; .gz accepted.
    #[arg(long)]
    pub corpus: PathBuf,
    /// Where to write the vectors.
    #[arg(long)]
    pub out: PathBuf,
    /// Output format [default: from --out's name: .txt/.vec text, .glove/.glove.txt GloVe,
    /// else word2vec binary, or fastText's .bin with --subwords].
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// skipgram: each context word predicts the centre (better for rare words and semantic
    /// analogies); cbow: the mean of the context predicts it (several times faster; better for
    /// frequent words and syntactic analogies).
    #[arg(long, group = "model", value_enum, default_value_t = ArchArg::Skipgram)]
    pub arch: ArchArg,
    /// Hierarchical softmax over a Huffman tree of the vocabulary; alone with --negative 0,
    /// beside negative sampling otherwise.
    #[arg(long, group = "model")]
    pub hs: bool,
    /// fastText's subword model: a word's vector is the mean of its own row and the rows of its
    /// character n-grams (of `<word>`, hashed into --bucket rows), so words never seen in
    /// training get a vector from their n-grams. Written as fastText's .bin (--out NAME.bin or
    /// --format fasttext), which fastText and gensim read. [n-grams of 3-6 characters, 2000000
    /// buckets: fastText's defaults]
    #[arg(long, group = "model")]
    pub subwords: bool,
    /// Shortest character n-gram, the < and > boundaries counted (needs --subwords) [default: 3].
    #[arg(long, group = "model", value_name = "N")]
    pub minn: Option<usize>,
    /// Longest character n-gram (needs --subwords) [default: 6].
    #[arg(long, group = "model", value_name = "N")]
    pub maxn: Option<usize>,
    /// Rows the n-grams are hashed into (needs --subwords); the n-gram matrix takes bucket x dim
    /// x 4 bytes of memory (800 MB at the defaults) [default: 2000000].
    #[arg(long, group = "model", value_name = "N")]
    pub bucket: Option<usize>,
    #[arg(long, group = "model", default_value_t = 100)]
    pub dim: usize,
    /// Maximum distance between a word and its context (a random smaller window is drawn per word).
    #[arg(long, group = "model", default_value_t = 5)]
    pub window: usize,
    /// Negative samples per example; 0 turns negative sampling off (needs --hs).
    #[arg(long, group = "model", default_value_t = 5)]
    pub negative: usize,
    /// Words seen fewer times are dropped.
    #[arg(long, group = "model", default_value_t = 5)]
    pub min_count: usize,
    /// Down-sampling threshold for frequent words (0: off).
    #[arg(long, group = "model", default_value_t = 1e-3)]
    pub sample: f64,
    /// Initial learning rate [default: 0.025 for skipgram, 0.05 for cbow, as the word2vec C
    /// tool; on --resume, the saved one].
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
    #[arg(long, group = "model")]
    pub max_vocab: Option<usize>,
    /// Lower-case tokens.
    #[arg(long, group = "model")]
    pub lowercase: bool,
    /// Read corpus lines that are not UTF-8 with U+FFFD for the bad bytes (default: an error naming the line).
    #[arg(long)]
    pub lossy: bool,
    /// Seeds the initial vectors and every random draw (subsampling, windows, negatives); only
    /// --threads 1 runs are reproducible.
    #[arg(long, group = "model", default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Evaluate on this analogy file after every epoch (restricted to the 30,000 most frequent words).
    #[arg(long)]
    pub eval_analogies: Option<PathBuf>,
    /// Stop after N epochs in a row without a better analogy accuracy (needs --eval-analogies)
    /// and write the best epoch's vectors to --out [default: 0, never stop early].
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub patience: usize,
    /// Also save the full training state (settings, vocabulary with counts, input and output
    /// weights, epochs done) as a model directory here, to continue it with --resume (CPU only)
    /// [default: the --resume directory].
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Continue the training state saved by --state DIR on --corpus for --epochs more epochs
    /// (or --time-budget): same vocabulary (other words are skipped), weights and model
    /// settings, epochs numbered after the saved ones, and a fresh linear decay from --alpha to
    /// --min-alpha (so not byte-identical to one uninterrupted run). CPU only.
    #[arg(long, value_name = "DIR", conflicts_with = "model")]
    pub resume: Option<PathBuf>,
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
    /// The library's settings; `threads` 0 takes the library's default (every core). On
    /// resume, the `saved` model's settings with this run's schedule, epochs and budget.
    fn config(&self, threads: usize, saved: Option<&Word2VecConfig>) -> Word2VecConfig {
        let threads = if threads > 0 {
            threads
        } else {
            Word2VecConfig::default().threads
        };
        if let Some(saved) = saved {
            return Word2VecConfig {
                alpha: self.alpha.unwrap_or(saved.alpha),
                min_alpha: self.min_alpha,
                epochs: self.epochs,
                time_budget: self.time_budget,
                threads,
                lossy: self.lossy,
                ..saved.clone()
            };
        }
        let arch = Arch::from(self.arch);
        let config = Word2VecConfig {
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
            threads,
            seed: self.seed,
            max_vocab: self.max_vocab,
            lowercase: self.lowercase,
            lossy: self.lossy,
            ..Word2VecConfig::default()
        };
        if !self.subwords {
            return config;
        }
        let config = config.with_subwords();
        Word2VecConfig {
            minn: self.minn.unwrap_or(config.minn),
            maxn: self.maxn.unwrap_or(config.maxn),
            bucket: self.bucket.unwrap_or(config.bucket),
            ..config
        }
    }

    /// Refuses subword settings that cannot be trained or written, before any work: n-gram
    /// flags without `--subwords`, `--maxn 0` with it, `--patience` with it (keeping the best
    /// epoch would hold a second copy of the n-gram rows), and an output format other than
    /// fastText's `.bin`, the one format that holds n-gram rows. `trained` says whether the
    /// run trains subwords (asked for, or those of the resumed state).
    fn check_subwords(&self, trained: bool, format: Format) -> anyhow::Result<()> {
        if !self.subwords {
            let given = [
                ("minn", self.minn),
                ("maxn", self.maxn),
                ("bucket", self.bucket),
            ];
            if let Some((name, _)) = given.iter().find(|(_, v)| v.is_some()) {
                anyhow::bail!(
                    "--{name} sets the n-grams of the subword model, which is off: add --subwords"
                );
            }
        }
        if self.maxn == Some(0) {
            anyhow::bail!("--maxn 0 leaves words without n-grams: leave out --subwords instead");
        }
        if !trained {
            return Ok(());
        }
        if self.patience > 0 {
            anyhow::bail!(
                "--patience keeps the best epoch's vectors, which for the subword model means a \
                 second copy of its n-gram rows: train the subword model without --patience"
            );
        }
        if format != Format::FastText {
            anyhow::bail!(
                "--subwords trains n-gram rows, which only fastText's model file holds, and {} \
                 would be written as {format}: give --out NAME.bin or --format fasttext (embed \
                 convert writes the word vectors alone in other formats afterwards)",
                self.out.display()
            );
        }
        Ok(())
    }
}

pub(super) fn train(
    args: TrainArgs,
    threads: usize,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    if args.patience > 0 && args.eval_analogies.is_none() {
        anyhow::bail!(
            "--patience needs --eval-analogies FILE: the analogy accuracy after each epoch is \
             the held-out score it waits on"
        );
    }
    let resumed = match &args.resume {
        Some(dir) => Some(State::load(dir)?),
        None => None,
    };
    let config = args.config(threads, resumed.as_ref().map(State::config));
    config.validate()?;
    // The format, from the name or --format, is settled before any work.
    let subwords = config.ngrams().is_some();
    let format = super::out_format(args.format, &args.out, subwords)?;
    args.check_subwords(subwords, format)?;
    let state_dir = args.state.as_ref().or(args.resume.as_ref());
    let device = pick_device(&args, &config, state_dir.is_some())?;
    let _claim = common::claim_out(state_dir, State::KIND, false)?;
    // The CPU trainer does not use libtorch; keep libtorch's pool from competing for the cores.
    if device == tch::Device::Cpu {
        tch::set_num_threads(1);
    }
    let mut keeper = Keeper::new(&args);
    let mut score = |epoch: usize, emb: &Embeddings| keeper.after_epoch(epoch, emb);
    // Without --eval-analogies no callback: on the CPU each call copies the vectors.
    let after_epoch: Option<word2vec::EpochCallback<'_>> = match args.eval_analogies {
        Some(_) => Some(&mut score),
        None => None,
    };
    let (last, report) = match state_dir {
        Some(dir) => {
            let (state, report) =
                word2vec::train_state(&args.corpus, &config, resumed, progress, after_epoch)?;
            state.save(dir)?;
            (state.into_vectors()?, report)
        }
        None => {
            let batch = word2vec::Batch {
                pairs: args.batch_pairs,
                row_cap: args.row_cap,
            };
            word2vec::train_on(&args.corpus, &config, device, batch, progress, after_epoch)?
        }
    };
    let last_epoch = report.epochs.last().map_or(0, |e| e.epoch);
    let kept = keeper.kept(last_epoch);
    let emb = keeper.best.map_or(last, |b| b.2);
    formats::write(&emb, &args.out, format)?;
    progress.event(&ProgressEvent::End {
        summary: &closing_line(&report, &config, last_epoch, &kept, args.patience),
    });
    println!("{}", summary(&report, &config, device, &args));
    Ok(())
}

/// The device: a GPU only for skip-gram with negative sampling, asked for or on auto (say so
/// before looking for one), and never for a run that keeps its training state.
fn pick_device(
    args: &TrainArgs,
    config: &Word2VecConfig,
    keeps_state: bool,
) -> anyhow::Result<tch::Device> {
    Ok(match args.device {
        DeviceSpec::Cuda(_) if keeps_state => anyhow::bail!(
            "--state and --resume train on the CPU only: leave out --device or give --device cpu"
        ),
        DeviceSpec::Cuda(_) => {
            config.check_batched()?;
            args.device.resolve()?
        }
        DeviceSpec::Auto if keeps_state || config.check_batched().is_err() => tch::Device::Cpu,
        spec => spec.resolve()?,
    })
}

/// Scores the analogies after each epoch and, with `--patience`, keeps the best epoch's
/// vectors and stops the run after `patience` epochs in a row without a better accuracy.
struct Keeper {
    analogies: Option<PathBuf>,
    patience: usize,
    /// The best epoch, its accuracy and (with patience) its vectors.
    best: Option<(usize, f64, Embeddings)>,
    best_score: Option<(usize, f64)>,
    /// The last epoch's accuracy.
    last: Option<f64>,
    since_best: usize,
}

impl Keeper {
    fn new(args: &TrainArgs) -> Keeper {
        Keeper {
            analogies: args.eval_analogies.clone(),
            patience: args.patience,
            best: None,
            best_score: None,
            last: None,
            since_best: 0,
        }
    }

    fn after_epoch(&mut self, epoch: usize, emb: &Embeddings) -> seqmodels::Result<Next> {
        let Some(path) = &self.analogies else {
            return Ok(Next::Continue);
        };
        let options = EvalOptions {
            restrict_vocab: 30_000,
            ..EvalOptions::default()
        };
        let r = eval::evaluate_analogies(emb, path, &options)?;
        let accuracy = r.total.accuracy();
        eprintln!(
            "epoch {epoch}: analogy accuracy {:.2}% ({}/{} seen of {})",
            100.0 * accuracy,
            r.total.correct,
            r.total.seen,
            r.total.total
        );
        self.last = Some(accuracy);
        if self.best_score.map_or(true, |(_, b)| accuracy > b) {
            self.best_score = Some((epoch, accuracy));
            self.since_best = 0;
            if self.patience > 0 {
                self.best = Some((epoch, accuracy, emb.clone()));
            }
        } else {
            self.since_best += 1;
        }
        Ok(if self.patience > 0 && self.since_best >= self.patience {
            Next::Stop
        } else {
            Next::Continue
        })
    }

    /// "kept epoch 4 (analogy accuracy 41.20%)": the best epoch with --patience, else the last.
    fn kept(&self, last_epoch: usize) -> String {
        match (&self.best, self.last) {
            (Some((e, a, _)), _) => format!("kept epoch {e} (analogy accuracy {:.2}%)", 100.0 * a),
            (None, Some(a)) => format!(
                "kept epoch {last_epoch}, the last (analogy accuracy {:.2}%)",
                100.0 * a
            ),
            (None, None) => format!("kept epoch {last_epoch}, the last (no held-out score)"),
        }
    }
}

/// "stopped after epoch 7: 3 epochs in a row without a better held-out score (--patience);
/// kept epoch 4 (analogy accuracy 41.20%)", as every train command ends.
fn closing_line(
    report: &TrainReport,
    config: &Word2VecConfig,
    last_epoch: usize,
    kept: &str,
    patience: usize,
) -> String {
    let why = match report.stop {
        Stop::Epochs => "the epochs were run".to_owned(),
        Stop::TimeBudget => format!(
            "the time budget of {:.0} s was spent",
            config.time_budget.map_or(0.0, |t| t.as_secs_f64())
        ),
        Stop::Patience => format!(
            "{patience} epoch{} in a row without a better held-out score (--patience)",
            if patience == 1 { "" } else { "s" }
        ),
    };
    format!("stopped after epoch {last_epoch}: {why}; {kept}")
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
