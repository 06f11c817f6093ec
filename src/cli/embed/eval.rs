//! `embed eval`: analogy accuracy and word-pair correlations, as tables or JSON.

use std::path::{Path, PathBuf};

use clap::Args;
use seqmodels::embeddings::eval::{self, EvalOptions};

use super::VectorsArgs;
use crate::cli::common;

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
    #[arg(long, default_value_t = 300_000, value_parser = common::positive)]
    pub restrict_vocab: usize,
    /// The same for the word pairs (gensim's evaluate_word_pairs has its own, 300,000 by default).
    #[arg(long, default_value_t = 300_000)]
    pub pairs_restrict_vocab: usize,
    /// Compare words exactly rather than upper-cased (gensim's case_insensitive=False).
    #[arg(long)]
    pub case_sensitive: bool,
    /// In the word pairs, answer words outside the vocabulary from their character n-grams,
    /// as fastText does (vectors with subwords, such as a fastText .bin); gensim's
    /// evaluate_word_pairs counts such pairs as out of vocabulary.
    #[arg(long)]
    pub oov_ngrams: bool,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
}

pub(super) fn evaluate(args: EvalArgs) -> anyhow::Result<()> {
    if args.analogies.is_none() && args.pairs.is_empty() {
        anyhow::bail!("give --analogies FILE and/or --pairs FILE...");
    }
    let emb = args.vectors.load()?;
    let options = EvalOptions {
        restrict_vocab: args.restrict_vocab,
        case_insensitive: !args.case_sensitive,
        oov_ngrams: args.oov_ngrams,
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
        // With --oov-ngrams, how many of the pairs had a word answered from its n-grams.
        let ngrams = |r: Option<&eval::PairsReport>| match (args.oov_ngrams, r) {
            (false, _) => String::new(),
            (true, None) => format!(" {:>7}", "n-gram"),
            (true, Some(r)) => format!(" {:>7}", r.from_ngrams),
        };
        println!(
            "{:<30} {:>9} {:>9} {:>7} {:>6}{}",
            "word pairs",
            "spearman",
            "pearson",
            "oov %",
            "pairs",
            ngrams(None)
        );
        for (path, r) in &pairs {
            println!(
                "{:<30} {:>9.4} {:>9.4} {:>7.2} {:>6}{}",
                file_name(path),
                r.spearman,
                r.pearson,
                r.oov_percent,
                r.pairs,
                ngrams(Some(r))
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
