//! `seqmodels translate`: one output line per input, from arguments or stdin.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use seqmodels::seq2seq::{AttentionMap, DecodeOptions, Task, Translation, Translator};

use super::common::DeviceArgs;

/// Piped input is read this many batches (`--batch-size`) at a time...
const READ_BATCHES: usize = 8;
/// ...or fewer, once the lines read hold this many bytes.
const READ_BYTES: usize = 16 << 20;

#[derive(Debug, Args)]
pub struct TranslateArgs {
    /// Texts to translate; without any, reads one per line from stdin.
    pub text: Vec<String>,
    /// Model directory; the built-in dates model when omitted.
    #[arg(long, short)]
    pub model: Option<PathBuf>,
    /// Beam width (1 is greedy).
    #[arg(long, short = 'b', default_value_t = 5)]
    pub beam_width: usize,
    /// Length normalisation: hypotheses are ranked by log_prob / len^alpha.
    #[arg(long, default_value_t = 0.7)]
    pub alpha: f64,
    /// Hypotheses printed per input, best first (at most the beam width).
    #[arg(long, default_value_t = 1)]
    pub n_best: usize,
    /// Let date models produce any string of their characters, not only real dates.
    #[arg(long)]
    pub no_constrain: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Draw where the model looked for each input: `-` draws it in the terminal (stderr).
    #[arg(long, value_name = "PATH|-")]
    pub attention: Option<String>,
    /// Inputs decoded together. Piped input is read 8 batches at a time and decoded grouped by
    /// length, so that a batch pads its inputs only to the longest of its own.
    #[arg(long, default_value_t = 256, value_parser = super::common::positive)]
    pub batch_size: usize,
    /// Sentence models: at most this many output tokens per source token (but at least
    /// --min-len) [default: 2].
    #[arg(long)]
    pub max_len_ratio: Option<f64>,
    /// Sentence models: no end of sentence before this many tokens [default: 0].
    #[arg(long)]
    pub min_len: Option<usize>,
    /// Sentence models: replace each <unk> in the output by the source word the attention
    /// weighted most at that step.
    #[arg(long)]
    pub replace_unk: bool,
    /// A sentence longer than the model reads is an error (otherwise it is cut, with a warning);
    /// a date model always refuses an input that long, since a cut date is another date.
    #[arg(long)]
    pub strict: bool,
    /// Date models: read all-numeric dates with slashes day-first (05/03/2004 is 5 March);
    /// without it they are month-first unless the first number cannot be a month. Dots and
    /// dashes are day-first either way.
    #[arg(long)]
    pub day_first: bool,
    /// Refuse an answer whose confidence (its probability under the model, length-normalised as
    /// the beam ranks it) is below P, in [0, 1].
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub min_confidence: f64,
    /// Text format: print each answer's confidence after it, tab-separated.
    #[arg(long)]
    pub show_confidence: bool,
    #[command(flatten)]
    pub device: DeviceArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// The best output, empty when refused (with n-best > 1: output, score and confidence,
    /// tab-separated, one per line).
    Text,
    /// input, rank, output, score, log-probability, confidence, refusal class (empty when
    /// answered); tab-separated.
    Tsv,
    /// One JSON object per input: its outputs with their scores, confidence and refusal class
    /// (null when answered), and the input's own refusal class.
    Json,
}

pub fn run(args: TranslateArgs) -> anyhow::Result<()> {
    if let Some(target) = args.attention.as_deref().filter(|t| *t != "-") {
        seqmodels::plot::check_png_path(Path::new(target))?;
    }
    let device = args.device.device.resolve()?;
    let translator = super::common::translator(args.model.as_deref(), device)?;
    if translator.config().task == Task::Dates
        && (args.max_len_ratio.is_some() || args.min_len.is_some() || args.replace_unk)
    {
        anyhow::bail!(
            "--max-len-ratio, --min-len and --replace-unk are for sentence models; this is a date model"
        );
    }
    if args.day_first && translator.config().task != Task::Dates {
        anyhow::bail!("--day-first is for date models; this is a sentence model");
    }
    let defaults = DecodeOptions::default();
    let options = DecodeOptions {
        beam_width: args.beam_width,
        alpha: args.alpha,
        n_best: args.n_best,
        constrain: !args.no_constrain,
        batch_size: args.batch_size,
        max_len_ratio: args.max_len_ratio.unwrap_or(defaults.max_len_ratio),
        min_len: args.min_len.unwrap_or(defaults.min_len),
        replace_unk: args.replace_unk,
        strict: args.strict,
        tags: if args.day_first {
            vec![seqmodels::seq2seq::dates::DAY_FIRST.to_owned()]
        } else {
            Vec::new()
        },
        min_confidence: args.min_confidence,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failures = 0usize;
    let mut empty = 0usize;
    if !args.text.is_empty() {
        let inputs: Vec<&str> = args.text.iter().map(String::as_str).collect();
        empty += inputs.iter().filter(|i| i.trim().is_empty()).count();
        failures += translate_chunk(&translator, &inputs, None, &options, &args, &mut out)?;
    } else {
        let stdin = std::io::stdin();
        // Typed lines are answered at once; piped lines are read several batches at a time, so
        // that the translator can group them by length (each batch pads less).
        let read_batch = if stdin.is_terminal() {
            1
        } else {
            args.batch_size.max(1).saturating_mul(READ_BATCHES)
        };
        let mut held = 0usize;
        let mut lines: Vec<(usize, String)> = Vec::new();
        for line in seqmodels::text::lines(stdin.lock(), Path::new("<stdin>")) {
            match line {
                Ok(numbered) => {
                    empty += usize::from(numbered.1.trim().is_empty());
                    held += numbered.1.len();
                    lines.push(numbered);
                }
                Err(err @ seqmodels::Error::BadLine { .. }) => {
                    // Keep one output line per input: answer what came before, then this one.
                    failures += flush(&translator, &mut lines, &options, &args, &mut out)?;
                    held = 0;
                    out.flush()?;
                    eprintln!("error: {err}");
                    failures += 1;
                    writeln!(out)?;
                }
                Err(err) => return Err(err.into()),
            }
            if lines.len() >= read_batch || held >= READ_BYTES {
                failures += flush(&translator, &mut lines, &options, &args, &mut out)?;
                held = 0;
            }
        }
        failures += flush(&translator, &mut lines, &options, &args, &mut out)?;
    }
    out.flush()?;
    if empty > 0 {
        eprintln!("{empty} empty input line(s) kept as empty output lines");
    }
    if failures > 0 {
        anyhow::bail!("{failures} input(s) could not be translated or were refused");
    }
    Ok(())
}

fn flush(
    translator: &Translator,
    lines: &mut Vec<(usize, String)>,
    options: &DecodeOptions,
    args: &TranslateArgs,
    out: &mut impl Write,
) -> anyhow::Result<usize> {
    if lines.is_empty() {
        return Ok(0);
    }
    let inputs: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
    let numbers: Vec<usize> = lines.iter().map(|(n, _)| *n).collect();
    let failures = translate_chunk(translator, &inputs, Some(&numbers), options, args, out)?;
    out.flush()?;
    lines.clear();
    Ok(failures)
}

/// Translates `inputs` and writes one line (or n-best lines) per input; returns how many failed.
fn translate_chunk(
    translator: &Translator,
    inputs: &[&str],
    line_numbers: Option<&[usize]>,
    options: &DecodeOptions,
    args: &TranslateArgs,
    out: &mut impl Write,
) -> anyhow::Result<usize> {
    let results = translator.translate(inputs, options)?;
    let mut failures = 0;
    let name = |i: usize| match line_numbers {
        Some(n) => format!("<stdin>:{}: ", n[i]),
        None => String::new(),
    };
    for (i, (input, result)) in inputs.iter().zip(results).enumerate() {
        if input.trim().is_empty() {
            // An empty line stays an empty line, so output line N still answers input line N.
            writeln!(out)?;
            continue;
        }
        match result {
            Ok(hyps) => {
                let unseen = translator.unseen_characters(input);
                if !unseen.is_empty() {
                    out.flush()?;
                    let shown: String = unseen.iter().collect();
                    eprintln!(
                        "warning: {}characters the model never saw, read as unknown: {shown:?}; \
                         the output may be wrong",
                        name(i)
                    );
                }
                if hyps.first().is_some_and(|h| h.truncated) {
                    out.flush()?;
                    eprintln!(
                        "warning: {}input longer than the model reads ({} tokens); translated its beginning (--strict makes this an error)",
                        name(i),
                        translator.config().model.max_src_len
                    );
                }
                if let Some(refusal) = hyps.first().and_then(|h| h.refused) {
                    failures += 1;
                    out.flush()?;
                    eprintln!("error: {}refused ({}): {input:?}", name(i), refusal.class());
                }
                write_hypotheses(out, input, &hyps, args)?;
                let answered = hyps.first().filter(|h| h.refused.is_none());
                if let (Some(target), Some(best)) = (&args.attention, answered) {
                    let map = translator.attention(input, &best.text)?;
                    draw_attention(target, i, &map)?;
                }
            }
            Err(err) => {
                failures += 1;
                out.flush()?;
                eprintln!("error: {}{err}", name(i));
                // Keep one output line per input so that outputs stay aligned with inputs.
                writeln!(out)?;
            }
        }
    }
    Ok(failures)
}

fn write_hypotheses(
    out: &mut impl Write,
    input: &str,
    hyps: &[Translation],
    args: &TranslateArgs,
) -> std::io::Result<()> {
    let class = |h: &Translation| h.refused.map(|r| r.class());
    match args.format {
        OutputFormat::Text if hyps.len() == 1 && args.show_confidence => {
            writeln!(out, "{}\t{:.6}", hyps[0].text, hyps[0].confidence)
        }
        OutputFormat::Text if hyps.len() == 1 => writeln!(out, "{}", hyps[0].text),
        OutputFormat::Text => {
            for h in hyps {
                writeln!(out, "{}\t{:.4}\t{:.6}", h.text, h.score, h.confidence)?;
            }
            Ok(())
        }
        OutputFormat::Tsv => {
            for (rank, h) in hyps.iter().enumerate() {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{:.6}\t{:.6}\t{:.6}\t{}",
                    input,
                    rank + 1,
                    h.text,
                    h.score,
                    h.log_prob,
                    h.confidence,
                    class(h).unwrap_or("")
                )?;
            }
            Ok(())
        }
        OutputFormat::Json => {
            let value = serde_json::json!({
                "input": input,
                "truncated": hyps.first().is_some_and(|h| h.truncated),
                "refused": hyps.first().and_then(class),
                "outputs": hyps.iter().map(|h| serde_json::json!({
                    "text": h.text, "score": h.score, "log_prob": h.log_prob,
                    "confidence": h.confidence, "refused": class(h),
                })).collect::<Vec<_>>(),
            });
            writeln!(out, "{value}")
        }
    }
}

fn draw_attention(target: &str, index: usize, map: &AttentionMap) -> anyhow::Result<()> {
    if target == "-" {
        eprint!("{}", map.text());
        return Ok(());
    }
    let path = if index == 0 {
        PathBuf::from(target)
    } else {
        numbered(Path::new(target), index)
    };
    map.png(&path)?;
    Ok(())
}

/// `out.png` -> `out-2.png` for the second input, and so on.
fn numbered(path: &Path, index: usize) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    path.with_file_name(format!("{stem}-{}{ext}", index + 1))
}
