//! `embed vector`, `similar`, `similarity`, `n-similarity`, `analogy` and `odd-one-out`: one
//! query from the command line, or one per stdin line with `--interactive`; text or JSON.
//!
//! A word outside the vocabulary of vectors with subwords is answered from its character
//! n-grams, and a note says so (on stderr, or as `from_ngrams` in JSON). An unknown word is
//! named with the nearest spelling the vocabulary has.

use std::io::{IsTerminal, Write};
use std::path::Path;

use clap::{Args, ValueEnum};
use seqmodels::embeddings::query::{AnalogyMethod, Neighbour};
use seqmodels::embeddings::Embeddings;
use serde_json::{json, Value};

use super::{with_hints, VectorsArgs};
use crate::cli::common;

/// What separates the two sets of `n-similarity`.
const SETS: &str = "--";

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub vectors: VectorsArgs,
    /// Read one query per line from stdin (like the word2vec C tool's `distance`); a list
    /// answer ends with an empty line, and a blank or failed query gives an empty line (in
    /// JSON, an object with an "error").
    #[arg(long, short)]
    pub interactive: bool,
    /// Print each answer as text, or as one JSON object per query.
    #[arg(long, value_enum, default_value_t = OutputArg::Text)]
    pub format: OutputArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputArg {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct VectorArgs {
    /// The words (omit with --interactive).
    pub words: Vec<String>,
    #[command(flatten)]
    pub query: QueryArgs,
}

#[derive(Debug, Args)]
pub struct SimilarArgs {
    /// The words to be near (gensim's positive; omit with --interactive).
    pub words: Vec<String>,
    /// A word to be far from (gensim's negative); repeatable, and applied to every query of
    /// --interactive.
    #[arg(long, value_name = "WORD")]
    pub negative: Vec<String>,
    /// How many neighbours.
    #[arg(short, default_value_t = 10, value_parser = common::positive)]
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

#[derive(Debug, Args)]
pub struct NSimilarityArgs {
    /// The first set, then `--`, then the second: `king queen -- man woman` (with
    /// --interactive, one such line per query).
    pub first: Vec<String>,
    #[arg(last = true)]
    pub second: Vec<String>,
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
    #[arg(short, default_value_t = 5, value_parser = common::positive)]
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

/// One query's answer, as text and as JSON.
struct Reply {
    text: String,
    json: Value,
}

pub(super) fn vector(a: VectorArgs) -> anyhow::Result<()> {
    answer(&a.query, a.words, (0, Answer::Line), |emb, words| {
        let vectors: Vec<_> = words.iter().copied().zip(emb.get_vectors(words)?).collect();
        let text = vectors
            .iter()
            .map(|(w, v)| {
                let values: Vec<String> = v.iter().map(|x| x.to_string()).collect();
                format!("{w} {}", values.join(" "))
            })
            .collect::<Vec<_>>()
            .join("\n");
        let json = vectors
            .iter()
            .map(|(w, v)| json!({"word": w, "vector": v}))
            .collect();
        Ok(Reply {
            text,
            json: json!({ "vectors": Value::Array(json) }),
        })
    })
}

pub(super) fn similar(a: SimilarArgs) -> anyhow::Result<()> {
    let negative: Vec<&str> = a.negative.iter().map(String::as_str).collect();
    answer(&a.query, a.words, (0, Answer::List), |emb, positive| {
        let found = emb.most_similar(positive, &negative, a.k, None)?;
        neighbours(&found, json!({"positive": positive, "negative": negative}))
    })
}

pub(super) fn similarity(a: PairArgs) -> anyhow::Result<()> {
    let given = [a.a, a.b].into_iter().flatten().collect();
    answer(&a.query, given, (2, Answer::Line), |emb, w| {
        let s = emb.similarity(w[0], w[1])?;
        Ok(Reply {
            text: format!("{s:.6}"),
            json: json!({"words": w, "similarity": s}),
        })
    })
}

pub(super) fn n_similarity(a: NSimilarityArgs) -> anyhow::Result<()> {
    let given = match a.first.is_empty() && a.second.is_empty() {
        true => Vec::new(),
        false => [a.first, vec![SETS.to_owned()], a.second].concat(),
    };
    answer(&a.query, given, (0, Answer::Line), |emb, words| {
        let Some(split) = words.iter().position(|w| *w == SETS) else {
            anyhow::bail!("separate the two sets with {SETS}: king queen {SETS} man woman");
        };
        let (first, second) = (&words[..split], &words[split + 1..]);
        if first.is_empty() || second.is_empty() {
            anyhow::bail!(
                "give a word or more on each side of {SETS}: king queen {SETS} man woman"
            );
        }
        let s = emb.n_similarity(first, second)?;
        Ok(Reply {
            text: format!("{s:.6}"),
            json: json!({"first": first, "second": second, "similarity": s}),
        })
    })
}

pub(super) fn analogy(a: AnalogyArgs) -> anyhow::Result<()> {
    let method = match a.method {
        MethodArg::Cosadd => AnalogyMethod::CosAdd,
        MethodArg::Cosmul => AnalogyMethod::CosMul,
    };
    let given = [a.a, a.b, a.c].into_iter().flatten().collect();
    answer(&a.query, given, (3, Answer::List), |emb, w| {
        let found = emb.analogy([w[0], w[1], w[2]], a.k, method, None)?;
        neighbours(&found, json!({"question": w, "method": method.to_string()}))
    })
}

pub(super) fn odd_one_out(a: OddArgs) -> anyhow::Result<()> {
    answer(&a.query, a.words, (0, Answer::Line), |emb, w| {
        let odd = emb.doesnt_match(w)?;
        Ok(Reply {
            text: odd.to_owned(),
            json: json!({"words": w, "odd_one_out": odd}),
        })
    })
}

/// A line per neighbour, `word<TAB>score`, or the `query` object with `neighbours`; none is an
/// error (every word of the vocabulary was a query word), not an empty answer.
fn neighbours(list: &[Neighbour], mut query: Value) -> anyhow::Result<Reply> {
    if list.is_empty() {
        anyhow::bail!("no answer: the vectors hold no word besides the query's");
    }
    let text = list
        .iter()
        .map(|n| format!("{}\t{:.6}", n.word, n.score))
        .collect::<Vec<_>>()
        .join("\n");
    query["neighbours"] = list
        .iter()
        .map(|n| json!({"word": n.word, "score": n.score}))
        .collect();
    Ok(Reply { text, json: query })
}

/// The shape of a query's answer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// Lines, one query after another.
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
    ask: impl Fn(&Embeddings, &[&str]) -> anyhow::Result<Reply>,
) -> anyhow::Result<()> {
    if args.interactive && !given.is_empty() {
        anyhow::bail!(
            "--interactive reads the words from stdin; drop `{}` from the command line, or drop --interactive",
            given.join(" ")
        );
    }
    let emb = args.vectors.load()?;
    let json = args.format == OutputArg::Json;
    let query = |words: &[&str]| -> anyhow::Result<String> {
        if (arity > 0 && words.len() != arity) || words.is_empty() {
            let wanted = match arity {
                0 => "some".to_owned(),
                n => n.to_string(),
            };
            anyhow::bail!("expected {wanted} word(s), got {}", words.len());
        }
        let reply = ask(&emb, words).map_err(|e| with_hints(&emb, e))?;
        let from_ngrams: Vec<&str> = words
            .iter()
            .copied()
            .filter(|w| *w != SETS && emb.id(w).is_none())
            .collect();
        if json {
            let mut value = reply.json;
            value["from_ngrams"] = json!(from_ngrams);
            return Ok(value.to_string());
        }
        for w in from_ngrams {
            eprintln!("note: {w}: not in the vocabulary; its vector is the mean of its character n-grams (from n-grams)");
        }
        Ok(reply.text)
    };
    if !args.interactive {
        let words: Vec<&str> = given.iter().map(String::as_str).collect();
        println!("{}", query(&words)?);
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
        // query gives an empty line (the error goes to stderr with its line number; in JSON, an
        // object with the error), and a list ends with an empty line.
        let answer = match line {
            Ok((number, line)) => {
                let words: Vec<&str> = line.split_whitespace().collect();
                if words.is_empty() {
                    Ok(None)
                } else {
                    query(&words)
                        .map(Some)
                        .map_err(|e| anyhow::anyhow!("<stdin>:{number}: {e:#}"))
                }
            }
            Err(err @ seqmodels::Error::BadLine { .. }) => Err(err.into()),
            Err(err) => return Err(err.into()),
        };
        match answer {
            Ok(Some(text)) if shape == Answer::List && !json => writeln!(out, "{text}\n")?,
            Ok(Some(text)) => writeln!(out, "{text}")?,
            Ok(None) => writeln!(out)?,
            Err(e) if json => writeln!(out, "{}", json!({"error": format!("{e:#}")}))?,
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
