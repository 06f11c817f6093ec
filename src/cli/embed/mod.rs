//! `seqmodels embed`: the command group, the vector file options every command shares, and
//! `convert`. Training is in `train`, the queries in `query`, evaluation in `eval`, bias and
//! debiasing in `debias`.

mod debias;
mod eval;
mod query;
mod train;

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use seqmodels::embeddings::{formats, formats::Format, Embeddings};
use seqmodels::Progress;

use debias::{BiasArgs, DebiasArgs};
use eval::EvalArgs;
use query::{AnalogyArgs, OddArgs, PairArgs, SimilarArgs};
use train::TrainArgs;

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

pub fn run(args: EmbedArgs, threads: usize, progress: &dyn Progress) -> anyhow::Result<()> {
    match args.command {
        EmbedCommand::Train(a) => train::train(a, threads, progress),
        EmbedCommand::Convert(a) => convert(a),
        EmbedCommand::Similar(a) => query::similar(a),
        EmbedCommand::Similarity(a) => query::similarity(a),
        EmbedCommand::Analogy(a) => query::analogy(a),
        EmbedCommand::OddOneOut(a) => query::odd_one_out(a),
        EmbedCommand::Eval(a) => eval::evaluate(a),
        EmbedCommand::Bias(a) => debias::bias(a),
        EmbedCommand::Debias(a) => debias::run_debias(a),
    }
}

fn convert(a: ConvertArgs) -> anyhow::Result<()> {
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
