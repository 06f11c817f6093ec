//! fastText's model file (`.bin`), version 12, as fastText 0.9.2 writes it
//! (`FastText::saveModel`) and gensim's `load_facebook_model` reads it: the word-vector models
//! of `fasttext skipgram` and `fasttext cbow`, with their subword rows.
//!
//! All numbers are little-endian (the byte order of the machines fastText runs on):
//!
//! ```text
//! i32 magic 793712314, i32 version 12
//! args: i32 dim, ws, epoch, minCount, neg, wordNgrams, loss (1 hs, 2 ns, 3 softmax, 4 ova),
//!       model (1 cbow, 2 sg, 3 sup), bucket, minn, maxn, lrUpdateRate; f64 t
//! dictionary: i32 size, nwords, nlabels; i64 ntokens, pruneidx_size (-1: not pruned);
//!       size entries of (word bytes, 0, i64 count, i8 type 0 word / 1 label);
//!       pruneidx_size pairs of i32
//! u8 quantized input (0), input matrix: i64 rows (nwords + bucket), i64 dim, f32 values
//! u8 quantized output (0), output matrix: i64 rows (nwords), i64 dim, f32 values
//! ```
//!
//! A supervised model (a classifier: labels, `model` 3), a quantized one (`.ftz`, pruned), and a
//! file of another version are refused, each said as such; so is a file that ends early or goes
//! on after the output matrix. Reading keeps the whole model (the training settings and the
//! output layer too), so that writing it back gives the same bytes. A store with subwords made
//! elsewhere is written with fastText's defaults for the settings it does not record, and a
//! zero output layer when it has none (fastText starts its output layer at zero).

use std::io::{BufWriter, ErrorKind, Read, Write};
use std::path::Path;

use crate::embeddings::subwords::{Arch, Loss, Ngrams, Subwords, Training};
use crate::embeddings::Embeddings;
use crate::error::{Error, Result};

/// `FASTTEXT_FILEFORMAT_MAGIC_INT32`.
pub const MAGIC: i32 = 793_712_314;
/// `FASTTEXT_VERSION`: the version fastText has written since 2017.
pub const VERSION: i32 = 12;
/// A dictionary word longer than this is taken for a corrupt file.
const MAX_WORD_BYTES: usize = 1 << 16;
/// `model_name::sup`.
const SUPERVISED: i32 = 3;

/// Whether `head` starts with fastText's magic number.
pub fn has_magic(head: &[u8]) -> bool {
    head.starts_with(&MAGIC.to_le_bytes())
}

/// Reads a fastText model from `reader` (uncompressed, from its first byte), naming it `path`
/// in errors; `limit` keeps the first N words (every n-gram row is kept).
pub(super) fn read<R: Read>(reader: R, path: &Path, limit: Option<usize>) -> Result<Embeddings> {
    let mut bin = Bin {
        reader,
        path,
        offset: 0,
    };
    let magic = bin.i32("the magic number")?;
    if magic != MAGIC {
        return Err(
            bin.bad("is not a fastText model: it does not start with fastText's magic number")
        );
    }
    let version = bin.i32("the version")?;
    if version != VERSION {
        return Err(bin.bad(&format!(
            "is a fastText model of version {version}; seqmodels reads version {VERSION}, \
             which fastText has written since 2017 (0.1 to 0.9)"
        )));
    }
    let header = Header::read(&mut bin)?;
    let dictionary = Dictionary::read(&mut bin)?;
    if bin.u8("the quantization flag")? != 0 {
        return Err(bin.quantized());
    }
    let (nwords, dim, bucket) = (dictionary.words.len(), header.dim, header.ngrams.bucket);
    bin.shape("the input matrix", nwords + bucket, dim)?;
    let keep = limit.unwrap_or(usize::MAX).min(nwords);
    let word_rows = bin.rows("the word rows of the input matrix", nwords, keep, dim)?;
    let bucket_rows = bin.rows("the n-gram rows of the input matrix", bucket, bucket, dim)?;
    if bin.u8("the output quantization flag")? != 0 {
        return Err(bin.quantized());
    }
    bin.shape("the output matrix", nwords, dim)?;
    let output = bin.rows("the output matrix", nwords, keep, dim)?;
    bin.end()?;
    let Dictionary {
        mut words,
        mut counts,
        tokens,
    } = dictionary;
    words.truncate(keep);
    counts.truncate(keep);
    let training = Training {
        tokens,
        output,
        ..header.training
    };
    let subwords = Subwords {
        ngrams: header.ngrams,
        word_rows,
        bucket_rows,
        counts,
        training,
    };
    Embeddings::with_subwords(words, dim, subwords).map_err(|e| bin.bad(&e.to_string()))
}

/// Refuses a store that fastText's model file cannot hold: one without subword rows, or
/// one too large for fastText's 32-bit counts.
pub(super) fn check_writable(emb: &Embeddings) -> Result<()> {
    let Some(s) = emb.subwords() else {
        return Err(Error::Config(
            "fastText's model file holds subword vectors, and these vectors have no n-gram rows: \
             write them as word2vec (.bin, .txt, .vec) or GloVe (.glove)"
                .into(),
        ));
    };
    let t = &s.training;
    let fits = [
        emb.len() + s.ngrams.bucket,
        emb.dim(),
        t.window,
        t.epochs,
        t.min_count,
    ]
    .into_iter()
    .chain([t.negative, t.lr_update_rate, s.ngrams.minn, s.ngrams.maxn])
    .all(|n| i32::try_from(n).is_ok());
    if !fits {
        return Err(Error::Config(
            "these vectors are too large for fastText's model file (its sizes are 32-bit)".into(),
        ));
    }
    Ok(())
}

/// Writes `emb`, which [`check_writable`] has accepted, as fastText's model file.
pub(super) fn write<W: Write>(emb: &Embeddings, writer: W, path: &Path) -> Result<()> {
    let s = emb
        .subwords()
        .ok_or_else(|| Error::Config("no subword rows".into()))?;
    let (t, n) = (&s.training, &s.ngrams);
    let int = |v: usize| (v as i32).to_le_bytes();
    let mut out = BufWriter::with_capacity(1 << 16, writer);
    let mut put = |bytes: &[u8]| {
        out.write_all(bytes)
            .map_err(|e| Error::io("writing", path, e))
    };
    put(&MAGIC.to_le_bytes())?;
    put(&VERSION.to_le_bytes())?;
    for v in [emb.dim(), t.window, t.epochs, t.min_count, t.negative, 1] {
        put(&int(v))?;
    }
    put(&loss_code(t.loss).to_le_bytes())?;
    put(&arch_code(t.arch).to_le_bytes())?;
    for v in [n.bucket, n.minn, n.maxn, t.lr_update_rate] {
        put(&int(v))?;
    }
    put(&t.sample.to_le_bytes())?;
    put(&int(emb.len()))?;
    put(&int(emb.len()))?;
    put(&0i32.to_le_bytes())?;
    put(&(t.tokens as i64).to_le_bytes())?;
    put(&(-1i64).to_le_bytes())?;
    for (word, &count) in emb.words().iter().zip(&s.counts) {
        put(word.as_bytes())?;
        put(&[0])?;
        put(&(count.min(i64::MAX as u64) as i64).to_le_bytes())?;
        put(&[0])?;
    }
    put(&[0])?;
    let dim = emb.dim() as i64;
    put(&((emb.len() + n.bucket) as i64).to_le_bytes())?;
    put(&dim.to_le_bytes())?;
    for rows in [&s.word_rows, &s.bucket_rows] {
        for chunk in rows.chunks(1 << 14) {
            put(&le_bytes(chunk))?;
        }
    }
    put(&[0])?;
    put(&(emb.len() as i64).to_le_bytes())?;
    put(&dim.to_le_bytes())?;
    if t.output.is_empty() {
        let zeros = vec![0u8; emb.dim() * 4];
        for _ in 0..emb.len() {
            put(&zeros)?;
        }
    } else {
        for chunk in t.output.chunks(1 << 14) {
            put(&le_bytes(chunk))?;
        }
    }
    out.flush().map_err(|e| Error::io("writing", path, e))
}

fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn loss_code(loss: Loss) -> i32 {
    match loss {
        Loss::HierarchicalSoftmax => 1,
        Loss::NegativeSampling => 2,
        Loss::Softmax => 3,
        Loss::OneVsAll => 4,
    }
}

fn arch_code(arch: Arch) -> i32 {
    match arch {
        Arch::Cbow => 1,
        Arch::SkipGram => 2,
    }
}

/// The args block: the dimension, the n-gram settings and the rest of the training settings.
struct Header {
    dim: usize,
    ngrams: Ngrams,
    training: Training,
}

impl Header {
    fn read<R: Read>(bin: &mut Bin<R>) -> Result<Header> {
        let mut ints = [0i32; 12];
        for (i, v) in ints.iter_mut().enumerate() {
            *v = bin.i32(ARG_NAMES[i])?;
        }
        let sample = bin.f64("the args (t)")?;
        let [dim, ws, epoch, min_count, neg, _word_ngrams, loss, model, bucket, minn, maxn, lr_update] =
            ints;
        if model == SUPERVISED {
            return Err(bin.supervised());
        }
        let arch = match model {
            1 => Arch::Cbow,
            2 => Arch::SkipGram,
            _ => return Err(bin.bad(&format!("has an unknown model type {model} in its args"))),
        };
        let loss = match loss {
            1 => Loss::HierarchicalSoftmax,
            2 => Loss::NegativeSampling,
            3 => Loss::Softmax,
            4 => Loss::OneVsAll,
            _ => return Err(bin.bad(&format!("has an unknown loss {loss} in its args"))),
        };
        let size = |v: i32, what: &str| {
            usize::try_from(v).map_err(|_| bin.bad(&format!("has {what} {v} in its args")))
        };
        let dim = size(dim, "dimension")?;
        if dim == 0 {
            return Err(bin.bad("has dimension 0 in its args"));
        }
        let ngrams = Ngrams {
            minn: size(minn, "minn")?,
            maxn: size(maxn, "maxn")?,
            bucket: size(bucket, "bucket count")?,
        };
        ngrams
            .validate()
            .map_err(|e| bin.bad(&format!("has n-gram settings fastText cannot use: {e}")))?;
        let training = Training {
            arch,
            loss,
            window: size(ws, "window")?,
            epochs: size(epoch, "epoch count")?,
            min_count: size(min_count, "minCount")?,
            negative: size(neg, "negative count")?,
            sample,
            lr_update_rate: size(lr_update, "lrUpdateRate")?,
            tokens: 0,
            output: Vec::new(),
        };
        Ok(Header {
            dim,
            ngrams,
            training,
        })
    }
}

const ARG_NAMES: [&str; 12] = [
    "the args (dim)",
    "the args (ws)",
    "the args (epoch)",
    "the args (minCount)",
    "the args (neg)",
    "the args (wordNgrams)",
    "the args (loss)",
    "the args (model)",
    "the args (bucket)",
    "the args (minn)",
    "the args (maxn)",
    "the args (lrUpdateRate)",
];

/// The words of the dictionary, their counts, and the corpus size.
struct Dictionary {
    words: Vec<String>,
    counts: Vec<u64>,
    tokens: u64,
}

impl Dictionary {
    fn read<R: Read>(bin: &mut Bin<R>) -> Result<Dictionary> {
        let size = bin.i32("the dictionary size")?;
        let nwords = bin.i32("the dictionary size")?;
        let nlabels = bin.i32("the dictionary size")?;
        let tokens = bin.i64("the dictionary's token count")?;
        let pruned = bin.i64("the dictionary's pruning index size")?;
        if nlabels > 0 {
            return Err(bin.supervised());
        }
        if nwords < 0 || nlabels < 0 || size != nwords + nlabels || tokens < 0 {
            return Err(bin.bad(&format!(
                "has a corrupt dictionary: {size} entries for {nwords} words and {nlabels} labels"
            )));
        }
        if pruned != -1 {
            // Only `fasttext quantize -cutoff` prunes, and fastText refuses a pruned model that
            // is not quantized.
            return Err(bin.quantized());
        }
        let nwords = nwords as usize;
        let (mut words, mut counts) = (Vec::new(), Vec::new());
        // Room grows with what the file holds, past what a lying size could reserve.
        words.reserve(nwords.min(1 << 16));
        counts.reserve(nwords.min(1 << 16));
        for k in 1..=nwords {
            let what = format!("word {k} of {nwords} of the dictionary");
            let bytes = bin.word(&what)?;
            let count = bin.i64(&what)?;
            let kind = bin.u8(&what)?;
            let word = String::from_utf8(bytes).map_err(|e| {
                let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let lossy = crate::limits::quote(&lossy);
                bin.bad(&format!("has a word that is not UTF-8: {what}, {lossy}"))
            })?;
            if kind == 1 {
                return Err(bin.supervised());
            }
            if kind != 0 || count < 0 {
                let word = crate::limits::quote(&word);
                return Err(bin.bad(&format!("has a corrupt entry: {what}, {word}")));
            }
            words.push(word);
            counts.push(count as u64);
        }
        Ok(Dictionary {
            words,
            counts,
            tokens: tokens as u64,
        })
    }
}

/// A reader that knows where it is, for errors that say what the file is and where it ends.
struct Bin<'a, R> {
    reader: R,
    path: &'a Path,
    offset: u64,
}

impl<R: Read> Bin<'_, R> {
    fn bad(&self, reason: &str) -> Error {
        Error::BadFile {
            path: self.path.into(),
            reason: reason.to_owned(),
        }
    }

    fn supervised(&self) -> Error {
        self.bad(
            "is a supervised fastText model (a text classifier with labels), not word vectors; \
             seqmodels reads the models of `fasttext skipgram` and `fasttext cbow`",
        )
    }

    fn quantized(&self) -> Error {
        self.bad(
            "is a quantized fastText model (`fasttext quantize`, .ftz): its vectors are \
             compressed; seqmodels reads the full .bin model",
        )
    }

    fn exact(&mut self, buf: &mut [u8], what: &str) -> Result<()> {
        match self.reader.read_exact(buf) {
            Ok(()) => {
                self.offset += buf.len() as u64;
                Ok(())
            }
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => Err(self.bad(&format!(
                "is truncated: the file ends in {what} (after byte {})",
                self.offset
            ))),
            Err(e) => Err(Error::io("reading", self.path, e)),
        }
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut buf = [0u8; N];
        self.exact(&mut buf, what)?;
        Ok(buf)
    }

    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }

    fn i32(&mut self, what: &str) -> Result<i32> {
        self.array(what).map(i32::from_le_bytes)
    }

    fn i64(&mut self, what: &str) -> Result<i64> {
        self.array(what).map(i64::from_le_bytes)
    }

    fn f64(&mut self, what: &str) -> Result<f64> {
        self.array(what).map(f64::from_le_bytes)
    }

    /// The bytes up to a 0.
    fn word(&mut self, what: &str) -> Result<Vec<u8>> {
        let mut word = Vec::new();
        loop {
            match self.u8(what)? {
                0 => return Ok(word),
                _ if word.len() == MAX_WORD_BYTES => {
                    return Err(
                        self.bad(&format!("has a corrupt dictionary: {what} is over 64 KiB"))
                    )
                }
                b => word.push(b),
            }
        }
    }

    /// A matrix header that must give `rows` rows of dimension `dim`.
    fn shape(&mut self, what: &str, rows: usize, dim: usize) -> Result<()> {
        let m = self.i64(what)?;
        let n = self.i64(what)?;
        if m != rows as i64 || n != dim as i64 {
            return Err(self.bad(&format!(
                "has a corrupt model: {what} is {m} x {n}, where the dictionary and args give \
                 {rows} x {dim}"
            )));
        }
        Ok(())
    }

    /// `rows` rows of `dim` values, of which the first `keep` are returned. Values arrive in
    /// chunks, so that a corrupt size allocates only what the file holds; a value that is not
    /// finite is an error naming its row.
    fn rows(&mut self, what: &str, rows: usize, keep: usize, dim: usize) -> Result<Vec<f32>> {
        let total = rows * dim;
        let mut values = Vec::with_capacity((keep * dim).min(1 << 20));
        let mut chunk = vec![0u8; 1 << 16];
        let mut done = 0;
        while done < total {
            let take = (total - done).min(chunk.len() / 4);
            self.exact(&mut chunk[..take * 4], what)?;
            let kept = (keep * dim).saturating_sub(done).min(take);
            let start = values.len();
            values.extend(
                chunk[..kept * 4]
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            );
            if let Some(i) = values[start..].iter().position(|v| !v.is_finite()) {
                let row = (done + i) / dim + 1;
                let v = values[start + i];
                return Err(self.bad(&format!("holds {v} in row {row} of {what}")));
            }
            done += take;
        }
        Ok(values)
    }

    /// Nothing may follow the output matrix.
    fn end(&mut self) -> Result<()> {
        let mut byte = [0u8; 1];
        match self.reader.read(&mut byte) {
            Ok(0) => Ok(()),
            Ok(_) => Err(self.bad(&format!(
                "goes on after the output matrix (at byte {}): not a fastText model file",
                self.offset
            ))),
            Err(e) => Err(Error::io("reading", self.path, e)),
        }
    }
}

#[cfg(test)]
mod tests;
