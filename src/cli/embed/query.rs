//! `embed similar`, `similarity`, `analogy` and `odd-one-out`: one query from the command line,
//! or one per stdin line with `--interactive`.

use std::io::{IsTerminal, Write};
use std::path::Path;

use clap::{Args, ValueEnum};
use seqmodels::embeddings::query::{self, AnalogyMethod, Neighbour};
use seqmodels::embeddings::Embeddings;

use super::VectorsArgs;
use crate::cli::common;

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

pub(super) fn similar(a: SimilarArgs) -> anyhow::Result<()> {
    answer(
        &a.query,
        a.word.into_iter().collect(),
        (1, Answer::List),
        |emb, w| neighbours(&query::similar(emb, w[0], a.k)?),
    )
}

pub(super) fn similarity(a: PairArgs) -> anyhow::Result<()> {
    answer(
        &a.query,
        [a.a, a.b].into_iter().flatten().collect(),
        (2, Answer::Line),
        |emb, w| Ok(format!("{:.6}", query::similarity(emb, w[0], w[1])?)),
    )
}

pub(super) fn analogy(a: AnalogyArgs) -> anyhow::Result<()> {
    let method = match a.method {
        MethodArg::Cosadd => AnalogyMethod::CosAdd,
        MethodArg::Cosmul => AnalogyMethod::CosMul,
    };
    let given = [a.a, a.b, a.c].into_iter().flatten().collect();
    answer(&a.query, given, (3, Answer::List), |emb, w| {
        neighbours(&query::analogy(emb, w[0], w[1], w[2], a.k, method, None)?)
    })
}

pub(super) fn odd_one_out(a: OddArgs) -> anyhow::Result<()> {
    answer(&a.query, a.words, (0, Answer::Line), |emb, w| {
        Ok(query::odd_one_out(emb, w)?)
    })
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
