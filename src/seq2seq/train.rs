//! Training a translator: seeded split, shuffled batches, Adam with gradient clipping,
//! held-out exact match after every epoch, and only the best model saved.

use std::path::Path;
use std::time::Instant;

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use tch::{nn, nn::OptimizerConfig, Device, Reduction, Tensor};

use super::translator::{DecodeOptions, Translator, TranslatorConfig, Vocabs};
use crate::device::seed_everything;
use crate::error::{Error, Result, MAX_CLIP, MAX_LEARNING_RATE};
use crate::progress::{Progress, ProgressEvent};

/// How to train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Passes over the training pairs.
    pub epochs: usize,
    /// Pairs per batch.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Gradients are rescaled to at most this global L2 norm; 0 turns clipping off.
    pub clip_norm: f64,
    /// Share of the pairs held out for the per-epoch exact-match accuracy.
    pub valid_fraction: f64,
    /// Seeds the split, the shuffles and the initial weights.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 20,
            batch_size: 64,
            learning_rate: 5e-3,
            clip_norm: 1.0,
            valid_fraction: 0.05,
            seed: 42,
        }
    }
}

impl TrainConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        Error::check_count("epochs", self.epochs)?;
        Error::check_count("batch size", self.batch_size)?;
        Error::check_positive("learning rate", self.learning_rate, MAX_LEARNING_RATE)?;
        if self.clip_norm != 0.0 {
            Error::check_positive("clip norm (0: no clipping)", self.clip_norm, MAX_CLIP)?;
        }
        Error::check_fraction("valid fraction", self.valid_fraction)?;
        Ok(())
    }
}

/// Figures of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochFigures {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training cross-entropy per output token, in nats.
    pub train_loss: f64,
    /// Held-out exact match (all characters right), in [0, 1].
    pub valid_accuracy: f64,
    /// Wall time of the epoch's training part (without the held-out evaluation).
    pub train_seconds: f64,
}

/// Trains a translator on `(source, target)` pairs and saves the best epoch's model to `out`.
///
/// The model sizes come from `config.model`, except the vocabulary sizes, which are set from
/// the training pairs. Returns the figures of every epoch.
pub fn train(
    pairs: &[(String, String)],
    config: TranslatorConfig,
    train: &TrainConfig,
    device: Device,
    out: &Path,
    progress: &dyn Progress,
) -> Result<Vec<EpochFigures>> {
    train.validate()?;
    let mut rng = seed_everything(train.seed);
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    order.shuffle(&mut rng);
    let n_valid = ((pairs.len() as f64 * train.valid_fraction).round() as usize)
        .min(pairs.len().saturating_sub(1));
    let (valid_idx, train_idx) = order.split_at(n_valid);
    if train_idx.is_empty() {
        return Err(Error::Config("no training pairs".into()));
    }
    let missing: String = ('0'..='9')
        .filter(|&d| !train_idx.iter().any(|&i| pairs[i].1.contains(d)))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Config(format!(
            "the {} training pairs (after holding out {n_valid} for validation) never write the \
             digit(s) {missing}; a date model learns to write every digit from its training \
             outputs: give more pairs or a smaller valid fraction",
            train_idx.len()
        )));
    }
    let vocabs = Vocabs::of_chars(
        train_idx
            .iter()
            .map(|&i| prepare(&config, &pairs[i].0))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str),
        train_idx.iter().map(|&i| pairs[i].1.as_str()),
    );
    let mut translator = Translator::new(config, vocabs, device, train.seed)?;
    let encode = |idx: &[usize]| -> Result<Vec<(Vec<usize>, Vec<usize>)>> {
        idx.iter()
            .map(|&i| {
                Ok((
                    translator.encode_source(&pairs[i].0)?,
                    translator.encode_target(&pairs[i].1)?,
                ))
            })
            .collect()
    };
    let mut train_set = encode(train_idx)?;
    let valid_src: Vec<&str> = valid_idx.iter().map(|&i| pairs[i].0.as_str()).collect();
    let valid_tgt: Vec<&str> = valid_idx.iter().map(|&i| pairs[i].1.as_str()).collect();

    let mut opt = nn::Adam::default()
        .build(translator.var_store(), train.learning_rate)
        .map_err(|e| Error::torch("creating the Adam optimiser", e))?;
    let bos = translator.vocabs().tgt.id(crate::vocab::BOS).unwrap_or(1) as i64;
    let mut history = Vec::with_capacity(train.epochs);
    // Best epoch: highest held-out exact match, ties broken by the lower training loss.
    let mut best = (f64::NEG_INFINITY, f64::INFINITY);
    let n_batches = train_set.len().div_ceil(train.batch_size);
    for epoch in 1..=train.epochs {
        train_set.shuffle(&mut rng);
        let label = format!("epoch {epoch}/{}", train.epochs);
        progress.event(&ProgressEvent::Begin {
            label: &label,
            total: Some(n_batches as u64),
            unit: "batches",
        });
        let start = Instant::now();
        let (mut loss_sum, mut tokens) = (0f64, 0f64);
        for (b, batch) in train_set.chunks(train.batch_size).enumerate() {
            let sources: Vec<&[usize]> = batch.iter().map(|(s, _)| s.as_slice()).collect();
            let (src, lengths) = translator.batch_sources(&sources);
            let steps = batch[0].1.len() as i64;
            let mut prev = Vec::with_capacity(batch.len() * steps as usize);
            let mut gold = Vec::with_capacity(batch.len() * steps as usize);
            for (_, t) in batch {
                prev.push(bos);
                prev.extend(t[..t.len() - 1].iter().map(|&x| x as i64));
                gold.extend(t.iter().map(|&x| x as i64));
            }
            let rows = batch.len() as i64;
            let prev = Tensor::from_slice(&prev)
                .view([rows, steps])
                .to_device(device);
            let gold = Tensor::from_slice(&gold).to_device(device);
            let model = translator.model();
            let enc = model.encode(&src, &lengths, true);
            let (logits, _) = model.forward_teacher(&enc, &prev, true);
            let vocab = logits.size()[2];
            let loss = logits.view([-1, vocab]).cross_entropy_loss::<Tensor>(
                &gold,
                None,
                Reduction::Mean,
                0,
                0.0,
            );
            if train.clip_norm > 0.0 {
                opt.backward_step_clip_norm(&loss, train.clip_norm);
            } else {
                opt.backward_step(&loss);
            }
            let n = (rows * steps) as f64;
            loss_sum += loss.double_value(&[]) * n;
            tokens += n;
            progress.event(&ProgressEvent::Advance { done: b as u64 + 1 });
            if b % 20 == 0 {
                let message = format!("loss {:.4}", loss_sum / tokens);
                progress.event(&ProgressEvent::Status { message: &message });
            }
        }
        let train_seconds = start.elapsed().as_secs_f64();
        let valid_accuracy = if valid_src.is_empty() {
            f64::NAN
        } else {
            exact_match(
                &translator,
                &valid_src,
                &valid_tgt,
                &DecodeOptions::default(),
            )?
        };
        let figures = EpochFigures {
            epoch,
            train_loss: loss_sum / tokens.max(1.0),
            valid_accuracy,
            train_seconds,
        };
        let improved = if valid_src.is_empty() {
            epoch == train.epochs
        } else {
            valid_accuracy > best.0 || (valid_accuracy == best.0 && figures.train_loss < best.1)
        };
        if improved {
            best = (valid_accuracy, figures.train_loss);
            let meta = translator
                .meta()
                .clone()
                .with_figure("epoch", epoch)
                .with_figure("train_loss", figures.train_loss)
                .with_figure("valid_exact_match", valid_accuracy)
                .with_figure("train_pairs", train_idx.len())
                .with_figure("valid_pairs", valid_idx.len())
                .with_figure("device", crate::device::device_name(device));
            translator.set_meta(meta);
            translator.save(out)?;
        }
        let held_out = if valid_src.is_empty() {
            "no held-out pairs".to_owned()
        } else {
            format!("held-out exact match {:.2}%", 100.0 * valid_accuracy)
        };
        let summary = format!(
            "{label}: loss {:.4}, {held_out}{} ({:.1} s)",
            figures.train_loss,
            if improved { ", saved" } else { "" },
            train_seconds
        );
        progress.event(&ProgressEvent::End { summary: &summary });
        history.push(figures);
    }
    Ok(history)
}

fn prepare(config: &TranslatorConfig, text: &str) -> String {
    let t = text.trim();
    if config.lowercase {
        t.to_lowercase()
    } else {
        t.to_owned()
    }
}

/// Share of `sources` whose best translation equals the reference exactly.
pub fn exact_match(
    translator: &Translator,
    sources: &[&str],
    references: &[&str],
    options: &DecodeOptions,
) -> Result<f64> {
    let outputs = translator.translate(sources, options)?;
    let right = outputs
        .iter()
        .zip(references)
        .filter(|(out, reference)| {
            matches!(out, Ok(hyps) if hyps.first().is_some_and(|h| h.text == **reference))
        })
        .count();
    Ok(right as f64 / sources.len().max(1) as f64)
}
