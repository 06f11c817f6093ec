//! Batched skip-gram with negative sampling on libtorch, for GPUs. CBOW and hierarchical
//! softmax are CPU-only: [`train_torch_with`] refuses them.
//!
//! The data pipeline is the CPU trainer's (streamed corpus, subsampling, dynamic window,
//! unigram^0.75 negatives, linear learning-rate decay); only the update differs. Instead of one
//! (context, centre) pair at a time, [`BATCH_PAIRS`] pairs are updated together:
//!
//! ```text
//! u = W_in[context]   v = W_out[centre]   n_k = W_out[negative_k]
//! g⁺ = α (1 − σ(u·v))        g⁻_k = −α σ(u·n_k)      (0 for a negative equal to the centre)
//! W_out[centre] += g⁺ u      W_out[negative_k] += g⁻_k u      W_in[context] += g⁺ v + Σ_k g⁻_k n_k
//! ```
//!
//! with gathers (`index_select`), a batched dot (`bmm`) and scattered adds (`index_add_`). All
//! rows are read before any is written, so pairs in one batch do not see each other's updates,
//! and a row that many pairs update gets at most `row_cap` times their mean (see
//! `add_row_updates`).

use std::path::Path;
use std::time::Instant;

use tch::{Device, Kind, Tensor};

use super::corpus::{self, SentenceSink};
use super::epochs::begin_epoch;
use super::sampling::{keep_thresholds, reduced_window, NegativeSampler, Rng, KEEP_ALWAYS};
use super::schedule::Schedule;
use super::{EpochCallback, EpochStats, Next, TrainReport, Vocabulary, Word2VecConfig};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::progress::{Progress, ProgressEvent};
use crate::train::Stop;

/// Pairs updated together by default: large enough to keep a GPU busy.
pub const BATCH_PAIRS: usize = 16_384;

/// The default cap, in steps, on how far one batch moves a row (see [`Batch::row_cap`]).
pub const ROW_CAP: f64 = 64.0;

/// How the batched trainer groups its updates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Batch {
    /// Pairs updated together.
    pub pairs: usize,
    /// A row updated n times in one batch moves by the sum of its updates divided by
    /// `max(1, n / row_cap)`: the plain sum up to `row_cap` updates, then `row_cap` times their
    /// mean. 1 is the mean; a very large cap is the plain sum, which diverges on real corpora.
    pub row_cap: f64,
}

impl Default for Batch {
    fn default() -> Self {
        Batch {
            pairs: BATCH_PAIRS,
            row_cap: ROW_CAP,
        }
    }
}

impl Batch {
    /// Checks the ranges: from 1 to 2^30 pairs, a row cap of at least 1.
    pub fn validate(&self) -> Result<()> {
        let pairs = self.pairs;
        if pairs == 0 || pairs > 1 << 30 {
            return Err(Error::Config(format!(
                "a batch of {pairs} pairs: it must hold from 1 to 2^30 pairs"
            )));
        }
        if self.row_cap.is_nan() || self.row_cap < 1.0 {
            return Err(Error::Config(format!(
                "the row cap must be at least 1, got {}",
                self.row_cap
            )));
        }
        Ok(())
    }
}

/// Trains skip-gram vectors like [`super::train_with`], with the batched update of
/// `batch.pairs` pairs at a time on `device` (a GPU, or the CPU for tests). Only skip-gram with
/// negative sampling alone: any other model is an error naming it, before anything is read.
pub fn train_torch_with<F: FnMut(usize, &Embeddings) -> Result<()>>(
    corpus: &Path,
    config: &Word2VecConfig,
    device: Device,
    batch: Batch,
    progress: &dyn Progress,
    mut after_epoch: F,
) -> Result<(Embeddings, TrainReport)> {
    let mut each = |epoch: usize, e: &Embeddings| after_epoch(epoch, e).map(|()| Next::Continue);
    run(corpus, config, device, batch, progress, &mut each)
}

/// [`train_torch_with`] with a callback that may stop the run early ([`Next::Stop`], recorded
/// as [`Stop::Patience`]).
pub(crate) fn run(
    corpus: &Path,
    config: &Word2VecConfig,
    device: Device,
    batch: Batch,
    progress: &dyn Progress,
    after_epoch: EpochCallback<'_>,
) -> Result<(Embeddings, TrainReport)> {
    config.check_batched()?;
    crate::device::check_available(device)?;
    batch.validate()?;
    let vocab = Vocabulary::build(corpus, config)?;
    super::check_size(vocab.len(), config.dim)?;
    let mut sink = Batcher::new(&vocab, config, device, batch, progress);
    let mut report = TrainReport {
        vocab_size: vocab.len(),
        corpus_words: vocab.total_words(),
        epochs: Vec::with_capacity(config.epochs),
        stop: Stop::Epochs,
    };
    let mut vectors = None;
    for epoch in 1..=config.epochs {
        let stats = sink.epoch(corpus, config, epoch)?;
        let complete = stats.complete;
        report.epochs.push(stats);
        let current = sink.embeddings()?;
        super::check_finite(current.vectors(), epoch, config.alpha)?;
        let next = after_epoch(epoch, &current)?;
        vectors = Some(current);
        if next == Next::Stop {
            report.stop = Stop::Patience;
            break;
        }
        if !complete || (epoch < config.epochs && sink.schedule.out_of_time()) {
            report.stop = Stop::TimeBudget;
            break;
        }
    }
    let vectors = vectors.ok_or_else(|| Error::Config("epochs must be at least 1".into()))?;
    Ok((vectors, report))
}

/// Turns sentences into (context, centre, negatives) pairs and applies them in batches.
struct Batcher<'a> {
    vocab: &'a Vocabulary,
    keep: Vec<u64>,
    sampler: NegativeSampler,
    rng: Rng,
    window: u32,
    negative: usize,
    schedule: Schedule,
    w_in: Tensor,
    w_out: Tensor,
    device: Device,
    sentence: Vec<u32>,
    batch_pairs: usize,
    row_cap: f64,
    inputs: Vec<i64>,
    outputs: Vec<i64>,
    negatives: Vec<i64>,
    /// In-vocabulary words read in the run (before subsampling, as word2vec.c counts them).
    done: u64,
    epoch_done: u64,
    /// The epoch's summed loss, kept on the device so that batches need no synchronisation.
    loss: Tensor,
    pairs: u64,
    progress: &'a dyn Progress,
    failed: Option<Error>,
    /// Set when the time budget is spent: the epoch stops after the batch in hand.
    out_of_time: bool,
}

impl SentenceSink for Batcher<'_> {
    fn token(&mut self, token: &str) {
        if let Some(id) = self.vocab.id32(token) {
            self.sentence.push(id);
        }
    }

    fn end_sentence(&mut self) -> bool {
        self.done += self.sentence.len() as u64;
        self.epoch_done += self.sentence.len() as u64;
        let mut kept = std::mem::take(&mut self.sentence);
        kept.retain(|&w| {
            let t = self.keep[w as usize];
            t == KEEP_ALWAYS || u64::from(self.rng.next_u32()) < t
        });
        for (i, &centre) in kept.iter().enumerate() {
            let reach = reduced_window(&mut self.rng, self.window);
            let lo = i.saturating_sub(reach);
            let hi = (i + reach).min(kept.len() - 1);
            for (j, &context) in kept.iter().enumerate().take(hi + 1).skip(lo) {
                if j == i {
                    continue;
                }
                self.inputs.push(i64::from(context));
                self.outputs.push(i64::from(centre));
                for _ in 0..self.negative {
                    self.negatives
                        .push(i64::from(self.sampler.draw(&mut self.rng)));
                }
            }
        }
        kept.clear();
        self.sentence = kept;
        if self.inputs.len() >= self.batch_pairs {
            self.flush();
            self.progress.event(&ProgressEvent::Advance {
                done: self.epoch_done,
            });
            self.out_of_time = self.schedule.out_of_time();
        }
        self.failed.is_none() && !self.out_of_time
    }
}

impl<'a> Batcher<'a> {
    /// A batcher over `vocab` with fresh weights on `device`: initialised on the CPU from the
    /// seed, so every device starts from the same vectors, uniform in `[-0.5/dim, 0.5/dim)` as
    /// word2vec.c; output vectors at zero. The time budget, if any, starts now.
    fn new(
        vocab: &'a Vocabulary,
        config: &Word2VecConfig,
        device: Device,
        batch: Batch,
        progress: &'a dyn Progress,
    ) -> Self {
        let (words, dim) = (vocab.len() as i64, config.dim as i64);
        tch::manual_seed(config.seed as i64);
        let init = (Tensor::rand([words, dim], (Kind::Float, Device::Cpu)) - 0.5) / dim as f64;
        let batch_pairs = batch.pairs;
        Batcher {
            vocab,
            keep: keep_thresholds(vocab.counts(), vocab.total_words(), config.sample),
            sampler: NegativeSampler::new(vocab.counts()),
            rng: Rng::new(config.seed),
            window: config.window as u32,
            negative: config.negative,
            schedule: Schedule::new(config, vocab.total_words()),
            w_in: init.to_device(device),
            w_out: Tensor::zeros([words, dim], (Kind::Float, device)),
            device,
            sentence: Vec::new(),
            batch_pairs,
            row_cap: batch.row_cap,
            inputs: Vec::with_capacity(batch_pairs + 1024),
            outputs: Vec::with_capacity(batch_pairs + 1024),
            negatives: Vec::with_capacity((batch_pairs + 1024) * config.negative),
            done: 0,
            epoch_done: 0,
            loss: Tensor::zeros([], (Kind::Double, device)),
            pairs: 0,
            progress,
            failed: None,
            out_of_time: false,
        }
    }

    /// Streams the corpus once (or until the time budget is spent), applies the last partial
    /// batch, reports the epoch to the progress and returns its figures.
    fn epoch(
        &mut self,
        corpus: &Path,
        config: &Word2VecConfig,
        epoch: usize,
    ) -> Result<EpochStats> {
        let label = begin_epoch(
            self.progress,
            config.epochs,
            self.vocab.total_words(),
            epoch,
        );
        let start = Instant::now();
        (self.epoch_done, self.pairs) = (0, 0);
        let _ = self.loss.zero_();
        corpus::stream(corpus, config.lowercase, config.lossy, self)?;
        self.flush();
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let loss = self
            .loss
            .f_double_value(&[])
            .map_err(|e| Error::torch("reading the loss", e))?;
        let seconds = start.elapsed().as_secs_f64();
        let stats = EpochStats {
            epoch,
            words: self.epoch_done,
            seconds,
            words_per_sec: self.epoch_done as f64 / seconds.max(1e-9),
            mean_loss: loss / self.pairs.max(1) as f64,
            final_alpha: self.schedule.at(self.done),
            complete: !self.out_of_time,
        };
        let summary = format!(
            "{label}{}: loss {:.4}, {:.0} words/s on {}",
            if stats.complete {
                ""
            } else {
                " (stopped by the time budget)"
            },
            stats.mean_loss,
            stats.words_per_sec,
            crate::device::device_name(self.device)
        );
        self.progress
            .event(&ProgressEvent::End { summary: &summary });
        Ok(stats)
    }
    fn flush(&mut self) {
        if self.inputs.is_empty() || self.failed.is_some() {
            return;
        }
        let alpha = self.schedule.at(self.done);
        let result = tch::no_grad(|| self.update(alpha));
        match result {
            Ok((loss, pairs)) => {
                self.loss += loss;
                self.pairs += pairs;
            }
            Err(e) => self.failed = Some(Error::torch("batched word2vec update", e)),
        }
        self.inputs.clear();
        self.outputs.clear();
        self.negatives.clear();
    }

    fn update(&mut self, alpha: f64) -> std::result::Result<(Tensor, u64), tch::TchError> {
        let n = self.inputs.len() as i64;
        let k = self.negative as i64;
        let d = self.w_in.size()[1];
        let to = |v: &[i64]| Tensor::from_slice(v).f_to_device(self.device);
        let (context, centre, negs) = (to(&self.inputs)?, to(&self.outputs)?, to(&self.negatives)?);
        let u = self.w_in.f_index_select(0, &context)?;
        let v = self.w_out.f_index_select(0, &centre)?;
        let nv = self.w_out.f_index_select(0, &negs)?.f_view([n, k, d])?;
        let pos = (&u * &v).f_sum_dim_intlist([1i64].as_slice(), false, Kind::Float)?;
        let neg = nv.f_bmm(&u.f_unsqueeze(2)?)?.f_squeeze_dim(2)?;
        // word2vec.c skips a negative that happens to be the centre word itself.
        let valid = negs
            .f_view([n, k])?
            .f_ne_tensor(&centre.f_unsqueeze(1)?)?
            .f_to_kind(Kind::Float)?;
        let g_pos = (pos.f_sigmoid()?.f_neg()? + 1.0) * alpha;
        let g_neg = neg.f_sigmoid()?.f_neg()? * alpha * &valid;
        let grad_in =
            g_pos.f_unsqueeze(1)? * &v + g_neg.f_unsqueeze(1)?.f_bmm(&nv)?.f_squeeze_dim(1)?;
        let pos_rows = g_pos.f_unsqueeze(1)? * &u;
        let neg_rows = (g_neg.f_unsqueeze(2)? * u.f_unsqueeze(1)?).f_view([n * k, d])?;
        let out_rows = Tensor::f_cat(&[&centre, &negs], 0)?;
        let out_updates = Tensor::f_cat(&[pos_rows, neg_rows], 0)?;
        add_row_updates(&mut self.w_out, &out_rows, &out_updates, self.row_cap)?;
        add_row_updates(&mut self.w_in, &context, &grad_in, self.row_cap)?;
        // Loss of the pairs before the update: −log σ(u·v) − Σ_k log σ(−u·n_k).
        let loss = pos.f_log_sigmoid()?.f_neg()?.f_sum(Kind::Double)?
            - (neg.f_neg()?.f_log_sigmoid()? * &valid).f_sum(Kind::Double)?;
        Ok((loss, n as u64))
    }

    fn embeddings(&self) -> Result<Embeddings> {
        let flat = self.w_in.to_device(Device::Cpu).flatten(0, -1);
        let values = Vec::<f32>::try_from(&flat).map_err(|e| Error::torch("reading vectors", e))?;
        Embeddings::new(
            self.vocab.words().to_vec(),
            self.w_in.size()[1] as usize,
            values,
        )
    }
}

/// `target[r] += (sum of the n updates aimed at row r in this batch) / max(1, n / row_cap)`.
///
/// Sequential SGD would apply the n updates one after the other. Their plain sum is the same to
/// first order and exact for the many rows that occur once, but for a frequent word (hundreds of
/// times in 16k pairs, mostly as a negative) it multiplies the step by n and diverges; their mean
/// (`row_cap` 1) keeps it stable but moves frequent words by one step per batch, far too slowly.
/// Capping the sum at `row_cap` steps sits between the two.
fn add_row_updates(
    target: &mut Tensor,
    rows: &Tensor,
    updates: &Tensor,
    row_cap: f64,
) -> std::result::Result<(), tch::TchError> {
    let (unique, inverse, counts) = rows.f_internal_unique2(false, true, true)?;
    let summed = Tensor::f_zeros(
        [unique.size()[0], updates.size()[1]],
        (Kind::Float, updates.device()),
    )?
    .f_index_add(0, &inverse, updates)?;
    // sum / max(1, count / cap): the sum up to `cap` updates, then `cap` times their mean.
    let scale = (counts.f_to_kind(Kind::Float)? / row_cap).f_clamp_min(1.0)?;
    let capped = summed / scale.f_unsqueeze(1)?;
    let _ = target.f_index_add_(0, &unique, &capped)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_moves_by_the_sum_of_its_updates_capped_at_row_cap_steps() {
        let rows = Tensor::from_slice(&[0i64, 0, 0, 0, 1, 2, 2]);
        let updates = Tensor::from_slice(&[1f32, 1., 1., 1., 5., 2., 4.]).view([7, 1]);
        let applied = |cap: f64| {
            let mut target = Tensor::zeros([3, 1], (Kind::Float, Device::Cpu));
            add_row_updates(&mut target, &rows, &updates, cap).unwrap();
            Vec::<f32>::try_from(target.flatten(0, -1)).unwrap()
        };
        // Cap 2: row 0 (4 updates) moves by 4 / 2, row 2 (2 updates) by their sum.
        assert_eq!(applied(2.0), vec![2.0, 5.0, 6.0]);
        assert_eq!(applied(1.0), vec![1.0, 5.0, 3.0]);
        assert_eq!(applied(1e9), vec![4.0, 5.0, 6.0]);
    }

    #[test]
    fn a_row_cap_below_one_is_refused() {
        let _lock = crate::device::torch_rng_lock(); // it may seed before refusing
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.txt");
        std::fs::write(&path, "a b c\n").unwrap();
        let config = Word2VecConfig {
            min_count: 1,
            ..Word2VecConfig::default()
        };
        let batch = Batch {
            row_cap: 0.5,
            ..Batch::default()
        };
        let err = train_torch_with(
            &path,
            &config,
            Device::Cpu,
            batch,
            &crate::progress::Silent,
            |_, _| Ok(()),
        )
        .unwrap_err();
        assert!(err.to_string().contains("row cap"), "{err}");
    }

    #[test]
    fn a_time_budget_ends_the_batched_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.txt");
        std::fs::write(&path, "a b c d e f\n".repeat(200)).unwrap();
        let config = Word2VecConfig {
            dim: 8,
            min_count: 1,
            epochs: 1_000_000,
            time_budget: Some(std::time::Duration::from_millis(300)),
            ..Word2VecConfig::default()
        };
        let batch = Batch {
            pairs: 64,
            ..Batch::default()
        };
        let _lock = crate::device::torch_rng_lock();
        let (emb, report) = train_torch_with(
            &path,
            &config,
            Device::Cpu,
            batch,
            &crate::progress::Silent,
            |_, _| Ok(()),
        )
        .unwrap();
        assert_eq!(report.stop, Stop::TimeBudget);
        assert!(report.epochs.len() < 1_000_000);
        assert_eq!(emb.len(), 6);
    }

    #[test]
    fn batched_training_separates_two_topics_on_the_cpu() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corpus.txt");
        let mut rng = Rng::new(7);
        let mut text = String::new();
        for _ in 0..4000 {
            let topic = if rng.below(2) == 0 { 'a' } else { 'b' };
            let words: Vec<String> = (0..8)
                .map(|_| format!("{topic}{}", rng.below(10)))
                .collect();
            text.push_str(&words.join(" "));
            text.push('\n');
        }
        std::fs::write(&path, text).unwrap();
        let config = Word2VecConfig {
            dim: 16,
            min_count: 1,
            sample: 0.0,
            epochs: 4,
            alpha: 0.05,
            threads: 1,
            ..Word2VecConfig::default()
        };
        let _lock = crate::device::torch_rng_lock();
        let (emb, report) = train_torch_with(
            &path,
            &config,
            Device::Cpu,
            Batch {
                pairs: 256,
                ..Batch::default()
            },
            &crate::progress::Silent,
            |_, _| Ok(()),
        )
        .unwrap();
        assert_eq!(emb.len(), 20);
        let first = report.epochs[0].mean_loss;
        let last = report.epochs.last().unwrap().mean_loss;
        assert!(last < first, "loss {first} -> {last}");
        let cos = |a: &str, b: &str| crate::embeddings::query::similarity(&emb, a, b).unwrap();
        let within = (cos("a1", "a2") + cos("b3", "b4")) / 2.0;
        let across = (cos("a1", "b2") + cos("a3", "b4")) / 2.0;
        assert!(within > across + 0.3, "within {within}, across {across}");
    }
}
