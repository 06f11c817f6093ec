//! `classify predict` and `classify eval`: a trained classifier applied to sentences.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use seqmodels::classify::{self, Classifier};

use super::{warn_long_sentences, ReadArgs};
use crate::cli::common::DeviceArgs;

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

pub(super) fn predict(args: PredictArgs) -> anyhow::Result<()> {
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
        for line in crate::cli::common::stdin_lines() {
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

pub(super) fn eval(args: EvalArgs) -> anyhow::Result<()> {
    if let Some(png) = &args.confusion {
        seqmodels::plot::check_png_path(png)?;
    }
    let device = args.device.device.resolve()?;
    let model = Classifier::load(&args.model, device)?;
    let data = args.read.read(&args.data)?;
    let evaluation = classify::evaluate(&model, &data)?;
    warn_long_sentences(&evaluation.long_sentences);
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
