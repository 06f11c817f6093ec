//! The full training state of a CPU run, [`State`]: settings, vocabulary, input vectors and
//! output matrices, epochs done. Saved as a model directory of kind `word2vec` through
//! [`crate::checkpoint`] (atomic, locked, integrity-checked) and loaded to continue training
//! ([`super::train_state`]).
//!
//! | file | holds |
//! |---|---|
//! | `config.json` | the [`Word2VecConfig`] of the run |
//! | `vocab.json` | `{"words": [...], "counts": [...]}`, most frequent first |
//! | `model.safetensors` | `syn0` (`V × dim`), `syn1neg` (`V × dim`, with negative sampling), `syn1` (`(V - 1) × dim`, with hierarchical softmax), `ngrams` (`bucket × dim`, with subwords) |
//! | `meta.json` | kind `word2vec`, the seed, `epochs` done and `jobs` (each worker's job count, which seeds the next jobs' draws) |

use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::{nn::VarStore, Device, Kind, Tensor};

use super::corpus::{self, SentenceSink};
use super::sampling::Rng;
use super::{Arch, Vocabulary, Word2VecConfig};
use crate::checkpoint::{self, Meta, WEIGHTS_FILE};
use crate::embeddings::subwords::{self, Loss, Subwords, Training};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};

/// Everything a CPU run needs to continue: see the module documentation for the files.
#[derive(Debug, Clone)]
pub struct State {
    pub(crate) config: Word2VecConfig,
    pub(crate) vocab: Vocabulary,
    /// Input vectors, `V × dim`.
    pub(crate) syn0: Vec<f32>,
    /// Negative sampling's output vectors (empty without it).
    pub(crate) syn1neg: Vec<f32>,
    /// Hierarchical softmax's node vectors (empty without it).
    pub(crate) syn1: Vec<f32>,
    /// The subword model's n-gram rows, `bucket × dim` (empty without subwords).
    pub(crate) ngrams: Vec<f32>,
    /// Epochs trained so far, over every run of this state.
    pub(crate) epochs_done: usize,
    /// Jobs each worker has trained so far (the largest count), where the next run's job
    /// numbers start.
    pub(crate) jobs_done: u64,
}

/// `vocab.json` of a saved state.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VocabFile {
    words: Vec<String>,
    counts: Vec<u64>,
}

impl State {
    /// The model kind in `meta.json`.
    pub const KIND: &'static str = "word2vec";
    /// The layout version of a saved state.
    pub const FORMAT_VERSION: u32 = 1;

    /// The settings the state was trained with (its last run's).
    pub fn config(&self) -> &Word2VecConfig {
        &self.config
    }

    /// The vocabulary, most frequent word first.
    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocab
    }

    /// Epochs trained so far, over every run.
    pub fn epochs_done(&self) -> usize {
        self.epochs_done
    }

    /// The input vectors, the word vectors of the model (with subwords, their n-gram rows
    /// too: see [`State::into_vectors`]).
    pub fn vectors(&self) -> Result<Embeddings> {
        self.clone().into_vectors()
    }

    /// The input vectors, without a copy. For the subword model, a store with subwords
    /// ([`Embeddings::with_subwords`]): each word's vector is the mean of its own row and its
    /// n-gram rows, a word outside the vocabulary has the mean of its n-gram rows, and
    /// fastText's model file (`.bin`) holds it whole, with the training settings and, under
    /// negative sampling, the output vectors (fastText's output layer).
    pub fn into_vectors(self) -> Result<Embeddings> {
        let words = self.vocab.words().to_vec();
        let Some(ngrams) = self.config.ngrams() else {
            return Embeddings::new(words, self.config.dim, self.syn0);
        };
        let c = &self.config;
        let training = Training {
            arch: match c.arch {
                Arch::SkipGram => subwords::Arch::SkipGram,
                Arch::Cbow => subwords::Arch::Cbow,
            },
            loss: if c.negative > 0 {
                Loss::NegativeSampling
            } else {
                Loss::HierarchicalSoftmax
            },
            window: c.window,
            epochs: self.epochs_done,
            min_count: c.min_count,
            negative: c.negative,
            sample: c.sample,
            tokens: self.vocab.corpus_tokens(),
            // Hierarchical softmax's node vectors follow our tree, not fastText's: not kept.
            output: self.syn1neg,
            ..Training::default()
        };
        let subwords = Subwords {
            ngrams,
            word_rows: self.syn0,
            bucket_rows: self.ngrams,
            counts: self.vocab.counts().to_vec(),
            training,
        };
        Embeddings::with_subwords(words, self.config.dim, subwords)
    }

    /// Writes the state as a model directory at `dir`, atomically, replacing an earlier one;
    /// a directory that is neither empty nor a model is refused ([`checkpoint::save`]).
    pub fn save(&self, dir: &Path) -> Result<()> {
        let meta = Meta::new(Self::KIND, Self::FORMAT_VERSION, self.config.seed)
            .with_figure("epochs", self.epochs_done)
            .with_figure("jobs", self.jobs_done);
        let vocab = VocabFile {
            words: self.vocab.words().to_vec(),
            counts: self.vocab.counts().to_vec(),
        };
        let vs = VarStore::new(Device::Cpu);
        let dim = self.config.dim as i64;
        for (name, values) in self.matrices() {
            if !values.is_empty() {
                let t = Tensor::from_slice(values).view([-1, dim]);
                let _ = vs.root().var_copy(name, &t);
            }
        }
        checkpoint::save(dir, &meta, &self.config, &vocab, &vs)
    }

    /// The weight matrices by name.
    fn matrices(&self) -> [(&'static str, &Vec<f32>); 4] {
        [
            ("syn0", &self.syn0),
            ("syn1neg", &self.syn1neg),
            ("syn1", &self.syn1),
            ("ngrams", &self.ngrams),
        ]
    }

    /// Reads a state saved by [`State::save`]: kind and version first, then the files'
    /// integrity, then every matrix's shape against the settings and vocabulary. Any mismatch
    /// is an error naming `dir` and the part.
    pub fn load(dir: &Path) -> Result<State> {
        let loaded =
            checkpoint::load::<Word2VecConfig, VocabFile>(dir, Self::KIND, Self::FORMAT_VERSION)?;
        let config = loaded.config;
        config
            .validate()
            .map_err(|e| Error::checkpoint(dir, format!("config.json: {e}")))?;
        let vocab = Vocabulary::from_parts(loaded.vocab.words, loaded.vocab.counts)
            .map_err(|e| Error::checkpoint(dir, format!("vocab.json: {e}")))?;
        let figure = |name: &str| {
            loaded
                .meta
                .training
                .get(name)
                .and_then(|v| v.as_u64())
                .ok_or_else(|| Error::checkpoint(dir, format!("meta.json has no `{name}` count")))
        };
        let (epochs_done, jobs_done) = (figure("epochs")? as usize, figure("jobs")?);
        let (v, dim) = (vocab.len(), config.dim);
        let mut state = State {
            syn0: Vec::new(),
            syn1neg: Vec::new(),
            syn1: Vec::new(),
            ngrams: Vec::new(),
            config,
            vocab,
            epochs_done,
            jobs_done,
        };
        let expected = [
            ("syn0", v),
            ("syn1neg", if state.config.negative > 0 { v } else { 0 }),
            (
                "syn1",
                if state.config.hs {
                    v.saturating_sub(1)
                } else {
                    0
                },
            ),
            ("ngrams", state.config.ngrams().map_or(0, |n| n.bucket)),
        ];
        let mut tensors = checkpoint::load_tensors(dir, WEIGHTS_FILE)?;
        for (name, rows) in expected {
            let found = tensors.iter().position(|(n, _)| n == name);
            let values = match (found, rows) {
                (None, 0) => Vec::new(),
                (Some(i), _) => {
                    let (_, t) = tensors.swap_remove(i);
                    let shape = t.size();
                    if t.kind() != Kind::Float || shape != [rows as i64, dim as i64] {
                        return Err(Error::checkpoint(
                            dir,
                            format!(
                                "{WEIGHTS_FILE}: `{name}` is {:?} {shape:?}, expected \
                                 Float [{rows}, {dim}]",
                                t.kind()
                            ),
                        ));
                    }
                    Vec::<f32>::try_from(t.flatten(0, -1))
                        .map_err(|e| Error::torch(format!("reading {name}"), e))?
                }
                (None, _) => {
                    return Err(Error::checkpoint(
                        dir,
                        format!("{WEIGHTS_FILE} has no `{name}`"),
                    ))
                }
            };
            match name {
                "syn0" => state.syn0 = values,
                "syn1neg" => state.syn1neg = values,
                "syn1" => state.syn1 = values,
                _ => state.ngrams = values,
            }
        }
        if let Some((name, _)) = tensors.first() {
            return Err(Error::checkpoint(
                dir,
                format!("{WEIGHTS_FILE} holds an unexpected tensor `{name}`"),
            ));
        }
        super::check_finite(&state.syn0, epochs_done, state.config.alpha)?;
        super::check_finite(&state.ngrams, epochs_done, state.config.alpha)?;
        Ok(state)
    }

    /// The settings of a continued run: this state's model (architecture, objectives, sizes,
    /// vocabulary filters, seed, lowercasing) with `run`'s schedule, epochs, time budget,
    /// threads and lossy reading. An error names the first model setting `run` changes.
    pub(crate) fn check_continues(&self, run: &Word2VecConfig) -> Result<()> {
        let (a, b) = (&self.config, run);
        let same = [
            ("arch", a.arch == b.arch),
            ("hs", a.hs == b.hs),
            ("dim", a.dim == b.dim),
            ("window", a.window == b.window),
            ("negative", a.negative == b.negative),
            ("min_count", a.min_count == b.min_count),
            ("sample", a.sample == b.sample),
            ("seed", a.seed == b.seed),
            ("max_vocab", a.max_vocab == b.max_vocab),
            ("lowercase", a.lowercase == b.lowercase),
            ("subwords (maxn)", a.maxn == b.maxn),
            (
                "minn",
                a.ngrams().map(|n| n.minn) == b.ngrams().map(|n| n.minn),
            ),
            (
                "bucket",
                a.ngrams().map(|n| n.bucket) == b.ngrams().map(|n| n.bucket),
            ),
        ];
        match same.iter().find(|(_, same)| !same) {
            Some((name, _)) => Err(Error::Config(format!(
                "{name} differs from the resumed model's: a continued run keeps the model's \
                 settings"
            ))),
            None => Ok(()),
        }
    }
}

/// The weight matrices of a CPU run.
pub(crate) struct Weights {
    /// Input vectors, `V × dim`: the word vectors the run returns.
    pub(crate) syn0: Vec<f32>,
    /// Negative sampling's output vectors, `V × dim` (empty without negative sampling).
    pub(crate) syn1neg: Vec<f32>,
    /// Hierarchical softmax's inner-node vectors, `(V - 1) × dim` (empty without it).
    pub(crate) syn1: Vec<f32>,
    /// The subword model's n-gram rows, `bucket × dim` (empty without subwords).
    pub(crate) ngrams: Vec<f32>,
}

impl Weights {
    /// The weights before training. gensim 4: syn0 uniform in `[-1 / dim, 1 / dim)`
    /// (word2vec.c: half that), the output matrices zero; the n-gram rows of the subword model
    /// uniform like syn0, drawn after it (fastText draws its whole input matrix so). Every matrix is reserved first, so
    /// that sizes the machine cannot hold are an error rather than an abort. `inner_nodes` is
    /// the Huffman tree's (0 without hierarchical softmax).
    pub(crate) fn new(
        vocab: &Vocabulary,
        config: &Word2VecConfig,
        inner_nodes: usize,
    ) -> Result<Weights> {
        let dim = config.dim;
        let rows = |n: usize| {
            n.checked_mul(dim)
                .filter(|&n| n <= isize::MAX as usize / 4)
                .ok_or_else(|| Error::Config(format!("{} words × {dim} dimensions", vocab.len())))
        };
        let reserve = |what: &str, size: usize| -> Result<Vec<f32>> {
            let mut v = Vec::new();
            v.try_reserve_exact(size).map_err(|_| {
                Error::Config(format!(
                    "{} words x {dim} dimensions: no memory for the {what} ({:.1} GiB)",
                    vocab.len(),
                    size as f64 * 4.0 / (1u64 << 30) as f64
                ))
            })?;
            Ok(v)
        };
        let size = rows(vocab.len())?;
        let ns_size = if config.negative > 0 { size } else { 0 };
        let hs_size = rows(inner_nodes)?;
        let ngram_size = rows(config.ngrams().map_or(0, |n| n.bucket))?;
        let mut syn0 = reserve("word vectors", size)?;
        let mut syn1neg = reserve("context vectors", ns_size)?;
        let mut syn1 = reserve("tree's node vectors", hs_size)?;
        let mut ngrams = reserve("n-gram rows", ngram_size)?;
        let mut rng = Rng::new(config.seed);
        let mut uniform = || (rng.unit_f32() - 0.5) * 2.0 / dim as f32;
        syn0.extend((0..size).map(|_| uniform()));
        ngrams.extend((0..ngram_size).map(|_| uniform()));
        syn1neg.resize(ns_size, 0.0);
        syn1.resize(hs_size, 0.0);
        Ok(Weights {
            syn0,
            syn1neg,
            syn1,
            ngrams,
        })
    }
}

/// Counts the occurrences of `vocab`'s words in `corpus`: the words one epoch of a continued
/// run trains on. An error when there are none.
pub(crate) fn words_in(corpus: &Path, config: &Word2VecConfig, vocab: &Vocabulary) -> Result<u64> {
    struct Count<'a> {
        vocab: &'a Vocabulary,
        words: u64,
    }
    impl SentenceSink for Count<'_> {
        fn token(&mut self, token: &str) {
            self.words += u64::from(self.vocab.id32(token).is_some());
        }
        fn end_sentence(&mut self) -> bool {
            true
        }
    }
    let mut count = Count { vocab, words: 0 };
    corpus::stream(corpus, config.lowercase, config.lossy, &mut count)?;
    if count.words == 0 {
        return Err(Error::BadFile {
            path: corpus.to_path_buf(),
            reason: "no word of it is in the resumed model's vocabulary".into(),
        });
    }
    Ok(count.words)
}
