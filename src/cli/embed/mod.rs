//! `seqmodels embed`: the command group, the vector file options every command shares, the
//! output format (from `--format` or the file name), the hints for unknown words, and
//! `convert`. Training is in `train`, the queries in `query`, evaluation in `eval`, bias and
//! debiasing in `debias`.

mod debias;
mod eval;
mod query;
mod train;

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use seqmodels::embeddings::{formats, formats::Format, Embeddings};
use seqmodels::Progress;

use debias::{BiasArgs, DebiasArgs};
use eval::EvalArgs;
use query::{AnalogyArgs, NSimilarityArgs, OddArgs, PairArgs, SimilarArgs, VectorArgs};
use train::TrainArgs;

#[derive(Debug, Args)]
pub struct EmbedArgs {
    #[command(subcommand)]
    pub command: EmbedCommand,
}

#[derive(Debug, Subcommand)]
pub enum EmbedCommand {
    /// Train word vectors on a corpus file (plain or .gz, streamed): skip-gram or CBOW,
    /// negative sampling or hierarchical softmax, with fastText's subwords or without.
    Train(TrainArgs),
    /// Convert vectors between word2vec binary and text, GloVe and fastText's .bin (the output
    /// format from --format, else from the name of --out).
    Convert(ConvertArgs),
    /// Each word's vector, as `word v1 v2 ...` lines (fastText's print-word-vectors).
    Vector(VectorArgs),
    /// The nearest words to WORD... (and away from --negative words) by cosine.
    Similar(SimilarArgs),
    /// Cosine similarity of two words.
    Similarity(PairArgs),
    /// Cosine similarity of two sets of words, each averaged: A B -- C D.
    NSimilarity(NSimilarityArgs),
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
    /// fastText's model file (.bin), for vectors with subwords.
    Fasttext,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Bin => Format::Word2VecBinary,
            FormatArg::Text => Format::Word2VecText,
            FormatArg::Glove => Format::Glove,
            FormatArg::Fasttext => Format::FastText,
        }
    }
}

/// The format to write vectors to `out` in: `--format` when given, else the one the name of
/// `out` asks for ([`Format::for_path`]: `.bin`, `.txt`/`.vec`, `.glove`). `subwords` says
/// whether the vectors have n-gram rows: fastText's model file holds only such vectors, so
/// asking for it without them is refused here, before anything is computed or written.
pub fn out_format(format: Option<FormatArg>, out: &Path, subwords: bool) -> anyhow::Result<Format> {
    let format = match format {
        Some(f) => f.into(),
        None => Format::for_path(out, subwords)?,
    };
    if format == Format::FastText && !subwords {
        anyhow::bail!(
            "--format fasttext writes fastText's model file, which holds subword vectors, and \
             these vectors have no n-gram rows: write them as bin, text or glove"
        );
    }
    Ok(format)
}

/// `err` with a "did you mean" for each unknown word it names that has a near spelling in
/// `emb`: `unknown word: King (did you mean king?)`.
pub fn with_hints(emb: &Embeddings, err: anyhow::Error) -> anyhow::Error {
    match err.downcast_ref() {
        Some(seqmodels::Error::UnknownWords { words }) => {
            anyhow::anyhow!(emb.unknown_words_message(words))
        }
        _ => err,
    }
}

#[derive(Debug, Clone, Args)]
pub struct VectorsArgs {
    /// Vector file: word2vec binary or text, GloVe, or a fastText .bin model (detected; .gz
    /// accepted). A fastText model answers words outside its vocabulary from their n-grams.
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
    /// Output file; its name gives the format: .bin (word2vec binary, or fastText's model when
    /// the vectors have subwords), .txt or .vec (word2vec text), .glove (GloVe).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Output format, whatever the name of --out.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
}

pub fn run(args: EmbedArgs, threads: usize, progress: &dyn Progress) -> anyhow::Result<()> {
    match args.command {
        EmbedCommand::Train(a) => train::train(a, threads, progress),
        EmbedCommand::Convert(a) => convert(a),
        EmbedCommand::Vector(a) => query::vector(a),
        EmbedCommand::Similar(a) => query::similar(a),
        EmbedCommand::Similarity(a) => query::similarity(a),
        EmbedCommand::NSimilarity(a) => query::n_similarity(a),
        EmbedCommand::Analogy(a) => query::analogy(a),
        EmbedCommand::OddOneOut(a) => query::odd_one_out(a),
        EmbedCommand::Eval(a) => eval::evaluate(a),
        EmbedCommand::Bias(a) => debias::bias(a),
        EmbedCommand::Debias(a) => debias::run_debias(a),
    }
}

fn convert(a: ConvertArgs) -> anyhow::Result<()> {
    let emb = a.input.load()?;
    let format = out_format(a.format, &a.out, emb.subwords().is_some())?;
    formats::write(&emb, &a.out, format)?;
    let dropped = match emb.subwords() {
        Some(s) if format != Format::FastText => {
            format!(
                " (without the {} n-gram rows: {format} holds one vector per word)",
                s.ngrams.bucket
            )
        }
        _ => String::new(),
    };
    eprintln!(
        "wrote {} vectors of dimension {} to {} as {format}{dropped}",
        emb.len(),
        emb.dim(),
        a.out.display()
    );
    Ok(())
}
