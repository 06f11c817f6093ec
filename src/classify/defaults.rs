//! The settings a classifier trains with unless told otherwise, chosen by the size of the
//! training data.
//!
//! A dev set of a tenth of Emojify's 132 sentences is 13 sentences: one sentence moves its
//! accuracy by 7.7 points, so choosing the epoch on it is noise, and it costs the model a tenth
//! of its data. Adam at 1e-3 for 50 epochs of 5 batches barely moves the averaging model's
//! head (12.5% on Emojify's test in issue #21, below chance). So under [`SMALL_DATA`]
//! sentences training uses every sentence and keeps the last epoch, and the averaging model
//! (the course's V1, better than the LSTM there) trains at 1e-2 for 100 epochs. From
//! [`SMALL_DATA`] sentences on (SST-2's 6,920, MR's 10,662) the defaults are the ones of
//! before: the LSTM, a 10% dev split, early stopping, Adam at 1e-3. The figures behind the
//! choice, and how far they carry, are in the README ("Sentence classifiers") and
//! `scripts/bench/classify_defaults.sh`.

use super::model::Architecture;

/// Training sets of fewer sentences than this are small: see [`Defaults::for_data`].
pub const SMALL_DATA: usize = 1_000;

/// What `classify train` uses for the settings it is not given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Defaults {
    /// The network.
    pub architecture: Architecture,
    /// The most epochs.
    pub epochs: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// The share of the training data held out as the dev set when no dev file is given (0:
    /// none; the last epoch is kept).
    pub valid_fraction: f64,
}

impl Defaults {
    /// The defaults for a training set of `sentences` sentences and the network
    /// `architecture`, or without one the network for that size:
    ///
    /// | | under [`SMALL_DATA`] sentences | from [`SMALL_DATA`] on |
    /// |---|---|---|
    /// | network | average | LSTM |
    /// | dev split | none (last epoch kept) | 10% |
    /// | average: epochs, Adam's rate | 100, 1e-2 | 50, 1e-3 |
    /// | LSTM: epochs, Adam's rate | 50, 1e-3 | 50, 1e-3 |
    pub fn for_data(sentences: usize, architecture: Option<Architecture>) -> Defaults {
        let small = sentences < SMALL_DATA;
        let architecture = architecture.unwrap_or(if small {
            Architecture::Average
        } else {
            Architecture::Lstm
        });
        let (epochs, lr) = match (small, architecture) {
            (true, Architecture::Average) => (100, 1e-2),
            _ => (50, 1e-3),
        };
        Defaults {
            architecture,
            epochs,
            lr,
            valid_fraction: if small { 0.0 } else { 0.1 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_data_gets_the_average_on_every_sentence_and_larger_data_the_lstm() {
        let emojify = Defaults::for_data(132, None);
        assert_eq!(emojify.architecture, Architecture::Average);
        assert_eq!((emojify.epochs, emojify.lr), (100, 1e-2));
        assert_eq!(emojify.valid_fraction, 0.0);
        let lstm = Defaults::for_data(132, Some(Architecture::Lstm));
        assert_eq!((lstm.epochs, lstm.lr, lstm.valid_fraction), (50, 1e-3, 0.0));
        // SST-2's 6,920 sentences keep the defaults of before.
        let sst = Defaults::for_data(6_920, None);
        assert_eq!(sst.architecture, Architecture::Lstm);
        assert_eq!((sst.epochs, sst.lr, sst.valid_fraction), (50, 1e-3, 0.1));
        let average = Defaults::for_data(SMALL_DATA, Some(Architecture::Average));
        assert_eq!((average.epochs, average.lr), (50, 1e-3));
        assert_eq!(
            Defaults::for_data(SMALL_DATA - 1, None).architecture,
            Architecture::Average
        );
    }
}
