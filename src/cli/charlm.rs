//! `seqmodels charlm`: train, sample from and evaluate character-level language models.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use seqmodels::charlm::{
    self, Cell, CharLm, Dataset, SampleOptions, SampleStats, TrainOptions, Unit,
};
use seqmodels::train::{Clip, HeldOut, LrSchedule, OptimizerKind};
use seqmodels::Progress;

use super::common::{DeviceArgs, RunArgs};

#[derive(Debug, Args)]
pub struct CharlmArgs {
    #[command(subcommand)]
    pub command: CharlmCommand,
}

#[derive(Debug, Subcommand)]
pub enum CharlmCommand {
    /// Train a model on a names list (--unit line) or any text (--unit text); the best epoch
    /// (held-out nats per character) is saved, with its optimiser state.
    Train(Box<TrainArgs>),
    /// Sample from a trained model.
    Sample(SampleArgs),
    /// Held-out loss of a model on a file: nats per character and perplexity.
    Eval(EvalArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnitArg {
    /// Each line is one sequence, with start and end markers (names, words).
    Line,
    /// One continuous text, cut into windows with the state carried across (char-rnn).
    Text,
}

impl From<UnitArg> for Unit {
    fn from(u: UnitArg) -> Unit {
        match u {
            UnitArg::Line => Unit::Line,
            UnitArg::Text => Unit::Text,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CellArg {
    Rnn,
    Gru,
    Lstm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PresetArg {
    /// The course's Dinosaur Island model: vanilla RNN, 50 hidden units, one-hot input, SGD 0.01
    /// one name at a time, gradients clipped element-wise at 5, 14 epochs.
    Dinosaur,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OptimizerArg {
    Adam,
    Sgd,
}

/// The model and training settings are the saved ones on `--resume`: giving any is an error
/// rather than silently ignored.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("settings").multiple(true))]
pub struct TrainArgs {
    /// Training data (UTF-8, `.gz` accepted); the held-out part is split off it.
    #[arg(long, required_unless_present = "resume")]
    pub data: Option<PathBuf>,
    /// Model directory to write (default: the --resume directory).
    #[arg(long, required_unless_present = "resume")]
    pub out: Option<PathBuf>,
    /// Replace a model of another kind in --out (a folder that is not a model is never
    /// replaced).
    #[arg(long)]
    pub force: bool,
    /// Continue training this model (weights and optimiser state) on the same data and split,
    /// for --epochs more epochs [default: 10] or --time-budget.
    #[arg(long, value_name = "DIR", conflicts_with = "settings")]
    pub resume: Option<PathBuf>,
    /// Lines or continuous text.
    #[arg(long, group = "settings", value_enum, default_value_t = UnitArg::Line)]
    pub unit: UnitArg,
    /// Start from a preset (options given explicitly override it).
    #[arg(long, group = "settings", value_enum)]
    pub preset: Option<PresetArg>,
    /// Recurrent cell [default: lstm].
    #[arg(long, group = "settings", value_enum)]
    pub cell: Option<CellArg>,
    /// Hidden units per layer [default: 512].
    #[arg(long, group = "settings")]
    pub hidden: Option<usize>,
    /// Stacked layers [default: 1 for lines, 2 for text].
    #[arg(long, group = "settings")]
    pub layers: Option<usize>,
    /// Embedding size; 0 feeds one-hot characters [default: 64].
    #[arg(long, group = "settings")]
    pub embed: Option<usize>,
    /// Dropout between layers and before the output [default: 0.1 for lines, 0.2 for text].
    #[arg(long, group = "settings")]
    pub dropout: Option<f64>,
    /// Lower-case the data (and later prefixes and evaluation files) [default: on for the
    /// dinosaur preset].
    #[arg(long, group = "settings")]
    pub lowercase: bool,
    /// Text mode: characters per training window [default: 128].
    #[arg(long, group = "settings")]
    pub seq_len: Option<usize>,
    /// Sequences (lines) or parallel streams (text) per batch [default: 64 lines, 32 text].
    #[arg(long, group = "settings")]
    pub batch_size: Option<usize>,
    /// adam or sgd [default: adam].
    #[arg(long, group = "settings", value_enum)]
    pub optimizer: Option<OptimizerArg>,
    /// Learning rate [default: 2e-3].
    #[arg(long, group = "settings")]
    pub lr: Option<f64>,
    /// Final learning rate of a linear decay over the run [default: 2e-4]; the same as
    /// --lr-schedule linear:LR_MIN.
    #[arg(long, group = "settings", conflicts_with = "lr_schedule")]
    pub lr_min: Option<f64>,
    /// Clip gradients to this global L2 norm [default: 1].
    #[arg(long, group = "settings", conflicts_with = "clip_value")]
    pub clip_norm: Option<f64>,
    /// Clip each gradient value into [-C, C] instead.
    #[arg(long, group = "settings", value_name = "C")]
    pub clip_value: Option<f64>,
    /// Share held out [default: 0.1].
    #[arg(long, group = "settings", conflicts_with = "valid_count")]
    pub valid_fraction: Option<f64>,
    /// Hold out this many lines (line mode) or characters (text mode) instead.
    #[arg(long, group = "settings", conflicts_with = "valid")]
    pub valid_count: Option<usize>,
    /// Score on this file instead (then all of --data is for training).
    #[arg(long, group = "settings", conflicts_with = "valid_fraction")]
    pub valid: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub device: DeviceArgs,
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Model directory.
    #[arg(long, short)]
    pub model: PathBuf,
    /// Number of samples.
    #[arg(short = 'n', long, default_value_t = 10, value_parser = super::common::between_one_and::<10_000_000>)]
    pub count: usize,
    /// Below 1: safer; above 1: wilder. Must be > 0.
    #[arg(long, default_value_t = 1.0)]
    pub temperature: f64,
    /// Sample among the K most likely characters only (1: greedy).
    #[arg(long, value_name = "K")]
    pub top_k: Option<usize>,
    /// Every sample starts with this.
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// Characters generated at most; 0 is the model's default, 64 for lines and 500 for text.
    #[arg(long, default_value_t = 0, value_parser = super::common::at_most::<1_000_000>)]
    pub max_len: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Also print the share of unique samples and, with the training file (--data, or the one
    /// the model was trained on if it is still there), of samples not in it.
    #[arg(long)]
    pub stats: bool,
    /// The training file, for --stats.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Output: text prints each sample as it is (a text model's samples may span lines); json
    /// prints each as one JSON string per line.
    #[arg(long, value_enum, default_value_t = SampleFormat::Text)]
    pub format: SampleFormat,
    #[command(flatten)]
    pub device: DeviceArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SampleFormat {
    /// Each sample followed by a newline.
    Text,
    /// Each sample as a JSON string on its own line.
    Json,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model directory.
    #[arg(long, short)]
    pub model: PathBuf,
    /// File to score, read as the model's unit.
    #[arg(long)]
    pub data: PathBuf,
    #[command(flatten)]
    pub device: DeviceArgs,
}

pub fn run(args: CharlmArgs, progress: &dyn Progress) -> anyhow::Result<()> {
    match args.command {
        CharlmCommand::Train(a) => train(*a, progress),
        CharlmCommand::Sample(a) => sample(a),
        CharlmCommand::Eval(a) => eval(a),
    }
}

fn options(args: &TrainArgs) -> TrainOptions {
    let unit: Unit = args.unit.into();
    let mut o = match args.preset {
        Some(PresetArg::Dinosaur) => TrainOptions::dinosaur(),
        None => TrainOptions::for_unit(unit),
    };
    o.model.unit = unit;
    if let Some(c) = args.cell {
        o.model.cell = match c {
            CellArg::Rnn => Cell::Rnn,
            CellArg::Gru => Cell::Gru,
            CellArg::Lstm => Cell::Lstm,
        };
    }
    let set = |slot: &mut usize, v: Option<usize>| {
        if let Some(v) = v {
            *slot = v;
        }
    };
    set(&mut o.model.hidden, args.hidden);
    set(&mut o.model.layers, args.layers);
    set(&mut o.model.embed, args.embed);
    set(&mut o.seq_len, args.seq_len);
    set(&mut o.train.batch_size, args.batch_size);
    if let Some(d) = args.dropout {
        o.model.dropout = d;
    }
    o.model.lowercase |= args.lowercase;
    if let Some(opt) = args.optimizer {
        o.train.optimizer = match opt {
            OptimizerArg::Adam => OptimizerKind::Adam,
            OptimizerArg::Sgd => OptimizerKind::Sgd,
        };
    }
    if let Some(lr) = args.lr {
        o.train.lr = lr;
        // A learning rate given alone is constant unless --lr-min says otherwise.
        o.train.lr_schedule = LrSchedule::Constant;
    }
    if let Some(min) = args.lr_min {
        o.train.lr_schedule = LrSchedule::Linear(min);
    }
    if let Some(c) = args.clip_norm {
        o.train.clip = Clip::Norm(c);
    }
    if let Some(c) = args.clip_value {
        o.train.clip = Clip::Value(c);
    }
    args.run.apply(&mut o.train);
    if let Some(f) = args.valid_fraction {
        o.train.held_out = HeldOut::Fraction(f);
    }
    if let Some(c) = args.valid_count {
        o.train.held_out = HeldOut::Count(c);
    }
    o.valid_file = args.valid.clone();
    o
}

fn train(args: TrainArgs, progress: &dyn Progress) -> anyhow::Result<()> {
    let _out = super::common::claim_out(
        args.out.as_ref().or(args.resume.as_ref()),
        seqmodels::charlm::KIND,
        args.force,
    )?;
    let device = args.device.device.resolve()?;
    let report = if let Some(dir) = &args.resume {
        let saved = TrainOptions::saved(dir)?;
        let data_path = match &args.data {
            Some(p) => p.clone(),
            None => anyhow::bail!("--resume needs --data: the file the model was trained on"),
        };
        let data = Dataset::load(&data_path, saved.model.unit)?;
        let out = args.out.clone().unwrap_or_else(|| dir.clone());
        let budget = args.run.resumed_budget(10)?;
        charlm::resume(dir, &data, budget, device, &out, progress)?
    } else {
        let data_path = args.data.clone().expect("clap requires --data");
        let out = args.out.clone().expect("clap requires --out");
        let o = options(&args);
        let data = Dataset::load(&data_path, o.model.unit)?;
        charlm::train(&data, &o, device, &out, progress)?
    };
    let out = args
        .out
        .as_ref()
        .or(args.resume.as_ref())
        .expect("an output directory");
    let seconds: f64 = report.epochs.iter().map(|e| e.seconds).sum();
    let chars: f64 = report
        .epochs
        .iter()
        .map(|e| e.seconds * e.chars_per_sec)
        .sum();
    let score = if report.valid_items == 0 {
        "no held-out characters, so no held-out score".to_owned()
    } else {
        format!(
            "best held-out {:.4} nats/char (perplexity {:.3})",
            report.best_valid_nats,
            report.best_valid_nats.exp()
        )
    };
    let saved = if report.epochs.iter().any(|e| e.saved) {
        format!("saved to {}", out.display())
    } else {
        format!("no epoch improved on it, so {} is unchanged", out.display())
    };
    println!(
        "trained {} epoch(s) ({} steps in all) of a {}-parameter model on {} training and {} held-out characters in {:.1} s ({:.0} chars/s); {score}; {saved}",
        report.epochs.len(),
        report.steps,
        report.parameters,
        report.train_items,
        report.valid_items,
        seconds,
        chars / seconds.max(1e-9),
    );
    Ok(())
}

fn sample(args: SampleArgs) -> anyhow::Result<()> {
    let device = args.device.device.resolve()?;
    let model = CharLm::load(&args.model, device)?;
    let options = SampleOptions {
        count: args.count,
        temperature: args.temperature,
        top_k: args.top_k,
        prefix: args.prefix.clone(),
        max_len: args.max_len,
        seed: args.seed,
    };
    // The training file for --stats is read first, so that a bad one fails before any output.
    // Without --data, the file the model was trained on, if it is still there.
    let (data_path, data) = if args.stats {
        let recorded = CharLm::meta(&args.model)?
            .training
            .get("train_data")
            .and_then(|v| v.as_str().map(PathBuf::from))
            .filter(|p| p.is_file());
        let data_path = args.data.clone().or(recorded);
        let data = match &data_path {
            Some(p) => Some(Dataset::load(p, model.config().unit)?),
            None => None,
        };
        (data_path, data)
    } else {
        (None, None)
    };
    let samples = model.sample(&options)?;
    for s in &samples {
        match args.format {
            SampleFormat::Text => println!("{s}"),
            SampleFormat::Json => println!("{}", serde_json::Value::from(s.as_str())),
        }
    }
    if args.stats {
        let prepared = data.as_ref().map(|d| model.config().prepared(d));
        let stats = SampleStats::of(&samples, prepared.as_deref());
        eprintln!(
            "{} samples: {:.1}% unique{}",
            samples.len(),
            100.0 * stats.unique,
            match stats.novel {
                Some(n) => format!(
                    ", {:.1}% not in {}",
                    100.0 * n,
                    data_path
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                ),
                None => " (give --data TRAINING_FILE for novelty)".to_owned(),
            }
        );
    }
    Ok(())
}

fn eval(args: EvalArgs) -> anyhow::Result<()> {
    let device = args.device.device.resolve()?;
    let model = CharLm::load(&args.model, device)?;
    let data = Dataset::load(&args.data, model.config().unit)?;
    let (nats, count) = model.evaluate(&data)?;
    println!(
        "{}: {nats:.4} nats/char ({:.4} bits/char), perplexity {:.3}, over {count} characters{}",
        args.data.display(),
        nats / std::f64::consts::LN_2,
        nats.exp(),
        if model.config().unit == Unit::Line {
            " (end markers included)"
        } else {
            ""
        }
    );
    Ok(())
}
