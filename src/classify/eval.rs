//! Using a trained classifier: predictions, evaluation against labelled sentences (accuracy,
//! per-class precision/recall/F1, confusion matrix) and k-fold cross-validation.

use serde::{Deserialize, Serialize};
use tch::Device;

use super::data::{Dataset, Labels};
use super::inputs::encode;
use super::metrics::{k_folds, mean_sd, Evaluation};
use super::model::{Classifier, ClassifierConfig};
use super::tokenize::LongSentence;
use super::train::{train, TrainData, TrainOptions};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::progress::{Progress, ProgressEvent};

/// The predicted class ids of `data`'s sentences.
pub fn predict(model: &Classifier, texts: &[&str], batch_size: usize) -> Result<Vec<usize>> {
    Ok(model
        .probabilities(texts, batch_size)?
        .iter()
        .map(|p| argmax(p))
        .collect())
}

/// The `k` most likely classes of one row of probabilities and their probabilities, most
/// likely first (on ties, the lower class id first).
pub fn top_k(probabilities: &[f32], k: usize) -> Vec<(usize, f32)> {
    let mut ranked: Vec<(usize, f32)> = probabilities.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(k);
    ranked
}

/// Index of the largest value (the first, on ties).
pub(crate) fn argmax(p: &[f32]) -> usize {
    p.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
            if v > bv {
                (i, v)
            } else {
                (bi, bv)
            }
        })
        .0
}

/// Accuracy, per-class precision/recall/F1 and the confusion matrix of `model` on `data`, and
/// the sentences longer than the model reads ([`Evaluation::long_sentences`]); a label the
/// model does not know is an error naming its file and line.
pub fn evaluate(model: &Classifier, data: &Dataset) -> Result<Evaluation> {
    let labels = Labels::from_names(model.config().labels.clone());
    let gold = data.classes(&labels)?;
    let (ids, long) = encode(model, data)?;
    let refs: Vec<&[i64]> = ids.iter().map(Vec::as_slice).collect();
    let predicted: Vec<usize> = model
        .probabilities_of_ids(&refs, 256)?
        .iter()
        .map(|p| argmax(p))
        .collect();
    let mut evaluation = Evaluation::new(model.config().labels.clone(), &gold, &predicted)?;
    evaluation.long_sentences = long;
    Ok(evaluation)
}

/// What k-fold cross-validation measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossValidation {
    /// Test accuracy of each fold's model on its fold.
    pub accuracies: Vec<f64>,
    /// Their mean.
    pub mean: f64,
    /// Their sample standard deviation.
    pub sd: f64,
    /// The epoch chosen in each fold.
    pub best_epochs: Vec<usize>,
    /// The sentences longer than a classifier reads, by line (each once: from the fold that
    /// scored it).
    pub long_sentences: Vec<LongSentence>,
}

/// k-fold cross-validation (for data without a test split, like MR): the sentences are shuffled
/// with the seed and dealt into `k` folds; each fold is scored by a model trained on the others
/// (which hold out `options.valid_fraction` of themselves as a dev set).
pub fn cross_validate(
    config: &ClassifierConfig,
    data: &Dataset,
    k: usize,
    pretrained: Option<&Embeddings>,
    options: &TrainOptions,
    device: Device,
    progress: &dyn Progress,
) -> Result<CrossValidation> {
    let folds = k_folds(data.examples.len(), k, options.train.seed)?;
    let mut accuracies = Vec::with_capacity(k);
    let mut best_epochs = Vec::with_capacity(k);
    let mut long_sentences = Vec::new();
    for (f, test_rows) in folds.iter().enumerate() {
        let mut train_rows: Vec<usize> = folds
            .iter()
            .enumerate()
            .filter(|&(g, _)| g != f)
            .flat_map(|(_, rows)| rows.iter().copied())
            .collect();
        train_rows.sort_unstable();
        // A fold's training part can lack a rare label: say so, not just which line has it.
        let in_fold = |e: Error| match e {
            Error::BadLine { path, line, reason } => Error::BadLine {
                path,
                line,
                reason: format!(
                    "{reason}; in fold {}/{k} (the other folds, less the dev share, train)",
                    f + 1
                ),
            },
            other => other,
        };
        let fold = data.subset(&train_rows);
        let fold_data = TrainData {
            train: &fold,
            valid: None,
            pretrained,
        };
        let (model, report) =
            train(config.clone(), &fold_data, options, device, None, progress).map_err(in_fold)?;
        let eval = evaluate(&model, &data.subset(test_rows)).map_err(in_fold)?;
        let summary = format!(
            "fold {}/{k}: test accuracy {:.2}% (epoch {})",
            f + 1,
            100.0 * eval.accuracy,
            report.best_epoch
        );
        progress.event(&ProgressEvent::End { summary: &summary });
        accuracies.push(eval.accuracy);
        long_sentences.extend(eval.long_sentences);
        best_epochs.push(report.best_epoch);
    }
    let (mean, sd) = mean_sd(&accuracies);
    long_sentences.sort_by_key(|l| l.line);
    Ok(CrossValidation {
        accuracies,
        mean,
        sd,
        best_epochs,
        long_sentences,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn top_k_ranks_by_probability_then_class() {
        let p = [0.2, 0.5, 0.2, 0.1];
        assert_eq!(super::top_k(&p, 3), vec![(1, 0.5), (0, 0.2), (2, 0.2)]);
        assert_eq!(super::top_k(&p, 9).len(), 4);
    }
}
