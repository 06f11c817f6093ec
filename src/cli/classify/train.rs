//! `classify train`: the options, the defaults chosen by the size of the data
//! ([`Defaults::for_data`]), training, cross-validation and the closing summary.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use seqmodels::classify::{
    self, Architecture, ClassifierConfig, Dataset, Defaults, Pooling, Source, TrainData,
    TrainOptions, TrainReport,
};
use seqmodels::embeddings::formats;
use seqmodels::train::{Budget, HeldOut};
use seqmodels::Progress;

use super::{label_names, read_warning, warn_long_sentences, ReadArgs};
use crate::cli::common::{DeviceArgs, RunArgs};

/// The rule of `classify::Defaults::for_data`, for `classify train --help`.
pub(super) const DEFAULTS_HELP: &str = "\
Defaults by data size: with fewer than 1,000 training sentences (Emojify has 132), no dev set
is held out (every sentence trains; the last epoch is kept), the model is average (unless
--model lstm or an LSTM option such as --hidden is given), and the average trains 100 epochs at
--lr 0.01 (the LSTM 50 at 1e-3). From 1,000 sentences on (SST-2, MR): the LSTM, a 10% dev split
(--valid-fraction 0.1), at most 50 epochs at --lr 1e-3, patience 10, for both models. A flag
given always wins.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    /// Mean of the word vectors, then softmax (the course's Emojify V1).
    Average,
    /// Stacked LSTM over the word vectors (Emojify V2).
    Lstm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PoolArg {
    /// The last layer's final state (both directions' when bidirectional).
    Last,
    /// The maximum of the last layer's outputs over the words.
    Max,
    /// The mean of the last layer's outputs over the words.
    Mean,
}

impl From<ModelArg> for Architecture {
    fn from(m: ModelArg) -> Architecture {
        match m {
            ModelArg::Average => Architecture::Average,
            ModelArg::Lstm => Architecture::Lstm,
        }
    }
}

impl From<PoolArg> for Pooling {
    fn from(p: PoolArg) -> Pooling {
        match p {
            PoolArg::Last => Pooling::Last,
            PoolArg::Max => Pooling::Max,
            PoolArg::Mean => Pooling::Mean,
        }
    }
}

/// The model and training settings are the saved ones on `--resume`: giving any is an error
/// rather than silently ignored.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("settings").multiple(true))]
pub struct TrainArgs {
    /// Labelled sentences to train on (CSV, TSV or `label sentence` lines).
    #[arg(long, required_unless_present = "pos", conflicts_with = "pos")]
    pub train: Option<PathBuf>,
    /// One positive sentence per line (MR's rt-polarity.pos); labels become pos/neg.
    #[arg(long, requires = "neg")]
    pub pos: Option<PathBuf>,
    /// One negative sentence per line (MR's rt-polarity.neg).
    #[arg(long, requires = "pos")]
    pub neg: Option<PathBuf>,
    /// Dev set to choose the epoch on (default: --valid-fraction of the training file).
    #[arg(long)]
    pub valid: Option<PathBuf>,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Model directory to write (not needed with --cv or --resume).
    #[arg(long, required_unless_present_any = ["cv", "resume"])]
    pub out: Option<PathBuf>,
    /// Replace a model of another kind in --out (a folder that is not a model is never
    /// replaced).
    #[arg(long)]
    pub force: bool,
    /// Instead of saving a model: k-fold cross-validation, printing each fold's test accuracy
    /// and the mean.
    #[arg(long, value_name = "K", conflicts_with_all = ["valid", "out"])]
    pub cv: Option<usize>,
    /// The network [default: average under 1,000 training sentences unless an LSTM option is
    /// given, lstm otherwise; see below].
    #[arg(long, group = "settings", value_enum)]
    pub model: Option<ModelArg>,
    /// Pretrained word vectors (word2vec text/binary, GloVe, or a fastText .bin, e.g. from
    /// `embed train`); without them the embedding layer is trained from scratch. With a
    /// fastText .bin, a training word it lacks gets the mean of its character n-gram vectors
    /// instead of reading as <unk>.
    #[arg(long, group = "settings")]
    pub embeddings: Option<PathBuf>,
    /// Train the pretrained vectors too (they are frozen otherwise).
    #[arg(long, group = "settings", requires = "embeddings")]
    pub fine_tune: bool,
    /// With frozen vectors, give each training word that the vectors lack a vector of its own,
    /// trained (otherwise such words read as <unk>, a zero vector). Helps where punctuation
    /// and domain words carry the label, as in SST.
    #[arg(
        long,
        group = "settings",
        requires = "embeddings",
        conflicts_with = "fine_tune"
    )]
    pub learn_new_words: bool,
    /// Embedding size [default: the pretrained vectors' size, or 100 without them].
    #[arg(long, group = "settings")]
    pub embed_dim: Option<usize>,
    /// LSTM units per layer and direction [default: 128].
    #[arg(long, group = "settings")]
    pub hidden: Option<usize>,
    /// Stacked LSTM layers [default: 2].
    #[arg(long, group = "settings")]
    pub layers: Option<usize>,
    /// Bidirectional LSTM layers.
    #[arg(long, group = "settings")]
    pub bidirectional: bool,
    /// How the LSTM's outputs make the sentence's features [default: last].
    #[arg(long, group = "settings", value_enum)]
    pub pool: Option<PoolArg>,
    /// Dropout between LSTM layers and before the output layer.
    #[arg(long, group = "settings", default_value_t = 0.5)]
    pub dropout: f64,
    /// Dropout on the word vectors before the LSTM or the average (0: none).
    #[arg(long, group = "settings", default_value_t = 0.0)]
    pub embed_dropout: f64,
    /// Keep letter case (text is lower-cased by default, like the embeddings).
    #[arg(long, group = "settings")]
    pub keep_case: bool,
    /// What to print for each class, comma-separated in class order (numeric labels sort
    /// numerically), or `emojify` for ❤️,⚾,😄,😞,🍴.
    #[arg(long, group = "settings")]
    pub label_names: Option<String>,
    /// Sentences per update.
    #[arg(long, group = "settings", default_value_t = 32)]
    pub batch_size: usize,
    /// Adam's learning rate [default: 0.01 for the average under 1,000 training sentences,
    /// 1e-3 otherwise].
    #[arg(long, group = "settings")]
    pub lr: Option<f64>,
    /// Share of the training data held out as the dev set when there is no --valid; 0 trains
    /// on everything and keeps the last epoch [default: 0 under 1,000 training sentences, 0.1
    /// otherwise].
    #[arg(long, group = "settings")]
    pub valid_fraction: Option<f64>,
    /// Continue training this model (weights, optimiser state, options, seed and dev split) on
    /// the same data, for --epochs more [default: 50] or --time-budget; saves to --out (default:
    /// this directory).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["cv", "settings"])]
    pub resume: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub device: DeviceArgs,
}

pub(super) fn train(args: TrainArgs, progress: &dyn Progress) -> anyhow::Result<()> {
    let _out = crate::cli::common::claim_out(
        args.out
            .as_ref()
            .or(args.resume.as_ref())
            .filter(|_| args.cv.is_none()),
        classify::KIND,
        args.force,
    )?;
    let device = args.device.device.resolve()?;
    let data = match (&args.train, &args.pos, &args.neg) {
        (Some(path), _, _) => args.read.read(path)?,
        (None, Some(pos), Some(neg)) => read_warning(Source::PosNeg(pos, neg))?,
        _ => anyhow::bail!("give --train FILE or --pos FILE --neg FILE"),
    };
    let valid = args
        .valid
        .as_deref()
        .map(|p| args.read.read(p))
        .transpose()?;
    let vectors = match &args.embeddings {
        Some(path) => Some(formats::read(path, None, None)?),
        None => None,
    };
    if let (Some(d), Some(v), Some(path)) = (args.embed_dim, &vectors, &args.embeddings) {
        if v.dim() != d {
            anyhow::bail!(
                "{}: the vectors have {} dimensions but --embed-dim is {d}",
                path.display(),
                v.dim()
            );
        }
    }
    let defaults = Defaults::for_data(data.examples.len(), args.architecture());
    let config = args.config(defaults.architecture, vectors.as_ref().map(|v| v.dim()));
    let mut options = TrainOptions::default();
    options.train.budget = Budget::epochs(defaults.epochs);
    options.train.batch_size = args.batch_size;
    options.train.lr = args.lr.unwrap_or(defaults.lr);
    options.train.held_out =
        HeldOut::Fraction(args.valid_fraction.unwrap_or(defaults.valid_fraction));
    options.learn_new_words = args.learn_new_words;
    args.run.apply(&mut options.train);
    if args.resume.is_none() {
        note_small_data(&args, data.examples.len(), &config, &options);
    }
    let train_data = TrainData {
        train: &data,
        valid: valid.as_ref(),
        pretrained: vectors.as_ref(),
    };
    if let Some(k) = args.cv {
        return cross_validate(
            &config,
            &data,
            k,
            vectors.as_ref(),
            &options,
            device,
            progress,
        );
    }
    let (out, report) = match &args.resume {
        Some(dir) => {
            let budget = args.run.resumed_budget(50)?;
            let out = args.out.clone().unwrap_or_else(|| dir.clone());
            let (_, report) = classify::resume(dir, &train_data, budget, device, &out, progress)?;
            (out, report)
        }
        None => {
            let out = args.out.clone().expect("clap requires --out without --cv");
            let (_, report) =
                classify::train(config, &train_data, &options, device, Some(&out), progress)?;
            (out, report)
        }
    };
    print_report(
        &report,
        &out,
        args.embeddings.is_some(),
        args.learn_new_words,
    );
    Ok(())
}

impl TrainArgs {
    /// The network asked for: `--model`, or the LSTM when an LSTM option is given; `None`
    /// leaves it to the data's size.
    fn architecture(&self) -> Option<Architecture> {
        let lstm_option = self.hidden.is_some()
            || self.layers.is_some()
            || self.bidirectional
            || self.pool.is_some();
        match self.model {
            Some(m) => Some(m.into()),
            None if lstm_option => Some(Architecture::Lstm),
            None => None,
        }
    }

    /// The classifier the options describe, over vectors of `vectors_dim` dimensions if given.
    fn config(&self, architecture: Architecture, vectors_dim: Option<usize>) -> ClassifierConfig {
        let lstm = ClassifierConfig::default();
        ClassifierConfig {
            architecture,
            embed_dim: self.embed_dim.or(vectors_dim).unwrap_or(100),
            hidden: self.hidden.unwrap_or(lstm.hidden),
            layers: self.layers.unwrap_or(lstm.layers),
            bidirectional: self.bidirectional,
            pooling: self.pool.map_or(lstm.pooling, Pooling::from),
            dropout: self.dropout,
            embed_dropout: self.embed_dropout,
            train_embeddings: self.fine_tune || vectors_dim.is_none(),
            trained_rows: None,
            lowercase: !self.keep_case,
            labels: Vec::new(),
            display: label_names(self.label_names.as_deref()),
        }
    }
}

/// Says which settings the small-data defaults chose, when the training set is small and a
/// setting they choose was not given.
fn note_small_data(args: &TrainArgs, n: usize, config: &ClassifierConfig, options: &TrainOptions) {
    let given = args.model.is_some()
        && args.lr.is_some()
        && args.valid_fraction.is_some()
        && (args.run.epochs.is_some() || args.run.time_budget.is_some());
    if n >= classify::SMALL_DATA || given {
        return;
    }
    let model = match config.architecture {
        Architecture::Average => "average",
        Architecture::Lstm => "lstm",
    };
    let epochs = options.train.budget.epochs.map_or_else(
        || "epochs until the time budget".to_owned(),
        |e| format!("{e} epochs"),
    );
    let dev = match (&args.valid, options.train.held_out) {
        (Some(_), _) => "the --valid set".to_owned(),
        (None, HeldOut::Fraction(f)) if f > 0.0 => format!("--valid-fraction {f}"),
        _ => "no dev set, --valid-fraction 0".to_owned(),
    };
    eprintln!(
        "note: {n} training sentences, fewer than {}: the small-data defaults apply (--model \
         {model}, {epochs} at --lr {}, {dev}); see `classify train --help`",
        classify::SMALL_DATA,
        options.train.lr
    );
}

/// `classify train --cv K`: each fold's test accuracy, then the mean.
fn cross_validate(
    config: &ClassifierConfig,
    data: &Dataset,
    k: usize,
    vectors: Option<&seqmodels::embeddings::Embeddings>,
    options: &TrainOptions,
    device: tch::Device,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let cv = classify::cross_validate(config, data, k, vectors, options, device, progress)?;
    warn_long_sentences(&cv.long_sentences);
    for (f, (acc, epoch)) in cv.accuracies.iter().zip(&cv.best_epochs).enumerate() {
        println!(
            "fold {}: accuracy {:.2}% (epoch {epoch})",
            f + 1,
            100.0 * acc
        );
    }
    println!(
        "{k}-fold cross-validation on {} sentences: accuracy {:.2}% ± {:.2} (mean ± sd)",
        data.examples.len(),
        100.0 * cv.mean,
        100.0 * cv.sd
    );
    Ok(())
}

/// The closing summary of `classify train`, after a warning for each sentence cut.
fn print_report(report: &TrainReport, out: &Path, pretrained: bool, learn_new_words: bool) {
    warn_long_sentences(&report.long_sentences);
    let saved = if report.epochs.iter().any(|e| e.best) {
        format!("saved to {}", out.display())
    } else {
        format!(
            "no epoch beat the saved model, so {} is unchanged",
            out.display()
        )
    };
    let dev = match report.best_valid_accuracy {
        Some(a) => format!(
            "best dev accuracy {:.2}% ({} sentences) at epoch {}",
            100.0 * a,
            report.valid_size,
            report.best_epoch
        ),
        None => "no dev set; kept the last epoch".to_owned(),
    };
    let subwords = if report.subword_coverage > 0.0 {
        format!(
            ", {:.1}% more from their subwords",
            100.0 * report.subword_coverage
        )
    } else {
        String::new()
    };
    let coverage = if pretrained {
        format!(
            "; {:.1}% of the training words have pretrained vectors{subwords}{}",
            100.0 * report.pretrained_coverage,
            if learn_new_words {
                " (the others learnt vectors of their own)"
            } else {
                ""
            }
        )
    } else {
        String::new()
    };
    println!(
        "trained {} epoch(s) of a {}-parameter classifier on {} sentences in {:.1} s; {dev}{coverage}; {saved}",
        report.epochs.len(),
        report.trainable_parameters,
        report.train_size,
        report.seconds,
    );
}
