//! `seqmodels classify`: train, apply and evaluate sentence classifiers.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use seqmodels::classify::{
    self, Architecture, Classifier, ClassifierConfig, Column, Dataset, Pooling, Source,
    TableOptions, TrainData, TrainOptions, TrainReport,
};
use seqmodels::embeddings::formats;
use seqmodels::train::HeldOut;
use seqmodels::Progress;

use super::common::{DeviceArgs, RunArgs};

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    #[command(subcommand)]
    pub command: ClassifyCommand,
}

#[derive(Debug, Subcommand)]
pub enum ClassifyCommand {
    /// Train a classifier on labelled sentences (or cross-validate one with --cv); the epoch
    /// with the best dev accuracy is saved.
    Train(Box<TrainArgs>),
    /// Label sentences given as arguments, or one per line on stdin.
    Predict(PredictArgs),
    /// Accuracy, per-class precision/recall/F1, macro F1 and the confusion matrix on a file.
    Eval(EvalArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FileFormat {
    /// From the extension: .csv is csv, .tsv/.tab is tsv, anything else is lines.
    Auto,
    /// Comma-separated, RFC 4180 quoting.
    Csv,
    /// Tab-separated.
    Tsv,
    /// `label sentence` lines (the SST files).
    Lines,
}

/// How to read a labelled file.
#[derive(Debug, Clone, Args)]
pub struct ReadArgs {
    /// Layout of the labelled files.
    #[arg(long = "input-format", value_enum, default_value_t = FileFormat::Auto)]
    pub input_format: FileFormat,
    /// CSV/TSV: the text column, a 0-based position or a header name.
    #[arg(long, default_value = "0")]
    pub text_column: String,
    /// CSV/TSV: the label column, a 0-based position or a header name.
    #[arg(long, default_value = "1")]
    pub label_column: String,
    /// CSV/TSV: the first row names the columns.
    #[arg(long)]
    pub header: bool,
}

impl ReadArgs {
    fn read(&self, path: &Path) -> anyhow::Result<Dataset> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let format = match self.input_format {
            FileFormat::Auto => match ext.as_str() {
                "csv" => FileFormat::Csv,
                "tsv" | "tab" => FileFormat::Tsv,
                _ => FileFormat::Lines,
            },
            f => f,
        };
        let table = TableOptions {
            text: self.text_column.parse::<Column>()?,
            label: self.label_column.parse::<Column>()?,
            header: self.header,
            delimiter: Some(if format == FileFormat::Tsv {
                b'\t'
            } else {
                b','
            }),
        };
        read_warning(match format {
            FileFormat::Lines => Source::LabelledLines(path),
            _ => Source::Table(path, &table),
        })
    }
}

/// The sentences of `source`, with a warning for each text cut at `--max-line-bytes`.
fn read_warning(source: Source<'_>) -> anyhow::Result<Dataset> {
    let (data, cuts) = Dataset::read(&source)?;
    super::common::warn_cuts(&cuts);
    warn_long_sentences(&data)?;
    Ok(data)
}

/// A warning naming each sentence (the first ten) longer than a classifier reads: only its
/// first `MAX_WORDS` words are used. A text of at most `MAX_WORDS` characters cannot be.
fn warn_long_sentences(data: &Dataset) -> anyhow::Result<()> {
    let tokenizer = classify::Tokenizer::new(false);
    let mut long = 0usize;
    for example in data
        .examples
        .iter()
        .filter(|e| e.text.len() > classify::MAX_WORDS)
    {
        if tokenizer.words_cut(&example.text)?.1 {
            long += 1;
            if long <= 10 {
                eprintln!(
                    "warning: {}:{}: more than {} words; the classifier reads the first {}",
                    data.path.display(),
                    example.line,
                    classify::MAX_WORDS,
                    classify::MAX_WORDS
                );
            }
        }
    }
    if long > 10 {
        eprintln!("warning: {} more sentence(s) cut like these", long - 10);
    }
    Ok(())
}

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
    /// The network.
    #[arg(long, group = "settings", value_enum, default_value_t = ModelArg::Lstm)]
    pub model: ModelArg,
    /// Pretrained word vectors (word2vec text/binary or GloVe, e.g. from `embed train`); without
    /// them the embedding layer is trained from scratch.
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
    /// LSTM units per layer and direction.
    #[arg(long, group = "settings", default_value_t = 128)]
    pub hidden: usize,
    /// Stacked LSTM layers.
    #[arg(long, group = "settings", default_value_t = 2)]
    pub layers: usize,
    /// Bidirectional LSTM layers.
    #[arg(long, group = "settings")]
    pub bidirectional: bool,
    /// How the LSTM's outputs make the sentence's features.
    #[arg(long, group = "settings", value_enum, default_value_t = PoolArg::Last)]
    pub pool: PoolArg,
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
    /// Adam's learning rate.
    #[arg(long, group = "settings", default_value_t = 1e-3)]
    pub lr: f64,
    /// Share of the training data held out as the dev set when there is no --valid; 0 trains
    /// on everything and keeps the last epoch.
    #[arg(long, group = "settings", default_value_t = 0.1)]
    pub valid_fraction: f64,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable.
    Text,
    /// One JSON object per line (predict) or one object (eval).
    Json,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Model directory written by `classify train`.
    #[arg(long)]
    pub model: PathBuf,
    /// Sentences; without any, reads one per line from stdin.
    pub text: Vec<String>,
    /// Print the k most likely labels.
    #[arg(long, short = 'k', default_value_t = 1)]
    pub top_k: usize,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub device: DeviceArgs,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model directory written by `classify train`.
    #[arg(long)]
    pub model: PathBuf,
    /// Labelled sentences to score.
    #[arg(long)]
    pub data: PathBuf,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Also draw the confusion matrix into this PNG.
    #[arg(long, value_name = "PNG")]
    pub confusion: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub device: DeviceArgs,
}

pub fn run(args: ClassifyArgs, progress: &dyn Progress) -> anyhow::Result<()> {
    match args.command {
        ClassifyCommand::Train(args) => train(*args, progress),
        ClassifyCommand::Predict(args) => predict(args),
        ClassifyCommand::Eval(args) => eval(args),
    }
}

/// The Emojify classes 0-4.
const EMOJIFY: [&str; 5] = ["❤️", "⚾", "😄", "😞", "🍴"];

fn label_names(spec: Option<&str>) -> Vec<String> {
    match spec {
        None => Vec::new(),
        Some(s) if s.eq_ignore_ascii_case("emojify") => {
            EMOJIFY.iter().map(|s| (*s).to_owned()).collect()
        }
        Some(s) => s.split(',').map(|n| n.trim().to_owned()).collect(),
    }
}

fn train(args: TrainArgs, progress: &dyn Progress) -> anyhow::Result<()> {
    let _out = super::common::claim_out(
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
    let config = args.config(vectors.as_ref().map(|v| v.dim()));
    let mut options = TrainOptions::default();
    options.train.batch_size = args.batch_size;
    options.train.lr = args.lr;
    options.train.held_out = HeldOut::Fraction(args.valid_fraction);
    options.learn_new_words = args.learn_new_words;
    args.run.apply(&mut options.train);
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
    /// The classifier the options describe, over vectors of `vectors_dim` dimensions if given.
    fn config(&self, vectors_dim: Option<usize>) -> ClassifierConfig {
        ClassifierConfig {
            architecture: match self.model {
                ModelArg::Average => Architecture::Average,
                ModelArg::Lstm => Architecture::Lstm,
            },
            embed_dim: self.embed_dim.or(vectors_dim).unwrap_or(100),
            hidden: self.hidden,
            layers: self.layers,
            bidirectional: self.bidirectional,
            pooling: self.pool.into(),
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

/// The closing summary of `classify train`.
fn print_report(report: &TrainReport, out: &Path, pretrained: bool, learn_new_words: bool) {
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
    let coverage = if pretrained {
        format!(
            "; {:.1}% of the training words have pretrained vectors{}",
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

fn predict(args: PredictArgs) -> anyhow::Result<()> {
    if args.top_k == 0 {
        anyhow::bail!("--top-k must be at least 1");
    }
    let device = args.device.device.resolve()?;
    let model = Classifier::load(&args.model, device)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut empty = 0usize;
    let mut unreadable = 0usize;
    if !args.text.is_empty() {
        let texts: Vec<&str> = args.text.iter().map(String::as_str).collect();
        empty += write_predictions(&model, &texts, &args, &mut out)?;
    } else {
        // Typed lines are answered at once; piped lines are labelled in batches of 256 lines
        // or 16 MiB, whichever comes first (a line is at most --max-line-bytes).
        let batch = if std::io::stdin().is_terminal() {
            1
        } else {
            256
        };
        let mut lines: Vec<String> = Vec::new();
        let mut bytes = 0usize;
        let flush = |lines: &mut Vec<String>, out: &mut std::io::BufWriter<_>| {
            let texts: Vec<&str> = lines.iter().map(String::as_str).collect();
            let empty = write_predictions(&model, &texts, &args, out)?;
            out.flush()?;
            lines.clear();
            anyhow::Ok(empty)
        };
        for line in super::common::stdin_lines() {
            match line {
                Ok((_, text)) => {
                    bytes += text.len();
                    lines.push(text);
                }
                Err(err @ seqmodels::Error::BadLine { .. }) => {
                    // Keep one output line per input: label what came before, then this one.
                    empty += flush(&mut lines, &mut out)?;
                    bytes = 0;
                    writeln!(out)?;
                    out.flush()?;
                    eprintln!("error: {err}");
                    unreadable += 1;
                }
                Err(err) => return Err(err.into()),
            }
            if lines.len() >= batch || bytes >= 16 << 20 {
                empty += flush(&mut lines, &mut out)?;
                bytes = 0;
            }
        }
        empty += flush(&mut lines, &mut out)?;
    }
    out.flush()?;
    if empty > 0 {
        eprintln!("{empty} empty text(s) got no label (an empty output line each)");
    }
    if unreadable > 0 {
        anyhow::bail!(
            "{unreadable} line(s) of stdin could not be read (an empty output line each)"
        );
    }
    Ok(())
}

/// Writes a line per text: its `--top-k` labels, or nothing for an empty text (no words to
/// go on), so output line N still answers input line N. Returns how many texts were empty.
fn write_predictions(
    model: &Classifier,
    texts: &[&str],
    args: &PredictArgs,
    out: &mut impl Write,
) -> anyhow::Result<usize> {
    let non_empty: Vec<&str> = texts
        .iter()
        .copied()
        .filter(|t| !t.trim().is_empty())
        .collect();
    let mut probs = if non_empty.is_empty() {
        Vec::new()
    } else {
        model.probabilities(&non_empty, 256)?
    }
    .into_iter();
    let config = model.config();
    for text in texts {
        if text.trim().is_empty() {
            match args.format {
                OutputFormat::Text => writeln!(out)?,
                OutputFormat::Json => {
                    writeln!(out, "{}", serde_json::json!({"text": text, "labels": []}))?
                }
            }
            continue;
        }
        let p = probs
            .next()
            .expect("one row of probabilities per non-empty text");
        let ranked = classify::top_k(&p, args.top_k);
        match args.format {
            OutputFormat::Text => {
                let cells: Vec<String> = ranked
                    .iter()
                    .map(|&(c, p)| format!("{} {p:.2}", config.display_name(c)))
                    .collect();
                writeln!(out, "{}", cells.join("  "))?;
            }
            OutputFormat::Json => {
                let labels: Vec<serde_json::Value> = ranked
                    .iter()
                    .map(|&(c, p)| {
                        serde_json::json!({
                            "label": config.display_name(c),
                            "class": config.labels[c],
                            "probability": p,
                        })
                    })
                    .collect();
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({"text": text, "labels": labels})
                )?;
            }
        }
    }
    Ok(texts.len() - non_empty.len())
}

fn eval(args: EvalArgs) -> anyhow::Result<()> {
    if let Some(png) = &args.confusion {
        seqmodels::plot::check_png_path(png)?;
    }
    let device = args.device.device.resolve()?;
    let model = Classifier::load(&args.model, device)?;
    let data = args.read.read(&args.data)?;
    let evaluation = classify::evaluate(&model, &data)?;
    let names: Vec<String> = (0..model.config().labels.len())
        .map(|c| model.config().display_name(c).to_owned())
        .collect();
    // The figures first: a picture that cannot be drawn or written costs only itself.
    match args.format {
        OutputFormat::Text => {
            println!("{}: {} sentences", args.data.display(), data.examples.len());
            print!("{}", evaluation.table(&names));
        }
        OutputFormat::Json => println!("{}", serde_json::to_string(&evaluation)?),
    }
    if let Some(png) = &args.confusion {
        let classes = evaluation.labels.len();
        if classes > classify::MAX_DRAWN_CLASSES {
            eprintln!(
                "note: {}: {classes} classes; the picture shows the {} most frequent",
                png.display(),
                classify::MAX_DRAWN_CLASSES
            );
        }
        if let Err(e) = classify::confusion_png(&evaluation, &names, png) {
            eprintln!("warning: no confusion matrix picture: {e}");
        }
    }
    Ok(())
}
