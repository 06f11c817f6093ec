//! Intrinsic evaluation of word vectors: the word-analogy test of Mikolov et al. (2013,
//! "Efficient Estimation of Word Representations in Vector Space"; the Google
//! `questions-words.txt` set) and correlation with human similarity judgements such as
//! WordSim-353 (Finkelstein et al. 2001, "Placing Search in Context: The Concept Revisited").
//!
//! The semantics follow gensim 4.x's `KeyedVectors.evaluate_word_analogies` and
//! `evaluate_word_pairs` (default arguments, `dummy4unknown=False`), so that the figures are
//! comparable with gensim's for the same vectors and files:
//!
//! * only the first `restrict_vocab` words form the vocabulary, both for out-of-vocabulary
//!   checks and as answer candidates;
//! * with `case_insensitive`, words and questions are upper-cased, and where several words
//!   upper-case to the same key, the first (most frequent) one stands for it;
//! * a question with an out-of-vocabulary word is skipped: counted in `total`, not in `seen`;
//! * the answer is 3CosAdd: the unit vectors of `b` and `c` minus that of `a`, normalised,
//!   against every unit vector; the rows of `a`, `b`, `c` are excluded, and of the five best
//!   rows the first whose key is not one of the question's words is the prediction (if all
//!   five are, the fifth, which is then wrong unless the expected word is a question word).
//!
//! Questions are answered in blocks against cache-sized tiles of the unit vectors, on all
//! cores (with AVX2/FMA where the CPU has them). Scores are computed in `f32` for speed and the
//! best candidates re-scored exactly in `f64`, so only near-ties within gensim's own `f32`
//! rounding can decide differently; exact ties go to the lower (more frequent) row.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use super::Embeddings;
use crate::error::{Error, Result};

/// gensim asks `most_similar` for this many answers and keeps the first that is no question word.
const GENSIM_TOPN: usize = 5;
/// Candidates kept from the `f32` pass; the margin over [`GENSIM_TOPN`] absorbs `f32` rounding,
/// so the exact top five are always among them.
const CANDIDATES: usize = 12;
/// Questions scanned together: each packed tile of rows is reused this many times, which
/// makes packing negligible, while their packed queries still fit the L2/L3 cache.
const QUERY_BLOCK: usize = 1024;
/// Rows per micro-kernel call (one AVX register, two SSE ones).
const NR: usize = 8;
/// Bytes of packed rows per tile, to stay in the L1 cache.
const TILE_BYTES: usize = 32 * 1024;

/// Accuracy on one section of an analogy file (or on all of them).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionScore {
    /// The name from the section's `: name` line, or `Total accuracy` for the aggregate.
    pub name: String,
    /// Questions answered correctly.
    pub correct: usize,
    /// Questions whose four words are all in the vocabulary (the ones answered).
    pub seen: usize,
    /// Questions in the file for this section.
    pub total: usize,
}

impl SectionScore {
    /// `correct / seen`, or 0 when no question was seen (as gensim reports it).
    pub fn accuracy(&self) -> f64 {
        // `correct` is 0 whenever `seen` is.
        self.correct as f64 / self.seen.max(1) as f64
    }
}

/// The result of [`evaluate_analogies`]: per section in file order, and the aggregate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalogyReport {
    /// One entry per `: name` line, in file order (a repeated name gives a second entry).
    pub sections: Vec<SectionScore>,
    /// All sections together, named `Total accuracy` as in gensim.
    pub total: SectionScore,
}

/// The result of [`evaluate_pairs`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairsReport {
    /// Pearson correlation between gold scores and cosine similarities (NaN if undefined).
    pub pearson: f64,
    /// Spearman rank correlation, ties given their average rank (NaN if undefined).
    pub spearman: f64,
    /// Percentage of pairs with a word outside the vocabulary, as gensim returns it.
    pub oov_percent: f64,
    /// Pairs in the file.
    pub pairs: usize,
    /// Pairs with both words in the vocabulary, the ones correlated (with
    /// [`EvalOptions::oov_ngrams`], also those answered from n-grams).
    pub used: usize,
    /// Pairs of `used` with a word answered from its character n-grams.
    pub from_ngrams: usize,
}

/// Vocabulary settings shared by both evaluations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalOptions {
    /// Only the first this many words (the most frequent, in word2vec order) are the vocabulary.
    pub restrict_vocab: usize,
    /// Compare upper-cased words; the first of several colliding words stands for them all.
    pub case_insensitive: bool,
    /// In word pairs, answer a word outside the vocabulary from its character n-grams (its
    /// own row too, if it has one past `restrict_vocab`), as fastText does, when the vectors
    /// have subwords. Off in gensim's `evaluate_word_pairs`, which counts such pairs as
    /// out of vocabulary.
    pub oov_ngrams: bool,
}

impl Default for EvalOptions {
    /// gensim's defaults: `restrict_vocab=300000`, `case_insensitive=True`.
    fn default() -> Self {
        EvalOptions {
            restrict_vocab: 300_000,
            case_insensitive: true,
            oov_ngrams: false,
        }
    }
}

/// Scores the analogy file at `path`: `: name` section lines, then `a b c d` questions ("a is
/// to b as c is to d"). Blank lines are skipped; a question before the first section, or a
/// line of other than 4 words, is an error (gensim raises for the former, skips the latter).
pub fn evaluate_analogies(
    emb: &Embeddings,
    path: &Path,
    options: &EvalOptions,
) -> Result<AnalogyReport> {
    evaluate_analogies_from(emb, &read_text(path)?, path, options)
}

/// [`evaluate_analogies`] on `text`; `name` is the file named in error messages.
pub fn evaluate_analogies_from(
    emb: &Embeddings,
    text: &str,
    name: &Path,
    options: &EvalOptions,
) -> Result<AnalogyReport> {
    let vocab = EvalVocab::new(emb, options);
    let (mut sections, questions) = parse_analogies(text, name, &vocab)?;
    if sections.iter().all(|s| s.total == 0) {
        return Err(Error::nothing_in(name, "analogy questions"));
    }
    for (q, ok) in questions.iter().zip(answer_all(emb, &vocab, &questions)) {
        sections[q.section].correct += usize::from(ok);
    }
    let mut total = section("Total accuracy");
    for s in &sections {
        total.correct += s.correct;
        total.seen += s.seen;
        total.total += s.total;
    }
    Ok(AnalogyReport { sections, total })
}

/// Scores the word-pair file at `path`: `word<TAB>word<TAB>score` lines; `#` and blank lines
/// are skipped, any other line that does not parse is an error (gensim skips it). As in
/// gensim, it is an error when no pair has both words in the vocabulary.
pub fn evaluate_pairs(emb: &Embeddings, path: &Path, options: &EvalOptions) -> Result<PairsReport> {
    evaluate_pairs_from(emb, &read_text(path)?, path, options)
}

/// [`evaluate_pairs`] on `text`; `name` is the file named in error messages.
pub fn evaluate_pairs_from(
    emb: &Embeddings,
    text: &str,
    name: &Path,
    options: &EvalOptions,
) -> Result<PairsReport> {
    let vocab = EvalVocab::new(emb, options);
    let (mut gold, mut model, mut oov, mut from_ngrams) = (Vec::new(), Vec::new(), 0usize, 0);
    let vector = |w: &str| match vocab.lookup(w) {
        Some(row) => Some((Cow::Borrowed(emb.vector(row)), false)),
        None if options.oov_ngrams => emb.get_vector(w).ok().map(|v| (v, true)),
        None => None,
    };
    for (i, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        // As in gensim, the words are taken as they are; only the score is trimmed.
        let [a, b, score] = fields[..] else {
            let reason = format!("expected 3 tab-separated fields, not {}", fields.len());
            return Err(bad_line(name, i + 1, reason));
        };
        let Some(score) = score.trim().parse::<f64>().ok().filter(|s| s.is_finite()) else {
            let reason = format!("score {score:?} is not a number");
            return Err(bad_line(name, i + 1, reason));
        };
        if let (Some((a, oov_a)), Some((b, oov_b))) = (vector(a), vector(b)) {
            gold.push(score);
            model.push(cosine(&a, &b));
            from_ngrams += usize::from(oov_a || oov_b);
        } else {
            oov += 1;
        }
    }
    if gold.is_empty() {
        let reason = if oov == 0 {
            "has no word pairs".to_owned()
        } else {
            format!(
                "none of its {oov} pairs is among the first {} words",
                vocab.rows
            )
        };
        let path = name.to_path_buf();
        return Err(Error::BadFile { path, reason });
    }
    let (pairs, used) = (gold.len() + oov, gold.len());
    let oov_percent = oov as f64 / pairs as f64 * 100.0;
    let (pearson, spearman) = (pearson(&gold, &model), spearman(&gold, &model));
    Ok(PairsReport {
        pearson,
        spearman,
        oov_percent,
        pairs,
        used,
        from_ngrams,
    })
}

/// Pearson's correlation coefficient, computed as `scipy.stats.pearsonr` does. NaN when the
/// lengths differ, there are fewer than two values, or one side is constant.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    if x.len() != y.len() || x.len() < 2 {
        return f64::NAN;
    }
    // Centred, then scaled by the largest magnitude as scipy does, so squares cannot overflow.
    let centred = |v: &[f64]| {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let mut c: Vec<f64> = v.iter().map(|x| x - mean).collect();
        let max = c.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        c.iter_mut().for_each(|x| *x /= max);
        let norm = c.iter().map(|x| x * x).sum::<f64>().sqrt();
        (c, norm)
    };
    let ((cx, nx), (cy, ny)) = (centred(x), centred(y));
    if !(nx > 0.0 && ny > 0.0) {
        return f64::NAN;
    }
    let r: f64 = cx.iter().zip(&cy).map(|(a, b)| (a / nx) * (b / ny)).sum();
    r.clamp(-1.0, 1.0)
}

/// Spearman's rank correlation: Pearson's on the ranks, tied values sharing their average rank
/// (as `scipy.stats.spearmanr`). NaN where [`pearson`] is, or when a value is NaN.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    if x.iter().chain(y).any(|v| v.is_nan()) {
        return f64::NAN;
    }
    pearson(&average_ranks(x), &average_ranks(y))
}

/// 1-based ranks, ties averaged (scipy's `rankdata(method="average")`).
fn average_ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut ranks = vec![0.0; v.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && v[order[end]] == v[order[start]] {
            end += 1;
        }
        // Positions start..end hold ranks start+1..=end, whose mean is (start + 1 + end) / 2.
        let rank = (start + 1 + end) as f64 / 2.0;
        order[start..end].iter().for_each(|&i| ranks[i] = rank);
        start = end;
    }
    ranks
}

fn bad_line(path: &Path, line: usize, reason: impl Into<String>) -> Error {
    let (path, reason) = (path.to_path_buf(), reason.into());
    Error::BadLine { path, line, reason }
}

/// Reads a UTF-8 file line by line (each line bounded by [`crate::text::max_line_bytes`]),
/// naming the first line that is not valid UTF-8 or too long.
fn read_text(path: &Path) -> Result<String> {
    let mut text = crate::text::read_lines(path)?.join("\n");
    text.push('\n');
    Ok(text)
}

fn section(name: &str) -> SectionScore {
    let name = name.to_owned();
    SectionScore {
        name,
        correct: 0,
        seen: 0,
        total: 0,
    }
}

/// gensim's `ok_vocab`: the first `restrict_vocab` words, keyed (upper-cased if asked) to the
/// first row with that key.
struct EvalVocab<'a> {
    emb: &'a Embeddings,
    rows: usize,
    /// `None` when case-sensitive: then the store's own index, cut at `rows`, is the lookup.
    keys: Option<HashMap<String, usize>>,
    /// The row that stands for each row's key (itself unless an earlier row has the same key).
    canonical: Vec<usize>,
}

impl<'a> EvalVocab<'a> {
    fn new(emb: &'a Embeddings, options: &EvalOptions) -> Self {
        let rows = options.restrict_vocab.min(emb.len());
        let (keys, canonical) = if options.case_insensitive {
            let mut keys = HashMap::with_capacity(rows);
            let canonical: Vec<usize> = (0..rows)
                .map(|row| *keys.entry(emb.word(row).to_uppercase()).or_insert(row))
                .collect();
            (Some(keys), canonical)
        } else {
            (None, (0..rows).collect())
        };
        EvalVocab {
            emb,
            rows,
            keys,
            canonical,
        }
    }

    fn lookup(&self, word: &str) -> Option<usize> {
        match &self.keys {
            Some(keys) => keys.get(&word.to_uppercase()).copied(),
            None => self.emb.id(word).filter(|&row| row < self.rows),
        }
    }
}

/// A seen question as canonical rows `[a, b, c, expected]`: "a is to b as c is to expected".
struct Question {
    section: usize,
    rows: [usize; 4],
}

fn parse_analogies(
    text: &str,
    name: &Path,
    vocab: &EvalVocab,
) -> Result<(Vec<SectionScore>, Vec<Question>)> {
    let (mut sections, mut questions) = (Vec::new(), Vec::new());
    for (i, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        if line.starts_with(": ") {
            // gensim's `line.lstrip(': ').strip()`.
            sections.push(section(line.trim_start_matches([':', ' ']).trim()));
            continue;
        }
        // Python's `str.split()` also splits at the ASCII separators 0x1c-0x1f.
        let words: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() {
            continue;
        }
        let Some(section) = sections.len().checked_sub(1) else {
            let reason = "question before any `: section` line";
            return Err(bad_line(name, i + 1, reason));
        };
        if words.len() != 4 {
            let reason = format!("expected 4 words, not {}", words.len());
            return Err(bad_line(name, i + 1, reason));
        }
        let score = &mut sections[section];
        score.total += 1;
        if let [Some(a), Some(b), Some(c), Some(d)] = [0, 1, 2, 3].map(|k| vocab.lookup(words[k])) {
            score.seen += 1;
            let rows = [a, b, c, d];
            questions.push(Question { section, rows });
        }
    }
    Ok((sections, questions))
}

fn norm(v: &[f32]) -> f64 {
    v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt()
}

fn dot(x: &[f32], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(&a, &b)| f64::from(a) * b).sum()
}

/// Cosine similarity in `f64`; 0 for a zero vector (gensim's `unitvec` leaves it at zero).
fn cosine(x: &[f32], y: &[f32]) -> f64 {
    let (nx, ny) = (norm(x), norm(y));
    if nx == 0.0 || ny == 0.0 {
        return 0.0;
    }
    let y: Vec<f64> = y.iter().map(|&v| f64::from(v)).collect();
    dot(x, &y) / (nx * ny)
}

/// Whether each question is answered correctly. The questions are split evenly into one
/// contiguous chunk per thread; each question's result depends on its own arithmetic only,
/// so the outcome does not depend on the number of threads.
fn answer_all(emb: &Embeddings, vocab: &EvalVocab, questions: &[Question]) -> Vec<bool> {
    if questions.is_empty() || vocab.rows == 0 {
        return vec![false; questions.len()];
    }
    let norms: Vec<f64> = (0..vocab.rows).map(|r| norm(emb.vector(r))).collect();
    let run = |chunk: &[Question]| -> Vec<bool> {
        let blocks = chunk.chunks(QUERY_BLOCK);
        blocks
            .flat_map(|b| answer_block(emb, vocab, &norms, b))
            .collect()
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(questions.len().div_ceil(64));
    if threads == 1 {
        return run(questions);
    }
    std::thread::scope(|s| {
        let chunks = questions.chunks(questions.len().div_ceil(threads));
        let handles: Vec<_> = chunks.map(|chunk| s.spawn(move || run(chunk))).collect();
        // A worker only panics on a bug; re-raising keeps its message.
        let join = |h: std::thread::ScopedJoinHandle<'_, Vec<bool>>| {
            h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
        };
        handles.into_iter().flat_map(join).collect()
    })
}

/// The exact (`f64`) 3CosAdd query of a question, unit length (or zero).
fn query(emb: &Embeddings, norms: &[f64], q: &Question) -> Vec<f64> {
    let mut v = vec![0.0f64; emb.dim()];
    let [a, b, c, _] = q.rows;
    for (row, weight) in [(b, 1.0), (c, 1.0), (a, -1.0)] {
        if norms[row] > 0.0 {
            let scale = weight / norms[row];
            let terms = v.iter_mut().zip(emb.vector(row));
            terms.for_each(|(x, &y)| *x += scale * f64::from(y));
        }
    }
    let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
    v
}

/// The best rows of one question by `f32` score, best first, the rows of `a`, `b`, `c` left
/// out (gensim drops them from `most_similar`'s list).
struct TopRows {
    items: Vec<(f32, usize)>,
    /// The score to beat: the last kept one once the list is full.
    floor: f32,
    exclude: [usize; 3],
}

impl TopRows {
    fn new(q: &Question) -> Self {
        let (items, floor) = (Vec::with_capacity(CANDIDATES + 1), f32::NEG_INFINITY);
        let exclude = [q.rows[0], q.rows[1], q.rows[2]];
        TopRows {
            items,
            floor,
            exclude,
        }
    }

    fn offer(&mut self, score: f32, row: usize) {
        // Rows arrive in ascending order, so `<=` keeps the earlier row of a tie.
        if score.is_nan() || score <= self.floor || self.exclude.contains(&row) {
            return;
        }
        let at = self.items.partition_point(|&(s, _)| s >= score);
        self.items.insert(at, (score, row));
        self.items.truncate(CANDIDATES);
        if self.items.len() == CANDIDATES {
            self.floor = self.items[CANDIDATES - 1].0;
        }
    }
}

fn answer_block(emb: &Embeddings, vocab: &EvalVocab, norms: &[f64], qs: &[Question]) -> Vec<bool> {
    let exact: Vec<Vec<f64>> = qs.iter().map(|q| query(emb, norms, q)).collect();
    let mut tops: Vec<TopRows> = qs.iter().map(TopRows::new).collect();
    let unit = &emb.unit_vectors()[..vocab.rows * emb.dim()];
    scan_rows(unit, &exact, &mut tops);
    let predict = |((q, top), exact): ((&Question, &TopRows), &Vec<f64>)| {
        // gensim's choice, on exact scores: of the five best rows the first whose key is no
        // question word; failing that, the last of them.
        let score = |row: usize| dot(emb.vector(row), exact) / norms[row].max(f64::MIN_POSITIVE);
        let mut rescored: Vec<(f64, usize)> =
            top.items.iter().map(|&(_, r)| (score(r), r)).collect();
        rescored.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        let mut predicted = None;
        for &(_, row) in rescored.iter().take(GENSIM_TOPN) {
            predicted = Some(vocab.canonical[row]);
            if !q.rows[..3].contains(&vocab.canonical[row]) {
                break;
            }
        }
        predicted == Some(q.rows[3])
    };
    qs.iter().zip(&tops).zip(&exact).map(predict).collect()
}

/// Offers every row of `unit` (row-major) to each query's [`TopRows`], by `f32` dot product,
/// with the widest vector instructions this CPU has.
fn scan_rows(unit: &[f32], queries: &[Vec<f64>], tops: &mut [TopRows]) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has the features that `scan_avx2` is compiled for.
        return unsafe { scan_avx2(unit, queries, tops) };
    }
    scan::<false, 4>(unit, queries, tops)
}

/// [`scan`] compiled for AVX2 with fused multiply-adds: 8 lanes, and 8 queries at a time so
/// that 8 independent accumulators hide the FMA latency.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn scan_avx2(unit: &[f32], queries: &[Vec<f64>], tops: &mut [TopRows]) {
    scan::<true, 8>(unit, queries, tops)
}

/// [`scan_rows`] for MR queries at a time. Rows are packed tile by tile into panels of NR and
/// queries into groups of MR, both component-major, so the micro-kernel reads consecutive
/// values only.
#[inline(always)]
fn scan<const FUSED: bool, const MR: usize>(unit: &[f32], qs: &[Vec<f64>], tops: &mut [TopRows]) {
    let Some(dim) = qs.first().map(Vec::len).filter(|&d| d > 0) else {
        return;
    };
    let mut packed_q = vec![0.0f32; qs.len().div_ceil(MR) * MR * dim];
    for (i, q) in qs.iter().enumerate() {
        let group = &mut packed_q[(i / MR) * MR * dim..];
        for (k, &x) in q.iter().enumerate() {
            group[k * MR + i % MR] = x as f32;
        }
    }
    let rows = unit.len() / dim;
    let tile_rows = (TILE_BYTES / (4 * dim * NR)).max(1) * NR;
    let mut panels = vec![0.0f32; tile_rows * dim];
    for start in (0..rows).step_by(tile_rows) {
        let n = tile_rows.min(rows - start);
        panels.fill(0.0);
        let tile = unit[start * dim..(start + n) * dim].chunks_exact(dim);
        for (r, row) in tile.enumerate() {
            let panel = &mut panels[(r / NR) * NR * dim..];
            for (k, &x) in row.iter().enumerate() {
                panel[k * NR + r % NR] = x;
            }
        }
        let panels = &panels[..n.div_ceil(NR) * NR * dim];
        for (g, group) in packed_q.chunks_exact(MR * dim).enumerate() {
            for (p, panel) in panels.chunks_exact(NR * dim).enumerate() {
                let scores = micro_kernel::<FUSED, MR>(group, panel);
                for (top, row_scores) in tops[g * MR..].iter_mut().zip(&scores) {
                    // Almost every panel is rejected by this one branch-free maximum.
                    let best = row_scores.iter().fold(f32::NEG_INFINITY, |m, &s| m.max(s));
                    if best <= top.floor {
                        continue;
                    }
                    let first = start + p * NR;
                    for (j, &s) in row_scores.iter().enumerate().take(start + n - first) {
                        top.offer(s, first + j);
                    }
                }
            }
        }
    }
}

/// Dot products of MR queries with NR rows, both packed component-major. Each sum runs over
/// the components in order, so a score does not depend on the block or tile it is computed in.
#[inline(always)]
fn micro_kernel<const FUSED: bool, const MR: usize>(qs: &[f32], panel: &[f32]) -> [[f32; NR]; MR] {
    let mut acc = [[0.0f32; NR]; MR];
    for (q, u) in qs.chunks_exact(MR).zip(panel.chunks_exact(NR)) {
        for (acc, &a) in acc.iter_mut().zip(q) {
            for (acc, &u) in acc.iter_mut().zip(u) {
                // `mul_add` is one instruction only where FMA is enabled.
                *acc = if FUSED {
                    a.mul_add(u, *acc)
                } else {
                    *acc + a * u
                };
            }
        }
    }
    acc
}

#[cfg(test)]
mod tests;
