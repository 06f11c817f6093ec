//! What a classifier reads: the vocabulary of a new model (training words and pretrained
//! vectors, and which rows are trained), and sentences encoded against it with their classes,
//! batched and scored (mean cross-entropy and accuracy) without gradients.
//!
//! Pretrained vectors with subword rows (a fastText `.bin`, Bojanowski et al. 2017) also give
//! a vector to a training word they lack: the mean of its character n-gram rows
//! ([`Embeddings::ngram_vector`]), so that `colour`, `lol` and `pizzas` do not read as `<unk>`.

use std::collections::HashSet;

use tch::{Device, Kind, Tensor};

use super::data::{Dataset, Labels};
use super::model::{Batch, Classifier};
use super::tokenize::{LongSentence, SPECIALS};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::vocab::Vocab;

/// The vocabulary of a new classifier and how many of its first rows are trained:
///
/// - pretrained vectors, frozen: `<pad>`, `<unk>`, the training words that the vectors lack
///   but can compose from subwords, by count, then every word of the vectors (in their order,
///   so that test sentences can use words training never saw); no row is trained;
/// - pretrained vectors, frozen, with [`TrainedWords::New`]: `<pad>`, `<unk>`, the training
///   words that have no vector at all (neither their own nor from subwords), by count (these
///   rows are trained), then the composed words and the vectors' words as above;
/// - pretrained vectors, fine-tuned: `<pad>`, `<unk>`, the training words by count (these rows
///   are trained, starting from their vectors, composed or not), then the other words of the
///   vectors (kept as they are);
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
    let seen = Vocab::build(sentences.iter().flatten(), &SPECIALS, 1);
    let seen = seen.tokens().iter().skip(SPECIALS.len());
    let of = |source: VectorSource| {
        let e = pretrained.expect("only asked with pretrained vectors");
        seen.clone()
            .filter(move |w| vector_source(e, w) == source)
            .cloned()
    };
    let composed = match (trained, pretrained) {
        (TrainedWords::All, _) | (_, None) => {
            tokens.extend(seen.clone().cloned());
            Vec::new()
        }
        (TrainedWords::New, Some(_)) => {
            tokens.extend(of(VectorSource::Missing));
            of(VectorSource::Subwords).collect()
        }
        (TrainedWords::None, Some(_)) => of(VectorSource::Subwords).collect(),
    };
    let trained_rows = if trained == TrainedWords::None && pretrained.is_some() {
        0
    } else {
        tokens.len()
    };
    tokens.extend(composed);
    if let Some(e) = pretrained {
        let have: HashSet<&str> = tokens.iter().map(String::as_str).collect();
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

/// Where a word's pretrained vector comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum VectorSource {
    /// A row of its own in the vectors.
    Own,
    /// The mean of its character n-gram rows (vectors with subwords only).
    Subwords,
    /// Neither.
    Missing,
}

/// Where `e` finds a vector for `word`.
pub(super) fn vector_source(e: &Embeddings, word: &str) -> VectorSource {
    if e.id(word).is_some() {
        VectorSource::Own
    } else if e.has_vector(word) {
        VectorSource::Subwords
    } else {
        VectorSource::Missing
    }
}

/// The shares of the words (every occurrence) of `sentences` that have a vector of their own
/// in `e`, and that have one from subwords.
pub(super) fn coverage(sentences: &[Vec<String>], e: &Embeddings) -> (f64, f64) {
    let (mut own, mut subwords, mut total) = (0usize, 0usize, 0usize);
    let mut cache = std::collections::HashMap::new();
    for word in sentences.iter().flatten() {
        match *cache
            .entry(word.as_str())
            .or_insert_with(|| vector_source(e, word))
        {
            VectorSource::Own => own += 1,
            VectorSource::Subwords => subwords += 1,
            VectorSource::Missing => {}
        }
        total += 1;
    }
    let n = total.max(1) as f64;
    (own as f64 / n, subwords as f64 / n)
}

/// Which training words get trained vectors, for [`vocabulary`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainedWords {
    /// None: the pretrained vectors are frozen and the words without one (of their own or
    /// from subwords) read as `<unk>`.
    None,
    /// Those without a pretrained vector (of their own or from subwords).
    New,
    /// All of them (fine-tuning, or no pretrained vectors).
    All,
}

/// The ids of `data`'s sentences in `model`'s vocabulary, each sentence tokenised once, and
/// the sentences longer than the model reads.
pub(super) fn encode(
    model: &Classifier,
    data: &Dataset,
) -> Result<(Vec<Vec<i64>>, Vec<LongSentence>)> {
    let tokenizer = model.tokenizer();
    let mut long = Vec::new();
    let ids = data
        .examples
        .iter()
        .map(|e| {
            let (ids, cut) = tokenizer.ids_cut(&e.text, model.vocab())?;
            if cut {
                long.push(LongSentence {
                    path: data.path.clone(),
                    line: e.line,
                });
            }
            Ok(ids)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((ids, long))
}

/// Encoded sentences with their classes.
pub(super) struct Encoded {
    ids: Vec<Vec<i64>>,
    classes: Vec<i64>,
}

impl Encoded {
    /// `data` encoded for `model`, and its sentences longer than the model reads.
    pub(super) fn new(
        model: &Classifier,
        data: &Dataset,
        labels: &Labels,
    ) -> Result<(Encoded, Vec<LongSentence>)> {
        let (ids, long) = encode(model, data)?;
        Ok((Encoded::of_ids(ids, data, labels)?, long))
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
