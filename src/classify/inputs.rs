//! What a classifier reads: the vocabulary of a new model (training words and pretrained
//! vectors, and which rows are trained), and sentences encoded against it with their classes,
//! batched and scored (mean cross-entropy and accuracy) without gradients.

use tch::{Device, Kind, Tensor};

use super::data::{Dataset, Labels};
use super::model::{Batch, Classifier};
use super::tokenize::SPECIALS;
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::vocab::Vocab;

/// The vocabulary of a new classifier and how many of its first rows are trained:
///
/// - pretrained vectors, frozen: `<pad>`, `<unk>`, then every word of the vectors (in their
///   order, so that test sentences can use words training never saw); no row is trained;
/// - pretrained vectors, frozen, with [`TrainedWords::New`]: `<pad>`, `<unk>`, the training
///   words that the vectors lack, by count (these rows are trained), then the vectors' words;
/// - pretrained vectors, fine-tuned: `<pad>`, `<unk>`, the training words by count (these rows
///   are trained), then the other words of the vectors (kept as they are);
/// - no vectors: `<pad>`, `<unk>`, the training words by count, all trained.
///
/// `sentences` are the training sentences split into words
/// ([`Tokenizer::words`](super::Tokenizer::words)).
pub fn vocabulary(
    sentences: &[Vec<String>],
    pretrained: Option<&Embeddings>,
    trained: TrainedWords,
) -> Result<(Vocab, usize)> {
    let mut tokens: Vec<String> = SPECIALS.iter().map(|s| (*s).to_owned()).collect();
    let seen = || Vocab::build(sentences.iter().flatten(), &SPECIALS, 1);
    match (trained, pretrained) {
        (TrainedWords::All, _) | (_, None) => {
            tokens.extend(seen().tokens().iter().skip(SPECIALS.len()).cloned());
        }
        (TrainedWords::New, Some(e)) => {
            let seen = seen();
            let new = seen.tokens().iter().skip(SPECIALS.len());
            tokens.extend(new.filter(|w| e.id(w).is_none()).cloned());
        }
        (TrainedWords::None, Some(_)) => {}
    }
    let trained_rows = if trained == TrainedWords::None && pretrained.is_some() {
        0
    } else {
        tokens.len()
    };
    if let Some(e) = pretrained {
        let have: std::collections::HashSet<&str> = tokens.iter().map(String::as_str).collect();
        let rest: Vec<String> = e
            .words()
            .iter()
            .filter(|w| !have.contains(w.as_str()))
            .cloned()
            .collect();
        tokens.extend(rest);
    }
    Ok((
        Vocab::try_from(tokens).map_err(Error::Config)?,
        trained_rows,
    ))
}

/// Which training words get trained vectors, for [`vocabulary`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainedWords {
    /// None: the pretrained vectors are frozen and the other words read as `<unk>`.
    None,
    /// Those without a pretrained vector.
    New,
    /// All of them (fine-tuning, or no pretrained vectors).
    All,
}

/// Encoded sentences with their classes.
pub(super) struct Encoded {
    ids: Vec<Vec<i64>>,
    classes: Vec<i64>,
}

impl Encoded {
    pub(super) fn new(model: &Classifier, data: &Dataset, labels: &Labels) -> Result<Encoded> {
        let ids = data
            .examples
            .iter()
            .map(|e| model.encode(&e.text))
            .collect::<Result<Vec<_>>>()?;
        Encoded::of_ids(ids, data, labels)
    }

    /// Sentences already encoded, with the classes of `data`'s examples.
    pub(super) fn of_ids(ids: Vec<Vec<i64>>, data: &Dataset, labels: &Labels) -> Result<Encoded> {
        let classes = data.classes(labels)?;
        Ok(Encoded {
            ids,
            classes: classes.into_iter().map(|c| c as i64).collect(),
        })
    }

    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    /// The batch of rows `rows` and its targets.
    pub(super) fn batch(&self, rows: &[usize], device: Device) -> (Batch, Tensor) {
        let sentences: Vec<&[i64]> = rows.iter().map(|&i| self.ids[i].as_slice()).collect();
        let targets: Vec<i64> = rows.iter().map(|&i| self.classes[i]).collect();
        (
            Batch::new(&sentences, device),
            Tensor::from_slice(&targets).to_device(device),
        )
    }
}

/// How many rows of `logits` put their maximum on the target class.
pub(super) fn hits(logits: &Tensor, targets: &Tensor) -> i64 {
    tch::no_grad(|| i64::try_from(logits.argmax(-1, false).eq_tensor(targets).sum(Kind::Int64)))
        .unwrap_or(0)
}

/// Mean loss and accuracy of `model` on `data`, without dropout or gradients.
pub(super) fn score(model: &Classifier, data: &Encoded, batch_size: usize) -> Result<(f64, f64)> {
    let rows: Vec<usize> = (0..data.len()).collect();
    let (mut loss, mut correct) = (0.0, 0i64);
    tch::no_grad(|| -> Result<()> {
        for chunk in rows.chunks(batch_size.max(64)) {
            let (batch, targets) = data.batch(chunk, model.device());
            let logits = model.forward_t(&batch, false)?;
            loss += f64::try_from(logits.cross_entropy_for_logits(&targets) * chunk.len() as f64)
                .unwrap_or(f64::NAN);
            correct += hits(&logits, &targets);
        }
        Ok(())
    })?;
    let n = data.len().max(1) as f64;
    Ok((loss / n, correct as f64 / n))
}
