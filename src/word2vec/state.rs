//! The full training state of a CPU run, [`State`]: settings, vocabulary, input vectors and
//! output matrices, epochs done. Saved as a model directory of kind `word2vec` through
//! [`crate::checkpoint`] (atomic, locked, integrity-checked) and loaded to continue training
//! ([`super::train_state`]).
//!
//! | file | holds |
//! |---|---|
//! | `config.json` | the [`Word2VecConfig`] of the run |
//! | `vocab.json` | `{"words": [...], "counts": [...]}`, most frequent first |
//! | `model.safetensors` | `syn0` (`V × dim`), `syn1neg` (`V × dim`, with negative sampling), `syn1` (`(V - 1) × dim`, with hierarchical softmax) |
//! | `meta.json` | kind `word2vec`, the seed, `epochs` done and `jobs` (each worker's job count, which seeds the next jobs' draws) |

use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::{nn::VarStore, Device, Kind, Tensor};

use super::corpus::{self, SentenceSink};
use super::{Vocabulary, Word2VecConfig};
use crate::checkpoint::{self, Meta, WEIGHTS_FILE};
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

    /// The input vectors, the word vectors of the model.
    pub fn vectors(&self) -> Result<Embeddings> {
        Embeddings::new(
            self.vocab.words().to_vec(),
            self.config.dim,
            self.syn0.clone(),
        )
    }

    /// The input vectors, without a copy.
    pub fn into_vectors(self) -> Result<Embeddings> {
        Embeddings::new(self.vocab.words().to_vec(), self.config.dim, self.syn0)
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
    fn matrices(&self) -> [(&'static str, &Vec<f32>); 3] {
        [
            ("syn0", &self.syn0),
            ("syn1neg", &self.syn1neg),
            ("syn1", &self.syn1),
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
                _ => state.syn1 = values,
            }
        }
        if let Some((name, _)) = tensors.first() {
            return Err(Error::checkpoint(
                dir,
                format!("{WEIGHTS_FILE} holds an unexpected tensor `{name}`"),
            ));
        }
        super::check_finite(&state.syn0, epochs_done, state.config.alpha)?;
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
