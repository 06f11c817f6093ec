//! The two classifiers of the course's Emojify assignment, over one embedding layer:
//!
//! - **average** (Emojify V1): `softmax(W · mean(e_w for known words w) + b)`. `<pad>` and
//!   `<unk>` are left out of the mean; a sentence of unknown words scores the bias alone.
//! - **lstm** (Emojify V2): embeddings → stacked (optionally bidirectional) LSTM with dropout
//!   between layers → dropout → linear on the last layer's final state (both directions
//!   concatenated), or on the maximum or mean of its outputs over the words ([`Pooling`]).
//!
//! Padding is exact, not approximate: the LSTM runs on a packed batch
//! (`pack_padded_sequence` + `lstm_data`, as PyTorch's `nn.LSTM` on a `PackedSequence`), so each
//! sentence's final state is taken after its own last word, and a padded batch gives the
//! logits of the sentences one at a time.
//!
//! The embedding layer starts from pretrained vectors (frozen unless `fine_tune`) or, without
//! them, from N(0, 1) and is trained. Parameter names read like PyTorch's
//! (`embed.weight`, `lstm.weight_ih_l0_reverse`, `head.weight`).

use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::nn::{Init, VarStore};
use tch::{Device, Kind, Tensor};

use super::init::{fill_embeddings, lstm_weights};
use super::tokenize::{Tokenizer, PAD_ID, UNK_ID};
use crate::checkpoint::{self, Meta};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::vocab::Vocab;

/// The `kind` in a classifier's `meta.json`.
pub const KIND: &str = "classifier";
/// Bumped when the saved layout changes.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// Which network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    /// Mean of the word vectors, then softmax (Emojify V1).
    Average,
    /// Stacked LSTM over the word vectors (Emojify V2).
    Lstm,
}

/// How the LSTM's outputs become one sentence vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The last layer's final state (both directions' final states when bidirectional).
    #[default]
    Last,
    /// The element-wise maximum of the last layer's outputs over the sentence's words.
    Max,
    /// The mean of the last layer's outputs over the sentence's words.
    Mean,
}

/// What a classifier is, saved as `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifierConfig {
    /// The network.
    pub architecture: Architecture,
    /// Size of the word vectors (taken from the pretrained file when there is one).
    pub embed_dim: usize,
    /// LSTM units per layer and direction.
    pub hidden: usize,
    /// Stacked LSTM layers.
    pub layers: usize,
    /// Run each LSTM layer both ways.
    pub bidirectional: bool,
    /// Dropout between LSTM layers and before the head (training only).
    pub dropout: f64,
    /// Dropout on the word vectors, before the LSTM or the average (training only): each value
    /// of the looked-up vectors is zeroed with this probability (and the rest scaled up); 0
    /// (the default, and what older models read as) turns it off.
    #[serde(default)]
    pub embed_dropout: f64,
    /// How the LSTM's outputs become the sentence's features.
    #[serde(default)]
    pub pooling: Pooling,
    /// Train the embedding layer (always, when there were no pretrained vectors).
    pub train_embeddings: bool,
    /// When training the embeddings, only the first this many rows of the vocabulary (the
    /// specials and the training words) are trained; the rest (pretrained words that training
    /// never saw, which would get no gradient) stay frozen in a separate table, so the
    /// optimiser does not carry them. `None`: every row.
    #[serde(default)]
    pub trained_rows: Option<usize>,
    /// Lower-case text before splitting it.
    pub lowercase: bool,
    /// The class labels as written in the training data, by class id.
    pub labels: Vec<String>,
    /// What to print for each class (`--label-names`), by class id; the labels when empty.
    #[serde(default)]
    pub display: Vec<String>,
}

impl Default for ClassifierConfig {
    /// Emojify V2's sizes: two LSTM layers of 128 units, dropout 0.5.
    fn default() -> Self {
        ClassifierConfig {
            architecture: Architecture::Lstm,
            embed_dim: 100,
            hidden: 128,
            layers: 2,
            bidirectional: false,
            dropout: 0.5,
            embed_dropout: 0.0,
            pooling: Pooling::Last,
            train_embeddings: false,
            trained_rows: None,
            lowercase: true,
            labels: Vec::new(),
            display: Vec::new(),
        }
    }
}

impl ClassifierConfig {
    /// Checks sizes and labels.
    pub fn validate(&self) -> Result<()> {
        if self.embed_dim == 0 {
            return Err(Error::Config(
                "the embedding size must be at least 1".into(),
            ));
        }
        if self.architecture == Architecture::Lstm && (self.hidden == 0 || self.layers == 0) {
            return Err(Error::Config(
                "an LSTM needs at least 1 hidden unit and 1 layer".into(),
            ));
        }
        if self.architecture == Architecture::Average && self.pooling != Pooling::Last {
            return Err(Error::Config(
                "pooling is for the LSTM; the average model has no outputs to pool".into(),
            ));
        }
        crate::limits::check_fraction("dropout", self.dropout)?;
        crate::limits::check_fraction("embedding dropout", self.embed_dropout)?;
        if self.labels.len() < 2 {
            return Err(Error::Config(
                "a classifier needs at least two classes".into(),
            ));
        }
        if !self.display.is_empty() && self.display.len() != self.labels.len() {
            return Err(Error::Config(format!(
                "{} label names for {} classes ({})",
                self.display.len(),
                self.labels.len(),
                self.labels.join(", ")
            )));
        }
        for (i, name) in self.display.iter().enumerate() {
            if name.is_empty() || self.display[..i].contains(name) {
                return Err(Error::Config(format!(
                    "label name {:?} is empty or given twice: each class needs a name of its own",
                    name
                )));
            }
        }
        Ok(())
    }

    /// The printed name of class `id`.
    pub fn display_name(&self, id: usize) -> &str {
        self.display
            .get(id)
            .or_else(|| self.labels.get(id))
            .map_or("?", String::as_str)
    }

    pub(super) fn directions(&self) -> i64 {
        if self.bidirectional {
            2
        } else {
            1
        }
    }
}

/// Where the vocabulary's vectors come from.
pub enum EmbeddingInit<'a> {
    /// Pretrained vectors, looked up by word; missing words start at N(0, s²), s the standard
    /// deviation of the pretrained values, when their rows are trained, and at zero otherwise.
    Pretrained(&'a Embeddings),
    /// N(0, 1) for every word of a trained layer (zero in a frozen one).
    Random,
    /// Zero everywhere, the LSTM and the head too: for a model whose weights are loaded next,
    /// so that loading draws nothing from libtorch's generator (a seeded program's stream does
    /// not shift when it loads a model) and no random table only to overwrite it.
    Zeros,
}

/// A sentence classifier with its vocabulary.
#[derive(Debug)]
pub struct Classifier {
    config: ClassifierConfig,
    vocab: Vocab,
    vs: VarStore,
    /// The embedding rows that are trained (all rows, unless `trained_rows` splits the table).
    embed: Tensor,
    /// The frozen remainder of a split table: vocabulary rows `trained_rows..`.
    frozen: Option<Tensor>,
    lstm: Vec<Tensor>,
    head_w: Tensor,
    head_b: Tensor,
}

/// A right-padded batch of token ids.
#[derive(Debug)]
pub struct Batch {
    /// `[batch, steps]` int64 ids, `<pad>` after each sentence.
    pub ids: Tensor,
    /// Words in each sentence (at least 1).
    pub lengths: Vec<i64>,
}

impl Batch {
    /// Pads `sentences` (each non-empty) to the longest, on `device`.
    pub fn new(sentences: &[&[i64]], device: Device) -> Batch {
        let steps = sentences.iter().map(|s| s.len()).max().unwrap_or(1).max(1);
        let mut flat = vec![PAD_ID; sentences.len() * steps];
        for (row, s) in flat.chunks_mut(steps).zip(sentences) {
            row[..s.len()].copy_from_slice(s);
        }
        Batch {
            ids: Tensor::from_slice(&flat)
                .view([sentences.len() as i64, steps as i64])
                .to_device(device),
            lengths: sentences.iter().map(|s| s.len().max(1) as i64).collect(),
        }
    }
}

/// The checks [`Classifier::new`] makes before it allocates: the config, the vocabulary's
/// specials, the pretrained vectors' dimension and the model's size.
fn check_sizes(config: &ClassifierConfig, vocab: &Vocab, init: &EmbeddingInit<'_>) -> Result<()> {
    config.validate()?;
    if vocab.id(crate::vocab::PAD) != Some(PAD_ID as usize)
        || vocab.id(crate::vocab::UNK) != Some(UNK_ID as usize)
    {
        return Err(Error::Config(
            "a classifier vocabulary starts with <pad> and <unk>".into(),
        ));
    }
    if let EmbeddingInit::Pretrained(e) = init {
        if e.dim() != config.embed_dim {
            return Err(Error::Config(format!(
                "the vectors have {} dimensions but the model expects {}",
                e.dim(),
                config.embed_dim
            )));
        }
    }
    let v = vocab.len() as f64;
    let (layers, features) = match config.architecture {
        Architecture::Average => (0, config.embed_dim as f64),
        Architecture::Lstm => (
            config.layers,
            config.hidden as f64 * config.directions() as f64,
        ),
    };
    // In floating point: sizes from a config.json may be beyond any integer type's range.
    let (dirs, df) = (config.directions() as f64, config.embed_dim as f64);
    crate::limits::check_model_size(
        v * df
            + crate::limits::rnn_weights(4.0, df, config.hidden as f64, layers, dirs)
            + config.labels.len() as f64 * (features + 1.0),
        layers,
    )?;
    Ok(())
}

impl Classifier {
    /// A freshly initialised classifier (PyTorch's initialisation: LSTM and head uniform in
    /// ±1/sqrt(fan)), seeded by the caller through libtorch's generator. With pretrained
    /// vectors, `config.embed_dim` must equal their dimension.
    pub fn new(
        config: ClassifierConfig,
        vocab: Vocab,
        init: EmbeddingInit<'_>,
        device: Device,
    ) -> Result<Classifier> {
        check_sizes(&config, &vocab, &init)?;
        let (v, d) = (vocab.len() as i64, config.embed_dim as i64);
        let vs = VarStore::new(device);
        let root = vs.root();
        let split = match config.trained_rows {
            Some(n) if config.train_embeddings && (n as i64) < v => Some((n as i64).max(2)),
            _ => None,
        };
        let alloc = |e| Error::torch("making the model's weights", e);
        // PyTorch's initialisation, uniform in ±bound; zeros for weights about to be loaded.
        let loading = matches!(init, EmbeddingInit::Zeros);
        let initial = |bound: f64| {
            if loading {
                Init::Const(0.0)
            } else {
                Init::Uniform {
                    lo: -bound,
                    up: bound,
                }
            }
        };
        let p = &root / "embed";
        let (embed, frozen) = match split {
            Some(n) => (
                p.f_var("weight", &[n, d], Init::Const(0.0)),
                Some(p.f_zeros_no_train("frozen", &[v - n, d]).map_err(alloc)?),
            ),
            None if config.train_embeddings => (p.f_var("weight", &[v, d], Init::Const(0.0)), None),
            None => (p.f_zeros_no_train("weight", &[v, d]), None),
        };
        let embed = embed.map_err(alloc)?;
        let head_rows = split.unwrap_or(v);
        fill_embeddings(
            &config,
            &vocab,
            init,
            (&embed, frozen.as_ref()),
            head_rows,
            device,
        )?;
        let classes = config.labels.len() as i64;
        let (lstm, features) = match config.architecture {
            Architecture::Average => (Vec::new(), d),
            Architecture::Lstm => {
                let h = config.hidden as i64;
                let weights = lstm_weights(
                    &(&root / "lstm"),
                    &config,
                    d,
                    initial(1.0 / (h as f64).sqrt()),
                )?;
                (weights, h * config.directions())
            }
        };
        let uniform = initial(1.0 / (features as f64).sqrt());
        let head = &root / "head";
        let head_w = head
            .f_var("weight", &[classes, features], uniform)
            .map_err(alloc)?;
        let head_b = head.f_var("bias", &[classes], uniform).map_err(alloc)?;
        Ok(Classifier {
            config,
            vocab,
            vs,
            embed,
            frozen,
            lstm,
            head_w,
            head_b,
        })
    }

    /// What this classifier is.
    pub fn config(&self) -> &ClassifierConfig {
        &self.config
    }

    /// Its words, by id.
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// Where the weights live.
    pub fn device(&self) -> Device {
        self.vs.device()
    }

    pub(crate) fn var_store(&self) -> &VarStore {
        &self.vs
    }

    /// Number of trained values.
    pub fn trainable_parameters(&self) -> i64 {
        self.vs
            .trainable_variables()
            .iter()
            .map(Tensor::numel)
            .sum::<usize>() as i64
    }

    /// The tokenizer this model was trained with.
    pub fn tokenizer(&self) -> Tokenizer {
        Tokenizer::new(self.config.lowercase)
    }

    /// The ids of `text`.
    pub fn encode(&self, text: &str) -> Result<Vec<i64>> {
        self.tokenizer().ids(text, &self.vocab)
    }

    /// Logits `[batch, classes]` of a padded batch.
    pub fn forward_t(&self, batch: &Batch, train: bool) -> Result<Tensor> {
        self.try_forward(batch, train)
            .map_err(|e| Error::torch("running the classifier", e))
    }

    fn try_forward(
        &self,
        batch: &Batch,
        train: bool,
    ) -> std::result::Result<Tensor, tch::TchError> {
        // Dropout at rate 0, or outside training, returns its input and draws nothing.
        let x = self
            .lookup(&batch.ids)?
            .f_dropout(self.config.embed_dropout, train)?;
        let features = match self.config.architecture {
            Architecture::Average => {
                // Known words only: ids above <unk>.
                let mask = batch
                    .ids
                    .f_gt(UNK_ID)?
                    .f_to_kind(Kind::Float)?
                    .f_unsqueeze(-1)?;
                let sum = x.f_mul(&mask)?.f_sum_dim_intlist(1, false, Kind::Float)?;
                let count = mask
                    .f_sum_dim_intlist(1, false, Kind::Float)?
                    .f_clamp_min(1.0)?;
                sum.f_div(&count)?
            }
            Architecture::Lstm => self.lstm_features(&x, &batch.lengths, train)?,
        };
        let features = features.f_dropout(self.config.dropout, train)?;
        features.f_linear(&self.head_w, Some(&self.head_b))
    }

    /// The word vectors `[batch, steps, dim]` of `ids`, from the trained rows or the frozen ones.
    fn lookup(&self, ids: &Tensor) -> std::result::Result<Tensor, tch::TchError> {
        let Some(frozen) = &self.frozen else {
            return Tensor::f_embedding(&self.embed, ids, PAD_ID, false, false);
        };
        let n = self.embed.size()[0];
        let in_head = ids.f_lt(n)?.f_unsqueeze(-1)?;
        let head =
            Tensor::f_embedding(&self.embed, &ids.f_clamp_max(n - 1)?, PAD_ID, false, false)?;
        let tail_ids = ids.f_sub_scalar(n)?.f_clamp_min(0)?;
        let tail = Tensor::f_embedding(frozen, &tail_ids, -1, false, false)?;
        head.f_where_self(&in_head, &tail)
    }

    /// The final state of the last layer, `[batch, hidden * directions]`, of a packed run.
    fn lstm_features(
        &self,
        x: &Tensor,
        lengths: &[i64],
        train: bool,
    ) -> std::result::Result<Tensor, tch::TchError> {
        let device = x.device();
        // Packing wants the longest sentence first; sort, run, and put the rows back.
        let mut order: Vec<usize> = (0..lengths.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(lengths[i]));
        let sorted_lengths: Vec<i64> = order.iter().map(|&i| lengths[i]).collect();
        let perm = Tensor::from_slice(&order.iter().map(|&i| i as i64).collect::<Vec<_>>())
            .to_device(device);
        let mut inverse = vec![0i64; order.len()];
        for (pos, &i) in order.iter().enumerate() {
            inverse[i] = pos as i64;
        }
        let inverse = Tensor::from_slice(&inverse).to_device(device);
        let sorted = x.f_index_select(0, &perm)?;
        let (data, batch_sizes) = Tensor::f_internal_pack_padded_sequence(
            &sorted,
            &Tensor::from_slice(&sorted_lengths),
            true,
        )?;
        let (layers, dirs) = (self.config.layers as i64, self.config.directions());
        let zeros = Tensor::f_zeros(
            [
                layers * dirs,
                lengths.len() as i64,
                self.config.hidden as i64,
            ],
            (Kind::Float, device),
        )?;
        let dropout = if layers > 1 { self.config.dropout } else { 0.0 };
        let (out, h, _) = Tensor::f_lstm_data(
            &data,
            &batch_sizes,
            &[zeros.shallow_clone(), zeros],
            &self.lstm,
            true,
            layers,
            dropout,
            train,
            dirs == 2,
        )?;
        let features = match self.config.pooling {
            Pooling::Last => {
                // h: [layers * dirs, batch, hidden]; the last layer's directions are last.
                let last = h.f_narrow(0, (layers - 1) * dirs, dirs)?;
                last.f_permute([1, 0, 2])?
                    .f_reshape([lengths.len() as i64, -1])?
            }
            Pooling::Max | Pooling::Mean => {
                let max = self.config.pooling == Pooling::Max;
                // The outputs, padded to [batch, steps, hidden * dirs] with a value that
                // neither the maximum nor the sum picks up.
                let pad = if max { f64::NEG_INFINITY } else { 0.0 };
                let (padded, _) = Tensor::f_internal_pad_packed_sequence(
                    &out,
                    &batch_sizes,
                    true,
                    pad,
                    sorted_lengths[0],
                )?;
                if max {
                    padded.f_amax(1, false)?
                } else {
                    let n = Tensor::from_slice(&sorted_lengths)
                        .to_device(device)
                        .f_to_kind(Kind::Float)?
                        .f_unsqueeze(-1)?;
                    padded.f_sum_dim_intlist(1, false, Kind::Float)?.f_div(&n)?
                }
            }
        };
        features.f_index_select(0, &inverse)
    }

    /// Class probabilities `[n, classes]` of `texts`, in batches of `batch_size`.
    pub fn probabilities(&self, texts: &[&str], batch_size: usize) -> Result<Vec<Vec<f32>>> {
        let ids = texts
            .iter()
            .map(|t| self.encode(t))
            .collect::<Result<Vec<_>>>()?;
        let refs: Vec<&[i64]> = ids.iter().map(Vec::as_slice).collect();
        self.probabilities_of_ids(&refs, batch_size)
    }

    /// [`Classifier::probabilities`] of encoded sentences.
    pub fn probabilities_of_ids(
        &self,
        sentences: &[&[i64]],
        batch_size: usize,
    ) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(sentences.len());
        tch::no_grad(|| -> Result<()> {
            for chunk in sentences.chunks(batch_size.max(1)) {
                let batch = Batch::new(chunk, self.device());
                let probs = self
                    .forward_t(&batch, false)?
                    .softmax(-1, Kind::Float)
                    .to_device(Device::Cpu);
                let flat = Vec::<f32>::try_from(probs.reshape([-1]))
                    .map_err(|e| Error::torch("reading the probabilities", e))?;
                out.extend(flat.chunks(self.config.labels.len()).map(<[f32]>::to_vec));
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Saves to `dir` atomically.
    pub fn save(&self, dir: &Path, meta: &Meta) -> Result<()> {
        checkpoint::save(dir, meta, &self.config, &self.vocab, &self.vs)
    }

    /// Saves to `dir` atomically, with `extra` tensor files (the optimiser state).
    pub fn save_with(
        &self,
        dir: &Path,
        meta: &Meta,
        extra: &[checkpoint::ExtraTensors<'_>],
    ) -> Result<()> {
        checkpoint::save_with(dir, meta, &self.config, &self.vocab, &self.vs, extra)
    }

    /// Loads a model saved by `seqmodels classify train`.
    pub fn load(dir: &Path, device: Device) -> Result<Classifier> {
        let loaded = checkpoint::load::<ClassifierConfig, Vocab>(dir, KIND, FORMAT_VERSION)?;
        let mut model = Classifier::new(loaded.config, loaded.vocab, EmbeddingInit::Zeros, device)
            .map_err(|e| Error::checkpoint(dir, e.to_string()))?;
        checkpoint::load_weights(dir, &mut model.vs)?;
        Ok(model)
    }
}
