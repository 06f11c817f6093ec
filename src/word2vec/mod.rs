//! word2vec: skip-gram and CBOW, with negative sampling, hierarchical softmax or both, on words
//! or on words and their character n-grams (fastText's subword model), trained on the CPU.
//!
//! A faithful re-implementation of the two models of Mikolov, Chen, Corrado & Dean, *Efficient
//! Estimation of Word Representations in Vector Space* (2013), with the negative sampling and
//! frequent-word subsampling of Mikolov, Sutskever, Chen, Corrado & Dean, *Distributed
//! Representations of Words and Phrases and their Compositionality* (NIPS 2013), following the
//! reference C tool (`word2vec.c`) and gensim's `Word2Vec`:
//!
//! 1. one pass counts the words of the corpus ([`Vocabulary`]); `min_count`, then `max_vocab`;
//! 2. each epoch streams the corpus again; every occurrence of a frequent word is dropped with
//!    the C tool's subsampling probability; every remaining word is a centre, and the words
//!    within a randomly shrunk window around it are its context;
//! 3. the *input* ([`Arch`]) is, for skip-gram, each context word's input vector in turn
//!    (one example per (context, centre) pair), and for CBOW the mean of the context words'
//!    input vectors (one example per centre). With subwords (`maxn` above 0; Bojanowski,
//!    Grave, Joulin & Mikolov, *Enriching Word Vectors with Subword Information*, TACL 2017, as
//!    `fasttext` and gensim's `FastText` train it) a word's input vector is the mean of its own
//!    row and the rows of its hashed character n-grams, and each update goes to all of them
//!    (module `subword`); skip-gram then predicts each context word from the centre's vector,
//!    fastText's order;
//! 4. the *objective* predicts the centre word from the input `h`: negative sampling pushes
//!    `h` towards the centre's output vector and away from `negative` words drawn from the
//!    unigram^0.75 distribution, one step of stochastic gradient ascent on
//!    `log σ(h·u_w) + Σ_k log σ(-h·u_k)`; hierarchical softmax (`hs`) walks the centre's path
//!    down a Huffman tree of the vocabulary, ascending `Σ_j log σ((1 - 2 c_j) h·u_{n_j})` over
//!    its inner nodes `n_j` and code bits `c_j`; with both, the two gradients add up, each
//!    with its own output matrix (word2vec.c's `syn1` and `syn1neg`). The learning rate falls
//!    linearly over the whole run (or over the time budget, if that ends first: see
//!    `schedule`). Everything else, the pipeline, is the same for every model.
//!
//! Where the two references differ, we follow gensim: input vectors start uniform in
//! `[-1/dim, 1/dim)` (word2vec.c: `[-0.5/dim, 0.5/dim)`), and a negative-sampling example whose
//! score is beyond `±6` is not updated (word2vec.c pushes a saturated wrong answer by a full
//! step; both tools skip such a node of hierarchical softmax). With both objectives on, one
//! step applies their summed gradient to the input, as word2vec.c does (gensim applies the
//! hierarchical-softmax step, then the negative-sampling step computed from the updated input).
//!
//! The file formats, formulas and constants are documented where they are coded, in the private
//! modules `corpus` (reading), `vocab`, `sampling` (subsampling, window, negatives), `huffman`
//! (the tree of hierarchical softmax), `objective` (the update of one example), `train` (the
//! inputs and the job loop), `subword` (the n-gram input), `kernels` (the vector arithmetic), `schedule` (learning rate and
//! time budget), `epochs` (the CPU run and its threads) and `torch` (the batched run on
//! libtorch, skip-gram with negative sampling only). [`train_on`] chooses between the two runs
//! by device. [`train_state`] runs on the CPU and returns the whole training [`State`], which
//! is saved as a model directory and continued later (module `state`).
//!
//! ## Hogwild
//!
//! Like word2vec.c and gensim, training runs lock-free in the style of *Hogwild!* (Niu, Recht,
//! Ré & Wright, NIPS 2011): `threads` workers update the shared weight matrices at the same
//! time without any synchronisation. Each example's update touches a few input rows and
//! `1 + negative` (or a path's worth of) output rows out of tens of thousands, so two threads
//! rarely touch the same row at once, and when they do, one of the two small updates may be
//! partly lost, which SGD tolerates (the paper proves convergence for sparse problems like this
//! one). The benefit is a near-linear speed-up with threads. The cost is that a run with more
//! than one thread is not reproducible; with `threads == 1` the result is bit-identical run
//! after run for a given seed (on a given CPU: we use AVX2 and FMA when the CPU has them, and
//! fused multiply-adds round differently).
//!
//! Each worker streams its own part of the corpus (a byte range of a plain-text file; for
//! gzip, its share of the words) and trains on jobs of about 10,000 word ids as it reads, as
//! gensim's `corpus_file` workers do, so memory stays at vocabulary plus vectors whatever the
//! corpus size, and at any moment the workers train on distant parts of the corpus. (Feeding
//! both workers neighbouring jobs from one reader cost 0.75 points of analogy accuracy on the
//! 10.7M-word benchmark corpus, whose sources follow one another.)
//!
//! ```no_run
//! use seqmodels::progress::Silent;
//! use seqmodels::word2vec::{train, Arch, Word2VecConfig};
//!
//! // CBOW with hierarchical softmax alone, at the C tool's CBOW learning rate.
//! let config = Word2VecConfig {
//!     arch: Arch::Cbow,
//!     hs: true,
//!     negative: 0,
//!     alpha: Arch::Cbow.default_alpha(),
//!     epochs: 5,
//!     ..Word2VecConfig::default()
//! };
//! let (vectors, report) = train("corpus.txt.gz".as_ref(), &config, &Silent)?;
//! println!("{} words, last epoch loss {:.3}", vectors.len(), report.epochs[4].mean_loss);
//! # Ok::<(), seqmodels::error::Error>(())
//! ```

mod corpus;
mod epochs;
mod huffman;
mod kernels;
mod objective;
mod sampling;
mod schedule;
mod state;
mod subword;
mod torch;
mod train;
mod vocab;
pub use torch::{train_torch_with, Batch, BATCH_PAIRS, ROW_CAP};

#[cfg(test)]
mod gradient_tests;
#[cfg(test)]
mod subword_tests;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::time::Duration;

use tch::Device;

use crate::embeddings::subwords::Ngrams;
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::limits::MAX_LEARNING_RATE;
use crate::progress::Progress;
use crate::train::{Budget, Stop, DEFAULT_SEED};

pub use state::State;
pub use vocab::Vocabulary;

/// How the context of a centre word becomes the input that predicts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// Skip-gram (word2vec.c `-cbow 0`, gensim `sg=1`): each context word's input vector on
    /// its own predicts the centre, one example per (context, centre) pair. Slower, better
    /// for rare words and semantic analogies.
    #[default]
    #[serde(rename = "skipgram")]
    SkipGram,
    /// Continuous bag of words (word2vec.c `-cbow 1`, gensim `sg=0, cbow_mean=1`): the mean of
    /// the context words' input vectors predicts the centre, one example per centre; its
    /// gradient is added to every context word's input vector (not divided among them). Several
    /// times faster; better for frequent words and syntactic analogies.
    Cbow,
}

impl Arch {
    /// The initial learning rate word2vec.c uses for this architecture: 0.025 for skip-gram,
    /// 0.05 for CBOW (gensim uses 0.025 for both, fastText 0.05 for both). CBOW makes one
    /// update per centre word where skip-gram makes one per (context, centre) pair, about six
    /// times as many with the default window, and its input, a mean, is shorter than one word's
    /// vector, so its output vectors move less per epoch at the same rate. On the 10.7M-word
    /// `english_mix` corpus (5 epochs, dim 100, seed 1) CBOW scored 28.9% on the Google
    /// analogies at 0.05 against 24.3% at 0.025, and 0.595 against 0.524 on WordSim-353.
    pub fn default_alpha(self) -> f64 {
        match self {
            Arch::SkipGram => 0.025,
            Arch::Cbow => 0.05,
        }
    }

    /// "skip-gram" or "CBOW".
    pub fn name(self) -> &'static str {
        match self {
            Arch::SkipGram => "skip-gram",
            Arch::Cbow => "CBOW",
        }
    }
}

/// The settings of a word2vec run. The defaults are word2vec.c's and gensim's for skip-gram
/// with negative sampling.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Word2VecConfig {
    /// Skip-gram or CBOW (default skip-gram).
    pub arch: Arch,
    /// Train hierarchical softmax (default false), alone (`negative: 0`) or beside negative
    /// sampling.
    pub hs: bool,
    /// Vector dimension (default 100).
    pub dim: usize,
    /// Largest distance between a centre and a context word (default 5); each centre draws a
    /// window between 1 and this.
    pub window: usize,
    /// Negative words per example (default 5); 0 turns negative sampling off, which needs
    /// `hs`.
    pub negative: usize,
    /// Words seen fewer times than this are dropped from the vocabulary (default 5).
    pub min_count: usize,
    /// Subsampling threshold (default 1e-3); 0 keeps every occurrence.
    pub sample: f64,
    /// Initial learning rate (default 0.025, skip-gram's; see [`Arch::default_alpha`] for
    /// CBOW's).
    pub alpha: f64,
    /// Final learning rate, reached at the end of the last epoch or when the time budget is
    /// spent, whichever comes first (default 0.0001).
    pub min_alpha: f64,
    /// Passes over the corpus, at most (default 5).
    pub epochs: usize,
    /// Wall time, at most, counted from the end of the vocabulary pass (default: none). It is
    /// checked between jobs (every ~0.1 s on the CPU, after every batch on libtorch); once it
    /// is spent the epoch stops and the vectors trained so far are returned. The learning rate
    /// then falls with the larger of the share of words done and the share of the budget spent.
    pub time_budget: Option<Duration>,
    /// Worker threads (default: the available parallelism). Only `1` is reproducible.
    pub threads: usize,
    /// Seed of the initial vectors and of every random draw (default
    /// [`DEFAULT_SEED`], 42).
    pub seed: u64,
    /// Keep at most this many words, the most frequent (default: no limit).
    pub max_vocab: Option<usize>,
    /// Lowercase the corpus while reading it (default false).
    pub lowercase: bool,
    /// Read lines that are not UTF-8 with U+FFFD for the bad bytes instead of stopping with an
    /// error naming the line (default false).
    pub lossy: bool,
    /// Shortest character n-gram of the subword model (default 3, fastText's `-minn`); used
    /// when `maxn` is above 0.
    pub minn: usize,
    /// Longest character n-gram; 0 (the default) trains plain word vectors, above 0 the
    /// subword model of fastText (module `subword`). fastText's default is 6.
    pub maxn: usize,
    /// Rows the n-grams are hashed into (default 2,000,000, fastText's `-bucket`); used when
    /// `maxn` is above 0. The n-gram matrix is `bucket × dim` floats (800 MB at the defaults).
    pub bucket: usize,
}

impl Default for Word2VecConfig {
    fn default() -> Self {
        Word2VecConfig {
            arch: Arch::SkipGram,
            hs: false,
            dim: 100,
            window: 5,
            negative: 5,
            min_count: 5,
            sample: 1e-3,
            alpha: 0.025,
            min_alpha: 0.0001,
            epochs: 5,
            time_budget: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            seed: DEFAULT_SEED,
            max_vocab: None,
            lowercase: false,
            lossy: false,
            minn: 3,
            maxn: 0,
            bucket: 2_000_000,
        }
    }
}

/// The settings' earlier name, from when skip-gram was the only model.
pub type SkipGramConfig = Word2VecConfig;

impl Word2VecConfig {
    /// The subword model's n-grams (`minn`, `maxn`, `bucket`), or `None` for plain word vectors
    /// (`maxn` 0).
    pub fn ngrams(&self) -> Option<Ngrams> {
        let ngrams = Ngrams {
            minn: self.minn,
            maxn: self.maxn,
            bucket: self.bucket,
        };
        ngrams.enabled().then_some(ngrams)
    }

    /// The settings of fastText's subword model (`--subwords`): n-grams of 3 to 6 characters
    /// hashed into 2,000,000 rows, the rest of `self` unchanged.
    pub fn with_subwords(self) -> Self {
        let n = Ngrams::default();
        Word2VecConfig {
            minn: n.minn,
            maxn: n.maxn,
            bucket: n.bucket,
            ..self
        }
    }

    /// Checks that every value is in range: positive `dim`, `window`, `epochs` and `threads`;
    /// `negative` positive unless `hs` is on; `0 <= min_alpha <= alpha`, finite; `sample >= 0`;
    /// `max_vocab` not 0; a time budget above 0 and at most a year; with subwords (`maxn` above
    /// 0), `1 <= minn <= maxn` and a bucket count from 1 to 2^31 - 1 ([`Ngrams::validate`]).
    pub fn validate(&self) -> Result<()> {
        if self.maxn > 0 {
            Ngrams {
                minn: self.minn,
                maxn: self.maxn,
                bucket: self.bucket,
            }
            .validate()?;
        }
        if self.negative == 0 && !self.hs {
            return Err(Error::Config(
                "negative is 0 and hierarchical softmax (hs) is off: nothing to train; turn hs \
                 on for hierarchical softmax alone, or draw at least 1 negative"
                    .into(),
            ));
        }
        let positive = [
            ("dim", self.dim),
            ("window", self.window),
            ("epochs", self.epochs),
            ("threads", self.threads),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(Error::Config(format!("{name} must be at least 1")));
            }
        }
        if self.threads > 1024 {
            return Err(Error::Config(format!(
                "{} threads: seqmodels runs at most 1024",
                self.threads
            )));
        }
        // Window and negative are drawn as u32; larger values are meaningless anyway (word2vec's
        // papers use 2-25 negatives, and each costs a dot product per pair).
        for (name, value, max) in [
            ("dim", self.dim, 1 << 20),
            ("window", self.window, 1 << 20),
            ("negative", self.negative, 1000),
        ] {
            if value > max {
                return Err(Error::Config(format!(
                    "{name} {value} is above the {max} allowed"
                )));
            }
        }
        crate::limits::check_positive("alpha", self.alpha, MAX_LEARNING_RATE)?;
        if !(self.min_alpha.is_finite() && (0.0..=self.alpha).contains(&self.min_alpha)) {
            return Err(Error::Config(format!(
                "min_alpha must be between 0 and alpha ({}), got {}",
                self.alpha, self.min_alpha
            )));
        }
        if !(self.sample.is_finite() && self.sample >= 0.0) {
            return Err(Error::Config(format!(
                "sample must be 0 or positive, got {}",
                self.sample
            )));
        }
        if self.max_vocab == Some(0) {
            return Err(Error::Config("max_vocab must be at least 1".into()));
        }
        if self.time_budget.is_some() {
            Budget {
                epochs: None,
                time_budget: self.time_budget,
            }
            .validate()?;
        }
        Ok(())
    }

    /// `Ok` when the batched (GPU) trainer runs this model, which is skip-gram with negative
    /// sampling alone; otherwise an error naming the model.
    pub fn check_batched(&self) -> Result<()> {
        if self.arch == Arch::SkipGram && !self.hs && self.ngrams().is_none() {
            return Ok(());
        }
        Err(Error::Config(format!(
            "the batched (GPU) trainer runs skip-gram with negative sampling only, not {}: \
             train it on the CPU",
            self.model_name()
        )))
    }

    /// The model in words: "skip-gram, negative sampling (5)", "CBOW, hierarchical softmax",
    /// "CBOW, hierarchical softmax + negative sampling (5)", "skip-gram with subwords (3-6
    /// characters, 2000000 buckets), negative sampling (5)".
    pub fn model_name(&self) -> String {
        let objective = match (self.hs, self.negative) {
            (true, 0) => "hierarchical softmax".to_owned(),
            (true, k) => format!("hierarchical softmax + negative sampling ({k})"),
            (false, k) => format!("negative sampling ({k})"),
        };
        let inputs = match self.ngrams() {
            Some(n) => format!(
                " with subwords ({}-{} characters, {} buckets)",
                n.minn, n.maxn, n.bucket
            ),
            None => String::new(),
        };
        format!("{}{inputs}, {objective}", self.arch.name())
    }
}

/// `Ok` when the two `words × dim` matrices of the batched (libtorch) trainer fit seqmodels'
/// cap on a model's size ([`crate::limits::MAX_WEIGHTS`] values); otherwise an error that names
/// both numbers. (The CPU trainer takes what memory it can reserve.)
pub(crate) fn check_size(words: usize, dim: usize) -> Result<()> {
    crate::limits::check_model_size(2.0 * words as f64 * dim as f64, 0).map_err(|e| match e {
        Error::Config(why) => Error::Config(format!("{words} words of {dim} dimensions: {why}")),
        other => other,
    })
}

/// `Ok` when every value of the vectors after `epoch` is finite; otherwise the error that
/// training diverged, naming the epoch and the learning rate to lower.
pub(crate) fn check_finite(values: &[f32], epoch: usize, alpha: f64) -> Result<()> {
    if values.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "training diverged in epoch {epoch}: the vectors hold NaN or infinite values; \
             lower alpha (now {alpha}); nothing was written"
        )))
    }
}

/// What one epoch did.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochStats {
    /// 1-based epoch number.
    pub epoch: usize,
    /// In-vocabulary words read (before subsampling).
    pub words: u64,
    /// Wall-clock seconds of the epoch (reading and training).
    pub seconds: f64,
    /// `words / seconds`.
    pub words_per_sec: f64,
    /// Mean over examples ((context, centre) pairs for skip-gram, centres for CBOW) of the
    /// objective's loss: `-log σ(h·u_w) - Σ_k log σ(-h·u_k)` for negative sampling,
    /// `-Σ_j log σ((1 - 2 c_j) h·u_{n_j})` for hierarchical softmax, their sum for both.
    pub mean_loss: f64,
    /// The learning rate of the schedule at the end of the epoch.
    pub final_alpha: f64,
    /// Whether the epoch ran to its end (false when the time budget stopped it).
    pub complete: bool,
}

/// What a training run did.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    /// Words that got a vector.
    pub vocab_size: usize,
    /// In-vocabulary words per epoch, before subsampling (word2vec.c's `train_words`).
    pub corpus_words: u64,
    /// One entry per epoch, in order.
    pub epochs: Vec<EpochStats>,
    /// Why training stopped: every epoch was run, the time budget was spent, or the epoch
    /// callback stopped it ([`Next::Stop`], reported as [`Stop::Patience`]).
    pub stop: Stop,
}

/// What an [`EpochCallback`] tells the run after an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Train the next epoch, if the budget allows.
    Continue,
    /// Stop here: early stopping, e.g. after `patience` epochs without a better held-out score.
    Stop,
}

/// What [`train_on`] and [`train_state`] call after each epoch: the epoch (1-based, counted
/// over every run of a resumed state) and the current input vectors; it says whether to go on.
pub type EpochCallback<'a> = &'a mut dyn FnMut(usize, &Embeddings) -> Result<Next>;

/// Trains word vectors on the corpus file (plain or `.gz`), streamed: memory is about the
/// vocabulary plus a `vocab × dim` matrix of input vectors and one of output vectors per
/// objective (and `bucket × dim` n-gram rows with subwords), whatever the corpus size. Returns
/// the input vectors (word2vec.c's `syn0`), most frequent word first, and per-epoch figures;
/// with subwords a store that holds the n-gram rows too ([`Embeddings::subwords`]) and answers
/// words outside the vocabulary from them.
pub fn train(
    corpus: &Path,
    config: &Word2VecConfig,
    progress: &dyn Progress,
) -> Result<(Embeddings, TrainReport)> {
    epochs::run(corpus, config, progress, None)
}

/// [`train`], calling `after_epoch(epoch, vectors)` after each epoch (1-based) with the current
/// input vectors, e.g. to evaluate analogies as training goes. An error from the callback stops
/// training and is returned.
pub fn train_with<F: FnMut(usize, &Embeddings) -> Result<()>>(
    corpus: &Path,
    config: &Word2VecConfig,
    progress: &dyn Progress,
    mut after_epoch: F,
) -> Result<(Embeddings, TrainReport)> {
    let mut each = |epoch: usize, e: &Embeddings| after_epoch(epoch, e).map(|()| Next::Continue);
    epochs::run(corpus, config, progress, Some(&mut each))
}

/// Trains on the CPU like [`train_on`] and returns the full [`State`] after the last epoch
/// (vectors, output matrices, vocabulary, epochs done), which [`State::save`] writes and
/// [`State::load`] reads back.
///
/// With `resumed`, training continues that state on `corpus` (gensim's continued `train()`):
/// its vocabulary (corpus words outside it are skipped as unknown) and weights, epochs
/// numbered after its own, and a fresh linear learning-rate decay from `config.alpha` to
/// `config.min_alpha` over `config.epochs` more epochs (or `config.time_budget`). Because the
/// decay starts again, 3 epochs then 2 resumed are not byte-identical to 5 in one run; a
/// resumed `threads: 1` run is byte-identical run to run. `config` must keep the state's model
/// settings (architecture, objectives, `dim`, `window`, `negative`, `min_count`, `sample`,
/// `seed`, `max_vocab`, `lowercase`): a change is an error naming it.
pub fn train_state(
    corpus: &Path,
    config: &Word2VecConfig,
    resumed: Option<State>,
    progress: &dyn Progress,
    after_epoch: Option<EpochCallback<'_>>,
) -> Result<(State, TrainReport)> {
    epochs::run_state(corpus, config, resumed, progress, after_epoch)
}

/// Trains on `device`: on [`Device::Cpu`], the Hogwild trainer ([`train`], with
/// `config.threads` workers; `batch` is not used); on any other device, the batched libtorch
/// trainer ([`train_torch_with`], `batch.pairs` pairs at a time), which trains skip-gram with
/// negative sampling only and refuses any other model. `after_epoch`, if given, is called
/// after each epoch (and may stop the run, [`Next::Stop`]); on the CPU each call copies the
/// vectors, so pass `None` when there is nothing to do.
pub fn train_on(
    corpus: &Path,
    config: &Word2VecConfig,
    device: Device,
    batch: Batch,
    progress: &dyn Progress,
    after_epoch: Option<EpochCallback<'_>>,
) -> Result<(Embeddings, TrainReport)> {
    match (device, after_epoch) {
        (Device::Cpu, after_epoch) => epochs::run(corpus, config, progress, after_epoch),
        (device, Some(f)) => torch::run(corpus, config, device, batch, progress, f),
        (device, None) => train_torch_with(corpus, config, device, batch, progress, |_, _| Ok(())),
    }
}
