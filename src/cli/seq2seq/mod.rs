//! `seqmodels seq2seq`: train and evaluate attention translators.

use std::path::{Path, PathBuf};

mod dates;
mod sentences;

use clap::{Args, Subcommand, ValueEnum};
use seqmodels::metrics::{corpus_bleu, corpus_chrf, BLEU_SIGNATURE};
use seqmodels::seq2seq::sentences::pairs;
use seqmodels::seq2seq::DecodeOptions;
use seqmodels::train::{Clip, HeldOut, Settings};
use seqmodels::Progress;

use super::common::Formats;
use super::common::{DeviceArgs, RunArgs};

#[derive(Debug, Args)]
pub struct Seq2seqArgs {
    #[command(subcommand)]
    pub command: Seq2seqCommand,
}

#[derive(Debug, Subcommand)]
pub enum Seq2seqCommand {
    /// Train a translator (dates, or sentences from a parallel corpus with --task pairs); only
    /// the best epoch is saved.
    Train(Box<TrainArgs>),
    /// Dates: exact match on a TSV of pairs, per format when a third column names it.
    /// Sentences: corpus BLEU of the translations of --src against --ref.
    Eval(EvalArgs),
    /// Corpus BLEU and chrF of a file of outputs against a file of references, one sentence per
    /// line, as sacreBLEU computes them (BLEU: 13a tokenisation, brevity penalty, exp smoothing;
    /// chrF: character 6-grams, beta 2).
    Bleu(BleuArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TaskArg {
    /// Human-written dates to ISO dates.
    Dates,
    /// Sentences: a parallel corpus (--pairs TSV, or --src and --tgt files).
    Pairs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenizerArg {
    /// Whole words (rarer words than --vocab-size allows become <unk>).
    Word,
    /// Byte-pair encoding subwords over words split from their punctuation.
    Bpe,
    /// Byte-pair encoding over the raw text, spaces included (SentencePiece's BPE): decodes
    /// back to ordinary text, with its spaces, apostrophes and case.
    Sentencepiece,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// Dates: the course's sizes: one-hot input, n_a = 32, n_s = 64, decoder fed only the
    /// context.
    Course,
    /// Dates: larger, and the decoder reads its previous output: the built-in model's sizes.
    Dates,
    /// Sentences: embeddings and encoder 128, dropout 0.1, batch 32, Adam 2e-3 (the default
    /// under 20,000 pairs).
    Small,
    /// Sentences: embeddings and encoder 128, dropout 0.2, batch 64, Adam 2e-3 (the default
    /// from 20,000 to 200,000 pairs).
    Base,
    /// Sentences: embeddings 256, encoder 512, dropout 0.3, batch 64, Adam 1e-3 (the default
    /// from 200,000 pairs).
    Large,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The task.
    #[arg(long, value_enum, default_value_t = TaskArg::Dates)]
    pub task: TaskArg,
    /// Training pairs, `source<TAB>target` per line (dates: `human<TAB>YYYY-MM-DD`); extra
    /// columns are ignored.
    #[arg(
        long,
        conflicts_with_all = ["generate", "src"],
        required_unless_present_any = ["generate", "src"]
    )]
    pub pairs: Option<PathBuf>,
    /// --task pairs: source sentences, one per line (`.gz` accepted), aligned with --tgt; a line
    /// blank in both files is passed over.
    #[arg(long, requires = "tgt")]
    pub src: Option<PathBuf>,
    /// --task pairs: target sentences, line for line.
    #[arg(long, requires = "src")]
    pub tgt: Option<PathBuf>,
    /// --task pairs: dev source sentences (otherwise --valid-fraction of the pairs is held out).
    #[arg(long, requires = "dev_tgt")]
    pub dev_src: Option<PathBuf>,
    /// --task pairs: dev target sentences.
    #[arg(long, requires = "dev_src")]
    pub dev_tgt: Option<PathBuf>,
    /// --task pairs: the tokenizers, learnt from the training side [default: sentencepiece].
    #[arg(long, value_enum)]
    pub tokenizer: Option<TokenizerArg>,
    /// --task pairs: tokens per side, the 4 specials included [default: 8000].
    #[arg(long, value_parser = super::common::positive)]
    pub vocab_size: Option<usize>,
    /// --task pairs: words (or BPE pairs) seen fewer times are left out [default: 2].
    #[arg(long)]
    pub min_frequency: Option<u64>,
    /// --task pairs: lower-case both sides (outputs, and the references `eval` reports a
    /// lower-cased score against, come out in lower case).
    #[arg(long)]
    pub lowercase: bool,
    /// --task pairs: no Unicode NFKC normalisation.
    #[arg(long)]
    pub no_nfkc: bool,
    /// --task pairs: pairs with more tokens on either side are left out of training; the model
    /// reads and writes at most this many tokens [default: 50].
    #[arg(long, value_parser = super::common::positive)]
    pub max_len: Option<usize>,
    /// --task pairs: embedding size of both sides [default: 256].
    #[arg(long, value_parser = super::common::positive)]
    pub embed: Option<usize>,
    /// --task pairs: encoder LSTM size per direction (the decoder has twice this) [default: 256].
    #[arg(long, value_parser = super::common::positive)]
    pub hidden: Option<usize>,
    /// --task pairs: stacked bidirectional encoder layers [default: 1].
    #[arg(long, value_parser = super::common::positive)]
    pub layers: Option<usize>,
    /// --task pairs: dropout on embeddings, between layers and before the output layer
    /// [default: 0.2].
    #[arg(long)]
    pub dropout: Option<f64>,
    /// --task pairs: label smoothing of the training loss [default: 0.1].
    #[arg(long)]
    pub label_smoothing: Option<f64>,
    /// --task pairs: probability of feeding the decoder the reference token (else its guess)
    /// [default: 1].
    #[arg(long)]
    pub teacher_forcing: Option<f64>,
    /// --task pairs: multiply the learning rate by this after an epoch without a better dev loss
    /// [default: 0.5]; the same as --lr-schedule plateau:LR_DECAY.
    #[arg(long, conflicts_with = "lr_schedule")]
    pub lr_decay: Option<f64>,
    /// --task pairs: dev sentences translated for BLEU after each epoch (0: all) [default: 1000].
    #[arg(long)]
    pub bleu_sentences: Option<usize>,
    /// Continue training the model in DIR (weights, optimiser state, learning rate, seed and
    /// held-out split), with its saved sizes (and tokenizers), on the same pairs, for --epochs
    /// more [default: 20] or --time-budget; saves to --out (default: DIR). `--resume` alone
    /// resumes the model in --out.
    #[arg(long, value_name = "DIR")]
    #[allow(clippy::option_option)]
    pub resume: Option<Option<PathBuf>>,
    /// Generate this many pairs instead (seeded by --seed).
    #[arg(long, value_name = "N", value_parser = super::common::between_one_and::<10_000_000>)]
    pub generate: Option<usize>,
    /// Format set for --generate [default: course].
    #[arg(long, value_enum)]
    pub formats: Option<Formats>,
    /// Model directory to write (default: the --resume directory).
    #[arg(long, required_unless_present = "resume")]
    pub out: Option<PathBuf>,
    /// Replace a model of another kind in --out (a folder that is not a model is never
    /// replaced).
    #[arg(long)]
    pub force: bool,
    /// Sizes: course or dates for date models [default: course]; small, base or large for
    /// --task pairs [default: by the number of pairs: small under 20,000, base under 200,000,
    /// large above; --embed, --hidden, --dropout, --batch-size and --lr override it].
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
    /// Pairs per batch [default: 64; for --task pairs, the preset's].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Adam learning rate [default: 5e-3 for dates; for --task pairs, the preset's].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Clip gradients to this global norm (0: off) [default: 1].
    #[arg(long)]
    pub clip_norm: Option<f64>,
    /// Share of pairs held out for exact match each epoch [default: 0.05; with --resume, the
    /// saved model's].
    #[arg(long)]
    pub valid_fraction: Option<f64>,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub device: DeviceArgs,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model directory; the built-in dates model when omitted.
    #[arg(long, short)]
    pub model: Option<PathBuf>,
    /// Date pairs to score: `input<TAB>reference[<TAB>format]`.
    #[arg(long, conflicts_with = "src", required_unless_present = "src")]
    pub pairs: Option<PathBuf>,
    /// Sentence models: source sentences, one per line (`.gz` accepted).
    #[arg(long, requires = "reference")]
    pub src: Option<PathBuf>,
    /// Sentence models: reference translations, line for line.
    #[arg(long = "ref", requires = "src")]
    pub reference: Option<PathBuf>,
    /// Also write the translations here, one per line (an empty line for a rejected input).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Sentence models: at most this many output tokens per source token [default: 2].
    #[arg(long)]
    pub max_len_ratio: Option<f64>,
    /// Sentence models: replace output <unk> by the most attended source word.
    #[arg(long)]
    pub replace_unk: bool,
    /// Beam width (1 is greedy).
    #[arg(long, short = 'b', default_value_t = 1)]
    pub beam_width: usize,
    /// Length normalisation exponent.
    #[arg(long, default_value_t = 0.7)]
    pub alpha: f64,
    /// Turn off calendar-valid decoding.
    #[arg(long)]
    pub no_constrain: bool,
    /// Date models: read slashed numeric dates day-first (see `translate`).
    #[arg(long)]
    pub day_first: bool,
    /// Date models: refuse answers whose confidence is below P (see `translate`).
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub min_confidence: f64,
    #[arg(long, default_value_t = 256, value_parser = super::common::positive)]
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
        Seq2seqCommand::Train(a) if a.task == TaskArg::Pairs => sentences::train(*a, progress),
        Seq2seqCommand::Train(a) => {
            // Only a failed date run looks at the file again, for the hint.
            let pairs = a.pairs.clone();
            dates::train(*a, progress).map_err(|err| {
                match pairs.as_deref().filter(|p| looks_like_sentences(p)) {
                    Some(path) => anyhow::anyhow!(
                        "{}: these look like sentence pairs, not dates (the default task): add \
                         --task pairs",
                        path.display()
                    ),
                    None => err,
                }
            })
        }
        Seq2seqCommand::Eval(a) => eval(a),
        Seq2seqCommand::Bleu(a) => bleu(a),
    }
}

/// Whether the first lines of a pairs file hold sentences rather than dates: most of their
/// targets have a space, or letters, where an ISO date has neither. Reads at most 64 KiB;
/// anything it cannot read is left to the date reader to report.
fn looks_like_sentences(path: &Path) -> bool {
    use std::io::Read;
    let mut head = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(64 * 1024).read_to_end(&mut head));
    if read.is_err() {
        return false;
    }
    let text = String::from_utf8_lossy(&head);
    let targets: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .filter_map(|l| l.split('\t').nth(1))
        .collect();
    let wordy = targets
        .iter()
        .filter(|t| t.trim().contains(' ') || t.chars().filter(|c| c.is_alphabetic()).count() > 2)
        .count();
    !targets.is_empty() && wordy * 2 > targets.len()
}

fn bleu(args: BleuArgs) -> anyhow::Result<()> {
    let (hyp, reference) = pairs::read_parallel_lines(&args.hyp, &args.reference)?;
    let hyp: Vec<&str> = hyp.iter().map(String::as_str).collect();
    let reference: Vec<&str> = reference.iter().map(String::as_str).collect();
    println!("{}", corpus_bleu(&hyp, &reference)?);
    println!("{}", corpus_chrf(&hyp, &reference)?);
    println!("signature: {BLEU_SIGNATURE} (sacreBLEU's defaults)");
    Ok(())
}

/// Prints `warning: PATH:LINE: WHAT` for the first ten of `warnings`, then how many more there
/// are, so that a score can be traced to its inputs without flooding the terminal.
pub(super) fn warn_lines(path: &Path, warnings: impl Iterator<Item = (usize, String)>) {
    let mut count = 0usize;
    for (line, what) in warnings {
        count += 1;
        if count <= 10 {
            eprintln!("warning: {}:{line}: {what}", path.display());
        }
    }
    if count > 10 {
        eprintln!("warning: {} more line(s) like these", count - 10);
    }
}

/// The names of `options` whose flag is true: the options given, of those listed.
pub(super) fn given_options(options: &[(&'static str, bool)]) -> Vec<&'static str> {
    options
        .iter()
        .filter_map(|&(name, given)| given.then_some(name))
        .collect()
}

impl TrainArgs {
    /// Puts the run options and the flags both tasks train with (batch size, clipping,
    /// learning rate, held-out share) into `settings`; the task's defaults stay for the rest.
    pub(super) fn apply(&self, settings: &mut Settings) {
        self.run.apply(settings);
        if let Some(b) = self.batch_size {
            settings.batch_size = b;
        }
        if let Some(c) = self.clip_norm {
            settings.clip = Clip::norm_or_off(c);
        }
        if let Some(lr) = self.lr {
            settings.lr = lr;
        }
        if let Some(f) = self.valid_fraction {
            settings.held_out = HeldOut::Fraction(f);
        }
    }

    /// The model directory to resume (`--resume DIR`, or `--resume` alone: --out) and the one
    /// to write (--out, or the resumed one).
    pub(super) fn dirs(&self) -> anyhow::Result<(Option<PathBuf>, PathBuf)> {
        let resume = match &self.resume {
            Some(None) => match &self.out {
                Some(out) => Some(out.clone()),
                None => anyhow::bail!("--resume without a directory resumes --out: give one"),
            },
            Some(Some(dir)) => Some(dir.clone()),
            None => None,
        };
        let out = self.out.clone().or_else(|| resume.clone());
        let out = out.ok_or_else(|| anyhow::anyhow!("give --out DIR"))?;
        Ok((resume, out))
    }

    /// The tokenizer and size options given, which only a new sentence model reads.
    pub(super) fn sentence_model_options(&self) -> Vec<&'static str> {
        given_options(&[
            ("--tokenizer", self.tokenizer.is_some()),
            ("--vocab-size", self.vocab_size.is_some()),
            ("--min-frequency", self.min_frequency.is_some()),
            ("--lowercase", self.lowercase),
            ("--no-nfkc", self.no_nfkc),
            ("--max-len", self.max_len.is_some()),
            ("--embed", self.embed.is_some()),
            ("--hidden", self.hidden.is_some()),
            ("--layers", self.layers.is_some()),
            ("--dropout", self.dropout.is_some()),
        ])
    }

    /// The training options given that only sentence models read.
    pub(super) fn sentence_training_options(&self) -> Vec<&'static str> {
        given_options(&[
            ("--label-smoothing", self.label_smoothing.is_some()),
            ("--teacher-forcing", self.teacher_forcing.is_some()),
            ("--lr-decay", self.lr_decay.is_some()),
            ("--bleu-sentences", self.bleu_sentences.is_some()),
            ("--dev-src", self.dev_src.is_some()),
            ("--dev-tgt", self.dev_tgt.is_some()),
        ])
    }
}

fn eval(args: EvalArgs) -> anyhow::Result<()> {
    let device = args.device.device.resolve()?;
    let translator = super::common::translator(args.model.as_deref(), device)?;
    let options = DecodeOptions {
        beam_width: args.beam_width,
        alpha: args.alpha,
        n_best: 1,
        constrain: !args.no_constrain,
        batch_size: args.batch_size,
        max_len_ratio: args
            .max_len_ratio
            .unwrap_or(DecodeOptions::default().max_len_ratio),
        replace_unk: args.replace_unk,
        min_confidence: args.min_confidence,
        tags: if args.day_first {
            vec![seqmodels::seq2seq::dates::DAY_FIRST.to_owned()]
        } else {
            Vec::new()
        },
        ..DecodeOptions::default()
    };
    match &args.pairs {
        Some(pairs) => dates::eval(&translator, &args, &options, pairs),
        None => sentences::eval_bleu(&translator, &args, &options),
    }
}
