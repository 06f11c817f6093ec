//! Sentence tokenizers for translation, built on the Hugging Face tokenizers crate, so that the
//! `src_tokenizer.json` and `tgt_tokenizer.json` of a model directory load unchanged in Python
//! (`tokenizers.Tokenizer.from_file`).
//!
//! A tokenizer is trained on the training side of the corpus only:
//!
//! - normalisation: Unicode NFKC (unless turned off), then lower-casing when asked;
//! - pre-tokenisation: `Whitespace` (`\w+|[^\w\s]+`), so punctuation is split from words;
//! - model: `word` (a word-level vocabulary of the `vocab_size` most frequent words, ties broken
//!   alphabetically) or `bpe` (byte-pair encoding, Sennrich et al. 2016, learnt up to
//!   `vocab_size` symbols; each word is marked by a leading `▁`, as SentencePiece does, which
//!   `Metaspace` adds after `Whitespace` and its decoder turns back into a space);
//! - the first four ids are `<pad>` 0, `<unk>` 1, `<bos>` 2, `<eos>` 3.
//!
//! Decoding joins words with single spaces (so punctuation comes out space-separated, as in
//! tokenised references; BLEU's 13a tokenisation splits it the same way either way).

use std::path::Path;

use serde::{Deserialize, Serialize};
use tokenizers::models::bpe::{BpeTrainer, BPE};
use tokenizers::models::wordlevel::{WordLevel, WordLevelTrainer};
use tokenizers::models::{ModelWrapper, TrainerWrapper};
use tokenizers::normalizers::{Lowercase, NormalizerWrapper, Sequence, NFKC};
use tokenizers::pre_tokenizers::metaspace::{Metaspace, PrependScheme};
use tokenizers::pre_tokenizers::sequence::Sequence as PreSequence;
use tokenizers::pre_tokenizers::whitespace::Whitespace;
use tokenizers::{
    AddedToken, DecoderWrapper, PostProcessorWrapper, PreTokenizerWrapper, TokenizerBuilder,
    TokenizerImpl,
};

use crate::error::{Error, Result};
use crate::vocab::{BOS, EOS, PAD, UNK};

/// The largest vocabulary a sentence tokenizer learns.
pub const MAX_VOCAB_SIZE: usize = 1_000_000;

/// Id of `<pad>`.
pub const PAD_ID: usize = 0;
/// Id of `<unk>`.
pub const UNK_ID: usize = 1;
/// Id of `<bos>`.
pub const BOS_ID: usize = 2;
/// Id of `<eos>`.
pub const EOS_ID: usize = 3;
/// The specials, in id order.
pub const SPECIALS: [&str; 4] = [PAD, UNK, BOS, EOS];
/// The BPE word-start mark (SentencePiece's).
const WORD_START: char = '▁';

/// Word-level or subword vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenizerKind {
    /// Whole words; rarer words than the vocabulary holds become `<unk>`.
    Word,
    /// Byte-pair encoding over words split from their punctuation: rare words are spelt out
    /// in frequent pieces (decoded with spaces around punctuation).
    Bpe,
    /// Byte-pair encoding over the raw text, spaces included (SentencePiece's BPE mode): no
    /// pre-split, so decoding gives back the text itself, its spaces, apostrophes and case.
    #[serde(rename = "sentencepiece")]
    SentencePiece,
}

/// How to build a tokenizer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenizerConfig {
    /// Word or BPE.
    pub kind: TokenizerKind,
    /// At most this many tokens, the four specials included.
    pub vocab_size: usize,
    /// Words (word-level) or symbol pairs (BPE) seen fewer times are left out.
    pub min_frequency: u64,
    /// Lower-case before anything else.
    pub lowercase: bool,
    /// Unicode NFKC normalisation.
    pub nfkc: bool,
}

impl Default for TokenizerConfig {
    fn default() -> Self {
        TokenizerConfig {
            kind: TokenizerKind::SentencePiece,
            vocab_size: 8_000,
            min_frequency: 2,
            lowercase: false,
            nfkc: true,
        }
    }
}

type Inner = TokenizerImpl<
    ModelWrapper,
    NormalizerWrapper,
    PreTokenizerWrapper,
    PostProcessorWrapper,
    DecoderWrapper,
>;

/// A trained sentence tokenizer.
#[derive(Clone)]
pub struct SentenceTokenizer {
    inner: tokenizers::Tokenizer,
}

impl std::fmt::Debug for SentenceTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SentenceTokenizer({} tokens)", self.len())
    }
}

fn tk_error(context: &str) -> impl Fn(tokenizers::Error) -> Error + '_ {
    move |e| Error::Config(format!("{context}: {e}"))
}

/// The model, its trainer and its decoder for the tokenizer kind `config` asks for.
fn model_and_trainer(
    config: &TokenizerConfig,
) -> Result<(ModelWrapper, TrainerWrapper, Option<DecoderWrapper>)> {
    let specials: Vec<AddedToken> = SPECIALS
        .iter()
        .map(|s| AddedToken::from(s.to_string(), true))
        .collect();
    Ok(match config.kind {
        TokenizerKind::Word => {
            let model = WordLevel::builder()
                .unk_token(UNK.to_owned())
                .build()
                .map_err(tk_error("building the word-level model"))?;
            let trainer = WordLevelTrainer::builder()
                .vocab_size(config.vocab_size)
                .min_frequency(config.min_frequency)
                .show_progress(false)
                .special_tokens(specials)
                .build()
                .map_err(|e| Error::Config(format!("word-level trainer: {e}")))?;
            (model.into(), trainer.into(), None)
        }
        TokenizerKind::Bpe | TokenizerKind::SentencePiece => {
            // The word-start mark is an ordinary character, numbered with the alphabet
            // in sorted order; the crate's end-of-word suffix instead numbers its forms
            // in a hash map's order, which changes from run to run and breaks ties
            // between merges differently (huggingface/tokenizers#1794).
            let model = BPE::builder()
                .unk_token(UNK.to_owned())
                .build()
                .map_err(tk_error("building the BPE model"))?;
            let trainer = BpeTrainer::builder()
                .vocab_size(config.vocab_size)
                .min_frequency(config.min_frequency)
                .show_progress(false)
                .special_tokens(specials)
                .build();
            let decoder = Metaspace::new(WORD_START, PrependScheme::Always, true);
            (model.into(), trainer.into(), Some(decoder.into()))
        }
    })
}

impl SentenceTokenizer {
    /// Learns a tokenizer from `sentences`.
    pub fn train<'a>(
        config: &TokenizerConfig,
        sentences: impl Iterator<Item = &'a str> + Send,
    ) -> Result<Self> {
        if config.vocab_size <= SPECIALS.len() {
            return Err(Error::Config(format!(
                "vocabulary size {} leaves no room beyond the {} special tokens",
                config.vocab_size,
                SPECIALS.len()
            )));
        }
        // The BPE trainer reserves memory in proportion to the size asked for.
        if config.vocab_size > MAX_VOCAB_SIZE {
            return Err(Error::Config(format!(
                "vocabulary size {} is above the {MAX_VOCAB_SIZE} allowed",
                config.vocab_size
            )));
        }
        let (model, mut trainer, decoder) = model_and_trainer(config)?;
        let mut steps: Vec<NormalizerWrapper> = Vec::new();
        if config.nfkc {
            steps.push(NFKC.into());
        }
        if config.lowercase {
            steps.push(Lowercase.into());
        }
        let pre_tokenizer: PreTokenizerWrapper = match config.kind {
            TokenizerKind::Word => Whitespace {}.into(),
            TokenizerKind::Bpe => PreSequence::new(vec![
                Whitespace {}.into(),
                Metaspace::new(WORD_START, PrependScheme::Always, true).into(),
            ])
            .into(),
            TokenizerKind::SentencePiece => {
                Metaspace::new(WORD_START, PrependScheme::Always, true).into()
            }
        };
        let mut inner: Inner = TokenizerBuilder::new()
            .with_model(model)
            .with_normalizer(Some(Sequence::new(steps).into()))
            .with_pre_tokenizer(Some(pre_tokenizer))
            .with_post_processor(None)
            .with_decoder(decoder)
            .build()
            .map_err(tk_error("building the tokenizer"))?;
        inner
            .train(&mut trainer, sentences)
            .map_err(tk_error("training the tokenizer"))?;
        let tokenizer = SentenceTokenizer {
            inner: tokenizers::Tokenizer::from(inner),
        };
        tokenizer.check_specials(Path::new("<new tokenizer>"))?;
        let size = tokenizer.inner.get_vocab_size(true);
        if size <= SPECIALS.len() {
            return Err(Error::Config(format!(
                "no word or piece occurs {} times or more: the vocabulary would hold only the \
                 special tokens; lower --min-frequency",
                config.min_frequency
            )));
        }
        // BPE keeps every character of the text, so its vocabulary can outgrow the size asked.
        if size > config.vocab_size {
            return Err(Error::Config(format!(
                "a BPE vocabulary of {} symbols cannot hold the {} single characters of the \
                 training text (the word-start mark among them) and the {} special tokens; raise \
                 --vocab-size to at least {size}",
                config.vocab_size,
                size - SPECIALS.len(),
                SPECIALS.len()
            )));
        }
        Ok(tokenizer)
    }

    /// Reads a `tokenizer.json`; `path` names it in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
        // The JSON is parsed first: tokenizers panics on a syntax error inside its decoder
        // section (`expect("Helper")` in 0.22) instead of returning it.
        serde_json::from_slice::<serde_json::Value>(bytes).map_err(|source| Error::Json {
            path: path.to_path_buf(),
            source,
        })?;
        let inner = tokenizers::Tokenizer::from_bytes(bytes).map_err(|e| {
            Error::checkpoint(path, format!("is not a tokenizers tokenizer.json: {e}"))
        })?;
        let tokenizer = SentenceTokenizer { inner };
        tokenizer.check_specials(path)?;
        Ok(tokenizer)
    }

    /// Reads the tokenizer file at `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = crate::checkpoint::read_part(path, crate::limits::MAX_VOCAB_BYTES)?;
        Self::from_bytes(&bytes, path)
    }

    /// The `tokenizer.json` text.
    pub fn to_json(&self) -> Result<String> {
        self.inner
            .to_string(true)
            .map_err(tk_error("serialising the tokenizer"))
    }

    fn check_specials(&self, path: &Path) -> Result<()> {
        for (id, token) in SPECIALS.iter().enumerate() {
            if self.inner.token_to_id(token) != Some(id as u32) {
                return Err(Error::checkpoint(
                    path,
                    format!("does not give {token} the id {id}; not a seqmodels tokenizer"),
                ));
            }
        }
        Ok(())
    }

    /// Vocabulary size, specials included.
    pub fn len(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Never true: the specials are always there.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The token of `id`.
    pub fn token(&self, id: usize) -> Option<String> {
        self.inner.id_to_token(id as u32)
    }

    /// Every token in id order.
    pub fn tokens(&self) -> Vec<String> {
        (0..self.len())
            .map(|id| self.token(id).unwrap_or_default())
            .collect()
    }

    /// The token ids of `text`, without `<bos>`/`<eos>`.
    pub fn encode(&self, text: &str) -> Result<Vec<usize>> {
        Ok(self.encode_with_words(text)?.0)
    }

    /// The token ids of `text` and, for each, the index of the word it belongs to in the
    /// pre-tokenised text, with those words (`replace-unk` copies a source word).
    pub fn encode_with_words(&self, text: &str) -> Result<(Vec<usize>, Vec<String>)> {
        let encoding = self
            .inner
            .encode(text, false)
            .map_err(|e| Error::InvalidInput {
                input: text.to_owned(),
                reason: format!("cannot be tokenised: {e}"),
            })?;
        let ids = encoding.get_ids().iter().map(|&i| i as usize).collect();
        let words: Vec<String> = encoding
            .get_offsets()
            .iter()
            .map(|&(start, end)| text.get(start..end).unwrap_or("").to_owned())
            .collect();
        Ok((ids, words))
    }

    /// Text of `ids`: `<pad>`, `<bos>` and `<eos>` are skipped, `<unk>` is written as such; an
    /// id outside the vocabulary is an error.
    pub fn decode(&self, ids: &[usize]) -> Result<String> {
        let size = self.len();
        if let Some(&bad) = ids.iter().find(|&&i| i >= size) {
            return Err(Error::Config(format!(
                "token id {bad} is outside the vocabulary of {size} tokens"
            )));
        }
        let ids: Vec<u32> = ids
            .iter()
            .filter(|&&i| i == UNK_ID || i >= SPECIALS.len())
            .map(|&i| i as u32)
            .collect();
        if ids.is_empty() {
            // The crate's BPE decoder underflows on an empty list.
            return Ok(String::new());
        }
        let text = self
            .inner
            .decode(&ids, false)
            .map_err(tk_error("decoding token ids"))?;
        // Word-level and BPE tokenizers split punctuation off; their words come back joined by
        // spaces, which the detokeniser takes out where text has none.
        Ok(if self.splits_punctuation() {
            super::detok::detokenize(&text)
        } else {
            text
        })
    }

    /// Whether the pre-tokeniser splits punctuation from words (word-level and `bpe`
    /// tokenizers), so that decoded text needs detokenising.
    fn splits_punctuation(&self) -> bool {
        match self.inner.get_pre_tokenizer() {
            Some(PreTokenizerWrapper::Whitespace(_)) => true,
            Some(PreTokenizerWrapper::Sequence(seq)) => seq
                .as_ref()
                .iter()
                .any(|p| matches!(p, PreTokenizerWrapper::Whitespace(_))),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;
