//! `seqmodels embed`: train word2vec, convert formats, query, evaluate and debias vectors.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use seqmodels::embeddings::eval::{self, EvalOptions};
use seqmodels::embeddings::query::{self, AnalogyMethod, Neighbour};
use seqmodels::embeddings::{debias, formats, formats::Format, Embeddings};
use seqmodels::word2vec::{self, SkipGramConfig};
use seqmodels::Progress;

#[derive(Debug, Args)]
pub struct EmbedArgs {
    #[command(subcommand)]
    pub command: EmbedCommand,
}

#[derive(Debug, Subcommand)]
pub enum EmbedCommand {
    /// Train skip-gram with negative sampling on a corpus file (plain or .gz, streamed).
    Train(TrainArgs),
    /// Convert vectors between word2vec binary, word2vec text and GloVe text.
    Convert(ConvertArgs),
    /// The nearest words to WORD by cosine.
    Similar(SimilarArgs),
    /// Cosine similarity of two words.
    Similarity(PairArgs),
    /// a : b :: c : ? (3CosAdd, or 3CosMul with --method cosmul).
    Analogy(AnalogyArgs),
    /// The word that fits least with the others.
    OddOneOut(OddArgs),
    /// Analogy accuracy and word-similarity correlations, computed as gensim computes them.
    Eval(EvalArgs),
    /// Cosine of words with the bias direction (the mean of the pair differences).
    Bias(BiasArgs),
    /// Neutralize words and equalize pairs along the bias direction; writes new vectors.
    Debias(DebiasArgs),
}

/// Vector file formats, for clap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// word2vec binary (the C tool's -binary 1; gensim binary=True).
    Bin,
    /// word2vec text: a "count dim" header, then a word and its values per line.
    Text,
    /// GloVe text: no header.
    Glove,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Bin => Format::Word2VecBinary,
            FormatArg::Text => Format::Word2VecText,
            FormatArg::Glove => Format::Glove,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct VectorsArgs {
    /// Vector file (word2vec binary or text, or GloVe; detected; .gz accepted).
    #[arg(long, short = 'v')]
    pub vectors: PathBuf,
    /// Read only the first N words (the most frequent, in files that word2vec tools write).
    #[arg(long)]
    pub limit: Option<usize>,
}

impl VectorsArgs {
    fn load(&self) -> anyhow::Result<Embeddings> {
        Ok(formats::read(&self.vectors, None, self.limit)?)
    }
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Corpus: one sentence or paragraph per line, whitespace-separated tokens; .gz accepted.
    #[arg(long)]
    pub corpus: PathBuf,
    /// Where to write the vectors.
    #[arg(long)]
    pub out: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Bin)]
    pub format: FormatArg,
    #[arg(long, default_value_t = 100)]
    pub dim: usize,
    /// Maximum distance between a word and its context (a random smaller window is drawn per word).
    #[arg(long, default_value_t = 5)]
    pub window: usize,
    /// Negative samples per context.
    #[arg(long, default_value_t = 5)]
    pub negative: usize,
    /// Words seen fewer times are dropped.
    #[arg(long, default_value_t = 5)]
    pub min_count: usize,
    /// Down-sampling threshold for frequent words (0: off).
    #[arg(long, default_value_t = 1e-3)]
    pub sample: f64,
    /// Initial learning rate.
    #[arg(long, default_value_t = 0.025)]
    pub alpha: f64,
    /// Final learning rate (linear decay over all epochs).
    #[arg(long, default_value_t = 0.0001)]
    pub min_alpha: f64,
    #[arg(long, default_value_t = 5, value_parser = super::common::at_most::<1_000_000>)]
    pub epochs: usize,
    /// Keep only the N most frequent words.
    #[arg(long)]
    pub max_vocab: Option<usize>,
    /// Lower-case tokens.
    #[arg(long)]
    pub lowercase: bool,
    /// Read corpus lines that are not UTF-8 with U+FFFD for the bad bytes (default: an error naming the line).
    #[arg(long)]
    pub lossy: bool,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Evaluate on this analogy file after every epoch (restricted to the 30,000 most frequent words).
    #[arg(long)]
    pub eval_analogies: Option<PathBuf>,
    /// Where to train: cpu runs Hogwild threads (--threads sets how many); a GPU (cuda, cuda:N,
    /// or auto on a machine with one) runs the batched libtorch trainer.
    #[arg(long, default_value = "cpu", value_parser = super::common::parse_device)]
    pub device: seqmodels::DeviceSpec,
    /// Pairs per batch of the GPU trainer.
    #[arg(long, default_value_t = word2vec::BATCH_PAIRS, value_parser = super::common::positive)]
    pub batch_pairs: usize,
    /// GPU trainer: a word updated n times in one batch moves by the sum of its updates divided
    /// by max(1, n / CAP) (1: their mean; very large: their sum).
    #[arg(long, value_name = "CAP", default_value_t = word2vec::ROW_CAP, value_parser = super::common::at_least_one)]
    pub row_cap: f64,
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    #[command(flatten)]
    pub input: VectorsArgs,
    /// Output file.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub vectors: VectorsArgs,
    /// Read one query per line from stdin (like the word2vec C tool's `distance`); a list
    /// answer ends with an empty line, and a blank or failed query gives an empty line.
    #[arg(long, short)]
    pub interactive: bool,
}

#[derive(Debug, Args)]
pub struct SimilarArgs {
    /// The word (omit with --interactive).
    pub word: Option<String>,
    /// How many neighbours.
    #[arg(short, default_value_t = 10, value_parser = super::common::positive)]
    pub k: usize,
    #[command(flatten)]
    pub query: QueryArgs,
}

#[derive(Debug, Args)]
pub struct PairArgs {
    pub a: Option<String>,
    pub b: Option<String>,
    #[command(flatten)]
    pub query: QueryArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// argmax cos(x, b - a + c).
    Cosadd,
    /// Levy and Goldberg's multiplicative objective.
    Cosmul,
}

#[derive(Debug, Args)]
pub struct AnalogyArgs {
    pub a: Option<String>,
    pub b: Option<String>,
    pub c: Option<String>,
    #[arg(short, default_value_t = 5, value_parser = super::common::positive)]
    pub k: usize,
    #[arg(long, value_enum, default_value_t = MethodArg::Cosadd)]
    pub method: MethodArg,
    #[command(flatten)]
    pub query: QueryArgs,
}

#[derive(Debug, Args)]
pub struct OddArgs {
    pub words: Vec<String>,
    #[command(flatten)]
    pub query: QueryArgs,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub vectors: VectorsArgs,
    /// Analogy questions (questions-words.txt format).
    #[arg(long)]
    pub analogies: Option<PathBuf>,
    /// Word-pair similarity files (word1<TAB>word2<TAB>score).
    #[arg(long, num_args = 1..)]
    pub pairs: Vec<PathBuf>,
    /// Only the N most frequent words take part in the analogies (gensim's restrict_vocab).
    #[arg(long, default_value_t = 300_000, value_parser = super::common::positive)]
    pub restrict_vocab: usize,
    /// The same for the word pairs (gensim's evaluate_word_pairs has its own, 300,000 by default).
    #[arg(long, default_value_t = 300_000)]
    pub pairs_restrict_vocab: usize,
    /// Compare words exactly rather than upper-cased (gensim's case_insensitive=False).
    #[arg(long)]
    pub case_sensitive: bool,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BiasArgs {
    #[command(flatten)]
    pub vectors: VectorsArgs,
    /// A pair defining the bias direction, e.g. woman:man; repeatable.
    #[arg(long = "pair", required = true, value_parser = parse_pair)]
    pub pairs: Vec<(String, String)>,
    /// Words to project.
    #[arg(required = true)]
    pub words: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DebiasArgs {
    #[command(flatten)]
    pub vectors: VectorsArgs,
    /// Pairs defining the bias direction, e.g. woman:man; repeatable.
    #[arg(long = "pair", required = true, value_parser = parse_pair)]
    pub pairs: Vec<(String, String)>,
    /// File of words to neutralize, one per line.
    #[arg(long)]
    pub neutralize: Option<PathBuf>,
    /// File of pairs to equalize, `a b` or `a:b` per line.
    #[arg(long)]
    pub equalize: Option<PathBuf>,
    /// Output vectors.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Bin)]
    pub format: FormatArg,
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.to_owned(), b.to_owned())),
        _ => Err(format!("expected WORD:WORD, got {s:?}")),
    }
}

pub fn run(args: EmbedArgs, threads: usize, progress: &dyn Progress) -> anyhow::Result<()> {
    match args.command {
        EmbedCommand::Train(a) => train(a, threads, progress),
        EmbedCommand::Convert(a) => {
            let emb = a.input.load()?;
            formats::write(&emb, &a.out, a.format.into())?;
            eprintln!(
                "wrote {} vectors of dimension {} to {}",
                emb.len(),
                emb.dim(),
                a.out.display()
            );
            Ok(())
        }
        EmbedCommand::Similar(a) => answer(
            &a.query,
            a.word.into_iter().collect(),
            (1, Answer::List),
            |emb, w| neighbours(&query::similar(emb, w[0], a.k)?),
        ),
        EmbedCommand::Similarity(a) => answer(
            &a.query,
            [a.a, a.b].into_iter().flatten().collect(),
            (2, Answer::Line),
            |emb, w| Ok(format!("{:.6}", query::similarity(emb, w[0], w[1])?)),
        ),
        EmbedCommand::Analogy(a) => {
            let method = match a.method {
                MethodArg::Cosadd => AnalogyMethod::CosAdd,
                MethodArg::Cosmul => AnalogyMethod::CosMul,
            };
            let given = [a.a, a.b, a.c].into_iter().flatten().collect();
            answer(&a.query, given, (3, Answer::List), |emb, w| {
                neighbours(&query::analogy(emb, w[0], w[1], w[2], a.k, method, None)?)
            })
        }
        EmbedCommand::OddOneOut(a) => answer(&a.query, a.words, (0, Answer::Line), |emb, w| {
            Ok(query::odd_one_out(emb, w)?)
        }),
        EmbedCommand::Eval(a) => evaluate(a),
        EmbedCommand::Bias(a) => bias(a),
        EmbedCommand::Debias(a) => run_debias(a),
    }
}

/// A line per neighbour, `word<TAB>score`; none is an error (every word of the vocabulary was
/// a query word), not an empty answer.
fn neighbours(list: &[Neighbour]) -> anyhow::Result<String> {
    if list.is_empty() {
        anyhow::bail!("no answer: the vectors hold no word besides the query's");
    }
    Ok(list
        .iter()
        .map(|n| format!("{}\t{:.6}", n.word, n.score))
        .collect::<Vec<_>>()
        .join("\n"))
}

/// The shape of a query's answer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// One line.
    Line,
    /// A list of lines, which --interactive closes with an empty line.
    List,
}

/// Runs one query from the arguments, or one per stdin line with --interactive. `arity` is the
/// number of words a query takes (0: any number, at least one); `shape`, whether its answer is a
/// line or a list.
fn answer(
    args: &QueryArgs,
    given: Vec<String>,
    (arity, shape): (usize, Answer),
    ask: impl Fn(&Embeddings, &[&str]) -> anyhow::Result<String>,
) -> anyhow::Result<()> {
    if args.interactive && !given.is_empty() {
        anyhow::bail!(
            "--interactive reads the words from stdin; drop `{}` from the command line, or drop --interactive",
            given.join(" ")
        );
    }
    let emb = args.vectors.load()?;
    let check = |words: &[&str]| -> anyhow::Result<()> {
        if (arity > 0 && words.len() != arity) || words.is_empty() {
            anyhow::bail!(
                "expected {} word(s), got {}",
                if arity == 0 {
                    "some".to_owned()
                } else {
                    arity.to_string()
                },
                words.len()
            );
        }
        Ok(())
    };
    if !args.interactive {
        let words: Vec<&str> = given.iter().map(String::as_str).collect();
        check(&words)?;
        println!("{}", ask(&emb, &words)?);
        return Ok(());
    }
    let stdin = std::io::stdin();
    let prompt = stdin.is_terminal();
    let mut out = std::io::stdout();
    if prompt {
        eprint!("> ");
    }
    for line in seqmodels::text::lines(stdin.lock(), Path::new("<stdin>")) {
        // Output stays in step with input: a blank line, a line that is not UTF-8 or a failed
        // query gives an empty line (the error goes to stderr with its line number), and a list
        // ends with an empty line.
        let answer = match line {
            Ok((number, line)) => {
                let words: Vec<&str> = line.split_whitespace().collect();
                if words.is_empty() {
                    Ok(None)
                } else {
                    check(&words)
                        .and_then(|()| ask(&emb, &words))
                        .map(Some)
                        .map_err(|e| anyhow::anyhow!("<stdin>:{number}: {e:#}"))
                }
            }
            Err(err @ seqmodels::Error::BadLine { .. }) => Err(err.into()),
            Err(err) => return Err(err.into()),
        };
        match answer {
            Ok(Some(text)) if shape == Answer::List => writeln!(out, "{text}\n")?,
            Ok(Some(text)) => writeln!(out, "{text}")?,
            Ok(None) => writeln!(out)?,
            Err(e) => {
                writeln!(out)?;
                out.flush()?;
                eprintln!("error: {e:#}");
            }
        }
        out.flush()?;
        if prompt {
            eprint!("> ");
        }
    }
    Ok(())
}

fn train(args: TrainArgs, threads: usize, progress: &dyn Progress) -> anyhow::Result<()> {
    let device = args.device.resolve()?;
    let config = SkipGramConfig {
        dim: args.dim,
        window: args.window,
        negative: args.negative,
        min_count: args.min_count,
        sample: args.sample,
        alpha: args.alpha,
        min_alpha: args.min_alpha,
        epochs: args.epochs,
        threads: if threads > 0 {
            threads
        } else {
            SkipGramConfig::default().threads
        },
        seed: args.seed,
        max_vocab: args.max_vocab,
        lowercase: args.lowercase,
        lossy: args.lossy,
    };
    // The CPU trainer does not use libtorch; keep libtorch's pool from competing for the cores.
    if device == tch::Device::Cpu {
        tch::set_num_threads(1);
    }
    let options = EvalOptions {
        restrict_vocab: 30_000,
        ..EvalOptions::default()
    };
    let analogies = args.eval_analogies.clone();
    let after_epoch = |epoch: usize, emb: &Embeddings| -> seqmodels::Result<()> {
        if let Some(path) = &analogies {
            let r = eval::evaluate_analogies(emb, path, &options)?;
            eprintln!(
                "epoch {epoch}: analogy accuracy {:.2}% ({}/{} seen of {})",
                100.0 * r.total.accuracy(),
                r.total.correct,
                r.total.seen,
                r.total.total
            );
        }
        Ok(())
    };
    let (emb, report) = if device == tch::Device::Cpu {
        // Without --eval-analogies no callback: each call copies the vectors.
        match analogies {
            Some(_) => word2vec::train_with(&args.corpus, &config, progress, after_epoch)?,
            None => word2vec::train(&args.corpus, &config, progress)?,
        }
    } else {
        word2vec::train_torch_with(
            &args.corpus,
            &config,
            device,
            word2vec::Batch {
                pairs: args.batch_pairs,
                row_cap: args.row_cap,
            },
            progress,
            after_epoch,
        )?
    };
    formats::write(&emb, &args.out, args.format.into())?;
    let seconds: f64 = report.epochs.iter().map(|e| e.seconds).sum();
    let words: u64 = report.epochs.iter().map(|e| e.words).sum();
    println!(
        "trained {} words x {} dims on {} corpus words, {} epochs on {} in {:.1} s ({:.0} words/s); wrote {}",
        report.vocab_size,
        config.dim,
        report.corpus_words,
        report.epochs.len(),
        seqmodels::device::device_name(device),
        seconds,
        words as f64 / seconds.max(1e-9),
        args.out.display()
    );
    Ok(())
}

fn evaluate(args: EvalArgs) -> anyhow::Result<()> {
    if args.analogies.is_none() && args.pairs.is_empty() {
        anyhow::bail!("give --analogies FILE and/or --pairs FILE...");
    }
    let emb = args.vectors.load()?;
    let options = EvalOptions {
        restrict_vocab: args.restrict_vocab,
        case_insensitive: !args.case_sensitive,
    };
    let pair_options = EvalOptions {
        restrict_vocab: args.pairs_restrict_vocab,
        ..options
    };
    let analogies = args
        .analogies
        .as_deref()
        .map(|p| eval::evaluate_analogies(&emb, p, &options))
        .transpose()?;
    let pairs = args
        .pairs
        .iter()
        .map(|p| Ok((p.clone(), eval::evaluate_pairs(&emb, p, &pair_options)?)))
        .collect::<anyhow::Result<Vec<(PathBuf, eval::PairsReport)>>>()?;
    if args.json {
        let value = serde_json::json!({
            "vectors": args.vectors.vectors,
            "analogies": analogies,
            "pairs": pairs.iter().map(|(p, r)| serde_json::json!({"file": p, "report": r})).collect::<Vec<_>>(),
        });
        println!("{value}");
        return Ok(());
    }
    if let Some(r) = &analogies {
        println!(
            "{:<30} {:>9} {:>8} {:>8} {:>8}",
            "analogy section", "accuracy", "correct", "seen", "total"
        );
        for s in r.sections.iter().chain(std::iter::once(&r.total)) {
            println!(
                "{:<30} {:>8.2}% {:>8} {:>8} {:>8}",
                s.name,
                100.0 * s.accuracy(),
                s.correct,
                s.seen,
                s.total
            );
        }
    }
    if !pairs.is_empty() {
        println!(
            "{:<30} {:>9} {:>9} {:>7} {:>6}",
            "word pairs", "spearman", "pearson", "oov %", "pairs"
        );
        for (path, r) in &pairs {
            println!(
                "{:<30} {:>9.4} {:>9.4} {:>7.2} {:>6}",
                file_name(path),
                r.spearman,
                r.pearson,
                r.oov_percent,
                r.pairs
            );
        }
    }
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn pair_refs(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect()
}

fn bias(args: BiasArgs) -> anyhow::Result<()> {
    let emb = args.vectors.load()?;
    let g = debias::bias_direction(&emb, &pair_refs(&args.pairs))?;
    let words: Vec<&str> = args.words.iter().map(String::as_str).collect();
    emb.ids(&words)?;
    for w in words {
        println!("{w}\t{:+.6}", debias::bias_cosine(&emb, w, &g)?);
    }
    Ok(())
}

fn run_debias(args: DebiasArgs) -> anyhow::Result<()> {
    let emb = args.vectors.load()?;
    let g = debias::bias_direction(&emb, &pair_refs(&args.pairs))
        .map_err(|e| anyhow::anyhow!("--pair: {e}"))?;
    // Each word of the two files must have a vector; an unknown one is named with its line.
    let known = |path: &Path, line: usize, word: &str| -> anyhow::Result<String> {
        match emb.id(word) {
            Some(_) => Ok(word.to_owned()),
            None => anyhow::bail!("{}:{line}: unknown word {word:?}", path.display()),
        }
    };
    let mut neutral: Vec<String> = Vec::new();
    // Where each word was first given, so that a word given two roles is named with both lines.
    let mut neutral_at: HashMap<String, usize> = HashMap::new();
    if let Some(path) = &args.neutralize {
        for (i, line) in seqmodels::text::read_lines(path)?.iter().enumerate() {
            let word = line.trim();
            if !word.is_empty() && !word.starts_with('#') {
                neutral.push(known(path, i + 1, word)?);
                neutral_at.entry(word.to_owned()).or_insert(i + 1);
            }
        }
        if neutral.is_empty() {
            return Err(seqmodels::Error::nothing_in(path, "words").into());
        }
    }
    let mut equal: Vec<(String, String)> = Vec::new();
    let mut paired_at: HashMap<String, usize> = HashMap::new();
    if let Some(path) = &args.equalize {
        for (i, line) in seqmodels::text::read_lines(path)?.iter().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let parts: Vec<&str> = line
                .split(|c: char| c == ':' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .collect();
            match parts.as_slice() {
                [a, b] => {
                    for word in [a, b] {
                        let here = format!("{}:{}: {word:?}", path.display(), i + 1);
                        if let Some(n) = paired_at.insert(word.to_string(), i + 1) {
                            anyhow::bail!("{here} is given twice (also on line {n}): a word is equalized in one pair");
                        }
                        if let (Some(n), Some(neutral)) = (neutral_at.get(*word), &args.neutralize)
                        {
                            anyhow::bail!(
                                "{here} is also to be neutralized ({}:{n}): a word is either neutralized or equalized",
                                neutral.display()
                            );
                        }
                    }
                    equal.push((known(path, i + 1, a)?, known(path, i + 1, b)?))
                }
                _ => anyhow::bail!(
                    "{}:{}: expected two words (a b or a:b)",
                    path.display(),
                    i + 1
                ),
            }
        }
        if equal.is_empty() {
            return Err(seqmodels::Error::nothing_in(path, "word pairs").into());
        }
    }
    if neutral.is_empty() && equal.is_empty() {
        anyhow::bail!("nothing to do: give --neutralize FILE and/or --equalize FILE");
    }
    let neutral_refs: Vec<&str> = neutral.iter().map(String::as_str).collect();
    let out = debias::debias(&emb, &g, &neutral_refs, &pair_refs(&equal))?;
    formats::write(&out, &args.out, args.format.into())?;
    eprintln!(
        "neutralized {} words and equalized {} pairs; wrote {}",
        neutral.len(),
        equal.len(),
        args.out.display()
    );
    Ok(())
}
