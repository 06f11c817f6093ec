//! Sampling with temperature, top-k and a prefix; held-out loss on any file; sample statistics.

use std::collections::HashSet;

use rand::Rng as _;
use tch::{Kind, Tensor};

use super::data::{Dataset, Unit};
use super::model::{CharLm, State};
use crate::error::{Error, Result};

/// How many samples are drawn together.
const SAMPLE_BATCH: usize = 1024;

/// How to sample.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleOptions {
    /// Number of samples.
    pub count: usize,
    /// Divides the logits: below 1 is more conservative, above 1 more adventurous. Must be > 0.
    pub temperature: f64,
    /// Sample among the `k` most likely characters only (1 is greedy decoding).
    pub top_k: Option<usize>,
    /// Every sample starts with this text (included in the output).
    pub prefix: String,
    /// Characters generated at most after the prefix; 0 means 64 for lines and 500 for text.
    pub max_len: usize,
    /// Seeds the draws: the same seed gives the same samples.
    pub seed: u64,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            count: 10,
            temperature: 1.0,
            top_k: None,
            prefix: String::new(),
            max_len: 0,
            seed: 42,
        }
    }
}

/// Share of distinct samples, and of samples not in the training data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleStats {
    /// Distinct samples / samples.
    pub unique: f64,
    /// Samples that are not a line of the training data / samples (line models).
    pub novel: Option<f64>,
}

impl SampleStats {
    /// Statistics of `samples`, with novelty against `training` when given.
    pub fn of(samples: &[String], training: Option<&Dataset>) -> SampleStats {
        let n = samples.len().max(1) as f64;
        let distinct: HashSet<&str> = samples.iter().map(String::as_str).collect();
        let novel = training.map(|data| {
            let seen: HashSet<&str> = data.items.iter().map(|(_, s)| s.as_str()).collect();
            samples
                .iter()
                .filter(|s| !seen.contains(s.as_str()))
                .count() as f64
                / n
        });
        SampleStats {
            unique: distinct.len() as f64 / n,
            novel,
        }
    }
}

impl CharLm {
    /// Draws `options.count` samples, up to 1,024 of them in one batch. Line models stop a
    /// sample at the end marker; text models at `max_len` characters.
    pub fn sample(&self, options: &SampleOptions) -> Result<Vec<String>> {
        if !(options.temperature.is_finite() && options.temperature > 0.0) {
            return Err(Error::Config(format!(
                "temperature must be > 0, got {}",
                options.temperature
            )));
        }
        if options.top_k == Some(0) {
            return Err(Error::Config("top-k must be at least 1".into()));
        }
        let unit = self.config.unit;
        let given = if self.config.lowercase {
            options.prefix.to_lowercase()
        } else {
            options.prefix.clone()
        };
        let prefix = self.encode_prefix(&given)?;
        let max_len = match (options.max_len, unit) {
            (0, Unit::Line) => 64,
            (0, Unit::Text) => 500,
            (n, _) => n,
        };
        let count = options.count;
        if count == 0 {
            return Ok(Vec::new());
        }
        // What the model reads first: the start marker and the prefix (lines), or the prefix,
        // else a newline or the most frequent character (text).
        let first: Vec<i64> = match unit {
            Unit::Line => std::iter::once(0).chain(prefix.iter().copied()).collect(),
            Unit::Text if !prefix.is_empty() => prefix.clone(),
            Unit::Text => vec![self.vocab.id("\n").unwrap_or(0) as i64],
        };
        let generated_prefix = matches!(unit, Unit::Text) && prefix.is_empty();
        let mut rng = crate::device::rng_from_seed(options.seed);
        // At most SAMPLE_BATCH samples are drawn together, so that memory does not grow with
        // the count (the same draws as one batch up to that count).
        let mut out = Vec::with_capacity(count);
        for start in (0..count).step_by(SAMPLE_BATCH) {
            let rows = SAMPLE_BATCH.min(count - start);
            out.extend(self.sample_ids(&first, rows, max_len, options, &mut rng)?);
        }
        let text = |ids: &[i64]| -> String {
            ids.iter()
                .filter_map(|&i| self.vocab.token(i as usize))
                .collect()
        };
        Ok(out
            .iter()
            .map(|ids| {
                let body = text(ids);
                if generated_prefix {
                    body
                } else {
                    format!("{given}{body}")
                }
            })
            .collect())
    }

    /// `count` samples of at most `max_len` characters after `first`, drawn together.
    fn sample_ids(
        &self,
        first: &[i64],
        count: usize,
        max_len: usize,
        options: &SampleOptions,
        rng: &mut crate::device::Rng,
    ) -> Result<Vec<Vec<i64>>> {
        let unit = self.config.unit;
        let mut out: Vec<Vec<i64>> = vec![Vec::new(); count];
        let mut done = vec![false; count];
        let err = |e| Error::torch("sampling", e);
        let device = self.device();
        let batch = |ids: &[i64], steps: usize| {
            Tensor::from_slice(ids)
                .f_view([count as i64, steps as i64])
                .and_then(|t| t.f_to_device(device))
        };
        tch::no_grad(|| {
            let mut inputs = batch(&first.repeat(count), first.len()).map_err(err)?;
            let mut state: Option<State> = None;
            for _ in 0..max_len {
                let (logits, next) = self.forward(&inputs, state.as_ref(), false).map_err(err)?;
                state = Some(next);
                let steps = logits.size()[1];
                let last = logits
                    .f_select(1, steps - 1)
                    .and_then(|l| l.f_to_kind(Kind::Double))
                    .and_then(|l| l.f_to_device(tch::Device::Cpu))
                    .map_err(err)?;
                let rows = Vec::<f64>::try_from(last.flatten(0, -1)).map_err(err)?;
                let mut ids = Vec::with_capacity(count);
                for (i, row) in rows.chunks(self.vocab.len()).enumerate() {
                    let id = draw(row, options.temperature, options.top_k, rng);
                    if !done[i] {
                        if unit == Unit::Line && id == 0 {
                            done[i] = true;
                        } else {
                            out[i].push(id as i64);
                        }
                    }
                    ids.push(id as i64);
                }
                if done.iter().all(|d| *d) {
                    break;
                }
                // Each row reads its own draw next; finished rows run on, ignored.
                inputs = batch(&ids, 1).map_err(err)?;
            }
            Ok::<(), Error>(())
        })?;
        Ok(out)
    }

    /// Held-out loss of the model on `data`, nats per character, and the characters counted.
    /// A character outside the model's vocabulary is an error naming it, the file and the line.
    pub fn evaluate(&self, data: &Dataset) -> Result<(f64, usize)> {
        if data.unit != self.config.unit {
            return Err(Error::Config(format!(
                "the model is for {:?} data",
                self.config.unit
            )));
        }
        let ids = self.config.prepared(data).encode(&self.vocab)?;
        let (sum, count) = super::loss::evaluate_ids(self, &ids, 256)?;
        Ok((sum / count.max(1) as f64, count))
    }

    fn encode_prefix(&self, prefix: &str) -> Result<Vec<i64>> {
        let mut buf = [0u8; 4];
        prefix
            .chars()
            .map(|c| {
                let id = if self.config.unit == Unit::Line && c == '\n' {
                    None
                } else {
                    self.vocab.id(c.encode_utf8(&mut buf))
                };
                id.map(|i| i as i64).ok_or_else(|| Error::InvalidInput {
                    input: prefix.to_owned(),
                    reason: format!(
                        "the prefix's character {c:?} is not in the model's vocabulary"
                    ),
                })
            })
            .collect()
    }
}

/// Draws an id from `logits / temperature`, restricted to the `top_k` largest (ties: lower id).
fn draw(
    logits: &[f64],
    temperature: f64,
    top_k: Option<usize>,
    rng: &mut crate::device::Rng,
) -> usize {
    let mut order: Vec<usize> = (0..logits.len()).collect();
    if let Some(k) = top_k {
        order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]).then(a.cmp(&b)));
        order.truncate(k.min(logits.len()));
        if k == 1 {
            return order[0];
        }
    }
    let max = order
        .iter()
        .map(|&i| logits[i])
        .fold(f64::NEG_INFINITY, f64::max);
    let weights: Vec<f64> = order
        .iter()
        .map(|&i| ((logits[i] - max) / temperature).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (w, &i) in weights.iter().zip(&order) {
        if u < *w {
            return i;
        }
        u -= w;
    }
    *order
        .last()
        .expect("a vocabulary has at least one character")
}
