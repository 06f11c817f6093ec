//! `seqmodels seq2seq`: train and evaluate attention translators.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use seqmodels::seq2seq::sentences::pairs::{self, Pair};
use seqmodels::seq2seq::sentences::tokenizer::{TokenizerConfig, TokenizerKind};
use seqmodels::seq2seq::sentences::{SentenceSetup, SentenceTrainConfig};
use seqmodels::seq2seq::{
    self, dates, DecodeOptions, Seq2SeqConfig, Task, Translator, TranslatorConfig,
};
use seqmodels::Progress;

use super::common::Formats;
use super::common::{DeviceArgs, RunArgs};
use seqmodels::train::{Clip, HeldOut, LrSchedule};

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
    /// Byte-pair encoding subwords.
    Bpe,
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
    /// --task pairs: word-level or BPE tokenizers, learnt from the training side [default: word].
    #[arg(long, value_enum)]
    pub tokenizer: Option<TokenizerArg>,
    /// --task pairs: tokens per side, the 4 specials included [default: 10000].
    #[arg(long, value_parser = super::common::positive)]
    pub vocab_size: Option<usize>,
    /// --task pairs: words (or BPE pairs) seen fewer times are left out [default: 1].
    #[arg(long)]
    pub min_frequency: Option<u64>,
    /// --task pairs: keep case (the default lower-cases both sides).
    #[arg(long)]
    pub keep_case: bool,
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
    /// Continue training the model in --out (weights, optimiser state, learning rate, seed and
    /// held-out split), with its saved sizes (and tokenizers), on the same pairs.
    #[arg(long)]
    pub resume: bool,
    /// Generate this many pairs instead (seeded by --seed).
    #[arg(long, value_name = "N", value_parser = super::common::between_one_and::<10_000_000>)]
    pub generate: Option<usize>,
    /// Format set for --generate.
    #[arg(long, value_enum, default_value_t = Formats::Course)]
    pub formats: Formats,
    /// Model directory to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Date models' sizes [default: course].
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Adam learning rate [default: 5e-3 for dates, 1e-3 for pairs].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Clip gradients to this global norm (0: off).
    #[arg(long, default_value_t = 1.0)]
    pub clip_norm: f64,
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
        Seq2seqCommand::Train(a) if a.task == TaskArg::Pairs => train_pairs(*a, progress),
        Seq2seqCommand::Train(a) => train(*a, progress),
        Seq2seqCommand::Eval(a) => eval(a),
        Seq2seqCommand::Bleu(a) => bleu(a),
    }
}

fn bleu(args: BleuArgs) -> anyhow::Result<()> {
    let (hyp, reference) = pairs::read_parallel_lines(&args.hyp, &args.reference)?;
    let hyp: Vec<&str> = hyp.iter().map(String::as_str).collect();
    let reference: Vec<&str> = reference.iter().map(String::as_str).collect();
    println!(
        "{}",
        seqmodels::metrics::bleu::corpus_bleu(&hyp, &reference)?
    );
    println!(
        "{}",
        seqmodels::metrics::chrf::corpus_chrf(&hyp, &reference)?
    );
    Ok(())
}

/// Prints `warning: PATH:LINE: WHAT` for the first ten of `warnings`, then how many more there
/// are, so that a score can be traced to its inputs without flooding the terminal.
fn warn_lines(path: &Path, warnings: impl Iterator<Item = (usize, String)>) {
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
fn given_options(options: &[(&'static str, bool)]) -> Vec<&'static str> {
    options
        .iter()
        .filter_map(|&(name, given)| given.then_some(name))
        .collect()
}

impl TrainArgs {
    /// The tokenizer and size options given, which only a new sentence model reads.
    fn sentence_model_options(&self) -> Vec<&'static str> {
        given_options(&[
            ("--tokenizer", self.tokenizer.is_some()),
            ("--vocab-size", self.vocab_size.is_some()),
            ("--min-frequency", self.min_frequency.is_some()),
            ("--keep-case", self.keep_case),
            ("--no-nfkc", self.no_nfkc),
            ("--max-len", self.max_len.is_some()),
            ("--embed", self.embed.is_some()),
            ("--hidden", self.hidden.is_some()),
            ("--layers", self.layers.is_some()),
            ("--dropout", self.dropout.is_some()),
        ])
    }

    /// The training options given that only sentence models read.
    fn sentence_training_options(&self) -> Vec<&'static str> {
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

fn train(args: TrainArgs, progress: &dyn Progress) -> anyhow::Result<()> {
    let mut given = args.sentence_model_options();
    given.extend(args.sentence_training_options());
    if !given.is_empty() {
        anyhow::bail!(
            "only --task pairs reads {}; date models take their sizes from --preset",
            given.join(", ")
        );
    }
    if args.src.is_some() {
        anyhow::bail!("--src and --tgt are for --task pairs");
    }
    let device = args.device.device.resolve()?;
    let model = match args.preset.unwrap_or(Preset::Course) {
        Preset::Course => Seq2SeqConfig::course(0, 0),
        Preset::Dates => seq2seq::dates_preset(),
    };
    let mut train = seq2seq::dates::TrainConfig::default();
    args.run.apply(&mut train.train);
    train.train.batch_size = args.batch_size;
    train.train.clip = Clip::norm_or_off(args.clip_norm);
    if let Some(lr) = args.lr {
        train.train.lr = lr;
    }
    if let Some(f) = args.valid_fraction {
        train.train.held_out = HeldOut::Fraction(f);
    }
    let seed = train.train.seed;
    let pairs: Vec<(String, String)> = match (&args.pairs, args.generate) {
        (Some(path), _) => dates::DateRow::read(path, Some(model.max_src_len))?
            .into_iter()
            .map(|row| (row.human, row.iso))
            .collect(),
        (None, Some(n)) => {
            let mut rng = seqmodels::device::rng_from_seed(seed);
            dates::generate(n, args.formats.into(), &mut rng)
                .into_iter()
                .map(|p| (p.human, p.iso))
                .collect()
        }
        (None, None) => anyhow::bail!("give --pairs FILE or --generate N"),
    };
    let report = if args.resume {
        if args.generate.is_some() {
            anyhow::bail!(
                "--resume trains on the pairs the model was trained on: give them with --pairs"
            );
        }
        let budget = args.run.resumed_budget(20)?;
        seq2seq::dates::resume(&args.out, &pairs, budget, device, &args.out, progress)?
    } else {
        let config = TranslatorConfig {
            task: Task::Dates,
            lowercase: true,
            model,
        };
        seq2seq::dates::train(&pairs, config, &train, device, &args.out, progress)?
    };
    let seconds: f64 = report.epochs.iter().map(|e| e.train_seconds).sum();
    let saved = if report.epochs.iter().any(|e| e.saved) {
        format!("saved to {}", args.out.display())
    } else {
        format!(
            "no epoch beat the saved model, so {} is unchanged",
            args.out.display()
        )
    };
    println!(
        "trained {} epoch(s) on {} pairs ({} held out) in {:.1} s ({:.2} s/epoch); {saved}",
        report.epochs.len(),
        report.train_pairs,
        report.valid_pairs,
        seconds,
        seconds / report.epochs.len().max(1) as f64,
    );
    Ok(())
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
        ..DecodeOptions::default()
    };
    let Some(pairs) = &args.pairs else {
        return eval_bleu(&translator, &args, &options);
    };
    if translator.config().task != Task::Dates {
        anyhow::bail!("this is a sentence translator: score it with --src F --ref F");
    }
    if args.max_len_ratio.is_some() || args.replace_unk {
        anyhow::bail!(
            "--max-len-ratio and --replace-unk are for sentence models; this is a date model"
        );
    }
    let rows = dates::DateRow::read(pairs, None)?;
    let eval = dates::evaluate(&translator, &rows, &options)?;
    // Name the lines whose input was rejected or holds characters the model never saw, so a
    // low score can be traced to its inputs.
    warn_lines(
        pairs,
        rows.iter().zip(&eval.outputs).filter_map(|(row, out)| {
            let warning = match out {
                Err(err) => Some(format!("rejected: {err}")),
                Ok(_) => {
                    let unseen: String = translator.unseen_characters(&row.human).iter().collect();
                    (!unseen.is_empty()).then(|| {
                        format!("characters the model never saw, read as unknown: {unseen:?}")
                    })
                }
            };
            warning.map(|w| (row.line, w))
        }),
    );
    if let Some(path) = &args.output {
        let mut text = String::new();
        for out in &eval.outputs {
            if let Some(h) = out.as_ref().ok().and_then(|h| h.first()) {
                text.push_str(&h.text);
            }
            text.push('\n');
        }
        seqmodels::text::write_atomic(path, text.as_bytes())?;
    }
    let n = rows.len();
    println!(
        "{n} pairs, beam width {}, {}: exact match {:.2}% ({}/{n}), valid dates {:.2}%, {} inputs rejected, {:.0} inputs/s",
        args.beam_width,
        if args.no_constrain { "unconstrained" } else { "calendar-constrained" },
        100.0 * eval.exact_match(),
        eval.right,
        100.0 * eval.valid_share(),
        eval.rejected,
        n as f64 / eval.seconds
    );
    if eval.per_format.len() > 1 {
        println!("{:<24} {:>8} {:>7}", "format", "accuracy", "pairs");
        for f in &eval.per_format {
            let pct = 100.0 * f.right as f64 / f.total.max(1) as f64;
            println!("{:<24} {pct:>7.2}% {:>7}", f.format, f.total);
        }
    }
    Ok(())
}

/// Reads the training (and dev) pairs of `--task pairs`.
fn read_pairs(args: &TrainArgs) -> anyhow::Result<(Vec<Pair>, Option<Vec<Pair>>)> {
    let train = match (&args.pairs, &args.src, &args.tgt) {
        (Some(path), _, _) => pairs::read_tsv(path)?,
        (None, Some(src), Some(tgt)) => pairs::read_aligned(src, tgt)?,
        _ => anyhow::bail!("give --pairs FILE, or --src FILE and --tgt FILE"),
    };
    let dev = match (&args.dev_src, &args.dev_tgt) {
        (Some(src), Some(tgt)) => Some(pairs::read_aligned(src, tgt)?),
        _ => None,
    };
    Ok((train, dev))
}

fn train_pairs(args: TrainArgs, progress: &dyn Progress) -> anyhow::Result<()> {
    if args.generate.is_some() {
        anyhow::bail!("--generate makes date pairs; --task pairs reads --pairs or --src/--tgt");
    }
    if args.preset.is_some() {
        anyhow::bail!(
            "--preset sizes date models; --task pairs takes --embed, --hidden and --layers"
        );
    }
    let device = args.device.device.resolve()?;
    let (train, dev) = read_pairs(&args)?;
    let mut config = SentenceTrainConfig::default();
    args.run.apply(&mut config.train);
    config.train.batch_size = args.batch_size;
    config.train.clip = Clip::norm_or_off(args.clip_norm);
    if let Some(lr) = args.lr {
        config.train.lr = lr;
    }
    if let Some(decay) = args.lr_decay {
        config.train.lr_schedule = LrSchedule::Plateau(decay);
    }
    if let Some(f) = args.valid_fraction {
        config.train.held_out = HeldOut::Fraction(f);
    }
    let set = |slot: &mut f64, value: Option<f64>| {
        if let Some(v) = value {
            *slot = v;
        }
    };
    set(&mut config.label_smoothing, args.label_smoothing);
    set(&mut config.teacher_forcing, args.teacher_forcing);
    if let Some(n) = args.bleu_sentences {
        config.bleu_sentences = n;
    }
    let report = if args.resume {
        // The tokenizers and sizes are the saved model's: another one would be ignored.
        let given = args.sentence_model_options();
        if !given.is_empty() {
            anyhow::bail!(
                "--resume keeps the saved model's tokenizers and sizes; leave out {}",
                given.join(", ")
            );
        }
        // So are its learning rate and its dev split: the seed and share that drew it, where
        // the model records them (a model saved before the share was recorded takes the one
        // given, which must be the one it was trained with).
        let saved = seqmodels::checkpoint::read_meta(&args.out)?.training;
        let given = given_options(&[
            ("--lr", args.lr.is_some()),
            ("--seed", args.run.seed != seqmodels::train::DEFAULT_SEED),
            ("--lr-decay", args.lr_decay.is_some()),
            (
                "--valid-fraction",
                args.valid_fraction.is_some() && saved.contains_key("valid_fraction"),
            ),
        ]);
        if !given.is_empty() {
            anyhow::bail!(
                "--resume continues with the saved learning rate, seed and dev split; leave out {}",
                given.join(", ")
            );
        }
        config.train.budget = args.run.resumed_budget(20)?;
        seq2seq::sentences::resume(
            &args.out,
            &train,
            dev.as_deref(),
            &config,
            device,
            &args.out,
            progress,
        )?
    } else {
        let tokenizer = TokenizerConfig {
            kind: match args.tokenizer.unwrap_or(TokenizerArg::Word) {
                TokenizerArg::Word => TokenizerKind::Word,
                TokenizerArg::Bpe => TokenizerKind::Bpe,
            },
            vocab_size: args.vocab_size.unwrap_or(10_000),
            min_frequency: args.min_frequency.unwrap_or(1),
            lowercase: !args.keep_case,
            nfkc: !args.no_nfkc,
        };
        let (embed, hidden) = (args.embed.unwrap_or(256), args.hidden.unwrap_or(256));
        let max_len = args.max_len.unwrap_or(50);
        let setup = SentenceSetup {
            model: Seq2SeqConfig {
                src_vocab: 0,
                tgt_vocab: 0,
                src_embed: Some(embed),
                tgt_embed: Some(embed),
                enc_hidden: hidden,
                enc_layers: args.layers.unwrap_or(1),
                dec_hidden: 2 * hidden,
                attn_hidden: hidden,
                output_uses_context: true,
                dropout: args.dropout.unwrap_or(0.2),
                max_src_len: max_len,
                max_tgt_len: max_len.saturating_add(1),
            },
            src_tokenizer: tokenizer.clone(),
            tgt_tokenizer: tokenizer,
        };
        seq2seq::sentences::train(
            &train,
            dev.as_deref(),
            &setup,
            &config,
            device,
            &args.out,
            progress,
        )?
    };
    let seconds: f64 = report.epochs.iter().map(|e| e.train_seconds).sum();
    let Some(best) = report.epochs.iter().rev().find(|e| e.saved) else {
        println!(
            "trained {} epoch(s) on {} pairs in {:.1} s; no epoch lowered the saved model's dev \
             loss, so {} is unchanged",
            report.epochs.len(),
            report.train_pairs,
            seconds,
            args.out.display()
        );
        return Ok(());
    };
    println!(
        "trained {} epoch(s) on {} pairs ({} left out as longer than the model reads), vocabularies {} / {}, in {:.1} s on {}; best epoch {}: dev loss {:.4}, dev BLEU {:.2} ({} dev pairs); saved to {}",
        report.epochs.len(),
        report.train_pairs,
        report.too_long,
        report.vocab_sizes.0,
        report.vocab_sizes.1,
        seconds,
        seqmodels::device::device_name(device),
        best.epoch,
        best.dev_loss,
        best.dev_bleu,
        report.dev_pairs,
        args.out.display()
    );
    Ok(())
}

/// `seq2seq eval --src F --ref F`: corpus BLEU of a sentence translator.
fn eval_bleu(
    translator: &Translator,
    args: &EvalArgs,
    options: &DecodeOptions,
) -> anyhow::Result<()> {
    let (Some(src), Some(reference)) = (&args.src, &args.reference) else {
        anyhow::bail!("give --pairs FILE (dates) or --src FILE --ref FILE (sentences)");
    };
    if translator.config().task != Task::Sentences {
        anyhow::bail!("--src/--ref score sentence translators; this is a date model (use --pairs)");
    }
    let (sources, references) = pairs::read_parallel_lines(src, reference)?;
    let inputs: Vec<&str> = sources.iter().map(String::as_str).collect();
    let references: Vec<&str> = references.iter().map(String::as_str).collect();
    let scored = seq2seq::sentences::score(translator, &inputs, &references, options)?;
    if let Some(path) = &args.output {
        let mut text = scored.hypotheses.join("\n");
        text.push('\n');
        seqmodels::text::write_atomic(path, text.as_bytes())?;
    }
    warn_lines(
        src,
        (0..inputs.len())
            .filter(|&i| inputs[i].trim().is_empty())
            .map(|i| {
                (
                    i + 1,
                    "empty source, scored as an empty translation".to_owned(),
                )
            }),
    );
    let (bleu, chrf) = (scored.bleu()?, scored.chrf()?);
    let (failed, truncated, seconds) = (scored.rejected, scored.truncated, scored.seconds);
    println!(
        "{} sentences, beam width {}: {bleu}, {chrf}{}; {:.1} sentences/s; {failed} empty or rejected, {truncated} truncated",
        inputs.len(),
        args.beam_width,
        if translator.config().lowercase { " (lower-cased)" } else { "" },
        inputs.len() as f64 / seconds
    );
    Ok(())
}
