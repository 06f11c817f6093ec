//! Corpus BLEU as sacreBLEU computes it by default (Papineni et al. 2002; Post 2018): the `13a`
//! tokenisation of mteval-v13a, n-grams up to 4, one reference per sentence, the standard
//! brevity penalty and sacreBLEU's `exp` smoothing.
//!
//! For n = 1..4, over the whole corpus: `correct_n` = clipped n-gram matches (each hypothesis
//! n-gram counts at most as often as it occurs in its reference), `total_n` = hypothesis
//! n-grams. `p_n = 100 * correct_n / total_n`; when `correct_n = 0` the `exp` smoothing uses
//! `100 / (2^k * total_n)` for the k-th such order. With `c` hypothesis and `r` reference
//! tokens, `BP = 1` if `c >= r`, else `exp(1 - r / c)`, and
//! `BLEU = BP * exp(mean_n log p_n)`; no match at all gives 0.

use std::collections::HashMap;
use std::fmt;

use crate::error::{Error, Result};

/// Largest n-gram order.
const MAX_ORDER: usize = 4;

/// sacreBLEU's signature of the settings [`corpus_bleu`] reproduces: one reference, mixed case,
/// 13a tokenisation, exponential smoothing (sacreBLEU's defaults).
pub const BLEU_SIGNATURE: &str = "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp";

/// mteval-v13a's tokenisation, as sacreBLEU's `tokenizer_13a`: unescape four XML entities,
/// split off punctuation and symbols, split `.` and `,` except between digits, and a `-` after
/// a digit; then single spaces.
pub fn tokenize_13a(line: &str) -> String {
    let mut s = line
        .replace("<skipped>", "")
        .replace("-\n", "")
        .replace('\n', " ");
    if s.contains('&') {
        s = s
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
    }
    let s = format!(" {s} ");
    // The four substitutions of sacreBLEU's TokenizerRegexp, each a left-to-right pass over
    // non-overlapping matches, as Python's re.sub makes them.
    let s = pass1(
        &s,
        |c| matches!(c, '{'..='~' | '['..='`' | ' '..='&' | '('..='+' | ':'..='@' | '/'),
    );
    let digit = |c: char| c.is_ascii_digit();
    let dot = |c: char| c == '.' || c == ',';
    let s = pass2(
        &s,
        |a, b| !digit(a) && dot(b),
        |a, b, out| {
            out.push(a);
            out.push(' ');
            out.push(b);
            out.push(' ');
        },
    );
    let s = pass2(
        &s,
        |a, b| dot(a) && !digit(b),
        |a, b, out| {
            out.push(' ');
            out.push(a);
            out.push(' ');
            out.push(b);
        },
    );
    let s = pass2(
        &s,
        |a, b| digit(a) && b == '-',
        |a, b, out| {
            out.push(a);
            out.push(' ');
            out.push(b);
            out.push(' ');
        },
    );
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `re.sub(r'([class])', r' \1 ')`.
fn pass1(s: &str, class: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if class(c) {
            out.push(' ');
            out.push(c);
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// `re.sub` of a two-character pattern: where `hit(a, b)`, `replace` writes the pair and the
/// scan goes on after it; elsewhere one character is copied.
fn pass2(
    s: &str,
    hit: impl Fn(char, char) -> bool,
    replace: impl Fn(char, char, &mut String),
) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() * 2);
    let mut i = 0;
    while i < chars.len() {
        match chars.get(i + 1) {
            Some(&b) if hit(chars[i], b) => {
                replace(chars[i], b, &mut out);
                i += 2;
            }
            _ => {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    out
}

/// Sufficient statistics of a corpus: lengths and n-gram matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BleuStats {
    /// Hypothesis tokens.
    pub sys_len: usize,
    /// Reference tokens.
    pub ref_len: usize,
    /// Clipped matches of each order, 1..=4.
    pub correct: [usize; MAX_ORDER],
    /// Hypothesis n-grams of each order.
    pub total: [usize; MAX_ORDER],
}

impl BleuStats {
    /// The statistics of one tokenised hypothesis against its tokenised reference.
    pub fn sentence(hyp: &[&str], reference: &[&str]) -> BleuStats {
        let mut stats = BleuStats {
            sys_len: hyp.len(),
            ref_len: reference.len(),
            ..BleuStats::default()
        };
        for n in 1..=MAX_ORDER {
            let mut counts: HashMap<&[&str], usize> = HashMap::new();
            for g in reference.windows(n) {
                *counts.entry(g).or_default() += 1;
            }
            for g in hyp.windows(n) {
                stats.total[n - 1] += 1;
                if let Some(left) = counts.get_mut(g).filter(|c| **c > 0) {
                    *left -= 1;
                    stats.correct[n - 1] += 1;
                }
            }
        }
        stats
    }

    /// Adds another sentence's statistics.
    pub fn add(&mut self, other: &BleuStats) {
        self.sys_len += other.sys_len;
        self.ref_len += other.ref_len;
        for n in 0..MAX_ORDER {
            self.correct[n] += other.correct[n];
            self.total[n] += other.total[n];
        }
    }

    /// The score of these statistics.
    pub fn score(&self) -> Bleu {
        let bp = if self.sys_len < self.ref_len {
            if self.sys_len > 0 {
                (1.0 - self.ref_len as f64 / self.sys_len as f64).exp()
            } else {
                0.0
            }
        } else {
            1.0
        };
        let mut precisions = [0.0f64; MAX_ORDER];
        if self.correct.iter().all(|&c| c == 0) {
            return Bleu {
                score: 0.0,
                precisions,
                bp,
                stats: *self,
            };
        }
        let mut smooth = 1.0;
        for ((p, &correct), &total) in precisions.iter_mut().zip(&self.correct).zip(&self.total) {
            if total == 0 {
                break;
            }
            *p = if correct == 0 {
                smooth *= 2.0;
                100.0 / (smooth * total as f64)
            } else {
                100.0 * correct as f64 / total as f64
            };
        }
        // sacreBLEU's my_log: log(0) counts as -9999999999.
        let log = |p: f64| if p == 0.0 { -9_999_999_999.0 } else { p.ln() };
        let mean = precisions.iter().map(|&p| log(p)).sum::<f64>() / MAX_ORDER as f64;
        Bleu {
            score: bp * mean.exp(),
            precisions,
            bp,
            stats: *self,
        }
    }
}

/// A corpus BLEU score with its parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bleu {
    /// BLEU, 0-100.
    pub score: f64,
    /// n-gram precisions, 0-100.
    pub precisions: [f64; MAX_ORDER],
    /// Brevity penalty.
    pub bp: f64,
    /// The counts behind it.
    pub stats: BleuStats,
}

impl fmt::Display for Bleu {
    /// sacreBLEU's line: `BLEU = 27.31 60.1/33.2/20.5/12.8 (BP = 0.979 ratio = 0.979 hyp_len =
    /// 100 ref_len = 102)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.precisions;
        write!(
            f,
            "BLEU = {:.2} {:.1}/{:.1}/{:.1}/{:.1} (BP = {:.3} ratio = {:.3} hyp_len = {} ref_len = {})",
            self.score,
            p[0],
            p[1],
            p[2],
            p[3],
            self.bp,
            self.stats.sys_len as f64 / self.stats.ref_len.max(1) as f64,
            self.stats.sys_len,
            self.stats.ref_len
        )
    }
}

/// Each hypothesis with its reference; an error when their numbers differ.
pub(super) fn paired<'a>(
    hypotheses: &'a [&'a str],
    references: &'a [&'a str],
) -> Result<impl Iterator<Item = (&'a str, &'a str)>> {
    if hypotheses.len() != references.len() {
        return Err(Error::Config(format!(
            "{} hypotheses but {} references",
            hypotheses.len(),
            references.len()
        )));
    }
    Ok(hypotheses.iter().copied().zip(references.iter().copied()))
}

/// Corpus BLEU of `hypotheses` against one reference each, both tokenised with `13a` here.
pub fn corpus_bleu(hypotheses: &[&str], references: &[&str]) -> Result<Bleu> {
    let mut stats = BleuStats::default();
    for (h, r) in paired(hypotheses, references)? {
        let (h, r) = (tokenize_13a(h), tokenize_13a(r));
        let h: Vec<&str> = h.split(' ').filter(|t| !t.is_empty()).collect();
        let r: Vec<&str> = r.split(' ').filter(|t| !t.is_empty()).collect();
        stats.add(&BleuStats::sentence(&h, &r));
    }
    Ok(stats.score())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenization_follows_13a() {
        assert_eq!(tokenize_13a("Hello, world!"), "Hello , world !");
        // Periods and commas between digits stay; a dash after a digit is split off.
        assert_eq!(
            tokenize_13a("It costs 1,000.50 - in 2007-08."),
            "It costs 1,000.50 - in 2007 - 08 ."
        );
        assert_eq!(tokenize_13a("a &amp; b &quot;c&quot;"), "a & b \" c \"");
        // The apostrophe is not in 13a's symbol class; brackets and the slash are.
        assert_eq!(
            tokenize_13a("don't (re)start a/b"),
            "don't ( re ) start a / b"
        );

        assert_eq!(tokenize_13a("  spaced   out  "), "spaced out");
        // Non-overlapping matches, as re.sub: in "a.," only the period is split by the second
        // pass; the comma is split by the third (followed by a non-digit).
        assert_eq!(tokenize_13a("a.,b"), "a . , b");
    }

    #[test]
    fn counts_by_hand() {
        // hyp: "the cat sat on the mat" (6 tokens); ref: "the cat is on the mat" (6 tokens).
        let h = ["the", "cat", "sat", "on", "the", "mat"];
        let r = ["the", "cat", "is", "on", "the", "mat"];
        let s = BleuStats::sentence(&h, &r);
        // 1-grams: the x2 (ref has 2), cat, on, mat match; sat does not: 5/6.
        // 2-grams: "the cat", "on the", "the mat" match; "cat sat", "sat on" do not: 3/5.
        // 3-grams: "on the mat" only: 1/4. 4-grams: none of 3.
        assert_eq!(s.correct, [5, 3, 1, 0]);
        assert_eq!(s.total, [6, 5, 4, 3]);
        let b = s.score();
        // p4 is smoothed to 100 / (2 * 3).
        let expected =
            ((5.0f64 / 6.0 * 100.0).ln() + (60.0f64).ln() + (25.0f64).ln() + (100.0f64 / 6.0).ln())
                / 4.0;
        assert!((b.score - expected.exp()).abs() < 1e-9, "{b}");
        assert_eq!(b.bp, 1.0);
        // Clipping: a hypothesis word repeated beyond the reference counts once.
        let s = BleuStats::sentence(&["the", "the", "the"], &["the", "cat"]);
        assert_eq!(s.correct[0], 1);
    }

    #[test]
    fn brevity_penalty_and_edge_cases() {
        let b = corpus_bleu(&["the cat"], &["the cat sat on the mat"]).unwrap();
        assert!((b.bp - (1.0f64 - 6.0 / 2.0).exp()).abs() < 1e-12);
        assert_eq!(corpus_bleu(&["x y z"], &["a b c"]).unwrap().score, 0.0);
        assert_eq!(corpus_bleu(&[""], &["a b"]).unwrap().score, 0.0);
        let same = corpus_bleu(&["a b c d e", "f g h i"], &["a b c d e", "f g h i"]).unwrap();
        assert!((same.score - 100.0).abs() < 1e-9);
        assert!(same
            .to_string()
            .starts_with("BLEU = 100.00 100.0/100.0/100.0/100.0 (BP = 1.000"));
        assert!(corpus_bleu(&["a"], &[]).is_err());
    }
}
