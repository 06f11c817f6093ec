//! A trained seq2seq model with its vocabularies: text in, text out.
//!
//! [`Translator`] owns the parameters, the vocabularies and a [`Codec`], and decodes batches of
//! inputs with the beam search of [`super::beam`]. It knows no task: the codec that its task
//! gives it says how text becomes token ids and back, where outputs start and end, which files
//! hold its tokenizers, and which constraint decoding respects (dates: characters, 10 of them,
//! held to real dates; sentences: tokens ended by `<eos>`).

use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use super::attention_map::AttentionMap;
use super::beam::{self, BeamConfig, Constraint, Hypothesis};
use super::codec::{Codec, Refusal};
use super::model::{Seq2Seq, Seq2SeqConfig};
use super::stepper::TorchStepper;
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
    /// Sentences to sentences, token by token (words or BPE pieces), ended by `<eos>`.
    Sentences,
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
    /// Sentences: an output has at most `ceil(max_len_ratio * source tokens)` tokens, but never
    /// fewer than `min_len` nor more than the model's `max_tgt_len`.
    pub max_len_ratio: f64,
    /// Sentences: `<eos>` is not allowed before this many tokens.
    pub min_len: usize,
    /// Sentences: an output `<unk>` is replaced by the source word that the attention weighted
    /// most at that step.
    pub replace_unk: bool,
    /// An input longer than the model reads is an error; otherwise it is cut to that length
    /// and its translations are marked `truncated`.
    pub strict: bool,
    /// Source tags put before every input: tokens of the model's source vocabulary that it was
    /// trained to read as instructions (a date model's `<day-first>`), as multilingual models
    /// read a target-language tag (Johnson et al. 2017). A tag the model lacks is an error.
    pub tags: Vec<String>,
    /// Answers whose confidence is below this are refused ([`Refusal::LowConfidence`]); 0
    /// refuses none.
    pub min_confidence: f64,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            beam_width: 1,
            alpha: 0.7,
            n_best: 1,
            constrain: true,
            batch_size: 256,
            max_len_ratio: 2.0,
            min_len: 0,
            replace_unk: false,
            strict: false,
            tags: Vec::new(),
            min_confidence: 0.0,
        }
    }
}

/// One output hypothesis.
#[derive(Debug, Clone, PartialEq)]
pub struct Translation {
    /// The output text; empty for a refusal.
    pub text: String,
    /// `log_prob / len^alpha`, by which hypotheses are ranked.
    pub score: f64,
    /// Sum of the log-probabilities of the output tokens.
    pub log_prob: f64,
    /// `exp(score)`: the probability of the output under the model, length-normalised as the
    /// beam ranks it (the geometric mean of the token probabilities when `alpha` is 1), in
    /// [0, 1].
    pub confidence: f64,
    /// Why this hypothesis is a refusal, when it is one.
    pub refused: Option<Refusal>,
    /// The input was longer than the model reads and was cut.
    pub truncated: bool,
}

/// A trained translator.
#[derive(Debug)]
pub struct Translator {
    vs: VarStore,
    model: Seq2Seq,
    config: TranslatorConfig,
    vocabs: Vocabs,
    codec: Box<dyn Codec>,
    meta: Meta,
}

/// A source ready to decode: its token ids, and for sentences the text of each token (for
/// `replace_unk`).
struct Source {
    ids: Vec<usize>,
    words: Vec<String>,
    truncated: bool,
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
    /// A freshly initialised translator (for training) over `codec`'s vocabularies; the
    /// vocabulary sizes in `config.model` are set from them.
    pub fn new(
        config: TranslatorConfig,
        codec: Box<dyn Codec>,
        device: Device,
        seed: u64,
    ) -> Result<Self> {
        let vocabs = codec.vocabs()?;
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
            codec,
            meta: Meta::new(KIND, FORMAT_VERSION, seed),
        })
    }

    /// Loads a translator directory onto `device`.
    pub fn load(dir: &Path, device: Device) -> Result<Self> {
        let loaded: checkpoint::Loaded<TranslatorConfig, Vocabs> =
            checkpoint::load(dir, KIND, FORMAT_VERSION)?;
        // A bad size in config.json is the checkpoint's fault: name it.
        let in_dir = |e| match e {
            Error::Config(reason) => Error::checkpoint(dir, reason),
            other => other,
        };
        let codec = super::codec_for(&loaded.config, &loaded.vocab, Some(dir)).map_err(in_dir)?;
        Self::from_parts(loaded, codec, device, |vs| {
            checkpoint::load_weights(dir, vs)
        })
        .map_err(in_dir)
    }

    /// The date translator that ships with seqmodels.
    pub fn builtin_dates(device: Device) -> Result<Self> {
        let loaded = BUILTIN_DATES.load(KIND, FORMAT_VERSION)?;
        let codec = super::codec_for(&loaded.config, &loaded.vocab, None)?;
        Self::from_parts(loaded, codec, device, |vs| BUILTIN_DATES.load_weights(vs))
    }

    fn from_parts(
        loaded: checkpoint::Loaded<TranslatorConfig, Vocabs>,
        codec: Box<dyn Codec>,
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
            codec,
            meta,
        })
    }

    /// Saves the translator as a model directory (atomically), with `meta`'s figures.
    pub fn save(&self, dir: &Path) -> Result<()> {
        self.save_with(dir, &[])
    }

    /// [`Translator::save`] with extra safetensors files (the optimiser state), in the same
    /// atomic step.
    pub fn save_with(&self, dir: &Path, extra: &[checkpoint::ExtraTensors<'_>]) -> Result<()> {
        let files = self.codec.files()?;
        checkpoint::save_bundle(
            dir,
            &self.meta,
            &self.config,
            &self.vocabs,
            &self.vs,
            extra,
            &files,
        )
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

    /// The source token ids of `input`, after normalisation, or why it cannot be translated
    /// (empty; too long when `strict`).
    pub fn encode_source(&self, input: &str) -> Result<Vec<usize>> {
        self.encode_tagged(&[], input)
    }

    /// [`Translator::encode_source`] with source `tags` first (see [`DecodeOptions::tags`]).
    pub fn encode_tagged(&self, tags: &[String], input: &str) -> Result<Vec<usize>> {
        Ok(self.source(input, true, tags)?.ids)
    }

    /// The ids of source `tags`, or an error naming a tag the model was not trained with.
    fn tag_ids(&self, tags: &[String]) -> Result<Vec<usize>> {
        tags.iter()
            .map(|tag| {
                self.vocabs.src.id(tag).ok_or_else(|| {
                    Error::Config(format!(
                        "this model has no {tag} tag in its source vocabulary: it was not \
                         trained to read it"
                    ))
                })
            })
            .collect()
    }

    /// A character model's input characters that it never saw in training (each read as
    /// `<unk>`), in order, without repeats; empty for a sentence model, whose tokenizer spells
    /// unseen words in pieces.
    pub fn unseen_characters(&self, input: &str) -> Vec<char> {
        self.codec.unseen_characters(input.trim())
    }

    fn source(&self, input: &str, strict: bool, tags: &[String]) -> Result<Source> {
        let text = input.trim();
        let invalid = |reason: String| Error::InvalidInput {
            input: input.to_owned(),
            reason,
        };
        if text.is_empty() {
            return Err(invalid("empty input".to_owned()));
        }
        let (mut ids, mut words) = self.codec.encode_source(text)?;
        if ids.is_empty() {
            return Err(invalid("no tokens in the input".to_owned()));
        }
        let max = self.config.model.max_src_len;
        let truncated = ids.len() > max;
        if truncated {
            if strict || !self.codec.may_truncate() {
                return Err(invalid(format!(
                    "{} {}; this model reads at most {max}",
                    ids.len(),
                    self.codec.unit()
                )));
            }
            ids.truncate(max);
            words.truncate(max);
        }
        if !tags.is_empty() {
            let tag_ids = self.tag_ids(tags)?;
            ids.splice(0..0, tag_ids);
            words.splice(0..0, tags.iter().cloned());
        }
        Ok(Source {
            ids,
            words,
            truncated,
        })
    }

    /// The target token ids of a reference output (for training and scoring): for dates its
    /// characters, for sentences its tokens then `<eos>`.
    pub fn encode_target(&self, output: &str) -> Result<Vec<usize>> {
        self.codec
            .encode_target(output, self.config.model.max_tgt_len)
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

    fn constraint(&self, options: &DecodeOptions) -> Result<Option<Box<dyn Constraint>>> {
        if !options.constrain {
            return Ok(None);
        }
        self.codec.constraint()
    }

    /// Translates each input; an input that cannot be translated (empty, too long under
    /// `strict`) gets its own error and the others go on. Each success holds up to `n_best`
    /// hypotheses, best first. The result for an input does not depend on the others in the
    /// call nor on `batch_size`.
    pub fn translate(
        &self,
        inputs: &[&str],
        options: &DecodeOptions,
    ) -> Result<Vec<Result<Vec<Translation>>>> {
        // Outputs that end with an end token have a length to choose; the others are fixed.
        let eos = self.codec.eos();
        let ended = eos.is_some();
        let beam_config = BeamConfig {
            width: options.beam_width,
            n_best: options.n_best,
            alpha: options.alpha,
            max_len: self.config.model.max_tgt_len,
            min_len: if ended { options.min_len } else { 0 },
            bos: self.codec.bos(),
            eos,
            max_lens: None,
        };
        beam_config.validate().map_err(Error::Config)?;
        if ended && !(options.max_len_ratio.is_finite() && options.max_len_ratio > 0.0) {
            return Err(Error::Config(format!(
                "max length ratio {} must be a positive number",
                options.max_len_ratio
            )));
        }
        if !(0.0..=1.0).contains(&options.min_confidence) {
            return Err(Error::Config(format!(
                "minimum confidence {} must be in [0, 1]",
                options.min_confidence
            )));
        }
        self.tag_ids(&options.tags)?;
        let constraint = self.constraint(options)?;
        let encoded: Vec<Result<Source>> = inputs
            .iter()
            .map(|i| self.source(i, options.strict, &options.tags))
            .collect();
        let valid: Vec<usize> = (0..inputs.len()).filter(|&i| encoded[i].is_ok()).collect();
        let mut decoded: Vec<Option<Vec<Translation>>> = vec![None; inputs.len()];
        // A chunk decodes inputs × beam width hypotheses at once: keep that within 16,384 rows
        // (a wide beam decodes fewer inputs at a time, not more memory).
        let per_chunk = options
            .batch_size
            .clamp(1, (16_384 / options.beam_width.max(1)).max(1));
        let length = |i: usize| encoded[i].as_ref().map_or(0, |s| s.ids.len());
        for chunk in super::batching::batches(&valid, length, per_chunk) {
            let sources: Vec<&Source> = chunk
                .iter()
                .filter_map(|&i| encoded[i].as_ref().ok())
                .collect();
            let mut config = beam_config.clone();
            if ended {
                config.max_lens = Some(
                    sources
                        .iter()
                        .map(|s| (options.max_len_ratio * s.ids.len() as f64).ceil() as usize)
                        .map(|n| n.max(options.min_len).clamp(1, beam_config.max_len))
                        .collect(),
                );
            }
            let ids: Vec<&[usize]> = sources.iter().map(|s| s.ids.as_slice()).collect();
            let hyps = tch::no_grad(|| self.decode_batch(&ids, &config, constraint.as_deref()))?;
            for ((&i, source), hs) in chunk.iter().zip(&sources).zip(hyps) {
                let mut out = Vec::with_capacity(hs.len());
                for h in hs {
                    let confidence = h.score.exp().clamp(0.0, 1.0);
                    let refused = self.codec.refusal(&h.tokens).or_else(|| {
                        (confidence < options.min_confidence).then_some(Refusal::LowConfidence)
                    });
                    let text = match refused {
                        Some(_) => String::new(),
                        None => self.output_text(source, &h.tokens, options.replace_unk)?,
                    };
                    out.push(Translation {
                        text,
                        score: h.score,
                        log_prob: h.log_prob,
                        confidence,
                        refused,
                        truncated: source.truncated,
                    });
                }
                decoded[i] = Some(out);
            }
        }
        Ok(encoded
            .into_iter()
            .zip(decoded)
            .map(|(enc, dec)| enc.map(|_| dec.unwrap_or_default()))
            .collect())
    }

    /// The text of output tokens; for sentences with `replace_unk`, each `<unk>` becomes the
    /// source word attended most at its step.
    fn output_text(&self, source: &Source, tokens: &[usize], replace_unk: bool) -> Result<String> {
        let unk = match self.codec.unk() {
            Some(unk) if replace_unk && tokens.contains(&unk) => unk,
            _ => return self.codec.decode(tokens),
        };
        let weights = tch::no_grad(|| self.attention_weights(&source.ids, tokens))?;
        // Decode piece by piece so that a copied word keeps its own spelling.
        let mut words: Vec<String> = Vec::new();
        let mut run: Vec<usize> = Vec::new();
        for (step, &token) in tokens.iter().enumerate() {
            if token != unk {
                run.push(token);
                continue;
            }
            if !run.is_empty() {
                words.push(self.codec.decode(&run)?);
                run.clear();
            }
            let row = &weights[step];
            let best = (0..row.len()).fold(0, |b, j| if row[j] > row[b] { j } else { b });
            words.push(source.words.get(best).cloned().unwrap_or_default());
        }
        if !run.is_empty() {
            words.push(self.codec.decode(&run)?);
        }
        Ok(words
            .into_iter()
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" "))
    }

    /// Teacher-forced attention weights when BOS then `fed` are fed to the decoder:
    /// `weights[t][j]` for each of the `fed.len() + 1` steps.
    fn attention_weights(&self, src: &[usize], output: &[usize]) -> Result<Vec<Vec<f32>>> {
        let (src_t, lengths) = self.batch_sources(&[src]);
        let prev: Vec<i64> = std::iter::once(self.codec.bos() as i64)
            .chain(output.iter().map(|&t| t as i64))
            .collect();
        let prev = Tensor::from_slice(&prev)
            .view([1, -1])
            .to_device(self.vs.device());
        let enc = self.model.encode(&src_t, &lengths, false);
        let (_, attention) = self.model.forward_teacher(&enc, &prev, false);
        let weights = attention
            .squeeze_dim(0)
            .to_device(Device::Cpu)
            .to_kind(Kind::Float);
        Vec::<Vec<f32>>::try_from(&weights)
            .map_err(|e| Error::torch("reading attention weights", e))
    }

    fn decode_batch(
        &self,
        sources: &[&[usize]],
        config: &BeamConfig,
        constraint: Option<&dyn Constraint>,
    ) -> Result<Vec<Vec<Hypothesis>>> {
        let (src, lengths) = self.batch_sources(sources);
        let enc = self.model.encode(&src, &lengths, false);
        let mut stepper = TorchStepper::new(&self.model, enc, sources.len());
        let init = self.model.initial_state(sources.len() as i64);
        beam::beam_search(&mut stepper, init, sources.len(), config, constraint)
    }

    /// Where the model looked while producing `output` from `input` (teacher-forced). For
    /// sentences the last output row is `<eos>`.
    pub fn attention(&self, input: &str, output: &str) -> Result<AttentionMap> {
        let source = self.source(input, false, &[])?;
        let mut tgt = self.encode_target(output)?;
        // The fed tokens: BOS and every output token but the last (a fixed-length output, 10
        // steps for a date), or BOS and every token before `<eos>` (their steps, then the
        // `<eos>` step).
        let ended = self.codec.eos().is_some();
        let fed = if ended {
            tgt.pop();
            &tgt[..]
        } else {
            &tgt[..tgt.len() - 1]
        };
        let weights = tch::no_grad(|| self.attention_weights(&source.ids, fed))?;
        let source_labels = self.codec.source_labels(input.trim(), &source.ids);
        let mut output_labels: Vec<String> = tgt
            .iter()
            .map(|&t| self.vocabs.tgt.token(t).unwrap_or("?").to_owned())
            .collect();
        if ended {
            output_labels.push(crate::vocab::EOS.to_owned());
        }
        Ok(AttentionMap {
            source: source_labels,
            output: output_labels,
            weights,
        })
    }
}
