//! The network: embedding or one-hot input, a stacked recurrent layer, a linear head.

use std::borrow::Cow;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::nn::{Init, VarStore};
use tch::{Device, Kind, Tensor};

use super::data::{Dataset, Unit, BOUNDARY};
use crate::checkpoint::{self, Meta};
use crate::error::{Error, Result};
use crate::vocab::Vocab;

/// The `kind` in a character model's `meta.json`.
pub const KIND: &str = "charlm";
/// Bumped when the saved layout changes.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// The recurrent cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cell {
    /// Elman RNN with tanh (the course's dinosaur model).
    Rnn,
    /// Gated recurrent unit.
    Gru,
    /// Long short-term memory.
    Lstm,
}

impl Cell {
    fn gates(self) -> i64 {
        match self {
            Cell::Rnn => 1,
            Cell::Gru => 3,
            Cell::Lstm => 4,
        }
    }
}

/// The sizes of a model, saved as `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Lines or continuous text.
    pub unit: Unit,
    /// The recurrent cell.
    pub cell: Cell,
    /// Embedding size; 0 feeds one-hot vectors (the course's model).
    pub embed: usize,
    /// Hidden units per layer.
    pub hidden: usize,
    /// Stacked layers.
    pub layers: usize,
    /// Dropout between layers and before the head (training only).
    pub dropout: f64,
    /// The data was lower-cased before training; evaluation and prefixes are lower-cased too.
    #[serde(default)]
    pub lowercase: bool,
}

impl ModelConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        if self.hidden == 0 || self.layers == 0 {
            return Err(Error::Config(
                "hidden size and layers must be at least 1".into(),
            ));
        }
        crate::limits::check_fraction("dropout", self.dropout)?;
        Ok(())
    }

    /// `data` as this model reads it: lower-cased when the model was trained lower-cased.
    pub fn prepared<'a>(&self, data: &'a Dataset) -> Cow<'a, Dataset> {
        if self.lowercase {
            Cow::Owned(data.clone().lowercased())
        } else {
            Cow::Borrowed(data)
        }
    }
}

/// The recurrent state between calls: `[h]` or, for an LSTM, `[h, c]`, each
/// `[layers, batch, hidden]`.
pub(crate) type State = Vec<Tensor>;

/// A character language model with its vocabulary.
#[derive(Debug)]
pub struct CharLm {
    pub(crate) config: ModelConfig,
    pub(crate) vocab: Vocab,
    pub(crate) vs: VarStore,
    embedding: Option<Tensor>,
    rnn: Vec<Tensor>,
    head_w: Tensor,
    head_b: Tensor,
}

impl CharLm {
    /// A freshly initialised model (PyTorch's initialisation: recurrent and head weights uniform
    /// in ±1/sqrt(fan), embedding N(0, 1)), seeded by the caller through libtorch's generator.
    pub fn new(config: ModelConfig, vocab: Vocab, device: Device) -> Result<CharLm> {
        Self::build(config, vocab, device, true)
    }

    /// [`CharLm::new`], or with `random` false all zeros: for weights about to be loaded, so
    /// that loading draws nothing from libtorch's generator.
    fn build(config: ModelConfig, vocab: Vocab, device: Device, random: bool) -> Result<CharLm> {
        config.validate()?;
        if vocab.is_empty() {
            return Err(Error::Config("the vocabulary is empty".into()));
        }
        let v = vocab.len() as i64;
        let h = config.hidden as i64;
        let input = if config.embed > 0 {
            config.embed as i64
        } else {
            v
        };
        let gates = config.cell.gates();
        // In floating point: sizes from a config.json may be beyond any integer type's range.
        let (vf, hf) = (v as f64, config.hidden as f64);
        let input_f = if config.embed > 0 {
            config.embed as f64
        } else {
            vf
        };
        crate::limits::check_model_size(
            vf * config.embed as f64
                + crate::limits::rnn_weights(gates as f64, input_f, hf, config.layers, 1.0)
                + vf * (hf + 1.0),
            config.layers,
        )?;
        let alloc = |e| Error::torch("making the model's weights", e);
        let vs = VarStore::new(device);
        let root = vs.root();
        let embedding = (config.embed > 0)
            .then(|| {
                (&root / "embed").f_var(
                    "weight",
                    &[v, config.embed as i64],
                    if random {
                        Init::Randn {
                            mean: 0.0,
                            stdev: 1.0,
                        }
                    } else {
                        Init::Const(0.0)
                    },
                )
            })
            .transpose()
            .map_err(alloc)?;
        let bound = 1.0 / (h as f64).sqrt();
        let uniform = if random {
            Init::Uniform {
                lo: -bound,
                up: bound,
            }
        } else {
            Init::Const(0.0)
        };
        let g = gates * h;
        let mut rnn = Vec::with_capacity(4 * config.layers);
        for l in 0..config.layers {
            let fan_in = if l == 0 { input } else { h };
            let r = &root / "rnn";
            for (name, dims) in [
                ("weight_ih", vec![g, fan_in]),
                ("weight_hh", vec![g, h]),
                ("bias_ih", vec![g]),
                ("bias_hh", vec![g]),
            ] {
                rnn.push(
                    r.f_var(&format!("{name}_l{l}"), &dims, uniform)
                        .map_err(alloc)?,
                );
            }
        }
        let head = &root / "head";
        let head_w = head.f_var("weight", &[v, h], uniform).map_err(alloc)?;
        let head_b = head.f_var("bias", &[v], uniform).map_err(alloc)?;
        Ok(CharLm {
            config,
            vocab,
            vs,
            embedding,
            rnn,
            head_w,
            head_b,
        })
    }

    /// The sizes.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The characters, by id.
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// Where the weights live.
    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// Number of trainable values.
    pub fn parameters(&self) -> i64 {
        self.vs
            .trainable_variables()
            .iter()
            .map(Tensor::numel)
            .sum::<usize>() as i64
    }

    /// Logits `[batch, steps, vocab]` for `inputs` `[batch, steps]`, and the state after them.
    pub(crate) fn forward(
        &self,
        inputs: &Tensor,
        state: Option<&State>,
        train: bool,
    ) -> std::result::Result<(Tensor, State), tch::TchError> {
        let x = match &self.embedding {
            Some(table) => Tensor::f_embedding(table, inputs, -1, false, false)?,
            None => inputs
                .f_one_hot(self.vocab.len() as i64)?
                .f_to_kind(Kind::Float)?,
        };
        let batch = inputs.size()[0];
        let zeros = || {
            Tensor::f_zeros(
                [self.config.layers as i64, batch, self.config.hidden as i64],
                (Kind::Float, self.device()),
            )
        };
        let layers = self.config.layers as i64;
        let dropout = if layers > 1 { self.config.dropout } else { 0.0 };
        let (out, state) = match self.config.cell {
            Cell::Lstm => {
                let hx = match state {
                    Some(s) => s.iter().map(Tensor::shallow_clone).collect(),
                    None => vec![zeros()?, zeros()?],
                };
                let (out, h, c) =
                    x.f_lstm(&hx, &self.rnn, true, layers, dropout, train, false, true)?;
                (out, vec![h, c])
            }
            cell => {
                let hx = match state {
                    Some(s) => s[0].shallow_clone(),
                    None => zeros()?,
                };
                let (out, h) = if cell == Cell::Gru {
                    x.f_gru(&hx, &self.rnn, true, layers, dropout, train, false, true)?
                } else {
                    x.f_rnn_tanh(&hx, &self.rnn, true, layers, dropout, train, false, true)?
                };
                (out, vec![h])
            }
        };
        let out = out.f_dropout(self.config.dropout, train)?;
        let logits = out.f_linear(&self.head_w, Some(&self.head_b))?;
        Ok((logits, state))
    }

    /// Saves to `dir` atomically, with `extra` safetensors files (the optimiser state).
    pub(crate) fn save_with(
        &self,
        dir: &Path,
        meta: &Meta,
        extra: &[checkpoint::ExtraTensors<'_>],
    ) -> Result<()> {
        checkpoint::save_with(dir, meta, &self.config, &self.vocab, &self.vs, extra)
    }

    /// Loads a model saved by `seqmodels charlm train`.
    pub fn load(dir: &Path, device: Device) -> Result<CharLm> {
        let loaded = checkpoint::load::<ModelConfig, Vocab>(dir, KIND, FORMAT_VERSION)?;
        if loaded.config.unit == Unit::Line && loaded.vocab.id(BOUNDARY) != Some(0) {
            return Err(Error::checkpoint(
                dir,
                "a line model's vocabulary must start with the boundary \"\\n\"",
            ));
        }
        if let Some(token) = loaded
            .vocab
            .tokens()
            .iter()
            .find(|t| t.chars().count() != 1)
        {
            return Err(Error::checkpoint(
                dir,
                format!(
                    "vocab.json holds {}, not one character",
                    crate::limits::quote(token)
                ),
            ));
        }
        let mut model = CharLm::build(loaded.config, loaded.vocab, device, false)
            .map_err(|e| Error::checkpoint(dir, e.to_string()))?;
        checkpoint::load_weights(dir, &mut model.vs)?;
        Ok(model)
    }

    /// The model's `meta.json`; a directory that holds another kind of model, or another
    /// format version, is an error that says so.
    pub fn meta(dir: &Path) -> Result<Meta> {
        let meta = checkpoint::read_meta(dir)?;
        checkpoint::check_meta(dir, &meta, KIND, FORMAT_VERSION)?;
        Ok(meta)
    }
}
