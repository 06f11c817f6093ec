//! The random draws of SGNS: the generator, frequent-word subsampling, the dynamic window and
//! the unigram^0.75 negative sampler.

/// SplitMix64's finaliser (Steele, Lea & Flood 2014): a bijection of `u64` whose output bits
/// all depend on all input bits, so nearby seeds give unrelated streams.
#[inline(always)]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A small, fast generator (SplitMix64) for the training loop.
///
/// The C tool uses the LCG `next = next * 25214903917 + 11` and reads its low bits for the
/// window size, which are the weakest bits of an LCG; SplitMix64 costs about the same (two
/// multiplications) and passes BigCrush, and unlike `rand`'s ChaCha it is cheap enough to call
/// some 30 times per centre word.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator for one stream.
    pub(crate) fn new(seed: u64) -> Self {
        Rng(mix64(seed ^ 0x6a09_e667_f3bc_c909))
    }

    /// The generator of one job: every (seed, worker, job) triple gets its own stream, so a
    /// single-threaded run draws the same numbers in the same order every time.
    pub(crate) fn for_job(seed: u64, worker: u64, job: u64) -> Self {
        Rng(mix64(
            mix64(mix64(seed ^ 0x243f_6a88_85a3_08d3) ^ worker) ^ job.wrapping_add(0x9e37),
        ))
    }

    /// The next 64 random bits.
    #[inline(always)]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.0)
    }

    /// The next 32 random bits (the high half, the better one).
    #[inline(always)]
    pub(crate) fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Uniform in `0..n` by Lemire's multiply-shift: no division, and a bias of at most
    /// `n / 2^32`, far below anything training could notice.
    #[inline(always)]
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        ((u64::from(self.next_u32()) * u64::from(n)) >> 32) as u32
    }

    /// Uniform in `[0, 1)` with 24 bits, as an `f32`.
    #[inline(always)]
    pub(crate) fn unit_f32(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
    }
}

/// The probability of keeping one occurrence of a word seen `count` times among `total`
/// in-vocabulary words, with subsampling threshold `sample` (word2vec.c, also gensim):
///
/// `p = (sqrt(f / (sample * total)) + 1) * (sample * total) / f`, with `f = count`.
///
/// It exceeds 1 (always kept) for words rarer than about `2.6 * sample * total`; `sample == 0`
/// disables subsampling. The C tool compares `p` with a fresh uniform number per occurrence,
/// and so do we.
pub(crate) fn keep_probability(count: u64, total: u64, sample: f64) -> f64 {
    if sample <= 0.0 || count == 0 {
        return 1.0;
    }
    let threshold = sample * total as f64;
    let f = count as f64;
    ((f / threshold).sqrt() + 1.0) * threshold / f
}

/// Per-word keep thresholds in units of 2^-32, so that the hot loop keeps an occurrence when a
/// random `u32` is below the threshold (gensim's `sample_int`). `KEEP_ALWAYS` (2^32, out of a
/// `u32`'s reach) marks words with `p >= 1`, which need no draw at all.
pub(crate) fn keep_thresholds(counts: &[u64], total: u64, sample: f64) -> Vec<u64> {
    counts
        .iter()
        .map(|&c| {
            let p = keep_probability(c, total, sample);
            if p >= 1.0 {
                KEEP_ALWAYS
            } else {
                (p * KEEP_ALWAYS as f64).round() as u64
            }
        })
        .collect()
}

/// See [`keep_thresholds`].
pub(crate) const KEEP_ALWAYS: u64 = 1 << 32;

/// The effective half-width of the window around one centre word, as word2vec.c draws it:
/// `b = random in 0..window`, then the words at distance `1..=window - b` on each side are
/// contexts. Near words are therefore used more often than far ones (distance `d` with
/// probability `(window - d + 1) / window`), which weights context by proximity for free.
#[inline(always)]
pub(crate) fn reduced_window(rng: &mut Rng, window: u32) -> usize {
    (window - rng.below(window)) as usize
}

/// Draws negative words from the unigram distribution raised to the power 0.75.
///
/// word2vec.c fills a table of 10^8 word ids in proportion to `count^0.75` and indexes it with a
/// random number; that table is 400 MB. Like gensim we store the cumulative distribution
/// instead, scaled to `u32` (`cum[i] = round(2^32-1 * sum_{j<=i} c_j^0.75 / Z)`), and find the
/// word of a uniform draw `r` by binary search (the first `i` with `cum[i] > r`). The
/// resolution is 2^-32 instead of 10^-8, and it takes 4 bytes per word.
///
/// To spare most of the binary search, a guide table splits the domain into `2^bits` equal
/// buckets (about four per word, at most 2^16) and records for each the range of words whose cumulative interval meets it; the
/// search then runs inside that range only (a few words, except in the tail of rare words).
/// The word drawn is the same as the full binary search would find.
#[derive(Debug, Clone)]
pub(crate) struct NegativeSampler {
    cum: Vec<u32>,
    guide: Vec<u32>,
    shift: u32,
}

impl NegativeSampler {
    /// The sampler for words with these counts (at least one positive count).
    pub(crate) fn new(counts: &[u64]) -> Self {
        // About four buckets per word, at most 2^16 (256 KiB): measured fastest (by a
        // microbenchmark of draws) for vocabularies of 15k and 63k words.
        let bits = (usize::BITS - counts.len().leading_zeros() + 2).clamp(1, 16);
        Self::with_guide_bits(counts, bits)
    }

    /// The sampler with a guide table of `2^bits` buckets (`1 <= bits <= 24`).
    pub(crate) fn with_guide_bits(counts: &[u64], bits: u32) -> Self {
        let weights: Vec<f64> = counts.iter().map(|&c| (c as f64).powf(0.75)).collect();
        let z: f64 = weights.iter().sum();
        let domain = f64::from(u32::MAX);
        let mut acc = 0.0;
        let mut cum: Vec<u32> = weights
            .iter()
            .map(|w| {
                acc += w;
                (acc / z * domain).round().min(domain) as u32
            })
            .collect();
        if let Some(last) = cum.last_mut() {
            // Rounding must not leave the top of the domain unreachable.
            *last = u32::MAX;
        }
        let buckets = 1usize << bits;
        let shift = 32 - bits;
        // guide[k] = first word whose cumulative value exceeds the bucket's lowest `r`.
        let mut guide = Vec::with_capacity(buckets + 1);
        let mut i = 0usize;
        for k in 0..buckets {
            let low = (k as u64) << shift;
            while i + 1 < cum.len() && u64::from(cum[i]) <= low {
                i += 1;
            }
            guide.push(i as u32);
        }
        guide.push(cum.len().saturating_sub(1) as u32);
        NegativeSampler { cum, guide, shift }
    }

    /// The cumulative table (for tests and documentation of the distribution).
    #[cfg(test)]
    pub(crate) fn cumulative(&self) -> &[u32] {
        &self.cum
    }

    /// One negative word id. `r` is uniform in `0..u32::MAX` (the table's domain).
    #[inline(always)]
    pub(crate) fn draw(&self, rng: &mut Rng) -> u32 {
        let r = rng.below(u32::MAX);
        let bucket = (r >> self.shift) as usize;
        // The bounds hold by construction (`bucket < 2^bits`, `guide` has 2^bits + 1 entries, all
        // valid indices of `cum`); `get` keeps the hot path free of panic branches anyway.
        let lo = self.guide.get(bucket).copied().unwrap_or(0) as usize;
        let hi = self.guide.get(bucket + 1).copied().unwrap_or(0) as usize;
        let range = self.cum.get(lo..=hi).unwrap_or(&[]);
        (lo + range.partition_point(|&c| c <= r)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_probability_matches_the_c_formula() {
        // total 1e6, sample 1e-3 => threshold 1000.
        let p = keep_probability(10_000, 1_000_000, 1e-3);
        let expected = ((10_000f64 / 1000.0).sqrt() + 1.0) * 1000.0 / 10_000.0;
        assert!((p - expected).abs() < 1e-12);
        assert!((p - 0.416_227_766).abs() < 1e-6, "{p}");
        // At count = threshold: (1 + 1) * 1 = 2 => always kept.
        assert!((keep_probability(1000, 1_000_000, 1e-3) - 2.0).abs() < 1e-12);
        // Very frequent word: 1e5 of 1e6 with sample 1e-4 => thr 100, p = (sqrt(1000)+1)/1000.
        let p = keep_probability(100_000, 1_000_000, 1e-4);
        assert!((p - 0.032_622_776_6).abs() < 1e-9, "{p}");
        assert_eq!(keep_probability(5, 100, 0.0), 1.0);
        let t = keep_thresholds(&[100_000, 10], 1_000_000, 1e-4);
        assert_eq!(t[1], KEEP_ALWAYS);
        assert_eq!(
            t[0],
            (0.032_622_776_601_683_8 * 4_294_967_296.0f64).round() as u64
        );
    }

    #[test]
    fn subsampling_keeps_the_right_fraction() {
        let thresholds = keep_thresholds(&[100_000], 1_000_000, 1e-4);
        let mut rng = Rng::new(7);
        let n = 200_000;
        let kept = (0..n)
            .filter(|_| u64::from(rng.next_u32()) < thresholds[0])
            .count();
        let rate = kept as f64 / n as f64;
        assert!((rate - 0.032_622_8).abs() < 0.002, "{rate}");
    }

    #[test]
    fn reduced_window_stays_in_bounds_and_covers_them() {
        let mut rng = Rng::new(3);
        let mut seen = [0usize; 6];
        for _ in 0..60_000 {
            let w = reduced_window(&mut rng, 5);
            assert!((1..=5).contains(&w), "{w}");
            seen[w] += 1;
        }
        assert_eq!(seen[0], 0);
        for &s in &seen[1..] {
            // Uniform over 1..=5: 12,000 each.
            assert!((11_000..13_000).contains(&s), "{seen:?}");
        }
        assert_eq!(reduced_window(&mut rng, 1), 1);
    }

    #[test]
    fn negatives_follow_unigram_to_the_three_quarters() {
        let counts = [1000u64, 400, 100, 50, 10, 5, 5, 1];
        let sampler = NegativeSampler::new(&counts);
        assert_eq!(*sampler.cumulative().last().unwrap(), u32::MAX);
        let z: f64 = counts.iter().map(|&c| (c as f64).powf(0.75)).sum();
        let mut rng = Rng::new(11);
        let n = 1_000_000;
        let mut hist = [0usize; 8];
        for _ in 0..n {
            hist[sampler.draw(&mut rng) as usize] += 1;
        }
        for (i, &c) in counts.iter().enumerate() {
            let expected = (c as f64).powf(0.75) / z;
            let got = hist[i] as f64 / n as f64;
            // 5 standard deviations of a binomial proportion.
            let tol = 5.0 * (expected * (1.0 - expected) / n as f64).sqrt();
            assert!(
                (got - expected).abs() < tol,
                "word {i}: {got} vs {expected}"
            );
        }
        // Plain unigram frequencies would give word 0 a share of 0.637; ^0.75 gives less.
        assert!((hist[0] as f64 / n as f64) < 0.55);
    }

    #[test]
    fn guided_search_equals_full_binary_search() {
        // With 16 buckets for 5000 words, thousands of rare words share a bucket: the worst
        // case of the guide; the default guide is the common case.
        let counts: Vec<u64> = (0..5000u64).map(|i| 1_000_000 / (i + 1) + 1).collect();
        for sampler in [
            NegativeSampler::new(&counts),
            NegativeSampler::with_guide_bits(&counts, 4),
        ] {
            let mut a = Rng::new(5);
            let mut b = Rng::new(5);
            for _ in 0..100_000 {
                let got = sampler.draw(&mut a);
                let r = b.below(u32::MAX);
                let full = sampler.cumulative().partition_point(|&c| c <= r) as u32;
                assert_eq!(got, full);
            }
        }
    }

    #[test]
    fn job_streams_differ() {
        let a = Rng::for_job(1, 0, 0).next_u64();
        assert_eq!(a, Rng::for_job(1, 0, 0).next_u64());
        assert_ne!(a, Rng::for_job(1, 0, 1).next_u64());
        assert_ne!(a, Rng::for_job(1, 1, 0).next_u64());
        assert_ne!(a, Rng::for_job(2, 0, 0).next_u64());
    }
}
