//! Train word vectors on a corpus file, then ask analogies and neighbours.
//!
//! cargo run --release --example word_analogy -- CORPUS.txt[.gz] [a b c]
//! (a : b :: c : ?, default man king woman)

use std::path::PathBuf;

use seqmodels::embeddings::query::AnalogyMethod;
use seqmodels::embeddings::{formats, formats::Format};
use seqmodels::word2vec::{self, SkipGramConfig};
use seqmodels::Silent;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(corpus) = args.first().map(PathBuf::from) else {
        anyhow::bail!("usage: word_analogy CORPUS.txt[.gz] [a b c]");
    };
    let (a, b, c) = match &args[1..] {
        [a, b, c] => (a.as_str(), b.as_str(), c.as_str()),
        _ => ("man", "king", "woman"),
    };

    let config = SkipGramConfig {
        epochs: 3,
        ..SkipGramConfig::default()
    };
    let (vectors, report) = word2vec::train(&corpus, &config, &Silent)?;
    let last = report
        .epochs
        .last()
        .map(|e| e.mean_loss)
        .unwrap_or(f64::NAN);
    println!(
        "{} words x {} dims, final epoch loss {last:.3}",
        vectors.len(),
        vectors.dim()
    );

    for hit in vectors.analogy([a, b, c], 5, AnalogyMethod::CosAdd, None)? {
        println!("{a} : {b} :: {c} : {} ({:.3})", hit.word, hit.score);
    }
    for hit in vectors.most_similar(&[b], &[], 5, None)? {
        println!("near {b}: {} ({:.3})", hit.word, hit.score);
    }

    let out = std::env::temp_dir().join("seqmodels-example-vectors.bin");
    formats::write(&vectors, &out, Format::Word2VecBinary)?;
    println!(
        "saved to {} (gensim: KeyedVectors.load_word2vec_format(path, binary=True))",
        out.display()
    );
    Ok(())
}
