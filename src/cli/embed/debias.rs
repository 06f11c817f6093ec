//! `embed bias` and `embed debias`: the bias direction of word pairs, the words' cosine with
//! it, and neutralized and equalized vectors.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use clap::Args;
use seqmodels::embeddings::{debias, formats};

use super::{FormatArg, VectorsArgs};

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
    /// Output vectors; the name gives the format (.bin word2vec binary, .txt or .vec word2vec
    /// text, .glove GloVe).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Output format, whatever the name of --out.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.to_owned(), b.to_owned())),
        _ => Err(format!("expected WORD:WORD, got {s:?}")),
    }
}

fn pair_refs(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect()
}

pub(super) fn bias(args: BiasArgs) -> anyhow::Result<()> {
    let emb = args.vectors.load()?;
    let g = debias::bias_direction(&emb, &pair_refs(&args.pairs))?;
    let words: Vec<&str> = args.words.iter().map(String::as_str).collect();
    emb.ids(&words)
        .map_err(|e| super::with_hints(&emb, e.into()))?;
    for w in words {
        println!("{w}\t{:+.6}", debias::bias_cosine(&emb, w, &g)?);
    }
    Ok(())
}

pub(super) fn run_debias(args: DebiasArgs) -> anyhow::Result<()> {
    // Debiased vectors are plain word vectors, whatever they were read from.
    let format = super::out_format(args.format, &args.out, false)?;
    let emb = args.vectors.load()?;
    let g = debias::bias_direction(&emb, &pair_refs(&args.pairs))
        .map_err(|e| anyhow::anyhow!("--pair: {e}"))?;
    // Each word of the two files must have a vector; an unknown one is named with its line.
    let known = |path: &Path, line: usize, word: &str| -> anyhow::Result<String> {
        match emb.id(word) {
            Some(_) => Ok(word.to_owned()),
            None => {
                let hint = emb.suggest(word).map(|s| format!(" (did you mean {s}?)"));
                let hint = hint.unwrap_or_default();
                anyhow::bail!("{}:{line}: unknown word {word:?}{hint}", path.display())
            }
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
    formats::write(&out, &args.out, format)?;
    eprintln!(
        "neutralized {} words and equalized {} pairs; wrote {}",
        neutral.len(),
        equal.len(),
        args.out.display()
    );
    Ok(())
}
