//! The training vocabulary: one counting pass over the corpus, then min-count and max-vocab.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;
use std::time::Instant;

use super::corpus::{self, SentenceSink};
use super::Word2VecConfig;
use crate::error::{Error, Result};
use crate::progress::{Progress, ProgressEvent, Silent};

/// The multiply-rotate hash of rustc (FxHash). Every corpus token is hashed once per pass, and
/// SipHash (the std default, built to resist collision attacks we do not face here) makes that
/// lookup a noticeable share of the reader's time.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline(always)]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.add(u64::from_le_bytes(b));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` keyed by tokens with [`FxHasher`].
pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The words that training learns vectors for, with their corpus counts.
///
/// Ordered by count, most frequent first, and alphabetically (by byte order) among equal
/// counts, so the same corpus and settings always give the same ids.
#[derive(Debug, Clone, PartialEq)]
pub struct Vocabulary {
    words: Vec<String>,
    counts: Vec<u64>,
    index: FxMap<String, u32>,
    total_words: u64,
    corpus_tokens: u64,
    corpus_lines: u64,
}

/// Counts tokens during the vocabulary pass.
struct Counter<'a> {
    counts: FxMap<String, u64>,
    progress: &'a dyn Progress,
    sentences: u64,
}

impl SentenceSink for Counter<'_> {
    fn token(&mut self, token: &str) {
        // `get_mut` first: only a new word pays for an owned `String`.
        if let Some(c) = self.counts.get_mut(token) {
            *c += 1;
        } else {
            self.counts.insert(token.to_owned(), 1);
        }
    }

    fn end_sentence(&mut self) -> bool {
        self.sentences += 1;
        if self.sentences % 16_384 == 0 {
            self.progress.event(&ProgressEvent::Advance {
                done: self.sentences,
            });
        }
        true
    }
}

impl Vocabulary {
    /// Counts the tokens of `corpus` (plain or gzip) and keeps the words that occur at least
    /// `config.min_count` times, then at most `config.max_vocab` of them (the most frequent).
    ///
    /// Errors: an invalid `config` ([`Word2VecConfig::validate`]), the file cannot be read, a
    /// line is not UTF-8 ([`Error::BadLine`]), the corpus has no tokens
    /// ([`Error::BadFile`]), or no word reaches `min_count` ([`Error::Config`]).
    pub fn build(corpus: &Path, config: &Word2VecConfig) -> Result<Vocabulary> {
        Self::build_reporting(corpus, config, &Silent)
    }

    /// [`Vocabulary::build`], reporting the pass to `progress` (in sentences).
    pub(crate) fn build_reporting(
        corpus: &Path,
        config: &Word2VecConfig,
        progress: &dyn Progress,
    ) -> Result<Vocabulary> {
        config.validate()?;
        let start = Instant::now();
        progress.event(&ProgressEvent::Begin {
            label: "vocabulary",
            total: None,
            unit: "sentences",
        });
        let mut counter = Counter {
            counts: FxMap::default(),
            progress,
            sentences: 0,
        };
        let stats = corpus::stream(corpus, config.lowercase, config.lossy, &mut counter)?;
        if stats.tokens == 0 {
            return Err(Error::nothing_in(corpus, "words"));
        }
        let distinct = counter.counts.len();
        let mut entries: Vec<(String, u64)> = counter.counts.into_iter().collect();
        entries.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let most = entries[0].clone();
        let min_count = config.min_count.max(1) as u64;
        entries.retain(|(_, c)| *c >= min_count);
        if entries.is_empty() {
            return Err(Error::Config(format!(
                "no word of {} occurs at least {min_count} times (min_count); it has {distinct} \
                 distinct words in {} tokens, the most frequent {:?} {} times",
                corpus.display(),
                stats.tokens,
                most.0,
                most.1
            )));
        }
        if let Some(max) = config.max_vocab {
            entries.truncate(max);
        }
        let vocab = Self::from_sorted(entries, stats.tokens, stats.lines)?;
        progress.event(&ProgressEvent::End {
            summary: &format!(
                "vocabulary: {} words (of {distinct}) covering {} of {} tokens in {:.1}s",
                vocab.len(),
                vocab.total_words,
                stats.tokens,
                start.elapsed().as_secs_f64()
            ),
        });
        Ok(vocab)
    }

    /// A saved vocabulary (words, most frequent first, and their counts), checked: as many
    /// counts as words, at least one word, no empty or repeated word, no zero count.
    pub(crate) fn from_parts(words: Vec<String>, counts: Vec<u64>) -> Result<Vocabulary> {
        if words.len() != counts.len() || words.is_empty() {
            return Err(Error::Config(format!(
                "{} words and {} counts: expected as many, at least one",
                words.len(),
                counts.len()
            )));
        }
        let mut seen = FxMap::default();
        for (w, &c) in words.iter().zip(&counts) {
            if w.is_empty() || c == 0 || seen.insert(w.as_str(), ()).is_some() {
                return Err(Error::Config(format!(
                    "the word {w:?} (count {c}) is empty, repeated or never seen"
                )));
            }
        }
        Self::from_sorted(words.into_iter().zip(counts).collect(), 0, 0)
    }

    /// A vocabulary from entries already in order.
    fn from_sorted(entries: Vec<(String, u64)>, tokens: u64, lines: u64) -> Result<Vocabulary> {
        if entries.len() > u32::MAX as usize {
            return Err(Error::Config(format!(
                "{} words do not fit 32-bit word ids; set max_vocab",
                entries.len()
            )));
        }
        let (words, counts): (Vec<String>, Vec<u64>) = entries.into_iter().unzip();
        let index = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as u32))
            .collect();
        Ok(Vocabulary {
            total_words: counts.iter().sum(),
            words,
            counts,
            index,
            corpus_tokens: tokens,
            corpus_lines: lines,
        })
    }

    /// The words, most frequent first.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The corpus count of each word, in the order of [`Vocabulary::words`].
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The id (position) of `word`, if it is in the vocabulary.
    pub fn id(&self, word: &str) -> Option<usize> {
        self.index.get(word).map(|&i| i as usize)
    }

    /// The id as the trainer stores it.
    #[inline]
    pub(crate) fn id32(&self, word: &str) -> Option<u32> {
        self.index.get(word).copied()
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether there are no words (never true for a built vocabulary).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Occurrences of vocabulary words in the corpus: the words one epoch trains on before
    /// subsampling (word2vec.c's `train_words`), and the `total` of the subsampling formula.
    pub fn total_words(&self) -> u64 {
        self.total_words
    }

    /// All tokens of the corpus, out-of-vocabulary ones included.
    pub fn corpus_tokens(&self) -> u64 {
        self.corpus_tokens
    }

    /// Lines of the corpus.
    pub fn corpus_lines(&self) -> u64 {
        self.corpus_lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corpus.txt");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn config(min_count: usize, max_vocab: Option<usize>) -> Word2VecConfig {
        Word2VecConfig {
            min_count,
            max_vocab,
            ..Word2VecConfig::default()
        }
    }

    const TEXT: &str = "b a c a b d\nd a e b\n\nc c zz a e\n";
    // counts: a 4, b 3, c 3, d 2, e 2, zz 1

    #[test]
    fn order_is_count_then_word() {
        let (_d, path) = corpus(TEXT);
        let v = Vocabulary::build(&path, &config(1, None)).unwrap();
        assert_eq!(v.words(), ["a", "b", "c", "d", "e", "zz"]);
        assert_eq!(v.counts(), [4, 3, 3, 2, 2, 1]);
        assert_eq!(v.total_words(), 15);
        assert_eq!(v.corpus_tokens(), 15);
        assert_eq!(v.corpus_lines(), 4);
        assert_eq!(v.id("c"), Some(2));
        assert_eq!(v.id("nope"), None);
    }

    #[test]
    fn min_count_then_max_vocab() {
        let (_d, path) = corpus(TEXT);
        let v = Vocabulary::build(&path, &config(2, None)).unwrap();
        assert_eq!(v.words(), ["a", "b", "c", "d", "e"]);
        assert_eq!(v.total_words(), 14);
        assert_eq!(v.corpus_tokens(), 15);
        let v = Vocabulary::build(&path, &config(3, None)).unwrap();
        assert_eq!(v.words(), ["a", "b", "c"]);
        // max_vocab keeps the most frequent; the tie b/c is cut alphabetically.
        let v = Vocabulary::build(&path, &config(1, Some(2))).unwrap();
        assert_eq!(v.words(), ["a", "b"]);
        assert_eq!(v.counts(), [4, 3]);
        assert_eq!(v.total_words(), 7);
    }

    #[test]
    fn lowercasing_merges_counts() {
        let (_d, path) = corpus("The the THE cat\n");
        let mut c = config(2, None);
        c.lowercase = true;
        let v = Vocabulary::build(&path, &c).unwrap();
        assert_eq!(v.words(), ["the"]);
        assert_eq!(v.counts(), [3]);
        c.lowercase = false;
        assert!(matches!(
            Vocabulary::build(&path, &c),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn nothing_above_min_count_is_a_clear_error() {
        let (_d, path) = corpus("one two three two\n");
        let err = Vocabulary::build(&path, &config(5, None)).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Config(_)));
        assert!(msg.contains("at least 5 times"), "{msg}");
        assert!(msg.contains("\"two\" 2 times"), "{msg}");
    }

    #[test]
    fn empty_corpus_is_an_error() {
        let (_d, path) = corpus("\n  \n\t\n");
        let err = Vocabulary::build(&path, &config(1, None)).unwrap_err();
        assert!(err.to_string().contains("no words"), "{err}");
        let (_d, path) = corpus("");
        assert!(Vocabulary::build(&path, &config(1, None)).is_err());
    }

    #[test]
    fn fx_hash_distinguishes_lengths() {
        let h = |s: &str| {
            let mut f = FxHasher::default();
            f.write(s.as_bytes());
            f.finish()
        };
        assert_ne!(h("a"), h("a\0"));
        assert_ne!(h("abcdefgh"), h("abcdefgh\0"));
        assert_eq!(h("word"), h("word"));
    }
}
