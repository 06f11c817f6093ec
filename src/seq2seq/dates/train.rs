//! Training a date translator through the [training core](crate::train): a seeded split,
//! shuffled batches, Adam with gradient clipping, held-out exact match after every epoch (ties
//! go to the lower training loss), only the best model saved with its optimiser state, and
//! resume.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tch::{Device, Reduction, Tensor};

use super::codec::{DAY_FIRST, REFUSAL};
use super::eval::exact_match;
use super::generate::Date;
use crate::device::seed_everything;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::seq2seq::{DecodeOptions, Task, Translator, TranslatorConfig, Vocabs};
use crate::train::{
    self, Budget, Clip, Epoch, EpochRecord, HeldOut, LrSchedule, Optimizer, OptimizerKind, Plan,
    Score, Settings, Stop, Trained, Trainee,
};
use crate::vocab::{Vocab, BOS, PAD, UNK};

/// How to train a date translator; saved in its `meta.json` so that a resumed run trains the
/// same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Budget, batch size, Adam, learning rate, clipping, patience, held-out share and seed.
    #[serde(flatten)]
    pub train: Settings,
}

impl Default for TrainConfig {
    /// 20 epochs of batches of 64, Adam at 5e-3, gradient norm clipped at 1, 5% held out.
    fn default() -> Self {
        TrainConfig {
            train: Settings {
                budget: Budget::epochs(20),
                batch_size: 64,
                optimizer: OptimizerKind::Adam,
                lr: 5e-3,
                lr_schedule: LrSchedule::Constant,
                weight_decay: 0.0,
                clip: Clip::Norm(1.0),
                patience: 0,
                held_out: HeldOut::Fraction(0.05),
                seed: train::DEFAULT_SEED,
            },
        }
    }
}

impl TrainConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        self.train.validate()
    }
}

/// Figures of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochFigures {
    /// 1-based epoch number, counting the epochs of a resumed model.
    pub epoch: usize,
    /// Mean training cross-entropy per output token, in nats.
    pub train_loss: f64,
    /// Held-out exact match (all characters right), in [0, 1]; NaN without held-out pairs.
    pub valid_accuracy: f64,
    /// Wall time of the epoch's training part (without the held-out evaluation).
    pub train_seconds: f64,
    /// Whether this epoch was the best so far, and saved.
    pub saved: bool,
}

/// What a date training run did.
#[derive(Debug, Clone, PartialEq)]
pub struct DateReport {
    /// Every epoch of this run.
    pub epochs: Vec<EpochFigures>,
    /// The epoch kept (a resumed model's own when no epoch beat it).
    pub best_epoch: Option<usize>,
    /// Why the run stopped.
    pub stop: Stop,
    /// Training pairs.
    pub train_pairs: usize,
    /// Held-out pairs.
    pub valid_pairs: usize,
}

/// An encoded pair: source ids, target ids.
type Encoded = (Vec<usize>, Vec<usize>);

/// Trains a translator on `(source, target)` pairs and saves the best epoch's model, with its
/// optimiser state, to `out`.
///
/// The model sizes come from `config.model`, except the vocabulary sizes, which are set from
/// the training pairs.
pub fn train(
    pairs: &[(String, String)],
    config: TranslatorConfig,
    train: &TrainConfig,
    device: Device,
    out: &Path,
    progress: &dyn Progress,
) -> Result<DateReport> {
    train.validate()?;
    let settings = &train.train;
    seed_everything(settings.seed);
    let (train_idx, valid_idx) = split(pairs, settings)?;
    let vocabs = vocabs_of(&config, pairs, &train_idx);
    let codec = Box::new(super::CharCodec::new(vocabs, config.lowercase));
    let translator = Translator::new(config, codec, device, settings.seed)?;
    let optim = Optimizer::new(translator.var_store(), settings.optimizer)
        .with_weight_decay(settings.weight_decay);
    let plan = Plan::fresh(settings, Some(out));
    go(
        translator,
        optim,
        train.clone(),
        plan,
        pairs,
        (train_idx, valid_idx),
        progress,
    )
}

/// Continues training the date translator in `dir` (weights and optimiser state, with the
/// options, seed and held-out pairs it was trained with) on the same `pairs` for `budget` more;
/// saves the best model to `out`.
pub fn resume(
    dir: &Path,
    pairs: &[(String, String)],
    budget: Budget,
    device: Device,
    out: &Path,
    progress: &dyn Progress,
) -> Result<DateReport> {
    let translator = Translator::load(dir, device)?;
    if translator.config().task != Task::Dates {
        return Err(Error::checkpoint(dir, "is not a date translator"));
    }
    let figure = |name: &str| translator.meta().training.get(name).cloned();
    let saved: TrainConfig = figure("train_options")
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| {
            Error::checkpoint(
                dir,
                "has no training options in meta.json (saved before date models could resume)",
            )
        })?;
    let done = figure("epoch")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| Error::checkpoint(dir, "has no epoch count in meta.json"))?;
    let accuracy = figure("valid_exact_match").and_then(|v| v.as_f64());
    let loss = figure("train_loss").and_then(|v| v.as_f64());
    let train = TrainConfig {
        train: Settings {
            budget,
            ..saved.train
        },
    };
    train.validate()?;
    let settings = &train.train;
    let (train_idx, valid_idx) = split(pairs, settings)?;
    for &i in &train_idx {
        translator.encode_target(&pairs[i].1).map_err(|_| {
            Error::Config(format!(
                "training pair {} ({:?}) is not one this model was trained on: resume with the \
                 same pairs",
                i + 1,
                pairs[i].1
            ))
        })?;
    }
    let mut optim = Optimizer::new(translator.var_store(), settings.optimizer)
        .with_weight_decay(settings.weight_decay);
    optim.restore_from(dir)?;
    let best = match (accuracy, loss) {
        (Some(a), Some(l)) => Some(Score::higher(a).then_lower(l)),
        _ => None,
    };
    let plan = Plan::fresh(settings, Some(out)).resuming(dir, done as usize, best);
    go(
        translator,
        optim,
        train,
        plan,
        pairs,
        (train_idx, valid_idx),
        progress,
    )
}

/// The vocabularies of the training pairs: the characters of the sources (lower-cased if the
/// model lower-cases), with the [`DAY_FIRST`] tag when a source starts with it, and the
/// characters of the targets, with the [`REFUSAL`] token when some target asks for a refusal
/// (empty, or an impossible date). A model trained without refusals keeps the vocabulary, and
/// the decoding, of the models before them: the calendar constraint then corrects an impossible
/// date to the nearest one the model likes.
fn vocabs_of(config: &TranslatorConfig, pairs: &[(String, String)], train_idx: &[usize]) -> Vocabs {
    let mut tagged = false;
    let sources: Vec<String> = train_idx
        .iter()
        .map(|&i| {
            let (tags, text) = split_tags(&pairs[i].0);
            tagged |= !tags.is_empty();
            prepare(config, text)
        })
        .collect();
    let src_specials: &[&str] = if tagged {
        &[PAD, UNK, DAY_FIRST]
    } else {
        &[PAD, UNK]
    };
    let refuses = train_idx
        .iter()
        .any(|&i| Date::parse_iso(&pairs[i].1).is_none());
    let tgt_specials: &[&str] = if refuses {
        &[PAD, BOS, REFUSAL]
    } else {
        &[PAD, BOS]
    };
    Vocabs {
        src: Vocab::of_chars(sources.iter().map(String::as_str), src_specials),
        tgt: Vocab::of_chars(train_idx.iter().map(|&i| pairs[i].1.as_str()), tgt_specials),
    }
}

/// The source tags a training source starts with (the [`DAY_FIRST`] tag and a space), and the
/// text after them.
pub(super) fn split_tags(source: &str) -> (Vec<String>, &str) {
    match source.strip_prefix(DAY_FIRST) {
        Some(rest) if rest.starts_with(' ') => (vec![DAY_FIRST.to_owned()], rest.trim_start()),
        _ => (Vec::new(), source),
    }
}

/// The seeded split of `pairs`, refused when the training part lacks a digit.
fn split(pairs: &[(String, String)], settings: &Settings) -> Result<(Vec<usize>, Vec<usize>)> {
    let n_valid = settings.held_out.size(pairs.len());
    if pairs.is_empty() || n_valid >= pairs.len() {
        return Err(Error::Config("no training pairs".into()));
    }
    let (train_idx, valid_idx) = train::split_indices(pairs.len(), n_valid, settings.seed)?;
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
    Ok((train_idx, valid_idx))
}

#[allow(clippy::too_many_arguments)]
fn go(
    translator: Translator,
    optim: Optimizer,
    config: TrainConfig,
    plan: Plan,
    pairs: &[(String, String)],
    (train_idx, valid_idx): (Vec<usize>, Vec<usize>),
    progress: &dyn Progress,
) -> Result<DateReport> {
    let train_set = train_idx
        .iter()
        .map(|&i| {
            let (tags, text) = split_tags(&pairs[i].0);
            Ok((
                translator.encode_tagged(&tags, text)?,
                translator.encode_target(&pairs[i].1)?,
            ))
        })
        .collect::<Result<Vec<Encoded>>>()?;
    let valid: Vec<(String, String)> = valid_idx.iter().map(|&i| pairs[i].clone()).collect();
    // Every run of these models saves to a directory.
    let out = plan.out.clone().unwrap_or_default();
    let mut run = Run {
        translator,
        optim,
        config,
        out,
        train_set,
        valid,
        last_loss: f64::NAN,
    };
    let report = train::run(&mut run, &plan, progress)?;
    Ok(DateReport {
        epochs: report
            .epochs
            .iter()
            .map(|r| EpochFigures {
                epoch: r.epoch,
                train_loss: r.trained.loss,
                valid_accuracy: r.score.map_or(f64::NAN, |s| s.value),
                train_seconds: r.trained.seconds,
                saved: r.kept,
            })
            .collect(),
        best_epoch: report.best_epoch,
        stop: report.stop,
        train_pairs: train_idx.len(),
        valid_pairs: valid_idx.len(),
    })
}

struct Run {
    translator: Translator,
    optim: Optimizer,
    config: TrainConfig,
    out: PathBuf,
    train_set: Vec<Encoded>,
    valid: Vec<(String, String)>,
    /// The last epoch's training loss, which breaks ties between equal exact matches.
    last_loss: f64,
}

impl Trainee for Run {
    fn train_epoch(&mut self, epoch: &mut Epoch<'_>) -> Result<Trained> {
        let settings = &self.config.train;
        let mut rng = train::seed_epoch(settings.seed, epoch.number);
        let order = train::epoch_order(self.train_set.len(), &mut rng);
        let n_batches = self.train_set.len().div_ceil(settings.batch_size);
        epoch.begin(n_batches);
        let device = self.translator.var_store().device();
        let bos = self
            .translator
            .vocabs()
            .tgt
            .id(crate::vocab::BOS)
            .unwrap_or(1) as i64;
        let start = Instant::now();
        let (mut loss_sum, mut tokens) = (0f64, 0f64);
        let mut complete = true;
        for (b, rows) in order.chunks(settings.batch_size).enumerate() {
            let batch: Vec<&Encoded> = rows.iter().map(|&i| &self.train_set[i]).collect();
            let sources: Vec<&[usize]> = batch.iter().map(|(s, _)| s.as_slice()).collect();
            let (src, lengths) = self.translator.batch_sources(&sources);
            let steps = batch[0].1.len() as i64;
            let mut prev = Vec::with_capacity(batch.len() * steps as usize);
            let mut gold = Vec::with_capacity(batch.len() * steps as usize);
            for (_, t) in &batch {
                prev.push(bos);
                prev.extend(t[..t.len() - 1].iter().map(|&x| x as i64));
                gold.extend(t.iter().map(|&x| x as i64));
            }
            let rows = batch.len() as i64;
            let prev = Tensor::from_slice(&prev)
                .view([rows, steps])
                .to_device(device);
            let gold = Tensor::from_slice(&gold).to_device(device);
            let model = self.translator.model();
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
            self.optim.backward_step(&loss, settings.clip, epoch.lr())?;
            // The mean is over the tokens the loss reads: padding after a refusal is left out.
            let n = batch
                .iter()
                .map(|(_, t)| t.iter().filter(|&&x| x != 0).count())
                .sum::<usize>() as f64;
            loss_sum += loss.double_value(&[]) * n;
            tokens += n;
            if epoch.batch_done(b, || format!("loss {:.4}", loss_sum / tokens)) {
                complete = b + 1 == n_batches;
                break;
            }
        }
        self.last_loss = loss_sum / tokens.max(1.0);
        Ok(Trained {
            loss: self.last_loss,
            complete,
            items: tokens as usize,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    fn score(&mut self) -> Result<Option<Score>> {
        if self.valid.is_empty() {
            return Ok(None);
        }
        // Tagged pairs are decoded with their tags, the others without.
        let mut right = 0.0;
        for tagged in [false, true] {
            let mut options = DecodeOptions::default();
            let (mut sources, mut references) = (Vec::new(), Vec::new());
            for (source, reference) in &self.valid {
                let (tags, text) = split_tags(source);
                if tags.is_empty() != tagged {
                    sources.push(text);
                    references.push(reference.as_str());
                    options.tags = tags;
                }
            }
            if !sources.is_empty() {
                let share = exact_match(&self.translator, &sources, &references, &options)?;
                right += share * sources.len() as f64;
            }
        }
        let accuracy = right / self.valid.len() as f64;
        Ok(Some(Score::higher(accuracy).then_lower(self.last_loss)))
    }

    fn save(&mut self, record: &EpochRecord) -> Result<()> {
        let device = self.translator.var_store().device();
        let options = serde_json::to_value(&self.config).expect("options serialise");
        let meta = self
            .translator
            .meta()
            .clone()
            .with_figure("epoch", record.epoch)
            .with_figure("train_loss", record.trained.loss)
            .with_figure(
                "valid_exact_match",
                record.score.map_or(f64::NAN, |s| s.value),
            )
            .with_figure("train_pairs", self.train_set.len())
            .with_figure("valid_pairs", self.valid.len())
            .with_figure("optimizer_steps", self.optim.steps())
            .with_figure("train_options", options)
            .with_figure("device", crate::device::device_name(device));
        self.translator.set_meta(meta);
        self.translator
            .save_with(&self.out, &[(train::OPTIMIZER_FILE, self.optim.state())])
    }

    fn describe(&self, record: &EpochRecord) -> String {
        let held_out = match record.score {
            None => "no held-out pairs".to_owned(),
            Some(s) => format!("held-out exact match {:.2}%", 100.0 * s.value),
        };
        format!(
            "loss {:.4}, {held_out} ({:.1} s)",
            record.trained.loss, record.trained.seconds
        )
    }

    fn describe_score(&self, score: &Score) -> String {
        format!("held-out exact match {:.2}%", 100.0 * score.value)
    }

    fn score_name(&self) -> &'static str {
        "held-out exact match"
    }
}

fn prepare(config: &TranslatorConfig, text: &str) -> String {
    let t = text.trim();
    if config.lowercase {
        t.to_lowercase()
    } else {
        t.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_and_day_first_tokens_only_when_the_pairs_use_them() {
        let config = TranslatorConfig {
            task: Task::Dates,
            lowercase: true,
            model: crate::seq2seq::dates_preset(),
        };
        let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        let plain = [
            pair("3 May 1979", "1979-05-03"),
            pair("1/2/03", "2003-01-02"),
        ];
        let v = vocabs_of(&config, &plain, &[0, 1]);
        assert_eq!(v.tgt.id(REFUSAL), None);
        assert_eq!(v.src.id(DAY_FIRST), None);
        let more = [
            pair("<day-first> 1/2/03", "2003-02-01"),
            pair("good morning", ""),
            pair("30 feb 2010", "2010-02-30"),
        ];
        for (rows, refuse, tag) in [
            (&[0][..], false, true),
            (&[1], true, false),
            (&[2], true, false),
        ] {
            let v = vocabs_of(&config, &more, rows);
            assert_eq!(v.tgt.id(REFUSAL).is_some(), refuse, "{rows:?}");
            assert_eq!(v.src.id(DAY_FIRST).is_some(), tag, "{rows:?}");
            // The tag is one token, not characters of the source.
            assert_eq!(v.src.id("<"), None);
        }
        assert_eq!(
            split_tags("<day-first> 1/2/03"),
            (vec![DAY_FIRST.to_owned()], "1/2/03")
        );
        assert_eq!(
            split_tags("<day-first>1/2/03"),
            (Vec::new(), "<day-first>1/2/03")
        );
    }
}
