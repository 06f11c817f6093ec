//! A trained seq2seq model with its vocabularies: text in, text out.
//!
//! [`Translator`] owns the parameters, the source and target vocabularies and the task, and
//! decodes batches of inputs with the beam search of [`super::beam`]. For the date task the
//! output is the 10 characters of an ISO date and, unless turned off, decoding is constrained
//! by [`super::constraint::DateConstraint`] so that it is always a real date.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use super::beam::{self, BeamConfig, Constraint, Hypothesis, StepModel};
use super::constraint::DateConstraint;
use super::model::{DecoderState, Encoded, Seq2Seq, Seq2SeqConfig};
use crate::checkpoint::{self, Meta};
use crate::error::{Error, Result};
use crate::vocab::{Vocab, BOS, PAD, UNK};

/// `meta.json` kind of a translator directory.
pub const KIND: &str = "seq2seq";
/// Layout version of translator directories.
pub const FORMAT_VERSION: u32 = 1;

/// What a translator translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Human-written dates to `YYYY-MM-DD`, character by character, always 10 characters.
    Dates,
}

/// `config.json` of a translator directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranslatorConfig {
    /// The task.
    pub task: Task,
    /// Lower-case inputs before encoding them.
    pub lowercase: bool,
    /// The network's sizes.
    pub model: Seq2SeqConfig,
}

/// `vocab.json` of a translator directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vocabs {
    /// Source tokens (characters for dates); `<pad>` is 0 and `<unk>` 1.
    pub src: Vocab,
    /// Target tokens; `<pad>` is 0 and `<bos>` 1.
    pub tgt: Vocab,
}

impl Vocabs {
    /// Source vocabulary over the characters of `sources`, target vocabulary over those of
    /// `targets`, with the specials in place.
    pub fn of_chars<'a>(
        sources: impl IntoIterator<Item = &'a str>,
        targets: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        Vocabs {
            src: Vocab::of_chars(sources, &[PAD, UNK]),
            tgt: Vocab::of_chars(targets, &[PAD, BOS]),
        }
    }
}

/// How to decode.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeOptions {
    /// Beam width; 1 is greedy.
    pub beam_width: usize,
    /// Length normalisation exponent: hypotheses are ranked by `log_prob / len^alpha`.
    pub alpha: f64,
    /// How many hypotheses to return per input (at most `beam_width`).
    pub n_best: usize,
    /// Constrain date outputs to real dates.
    pub constrain: bool,
    /// Inputs decoded together.
    pub batch_size: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            beam_width: 1,
            alpha: 0.7,
            n_best: 1,
            constrain: true,
            batch_size: 256,
        }
    }
}

/// One output hypothesis.
#[derive(Debug, Clone, PartialEq)]
pub struct Translation {
    /// The output text.
    pub text: String,
    /// `log_prob / len^alpha`, by which hypotheses are ranked.
    pub score: f64,
    /// Sum of the log-probabilities of the output tokens.
    pub log_prob: f64,
}

/// Attention weights of one translation, for drawing.
#[derive(Debug, Clone, PartialEq)]
pub struct AttentionMap {
    /// Source tokens (x axis).
    pub source: Vec<String>,
    /// Output tokens (y axis).
    pub output: Vec<String>,
    /// `weights[t][j]`: attention of output step t on source position j; rows sum to 1.
    pub weights: Vec<Vec<f32>>,
}

/// A trained translator.
#[derive(Debug)]
pub struct Translator {
    vs: VarStore,
    model: Seq2Seq,
    config: TranslatorConfig,
    vocabs: Vocabs,
    meta: Meta,
}

/// The dates model that ships with seqmodels, compiled into the library.
pub const BUILTIN_DATES: checkpoint::Embedded = checkpoint::Embedded {
    name: "<built-in dates model>",
    config: include_bytes!("../../models/dates/config.json"),
    vocab: include_bytes!("../../models/dates/vocab.json"),
    weights: include_bytes!("../../models/dates/model.safetensors"),
    meta: include_bytes!("../../models/dates/meta.json"),
};

impl Translator {
    /// A freshly initialised translator (for training).
    pub fn new(
        config: TranslatorConfig,
        vocabs: Vocabs,
        device: Device,
        seed: u64,
    ) -> Result<Self> {
        let mut config = config;
        config.model.src_vocab = vocabs.src.len();
        config.model.tgt_vocab = vocabs.tgt.len();
        let vs = VarStore::new(device);
        let model = Seq2Seq::new(&vs.root(), &config.model)?;
        Ok(Translator {
            vs,
            model,
            config,
            vocabs,
            meta: Meta::new(KIND, FORMAT_VERSION, seed),
        })
    }

    /// Loads a translator directory onto `device`.
    pub fn load(dir: &Path, device: Device) -> Result<Self> {
        let loaded = checkpoint::load(dir, KIND, FORMAT_VERSION)?;
        Self::from_parts(loaded, device, |vs| checkpoint::load_weights(dir, vs))
    }

    /// The date translator that ships with seqmodels.
    pub fn builtin_dates(device: Device) -> Result<Self> {
        let loaded = BUILTIN_DATES.load(KIND, FORMAT_VERSION)?;
        Self::from_parts(loaded, device, |vs| BUILTIN_DATES.load_weights(vs))
    }

    fn from_parts(
        loaded: checkpoint::Loaded<TranslatorConfig, Vocabs>,
        device: Device,
        weights: impl FnOnce(&mut VarStore) -> Result<()>,
    ) -> Result<Self> {
        let checkpoint::Loaded {
            meta,
            config,
            vocab: vocabs,
        } = loaded;
        if config.model.src_vocab != vocabs.src.len() || config.model.tgt_vocab != vocabs.tgt.len()
        {
            return Err(Error::Config(format!(
                "config.json gives vocabulary sizes {}/{} but vocab.json has {}/{}",
                config.model.src_vocab,
                config.model.tgt_vocab,
                vocabs.src.len(),
                vocabs.tgt.len()
            )));
        }
        let mut vs = VarStore::new(device);
        let model = Seq2Seq::new(&vs.root(), &config.model)?;
        weights(&mut vs)?;
        Ok(Translator {
            vs,
            model,
            config,
            vocabs,
            meta,
        })
    }

    /// Saves the translator as a model directory (atomically), with `meta`'s figures.
    pub fn save(&self, dir: &Path) -> Result<()> {
        checkpoint::save(dir, &self.meta, &self.config, &self.vocabs, &self.vs)
    }

    /// Replaces the provenance saved with the model.
    pub fn set_meta(&mut self, meta: Meta) {
        self.meta = meta;
    }

    /// Provenance and training figures.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// The configuration.
    pub fn config(&self) -> &TranslatorConfig {
        &self.config
    }

    /// The vocabularies.
    pub fn vocabs(&self) -> &Vocabs {
        &self.vocabs
    }

    /// The network.
    pub fn model(&self) -> &Seq2Seq {
        &self.model
    }

    /// The parameters (for an optimiser).
    pub fn var_store(&self) -> &VarStore {
        &self.vs
    }

    /// The source token ids of `input`, after normalisation, or why it cannot be translated.
    pub fn encode_source(&self, input: &str) -> Result<Vec<usize>> {
        let text = input.trim();
        let invalid = |reason: String| Error::InvalidInput {
            input: input.to_owned(),
            reason,
        };
        if text.is_empty() {
            return Err(invalid("empty input".to_owned()));
        }
        let text = if self.config.lowercase {
            text.to_lowercase()
        } else {
            text.to_owned()
        };
        let ids = self.vocabs.src.encode_chars(&text, self.unk());
        let max = self.config.model.max_src_len;
        if ids.len() > max {
            return Err(invalid(format!(
                "{} characters; this model reads at most {max}",
                ids.len()
            )));
        }
        Ok(ids)
    }

    /// The target token ids of a reference output (for training and scoring).
    pub fn encode_target(&self, output: &str) -> Result<Vec<usize>> {
        let ids = self.vocabs.tgt.encode_chars(output, usize::MAX);
        if ids.len() != self.config.model.max_tgt_len || ids.contains(&usize::MAX) {
            return Err(Error::InvalidInput {
                input: output.to_owned(),
                reason: format!(
                    "a target must be {} characters from {:?}",
                    self.config.model.max_tgt_len,
                    self.vocabs.tgt.tokens()
                ),
            });
        }
        Ok(ids)
    }

    fn unk(&self) -> usize {
        self.vocabs.src.id(UNK).unwrap_or(0)
    }

    fn bos(&self) -> usize {
        self.vocabs.tgt.id(BOS).unwrap_or(0)
    }

    /// Pads encoded sources into `[batch, longest]` and their lengths.
    pub fn batch_sources(&self, sources: &[&[usize]]) -> (Tensor, Vec<i64>) {
        let longest = sources.iter().map(|s| s.len()).max().unwrap_or(1).max(1);
        let mut flat = vec![0i64; sources.len() * longest];
        for (row, s) in sources.iter().enumerate() {
            for (j, &id) in s.iter().enumerate() {
                flat[row * longest + j] = id as i64;
            }
        }
        let lengths = sources.iter().map(|s| s.len().max(1) as i64).collect();
        let tensor = Tensor::from_slice(&flat)
            .view([sources.len() as i64, longest as i64])
            .to_device(self.vs.device());
        (tensor, lengths)
    }

    fn constraint(&self, options: &DecodeOptions) -> Result<Option<DateConstraint>> {
        if !options.constrain {
            return Ok(None);
        }
        let chars: Vec<char> = self
            .vocabs
            .tgt
            .tokens()
            .iter()
            .map(|t| {
                let mut cs = t.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) => c,
                    _ => '\u{0}',
                }
            })
            .collect();
        DateConstraint::new(&chars, 1, 9999)
            .map(Some)
            .map_err(Error::Config)
    }

    /// Translates each input; an input that cannot be translated (empty, too long) gets its own
    /// error and the others go on. Each success holds up to `n_best` hypotheses, best first.
    pub fn translate(
        &self,
        inputs: &[&str],
        options: &DecodeOptions,
    ) -> Result<Vec<Result<Vec<Translation>>>> {
        let beam_config = BeamConfig {
            width: options.beam_width,
            n_best: options.n_best,
            alpha: options.alpha,
            max_len: self.config.model.max_tgt_len,
            min_len: 0,
            bos: self.bos(),
            eos: None,
        };
        beam_config.validate().map_err(Error::Config)?;
        let constraint = self.constraint(options)?;
        let encoded: Vec<Result<Vec<usize>>> =
            inputs.iter().map(|i| self.encode_source(i)).collect();
        let valid: Vec<usize> = (0..inputs.len()).filter(|&i| encoded[i].is_ok()).collect();
        let mut decoded: Vec<Option<Vec<Translation>>> = vec![None; inputs.len()];
        for chunk in valid.chunks(options.batch_size.max(1)) {
            let sources: Vec<&[usize]> = chunk
                .iter()
                .filter_map(|&i| encoded[i].as_ref().ok().map(Vec::as_slice))
                .collect();
            let hyps =
                tch::no_grad(|| self.decode_batch(&sources, &beam_config, constraint.as_ref()))?;
            for (&i, hs) in chunk.iter().zip(hyps) {
                decoded[i] = Some(
                    hs.into_iter()
                        .map(|h| Translation {
                            text: self.vocabs.tgt.decode_concat(&h.tokens),
                            score: h.score,
                            log_prob: h.log_prob,
                        })
                        .collect(),
                );
            }
        }
        Ok(encoded
            .into_iter()
            .zip(decoded)
            .map(|(enc, dec)| enc.map(|_| dec.unwrap_or_default()))
            .collect())
    }

    fn decode_batch(
        &self,
        sources: &[&[usize]],
        config: &BeamConfig,
        constraint: Option<&DateConstraint>,
    ) -> Result<Vec<Vec<Hypothesis>>> {
        let (src, lengths) = self.batch_sources(sources);
        let enc = self.model.encode(&src, &lengths, false);
        let mut stepper = TorchStepper {
            model: &self.model,
            enc,
        };
        let init = self.model.initial_state(sources.len() as i64);
        let constraint = constraint.map(|c| c as &dyn Constraint);
        beam::beam_search(&mut stepper, init, sources.len(), config, constraint)
    }

    /// Where the model looked while producing `output` from `input` (teacher-forced).
    pub fn attention(&self, input: &str, output: &str) -> Result<AttentionMap> {
        let src = self.encode_source(input)?;
        let tgt = self.encode_target(output)?;
        let (src_t, lengths) = self.batch_sources(&[&src]);
        let prev: Vec<i64> = std::iter::once(self.bos() as i64)
            .chain(tgt.iter().take(tgt.len() - 1).map(|&t| t as i64))
            .collect();
        let prev = Tensor::from_slice(&prev)
            .view([1, -1])
            .to_device(self.vs.device());
        let weights = tch::no_grad(|| {
            let enc = self.model.encode(&src_t, &lengths, false);
            let (_, attention) = self.model.forward_teacher(&enc, &prev, false);
            attention
                .squeeze_dim(0)
                .to_device(Device::Cpu)
                .to_kind(Kind::Float)
        });
        let weights: Vec<Vec<f32>> = Vec::<Vec<f32>>::try_from(&weights)
            .map_err(|e| Error::torch("reading attention weights", e))?;
        let token = |v: &Vocab, id: usize| v.token(id).unwrap_or("?").to_owned();
        let normalised = if self.config.lowercase {
            input.trim().to_lowercase()
        } else {
            input.trim().to_owned()
        };
        Ok(AttentionMap {
            source: normalised.chars().map(String::from).collect(),
            output: tgt.iter().map(|&t| token(&self.vocabs.tgt, t)).collect(),
            weights,
        })
    }
}

/// Beam search's view of the network: one decoder step for a stack of hypotheses.
struct TorchStepper<'a> {
    model: &'a Seq2Seq,
    enc: Encoded,
}

impl StepModel for TorchStepper<'_> {
    type State = DecoderState;
    type Error = Error;

    fn step(
        &mut self,
        state: &DecoderState,
        last: &[usize],
        source: &[usize],
        _step: usize,
    ) -> Result<(DecoderState, Vec<f32>)> {
        let device = self.model.device();
        let rows: Vec<i64> = source.iter().map(|&s| s as i64).collect();
        let rows = Tensor::from_slice(&rows).to_device(device);
        let enc = self.enc.select(&rows);
        let last: Vec<i64> = last.iter().map(|&t| t as i64).collect();
        let prev = Tensor::from_slice(&last).to_device(device);
        let step = self.model.step(&enc, state, &prev, false);
        let log_probs = step
            .logits
            .log_softmax(-1, Kind::Float)
            .to_device(Device::Cpu)
            .flatten(0, -1);
        let flat = Vec::<f32>::try_from(&log_probs)
            .map_err(|e| Error::torch("reading decoder outputs", e))?;
        Ok((step.state, flat))
    }

    fn select(&mut self, state: &DecoderState, rows: &[usize]) -> Result<DecoderState> {
        let rows: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
        Ok(state.select(&Tensor::from_slice(&rows).to_device(self.model.device())))
    }
}
