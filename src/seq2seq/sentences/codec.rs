//! Sentences read and write tokens (words or BPE pieces) through the two tokenizers learnt in
//! training, saved beside the weights as `src_tokenizer.json` and `tgt_tokenizer.json`; outputs
//! end with `<eos>`, and an output `<unk>` can be replaced by a source word.

use std::path::Path;

use super::tokenizer::{SentenceTokenizer, BOS_ID, EOS_ID, UNK_ID};
use crate::error::{Error, Result};
use crate::seq2seq::beam::Constraint;
use crate::seq2seq::codec::Codec;
use crate::seq2seq::Vocabs;
use crate::vocab::Vocab;

/// File of the source tokenizer in a sentence translator's directory.
pub const SRC_TOKENIZER_FILE: &str = "src_tokenizer.json";
/// File of the target tokenizer.
pub const TGT_TOKENIZER_FILE: &str = "tgt_tokenizer.json";

/// The two tokenizers of a sentence translator.
#[derive(Debug, Clone)]
pub struct Tokenizers {
    /// Source side.
    pub src: SentenceTokenizer,
    /// Target side.
    pub tgt: SentenceTokenizer,
}

impl Tokenizers {
    /// Reads both from a model directory; a missing file is an error naming it.
    pub fn load(dir: &Path) -> Result<Self> {
        let read = |file: &str| {
            let path = dir.join(file);
            if !path.is_file() {
                return Err(Error::checkpoint(
                    dir,
                    format!("is a sentence translator but has no {file}"),
                ));
            }
            SentenceTokenizer::load(&path)
        };
        Ok(Tokenizers {
            src: read(SRC_TOKENIZER_FILE)?,
            tgt: read(TGT_TOKENIZER_FILE)?,
        })
    }

    /// The vocabularies, in id order.
    pub fn vocabs(&self) -> Result<Vocabs> {
        Ok(Vocabs {
            src: Vocab::try_from(self.src.tokens()).map_err(Error::Config)?,
            tgt: Vocab::try_from(self.tgt.tokens()).map_err(Error::Config)?,
        })
    }
}

/// The token codec of sentence translators.
#[derive(Debug, Clone)]
pub struct SubwordCodec {
    tokenizers: Tokenizers,
    /// The source vocabulary, for labels.
    src: Vocab,
}

impl SubwordCodec {
    /// A codec over `tokenizers`.
    pub fn new(tokenizers: Tokenizers) -> Result<Self> {
        let src = tokenizers.vocabs()?.src;
        Ok(SubwordCodec { tokenizers, src })
    }

    /// The tokenizers saved in `dir`, which must give the vocabularies `vocabs`.
    pub fn load(dir: &Path, vocabs: &Vocabs) -> Result<Self> {
        let tokenizers = Tokenizers::load(dir)?;
        if tokenizers.vocabs()? != *vocabs {
            return Err(Error::checkpoint(
                dir,
                "has tokenizers whose vocabularies differ from vocab.json",
            ));
        }
        SubwordCodec::new(tokenizers)
    }
}

impl Codec for SubwordCodec {
    fn vocabs(&self) -> Result<Vocabs> {
        self.tokenizers.vocabs()
    }

    fn encode_source(&self, text: &str) -> Result<(Vec<usize>, Vec<String>)> {
        let (ids, words) = self.tokenizers.src.encode_with_words(text)?;
        if ids.is_empty() {
            return Err(Error::InvalidInput {
                input: text.to_owned(),
                reason: "no tokens in the input".to_owned(),
            });
        }
        Ok((ids, words))
    }

    fn unit(&self) -> &'static str {
        "tokens"
    }

    fn may_truncate(&self) -> bool {
        true
    }

    fn encode_target(&self, output: &str, max_len: usize) -> Result<Vec<usize>> {
        let mut ids = self.tokenizers.tgt.encode(output.trim())?;
        ids.push(EOS_ID);
        if ids.len() > max_len {
            return Err(Error::InvalidInput {
                input: output.to_owned(),
                reason: format!(
                    "{} tokens with <eos>; this model writes at most {max_len}",
                    ids.len()
                ),
            });
        }
        Ok(ids)
    }

    fn decode(&self, tokens: &[usize]) -> Result<String> {
        self.tokenizers.tgt.decode(tokens)
    }

    fn bos(&self) -> usize {
        BOS_ID
    }

    fn eos(&self) -> Option<usize> {
        Some(EOS_ID)
    }

    fn unk(&self) -> Option<usize> {
        Some(UNK_ID)
    }

    fn source_labels(&self, _text: &str, ids: &[usize]) -> Vec<String> {
        ids.iter()
            .map(|&t| self.src.token(t).unwrap_or("?").to_owned())
            .collect()
    }

    fn unseen_characters(&self, _text: &str) -> Vec<char> {
        Vec::new()
    }

    fn files(&self) -> Result<Vec<(&'static str, Vec<u8>)>> {
        Ok(vec![
            (
                SRC_TOKENIZER_FILE,
                self.tokenizers.src.to_json()?.into_bytes(),
            ),
            (
                TGT_TOKENIZER_FILE,
                self.tokenizers.tgt.to_json()?.into_bytes(),
            ),
        ])
    }

    fn constraint(&self) -> Result<Option<Box<dyn Constraint>>> {
        Ok(None)
    }
}
