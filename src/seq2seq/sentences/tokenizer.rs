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
mod tests {
    use super::*;

    const TEXT: [&str; 4] = [
        "A man rides a bike.",
        "Two dogs play in the snow.",
        "A woman is riding a horse.",
        "The dogs are running.",
    ];

    /// The word-level tokenizer of earlier models: lower-cased, every word kept.
    fn word_config(vocab_size: usize) -> TokenizerConfig {
        TokenizerConfig {
            kind: TokenizerKind::Word,
            vocab_size,
            min_frequency: 1,
            lowercase: true,
            nfkc: true,
        }
    }

    fn word(vocab_size: usize) -> SentenceTokenizer {
        let config = word_config(vocab_size);
        SentenceTokenizer::train(&config, TEXT.iter().copied()).unwrap()
    }

    #[test]
    fn a_min_frequency_no_word_reaches_is_refused() {
        // Word level: nothing but the specials would be left. (BPE keeps its characters.)
        let config = TokenizerConfig {
            min_frequency: 1000,
            ..word_config(10_000)
        };
        let err = SentenceTokenizer::train(&config, TEXT.iter().copied())
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(err.contains("occurs 1000 times"), "{err}");
    }

    #[test]
    fn word_level_round_trip_specials_and_unknown_words() {
        let t = word(100);
        assert_eq!(t.tokens()[..4], SPECIALS.map(String::from));
        let ids = t.encode("A man rides a bike.").unwrap();
        assert_eq!(ids.len(), 6);
        assert!(ids.iter().all(|&i| i > EOS_ID));
        assert_eq!(t.decode(&ids).unwrap(), "a man rides a bike.");
        // Case is folded, NFKC folds the full-width letters, unknown words become <unk>.
        let ids = t.encode("ＴＷＯ zebras").unwrap();
        assert_eq!(ids[1], UNK_ID);
        assert_eq!(t.token(ids[0]).as_deref(), Some("two"));
        // Specials are skipped when decoding.
        assert_eq!(t.decode(&[BOS_ID, ids[0], EOS_ID, PAD_ID]).unwrap(), "two");
        // The vocabulary is capped, specials included, most frequent words first ("a" and "."
        // both appear 4 times: ties go in byte order).
        let small = word(6);
        assert_eq!(small.len(), 6);
        assert_eq!(small.tokens()[4..], [".", "a"].map(String::from));
    }

    #[test]
    fn bpe_spells_unseen_words_in_pieces() {
        let config = TokenizerConfig {
            kind: TokenizerKind::Bpe,
            ..word_config(60)
        };
        let t = SentenceTokenizer::train(&config, TEXT.iter().copied()).unwrap();
        assert_eq!(t.tokens()[..4], SPECIALS.map(String::from));
        // "rides" and "riding" share pieces; "snowing" was never seen as a word.
        let ids = t.encode("snowing dogs").unwrap();
        assert!(!ids.contains(&UNK_ID), "{:?}", t.tokens());
        assert!(ids.len() > 2);
        assert_eq!(t.decode(&ids).unwrap(), "snowing dogs");
        // Words start with the mark; the same text gives the same tokenizer every time (the
        // crate's end-of-word suffix numbered its forms in a hash map's order).
        assert!(t
            .tokens()
            .iter()
            .any(|s| s.starts_with(WORD_START) && s.chars().count() > 2));
        let json = t.inner.to_string(false).unwrap();
        for _ in 0..10 {
            let again = SentenceTokenizer::train(&config, TEXT.iter().copied()).unwrap();
            assert_eq!(again.inner.to_string(false).unwrap(), json);
        }
        // Out-of-vocabulary ids are an error, not a panic in the decoder.
        assert!(t.decode(&[t.len()]).is_err());
        // A character never seen in training is unknown.
        assert!(t.encode("zzz").unwrap().contains(&UNK_ID));
        assert!(t.len() <= 60);
        // A size smaller than the characters of the text is refused, naming the least that fits.
        let small = TokenizerConfig {
            vocab_size: 6,
            ..config.clone()
        };
        let err = SentenceTokenizer::train(&small, TEXT.iter().copied())
            .unwrap_err()
            .to_string();
        // The least is the alphabet with the specials: what a trainer that merges nothing keeps.
        let no_merges = TokenizerConfig {
            vocab_size: 1000,
            min_frequency: 1000,
            ..config.clone()
        };
        let least = SentenceTokenizer::train(&no_merges, TEXT.iter().copied())
            .unwrap()
            .len();
        assert!(least > 6);
        assert!(
            err.contains(&format!("raise --vocab-size to at least {least}")),
            "{err}"
        );
        let exact = TokenizerConfig {
            vocab_size: least,
            ..config
        };
        assert_eq!(
            SentenceTokenizer::train(&exact, TEXT.iter().copied())
                .unwrap()
                .len(),
            least
        );
    }

    #[test]
    fn json_round_trip_and_foreign_files() {
        for kind in [
            TokenizerKind::Word,
            TokenizerKind::Bpe,
            TokenizerKind::SentencePiece,
        ] {
            let config = TokenizerConfig {
                kind,
                lowercase: false,
                ..word_config(50)
            };
            let t = SentenceTokenizer::train(&config, TEXT.iter().copied()).unwrap();
            let json = t.to_json().unwrap();
            let back = SentenceTokenizer::from_bytes(json.as_bytes(), Path::new("t.json")).unwrap();
            for text in TEXT {
                assert_eq!(back.encode(text).unwrap(), t.encode(text).unwrap());
            }
            assert_eq!(back.tokens(), t.tokens());
        }
        let err = SentenceTokenizer::from_bytes(b"{not json", Path::new("bad.json"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.json"), "{err}");
        // A valid tokenizer whose specials are elsewhere is refused.
        let json = word(50).to_json().unwrap().replace("<eos>", "<end>");
        let err = SentenceTokenizer::from_bytes(json.as_bytes(), Path::new("other.json"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("<eos>"), "{err}");
        let tiny = word_config(4);
        assert!(SentenceTokenizer::train(&tiny, TEXT.iter().copied()).is_err());
    }

    #[test]
    fn sentencepiece_decodes_back_to_the_text_and_repeats_exactly() {
        let text = [
            "C'est mon patron.",
            "Je l'ai vu hier, à Paris !",
            "« Où est-il ? » demanda-t-elle.",
            "Tom's dog doesn't bark (usually).",
            "L'avion décolle à 10:30.",
        ];
        let config = TokenizerConfig {
            vocab_size: 200,
            min_frequency: 1,
            ..TokenizerConfig::default()
        };
        assert_eq!(config.kind, TokenizerKind::SentencePiece);
        let t = SentenceTokenizer::train(&config, text.iter().copied()).unwrap();
        for s in text {
            let ids = t.encode(s).unwrap();
            assert!(!ids.contains(&UNK_ID), "{s}");
            assert_eq!(t.decode(&ids).unwrap(), s);
        }
        // Unseen words are spelt in pieces and still decode to themselves, case kept.
        let ids = t.encode("Patron, c'est Tom.").unwrap();
        assert_eq!(t.decode(&ids).unwrap(), "Patron, c'est Tom.");
        let json = t.to_json().unwrap();
        for _ in 0..5 {
            let again = SentenceTokenizer::train(&config, text.iter().copied()).unwrap();
            assert_eq!(again.to_json().unwrap(), json);
        }
    }

    #[test]
    fn word_level_output_is_detokenised() {
        let t = word(100);
        let ids = t.encode("Two dogs play in the snow.").unwrap();
        assert_eq!(t.decode(&ids).unwrap(), "two dogs play in the snow.");
    }

    #[test]
    fn a_thousand_training_sentences_round_trip() {
        // Sentences with case, accents, apostrophes, quotes, brackets, digits and double
        // spaces, drawn from word lists by a fixed rule.
        let words = [
            "Tom",
            "l'avion",
            "n'est",
            "pas",
            "là",
            "Où",
            "est-il",
            "«",
            "»",
            "(vraiment)",
            "10:30",
            "3,5",
            "C'est",
            "don't",
            "Ça",
            "naïve",
            "Zürich",
            "\"yes\"",
            "?",
            "!",
            "...",
            "élève",
        ];
        let sentences: Vec<String> = (0..1000)
            .map(|i| {
                let n = 3 + i % 7;
                let mut s: Vec<&str> = (0..n)
                    .map(|k| words[(i * 7 + k * 13) % words.len()])
                    .collect();
                if i % 10 == 0 {
                    s.push(" ");
                }
                s.join(" ").trim_end().to_owned() + "."
            })
            .collect();
        let config = TokenizerConfig {
            vocab_size: 300,
            ..TokenizerConfig::default()
        };
        let t = SentenceTokenizer::train(&config, sentences.iter().map(String::as_str)).unwrap();
        for s in &sentences {
            let ids = t.encode(s).unwrap();
            assert_eq!(t.decode(&ids).unwrap(), *s, "{ids:?}");
        }
    }
}
