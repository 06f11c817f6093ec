//! Subword vectors: fastText's character n-grams (Bojanowski et al. 2017, "Enriching Word
//! Vectors with Subword Information").
//!
//! A word `w` is written `<w>` and cut into its n-grams of `minn..=maxn` characters (the `<`
//! and `>` alone are not n-grams); each n-gram is hashed into one of `bucket` rows with
//! fastText's 32-bit FNV-1a. A word's vector is the mean of its own row and its n-gram rows, so a
//! word never seen in training still has one: the mean of its n-gram rows. All of this follows
//! fastText 0.9.2 (`Dictionary::hash`, `Dictionary::computeSubwords`, `FastText::getWordVector`)
//! byte for byte, so that the bucket rows of a fastText model mean the same here.

use crate::error::{Error, Result};

/// The word fastText writes for the end of a line; it has no n-grams.
pub const EOS: &str = "</s>";
/// fastText's largest bucket count: bucket ids are `i32` in its files.
const MAX_BUCKET: usize = i32::MAX as usize;

/// fastText's hash of `bytes`: 32-bit FNV-1a over the bytes read as *signed* chars, as
/// `Dictionary::hash` computes it (`h ^= uint32_t(int8_t(c)); h *= 16777619`), so that a byte
/// of 0x80 or more is sign-extended before the xor.
pub fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(2_166_136_261, |h, &b| fnv_step(h, b))
}

fn fnv_step(h: u32, b: u8) -> u32 {
    (h ^ (b as i8 as i32 as u32)).wrapping_mul(16_777_619)
}

/// Which character n-grams a word has and where they hash to: fastText's `-minn`, `-maxn` and
/// `-bucket`. `maxn == 0` means no n-grams (fastText's `-maxn 0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ngrams {
    /// Shortest n-gram, in characters (the `<` and `>` boundaries count).
    pub minn: usize,
    /// Longest n-gram; 0 for none.
    pub maxn: usize,
    /// Rows the n-grams are hashed into.
    pub bucket: usize,
}

impl Default for Ngrams {
    /// fastText's defaults for word vectors: 3 to 6 characters, 2,000,000 buckets.
    fn default() -> Self {
        Ngrams {
            minn: 3,
            maxn: 6,
            bucket: 2_000_000,
        }
    }
}

impl Ngrams {
    /// Checked n-gram settings: with `maxn > 0`, `1 <= minn <= maxn` and `1 <= bucket <=
    /// 2^31 - 1` (fastText's bucket ids are `i32`).
    pub fn new(minn: usize, maxn: usize, bucket: usize) -> Result<Self> {
        let ngrams = Ngrams { minn, maxn, bucket };
        ngrams.validate()?;
        Ok(ngrams)
    }

    /// See [`Ngrams::new`].
    pub fn validate(&self) -> Result<()> {
        let Ngrams { minn, maxn, bucket } = *self;
        if maxn == 0 {
            return Ok(());
        }
        let reason = if minn == 0 {
            "the shortest n-gram (minn) must be at least 1 character".to_owned()
        } else if minn > maxn {
            format!("minn {minn} is above maxn {maxn}: no n-gram would be that long and short")
        } else if bucket == 0 {
            "a bucket count of 0 leaves the n-grams nowhere to go; give at least 1".to_owned()
        } else if bucket > MAX_BUCKET {
            format!("{bucket} buckets: fastText takes at most {MAX_BUCKET}")
        } else {
            return Ok(());
        };
        Err(Error::Config(reason))
    }

    /// Whether words have n-grams at all.
    pub fn enabled(&self) -> bool {
        self.maxn > 0 && self.bucket > 0
    }

    /// Calls `f` with the bucket (in `0..bucket`) of each n-gram of `<word>`, in fastText's
    /// order: by start, then by length. An n-gram that occurs twice is given twice, as fastText
    /// counts it twice; [`EOS`] has none.
    pub fn for_each_bucket(&self, word: &str, mut f: impl FnMut(usize)) {
        self.for_each(word, |_, h| f(h));
    }

    /// The buckets of `word`'s n-grams (see [`Ngrams::for_each_bucket`]).
    pub fn buckets(&self, word: &str) -> Vec<usize> {
        let mut out = Vec::new();
        self.for_each_bucket(word, |b| out.push(b));
        out
    }

    /// The n-grams of `word` with their buckets, as `fasttext print-ngrams` lists them.
    pub fn ngrams(&self, word: &str) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        self.for_each(word, |s, h| out.push((s.to_owned(), h)));
        out
    }

    /// fastText's `computeSubwords` on `<word>`: every run of `n` characters from each
    /// character boundary, `minn <= n <= maxn`, except a lone `<` or `>`. The hash grows one byte
    /// at a time, as FNV-1a allows.
    fn for_each(&self, word: &str, mut f: impl FnMut(&str, usize)) {
        if !self.enabled() || word == EOS {
            return;
        }
        let bounded = format!("<{word}>");
        let bytes = bounded.as_bytes();
        // Character boundaries, the end included: n characters from boundary k end at k + n.
        let bounds: Vec<usize> = bounded
            .char_indices()
            .map(|(i, _)| i)
            .chain([bytes.len()])
            .collect();
        for (k, &start) in bounds[..bounds.len() - 1].iter().enumerate() {
            let mut h = 2_166_136_261u32;
            for n in 1..=self.maxn.min(bounds.len() - 1 - k) {
                let (from, end) = (bounds[k + n - 1], bounds[k + n]);
                h = bytes[from..end].iter().fold(h, |h, &b| fnv_step(h, b));
                let lone_boundary = n == 1 && (start == 0 || end == bytes.len());
                if n >= self.minn && !lone_boundary {
                    f(&bounded[start..end], h as usize % self.bucket);
                }
            }
        }
    }
}

/// The rows behind subword vectors, and what a fastText model file keeps beside them.
///
/// `word_rows` are the words' own input rows (in the order of the store's words), `bucket_rows`
/// the n-gram rows; a word's vector is the mean of its own row and its n-gram rows (see
/// [`Subwords::compose`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Subwords {
    /// The n-gram settings.
    pub ngrams: Ngrams,
    /// One input row per word of the store, row-major.
    pub word_rows: Vec<f32>,
    /// `ngrams.bucket` rows, row-major.
    pub bucket_rows: Vec<f32>,
    /// How often each word was seen in training.
    pub counts: Vec<u64>,
    /// How the model was trained, kept to write the model back.
    pub training: Training,
}

/// The training settings a fastText model file records, and its output layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Training {
    /// Skip-gram or CBOW.
    pub arch: Arch,
    /// Negative sampling, hierarchical softmax or softmax.
    pub loss: Loss,
    /// Context window.
    pub window: usize,
    /// Passes over the corpus.
    pub epochs: usize,
    /// Words seen fewer times were dropped.
    pub min_count: usize,
    /// Negative samples per target.
    pub negative: usize,
    /// Down-sampling threshold for frequent words.
    pub sample: f64,
    /// fastText's `-lrUpdateRate`.
    pub lr_update_rate: usize,
    /// Tokens in the training corpus.
    pub tokens: u64,
    /// The output layer, one row per word (row-major); empty when not kept, which a model file
    /// writes as zeros (fastText's own starting output layer).
    pub output: Vec<f32>,
}

impl Default for Training {
    /// fastText's defaults for `fasttext skipgram`; no tokens, no output layer.
    fn default() -> Self {
        Training {
            arch: Arch::SkipGram,
            loss: Loss::NegativeSampling,
            window: 5,
            epochs: 5,
            min_count: 5,
            negative: 5,
            sample: 1e-4,
            lr_update_rate: 100,
            tokens: 0,
            output: Vec::new(),
        }
    }
}

/// The word2vec architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// Predict the context from the word.
    SkipGram,
    /// Predict the word from the mean of its context.
    Cbow,
}

/// The output objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// Hierarchical softmax.
    HierarchicalSoftmax,
    /// Negative sampling.
    NegativeSampling,
    /// Full softmax.
    Softmax,
    /// One-vs-all (fastText's `ova`, for classifiers).
    OneVsAll,
}

impl Subwords {
    /// Checks that the rows fit `words` words of dimension `dim` and the n-gram settings.
    pub(crate) fn check(&self, words: usize, dim: usize) -> Result<()> {
        self.ngrams.validate()?;
        let expect = |what: &str, found: usize, rows: usize| {
            if found == rows.saturating_mul(dim) {
                return Ok(());
            }
            Err(Error::Config(format!(
                "subword {what}: {found} values for {rows} rows of dimension {dim}"
            )))
        };
        expect("word rows", self.word_rows.len(), words)?;
        expect("bucket rows", self.bucket_rows.len(), self.ngrams.bucket)?;
        if !self.training.output.is_empty() {
            expect("output rows", self.training.output.len(), words)?;
        }
        if self.counts.len() != words {
            return Err(Error::Config(format!(
                "{} word counts for {words} words",
                self.counts.len()
            )));
        }
        Ok(())
    }

    /// The vector of a word from its own row (`Some(id)`, for a word of the store) and its
    /// n-gram rows: their mean, summed in fastText's order in `f32` and multiplied by the
    /// reciprocal of the count, as `getWordVector` does. `None` when the word has no rows.
    pub fn compose(&self, own: Option<usize>, word: &str, dim: usize) -> Option<Vec<f32>> {
        let mut sum = vec![0f32; dim];
        let mut rows = 0usize;
        let mut add = |row: &[f32]| {
            sum.iter_mut().zip(row).for_each(|(s, x)| *s += x);
            rows += 1;
        };
        if let Some(id) = own {
            add(&self.word_rows[id * dim..(id + 1) * dim]);
        }
        self.ngrams
            .for_each_bucket(word, |b| add(&self.bucket_rows[b * dim..(b + 1) * dim]));
        if rows == 0 {
            return None;
        }
        let scale = (1.0 / rows as f64) as f32;
        sum.iter_mut().for_each(|s| *s *= scale);
        Some(sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values printed by fastText's own `Dictionary::hash` (src/dictionary.cc, 0.9.2), copied
    /// into a C++ program compiled with g++:
    /// ```c++
    /// uint32_t hash(const std::string& str) {
    ///   uint32_t h = 2166136261;
    ///   for (size_t i = 0; i < str.size(); i++) {
    ///     h = h ^ uint32_t(int8_t(str[i]));
    ///     h = h * 16777619;
    ///   }
    ///   return h;
    /// }
    /// ```
    #[test]
    fn the_hash_is_fasttexts_with_signed_bytes() {
        for (s, h) in [
            ("", 2_166_136_261u32),
            ("a", 3_826_002_220),
            ("<where>", 2_319_392_596),
            ("<wh", 1_048_167_652),
            ("naïve", 3_440_832_043),
            ("aïv", 3_608_356_832),
            ("日本", 4_164_387_409),
            ("<日本>", 3_315_313_759),
            ("é", 1_023_043_777),
            ("</s>", 3_617_362_777),
        ] {
            assert_eq!(fnv1a(s.as_bytes()), h, "{s:?}");
        }
        // Unsigned bytes would give another hash for non-ASCII text.
        let unsigned = "é".bytes().fold(2_166_136_261u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(16_777_619)
        });
        assert_ne!(unsigned, fnv1a("é".as_bytes()));
    }

    #[test]
    fn ngrams_follow_compute_subwords() {
        let ngrams = Ngrams::new(3, 4, 2_000_000).unwrap();
        let found: Vec<String> = ngrams.ngrams("where").into_iter().map(|(s, _)| s).collect();
        let expected = [
            "<wh", "<whe", "whe", "wher", "her", "here", "ere", "ere>", "re>",
        ];
        assert_eq!(found, expected);
        for (s, b) in ngrams.ngrams("where") {
            assert_eq!(b, fnv1a(s.as_bytes()) as usize % 2_000_000);
        }
        // Characters, not bytes: "ï" is two bytes and one character.
        let found: Vec<String> = Ngrams::new(3, 3, 10)
            .unwrap()
            .ngrams("naïve")
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(found, ["<na", "naï", "aïv", "ïve", "ve>"]);
        // A lone boundary is no n-gram; a lone inner character is.
        let ones: Vec<String> = Ngrams::new(1, 1, 10)
            .unwrap()
            .ngrams("ab")
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(ones, ["a", "b"]);
        // The whole bounded word is an n-gram when it is short enough.
        assert_eq!(Ngrams::new(3, 6, 7).unwrap().ngrams("a").len(), 1);
        assert!(Ngrams::default().buckets(EOS).is_empty());
        assert!(Ngrams::new(0, 0, 0).unwrap().buckets("word").is_empty());
        assert_eq!(
            Ngrams::default().buckets("<日本>"),
            Ngrams::default()
                .ngrams("<日本>")
                .into_iter()
                .map(|(_, b)| b)
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn settings_are_checked() {
        for (minn, maxn, bucket, says) in [
            (4, 3, 10, "minn 4 is above maxn 3"),
            (3, 6, 0, "a bucket count of 0"),
            (0, 6, 10, "at least 1 character"),
            (3, 6, 1 << 31, "at most 2147483647"),
        ] {
            let err = Ngrams::new(minn, maxn, bucket).unwrap_err().to_string();
            assert!(err.contains(says), "{err}");
        }
        assert!(Ngrams::new(0, 0, 0).is_ok());
    }

    #[test]
    fn a_word_is_the_mean_of_its_rows() {
        let ngrams = Ngrams::new(3, 3, 4).unwrap();
        let bucket_rows: Vec<f32> = (0..8).map(|i| i as f32).collect();
        let subwords = Subwords {
            ngrams,
            word_rows: vec![10.0, 20.0],
            bucket_rows,
            counts: vec![1],
            training: Training::default(),
        };
        let buckets = ngrams.buckets("ab");
        assert_eq!(buckets.len(), 2, "<ab and ab>");
        let mean = |own: &[f32]| -> Vec<f32> {
            let mut rows: Vec<[f32; 2]> = buckets
                .iter()
                .map(|&b| [(2 * b) as f32, (2 * b + 1) as f32])
                .collect();
            if !own.is_empty() {
                rows.insert(0, [own[0], own[1]]);
            }
            let n = rows.len() as f32;
            (0..2)
                .map(|j| rows.iter().map(|r| r[j]).sum::<f32>() / n)
                .collect()
        };
        let close = |a: Vec<f32>, b: Vec<f32>| a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-6);
        assert!(close(
            subwords.compose(Some(0), "ab", 2).unwrap(),
            mean(&[10.0, 20.0])
        ));
        assert!(close(subwords.compose(None, "ab", 2).unwrap(), mean(&[])));
        let long = Ngrams::new(5, 6, 4).unwrap();
        let none = Subwords {
            ngrams: long,
            ..subwords
        };
        assert_eq!(
            none.compose(None, "ab", 2),
            None,
            "<ab> is shorter than minn"
        );
    }
}
