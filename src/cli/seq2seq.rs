//! `seqmodels seq2seq`: train and evaluate attention translators.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand, ValueEnum};
use seqmodels::seq2seq::{
    self, dates, DecodeOptions, Seq2SeqConfig, Task, Translator, TranslatorConfig,
};
use seqmodels::Progress;

use super::dates::Formats;
use super::DeviceArgs;

#[derive(Debug, Args)]
pub struct Seq2seqArgs {
    #[command(subcommand)]
    pub command: Seq2seqCommand,
}

#[derive(Debug, Subcommand)]
pub enum Seq2seqCommand {
    /// Train a translator; only the best epoch (held-out exact match) is saved.
    Train(TrainArgs),
    /// Exact match of a translator on a TSV of pairs, per format when a third column names it.
    Eval(EvalArgs),
    /// Corpus BLEU of a file of outputs against a file of references, one sentence per line,
    /// as sacreBLEU computes it (13a tokenisation, brevity penalty, exp smoothing).
    Bleu(BleuArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TaskArg {
    /// Human-written dates to ISO dates.
    Dates,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// The course's sizes: one-hot input, n_a = 32, n_s = 64, decoder fed only the context.
    Course,
    /// Larger, and the decoder reads its previous output: the built-in model's sizes.
    Dates,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The task.
    #[arg(long, value_enum, default_value_t = TaskArg::Dates)]
    pub task: TaskArg,
    /// Training pairs, `human<TAB>YYYY-MM-DD` per line.
    #[arg(
        long,
        conflicts_with = "generate",
        required_unless_present = "generate"
    )]
    pub pairs: Option<PathBuf>,
    /// Generate this many pairs instead (seeded by --seed).
    #[arg(long, value_name = "N")]
    pub generate: Option<usize>,
    /// Format set for --generate.
    #[arg(long, value_enum, default_value_t = Formats::Course)]
    pub formats: Formats,
    /// Model directory to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Model sizes.
    #[arg(long, value_enum, default_value_t = Preset::Course)]
    pub preset: Preset,
    /// Seeds data generation, the split, shuffles and initial weights.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 5e-3)]
    pub lr: f64,
    /// Clip gradients to this global norm (0: off).
    #[arg(long, default_value_t = 1.0)]
    pub clip_norm: f64,
    /// Share of pairs held out for exact match each epoch.
    #[arg(long, default_value_t = 0.05)]
    pub valid_fraction: f64,
    #[command(flatten)]
    pub device: DeviceArgs,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model directory; the built-in dates model when omitted.
    #[arg(long, short)]
    pub model: Option<PathBuf>,
    /// Pairs to score: `input<TAB>reference[<TAB>format]`.
    #[arg(long)]
    pub pairs: PathBuf,
    /// Beam width (1 is greedy).
    #[arg(long, short = 'b', default_value_t = 1)]
    pub beam_width: usize,
    /// Length normalisation exponent.
    #[arg(long, default_value_t = 0.7)]
    pub alpha: f64,
    /// Turn off calendar-valid decoding.
    #[arg(long)]
    pub no_constrain: bool,
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    #[command(flatten)]
    pub device: DeviceArgs,
}

#[derive(Debug, Args)]
pub struct BleuArgs {
    /// The system's outputs, one per line (`.gz` accepted).
    #[arg(long)]
    pub hyp: PathBuf,
    /// The references, line for line.
    #[arg(long = "ref")]
    pub reference: PathBuf,
}

pub fn run(args: Seq2seqArgs, progress: &dyn Progress) -> anyhow::Result<()> {
    match args.command {
        Seq2seqCommand::Train(a) => train(a, progress),
        Seq2seqCommand::Eval(a) => eval(a),
        Seq2seqCommand::Bleu(a) => bleu(a),
    }
}

fn bleu(args: BleuArgs) -> anyhow::Result<()> {
    let hyp = seqmodels::text::read_lines(&args.hyp)?;
    let reference = seqmodels::text::read_lines(&args.reference)?;
    if hyp.len() != reference.len() {
        anyhow::bail!(
            "{} has {} lines but {} has {}",
            args.hyp.display(),
            hyp.len(),
            args.reference.display(),
            reference.len()
        );
    }
    let hyp: Vec<&str> = hyp.iter().map(String::as_str).collect();
    let reference: Vec<&str> = reference.iter().map(String::as_str).collect();
    println!(
        "{}",
        seqmodels::seq2seq::bleu::corpus_bleu(&hyp, &reference)?
    );
    Ok(())
}

fn train(args: TrainArgs, progress: &dyn Progress) -> anyhow::Result<()> {
    let device = args.device.device.resolve()?;
    let pairs: Vec<(String, String)> = match (&args.pairs, args.generate) {
        (Some(path), _) => seqmodels::text::read_tsv_pairs(path)?,
        (None, Some(n)) => {
            let mut rng = seqmodels::device::rng_from_seed(args.seed);
            dates::generate(n, args.formats.into(), &mut rng)
                .into_iter()
                .map(|p| (p.human, p.iso))
                .collect()
        }
        (None, None) => anyhow::bail!("give --pairs FILE or --generate N"),
    };
    let model = match args.preset {
        Preset::Course => Seq2SeqConfig::course(0, 0),
        Preset::Dates => seq2seq::dates_preset(),
    };
    let config = TranslatorConfig {
        task: match args.task {
            TaskArg::Dates => Task::Dates,
        },
        lowercase: true,
        model,
    };
    let train = seq2seq::TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.lr,
        clip_norm: args.clip_norm,
        valid_fraction: args.valid_fraction,
        seed: args.seed,
    };
    let history = seq2seq::train(&pairs, config, &train, device, &args.out, progress)?;
    let best = history
        .iter()
        .max_by(|a, b| a.valid_accuracy.total_cmp(&b.valid_accuracy))
        .ok_or_else(|| anyhow::anyhow!("no epoch ran"))?;
    let seconds: f64 = history.iter().map(|e| e.train_seconds).sum();
    println!(
        "trained {} epochs on {} pairs in {:.1} s ({:.2} s/epoch); best epoch {}: held-out exact match {:.2}%; saved to {}",
        history.len(),
        pairs.len(),
        seconds,
        seconds / history.len() as f64,
        best.epoch,
        100.0 * best.valid_accuracy,
        args.out.display()
    );
    Ok(())
}

fn eval(args: EvalArgs) -> anyhow::Result<()> {
    let device = args.device.device.resolve()?;
    let translator = match &args.model {
        Some(dir) => Translator::load(dir, device)?,
        None => Translator::builtin_dates(device)?,
    };
    let rows = seqmodels::text::read_tsv(&args.pairs, 2)?;
    let options = DecodeOptions {
        beam_width: args.beam_width,
        alpha: args.alpha,
        n_best: 1,
        constrain: !args.no_constrain,
        batch_size: args.batch_size,
    };
    let inputs: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    let start = Instant::now();
    let outputs = translator.translate(&inputs, &options)?;
    let seconds = start.elapsed().as_secs_f64();
    let mut per_format: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let (mut right, mut valid_dates, mut failed) = (0usize, 0usize, 0usize);
    for (row, out) in rows.iter().zip(&outputs) {
        let best = out
            .as_ref()
            .ok()
            .and_then(|h| h.first())
            .map(|h| h.text.as_str());
        let ok = best == Some(row[1].as_str());
        failed += usize::from(out.is_err());
        right += usize::from(ok);
        valid_dates += usize::from(best.and_then(dates::Date::parse_iso).is_some());
        let entry = per_format
            .entry(row.get(2).map_or("all", String::as_str))
            .or_default();
        entry.0 += usize::from(ok);
        entry.1 += 1;
    }
    let n = rows.len();
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    println!(
        "{n} pairs, beam width {}, {}: exact match {:.2}% ({right}/{n}), valid dates {:.2}%, {failed} inputs rejected, {:.0} inputs/s",
        args.beam_width,
        if args.no_constrain { "unconstrained" } else { "calendar-constrained" },
        pct(right, n),
        pct(valid_dates, n),
        n as f64 / seconds
    );
    if per_format.len() > 1 {
        println!("{:<24} {:>8} {:>7}", "format", "accuracy", "pairs");
        for (format, (ok, total)) in &per_format {
            println!("{format:<24} {:>7.2}% {total:>7}", pct(*ok, *total));
        }
    }
    Ok(())
}
