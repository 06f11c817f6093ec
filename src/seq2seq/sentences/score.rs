//! Scoring a sentence translator against references: the best translation of each source and
//! corpus BLEU and chrF over them.

use std::time::Instant;

use crate::error::{Error, Result};
use crate::metrics::{corpus_bleu, corpus_chrf, Bleu, Chrf};
use crate::seq2seq::{DecodeOptions, Translator};

/// The best translation of each source, next to its reference, ready for [`Scored::bleu`]
/// and [`Scored::chrf`].
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// The best translation of each source; empty where the source was rejected.
    pub hypotheses: Vec<String>,
    /// The references, as given: scores compare the translator's detokenised output with the
    /// raw references, as sacreBLEU does.
    pub references: Vec<String>,
    /// Sources that could not be translated (empty, or too long under `strict`).
    pub rejected: usize,
    /// Sources cut to the model's length.
    pub truncated: usize,
    /// Wall time of the translation alone.
    pub seconds: f64,
}

impl Scored {
    /// Corpus BLEU of the hypotheses.
    pub fn bleu(&self) -> Result<Bleu> {
        let (h, r) = self.pairs();
        corpus_bleu(&h, &r)
    }

    /// Corpus chrF of the hypotheses.
    pub fn chrf(&self) -> Result<Chrf> {
        let (h, r) = self.pairs();
        corpus_chrf(&h, &r)
    }

    /// Corpus BLEU of the hypotheses and references both lower-cased: the figure to compare
    /// a model that writes lower case with.
    pub fn bleu_lowercased(&self) -> Result<Bleu> {
        let lower = |v: &[String]| v.iter().map(|s| s.to_lowercase()).collect::<Vec<_>>();
        let (h, r) = (lower(&self.hypotheses), lower(&self.references));
        let h: Vec<&str> = h.iter().map(String::as_str).collect();
        let r: Vec<&str> = r.iter().map(String::as_str).collect();
        corpus_bleu(&h, &r)
    }

    fn pairs(&self) -> (Vec<&str>, Vec<&str>) {
        fn as_str(v: &[String]) -> Vec<&str> {
            v.iter().map(String::as_str).collect()
        }
        (as_str(&self.hypotheses), as_str(&self.references))
    }
}

/// Translates `sources` (line for line with `references`) for scoring.
pub fn score(
    translator: &Translator,
    sources: &[&str],
    references: &[&str],
    options: &DecodeOptions,
) -> Result<Scored> {
    if sources.len() != references.len() {
        return Err(Error::Config(format!(
            "{} sources but {} references",
            sources.len(),
            references.len()
        )));
    }
    let start = Instant::now();
    let outputs = translator.translate(sources, options)?;
    let seconds = start.elapsed().as_secs_f64();
    let (mut rejected, mut truncated) = (0, 0);
    let hypotheses = outputs
        .into_iter()
        .map(|o| match o {
            Ok(h) => {
                truncated += usize::from(h.first().is_some_and(|h| h.truncated));
                h.into_iter().next().map(|h| h.text).unwrap_or_default()
            }
            Err(_) => {
                rejected += 1;
                String::new()
            }
        })
        .collect();
    let references = references.iter().map(|r| (*r).to_owned()).collect();
    Ok(Scored {
        hypotheses,
        references,
        rejected,
        truncated,
        seconds,
    })
}
