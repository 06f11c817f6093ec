//! Debiasing word vectors, after Bolukbasi et al. 2016, "Man is to Computer Programmer as Woman
//! is to Homemaker? Debiasing Word Embeddings", in the form of the Sequence Models course's
//! "Operations on word vectors" assignment:
//!
//! - a bias direction `g`, e.g. `e_woman - e_man`, or the mean of several such differences;
//! - *neutralize*: remove from a word that should be neutral (receptionist, doctor) its
//!   component along `g`;
//! - *equalize*: move a pair that should differ only along `g` (actor / actress) to mirror
//!   images across the plane orthogonal to `g`, equally far from every neutralized word.
//!
//! The formulas are the course's, on the stored vectors (not made unit length first, as
//! Bolukbasi et al. do), computed in f64. A zero bias direction defines no projection and is an
//! error, as are vectors of another length than `g`.

use super::Embeddings;
use crate::error::{Error, Result};

/// The bias direction `g = mean over pairs of (e_first - e_second)`, e.g. `[("woman", "man")]`
/// gives the course's `g = e_woman - e_man`. Unknown words are an error naming every one of
/// them; no pair, or pairs whose differences cancel out, are an error.
pub fn bias_direction(emb: &Embeddings, pairs: &[(&str, &str)]) -> Result<Vec<f32>> {
    let words: Vec<&str> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    let describe = || {
        pairs
            .iter()
            .map(|(a, b)| format!("{a}-{b}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    if pairs.is_empty() {
        return Err(Error::InvalidInput {
            input: String::new(),
            reason: "a bias direction needs at least one pair of words".into(),
        });
    }
    let ids = emb.ids(&words)?;
    let mut g = vec![0f64; emb.dim()];
    for pair in ids.chunks_exact(2) {
        let (first, second) = (emb.vector(pair[0]), emb.vector(pair[1]));
        for ((s, &x), &y) in g.iter_mut().zip(first).zip(second) {
            *s += f64::from(x) - f64::from(y);
        }
    }
    let g: Vec<f32> = g.iter().map(|s| (s / pairs.len() as f64) as f32).collect();
    if g.iter().all(|&x| x == 0.0) {
        return Err(Error::InvalidInput {
            input: describe(),
            reason: "the pairs give a zero bias direction".into(),
        });
    }
    Ok(g)
}

/// `cos(e_word, g) = e·g / (||e|| ||g||)`: how far `word` leans along the bias direction, as the
/// course reports it (positive towards the first words of the pairs `g` was built from). A zero
/// vector has cosine 0.
pub fn bias_cosine(emb: &Embeddings, word: &str, g: &[f32]) -> Result<f32> {
    let id = emb.ids(&[word])?[0];
    let e = emb.vector(id);
    let g_norm2 = check_direction(g, e.len())?;
    let e_norm2 = dot(e, e);
    if e_norm2 == 0.0 {
        return Ok(0.0);
    }
    Ok((dot(e, g) / (e_norm2.sqrt() * g_norm2.sqrt())) as f32)
}

/// Neutralize: `e_debiased = e - (e·g / ||g||²) g`, `e` less its projection on `g`, so that
/// `e_debiased · g = 0`.
pub fn neutralize(e: &[f32], g: &[f32]) -> Result<Vec<f32>> {
    let g_norm2 = check_direction(g, e.len())?;
    let e = widen(e);
    let e_b = project(&e, g, g_norm2);
    Ok(narrow(&sub(&e, &e_b)))
}

/// Equalize the pair `(e1, e2)` along `g`, the course's formulas:
///
/// ```text
/// mu = (e1 + e2) / 2
/// mu_B = (mu·g / ||g||²) g                 mu_orth = mu - mu_B
/// e1_B = (e1·g / ||g||²) g                 e2_B = (e2·g / ||g||²) g
/// corrected_e1_B = sqrt(|1 - ||mu_orth||²|) (e1_B - mu_B) / ||(e1 - mu_orth) - mu_B||
/// corrected_e2_B = sqrt(|1 - ||mu_orth||²|) (e2_B - mu_B) / ||(e2 - mu_orth) - mu_B||
/// e1' = corrected_e1_B + mu_orth           e2' = corrected_e2_B + mu_orth
/// ```
///
/// Both results share the component `mu_orth` orthogonal to `g`, and their components along
/// `g` are opposite: `cos(e1', g) = -cos(e2', g)`, so every neutralized word is equally similar
/// to both. Two equal vectors have no direction to separate them along: both become `mu_orth`.
pub fn equalize(e1: &[f32], e2: &[f32], g: &[f32]) -> Result<(Vec<f32>, Vec<f32>)> {
    let g_norm2 = check_direction(g, e1.len())?;
    check_direction(g, e2.len())?;
    let (e1, e2) = (widen(e1), widen(e2));
    let mu: Vec<f64> = e1.iter().zip(&e2).map(|(a, b)| (a + b) / 2.0).collect();
    let mu_b = project(&mu, g, g_norm2);
    let mu_orth = sub(&mu, &mu_b);
    let scale = (1.0 - dot64(&mu_orth, &mu_orth)).abs().sqrt();
    let corrected = |e: &[f64]| -> Vec<f64> {
        let e_b = project(e, g, g_norm2);
        let rest = sub(&sub(e, &mu_orth), &mu_b);
        let denominator = dot64(&rest, &rest).sqrt();
        sub(&e_b, &mu_b)
            .iter()
            .zip(&mu_orth)
            .map(|(d, o)| {
                let along = if denominator > 0.0 {
                    scale * d / denominator
                } else {
                    0.0
                };
                along + o
            })
            .collect()
    };
    Ok((narrow(&corrected(&e1)), narrow(&corrected(&e2))))
}

/// A copy of `emb` with the words of `neutral` neutralized and each pair of `pairs` equalized
/// along `g`, every result computed from the original vectors; words, order and all other
/// vectors unchanged. Unknown words are an error naming every one of them, and so is a word
/// given two roles (neutral and in a pair, in two pairs, or twice in one pair).
pub fn debias(
    emb: &Embeddings,
    g: &[f32],
    neutral: &[&str],
    pairs: &[(&str, &str)],
) -> Result<Embeddings> {
    check_direction(g, emb.dim())?;
    let paired: Vec<&str> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    let all: Vec<&str> = neutral.iter().chain(&paired).copied().collect();
    let ids = emb.ids(&all)?;
    let (neutral_ids, pair_ids) = ids.split_at(neutral.len());
    for (i, &id) in pair_ids.iter().enumerate() {
        if neutral_ids.contains(&id) || pair_ids[..i].contains(&id) {
            return Err(Error::InvalidInput {
                input: emb.word(id).to_owned(),
                reason: "given twice: a word to debias is either neutral or in one pair, once"
                    .into(),
            });
        }
    }
    let dim = emb.dim();
    let mut vectors = emb.vectors().to_vec();
    for &id in neutral_ids {
        let e = neutralize(emb.vector(id), g)?;
        vectors[id * dim..(id + 1) * dim].copy_from_slice(&e);
    }
    for pair in pair_ids.chunks_exact(2) {
        let (e1, e2) = equalize(emb.vector(pair[0]), emb.vector(pair[1]), g)?;
        vectors[pair[0] * dim..(pair[0] + 1) * dim].copy_from_slice(&e1);
        vectors[pair[1] * dim..(pair[1] + 1) * dim].copy_from_slice(&e2);
    }
    Embeddings::new(emb.words().to_vec(), dim, vectors)
}

/// `||g||²`, once `g` is known to have `dim` finite values, not all zero.
fn check_direction(g: &[f32], dim: usize) -> Result<f64> {
    let norm2 = dot(g, g);
    if g.len() != dim || !norm2.is_finite() || norm2 == 0.0 {
        return Err(Error::InvalidInput {
            input: format!("a bias direction of {} values", g.len()),
            reason: format!("expected {dim} finite values, not all zero"),
        });
    }
    Ok(norm2)
}

/// `(v·g / ||g||²) g`
fn project(v: &[f64], g: &[f32], g_norm2: f64) -> Vec<f64> {
    let along = v.iter().zip(g).map(|(x, &y)| x * f64::from(y)).sum::<f64>() / g_norm2;
    g.iter().map(|&y| along * f64::from(y)).collect()
}

fn sub(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum()
}

fn dot64(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn widen(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

fn narrow(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected numbers come from the course's numpy code on the same f32 vectors:
    /// ```python
    /// f = lambda v: np.array(v, dtype=np.float32).astype(np.float64)
    /// g = ((e["woman"] - e["man"]) + (e["mother"] - e["father"])) / 2
    /// cos = lambda u, v: u @ v / np.linalg.norm(u) / np.linalg.norm(v)
    /// cos(e["receptionist"], g)                  # 0.44616347321587574
    /// n = e["receptionist"] - (e["receptionist"] @ g) / np.sum(g * g) * g
    /// # [0.08459328769417629, 0.11971292046380479, 0.5394258357442869, -0.30985646516568377]
    /// e1, e2 = equalize((e["actor"], e["actress"]), g)   # the assignment's function, verbatim
    /// # e1 [-0.712957764816524, 0.6304973751790338, 0.2859947128633161, 0.04725134004198743]
    /// # e2 [0.8286993888862317, 0.5341438075594244, 0.09328758839244768, 0.09542809334146558]
    /// cos(e1, g), cos(e2, g)   # -0.7826701715047931 0.7826701715047931
    /// cos(e1, n), cos(e2, n)   # 0.24344255708649812 0.24344255708649806
    /// ```
    fn store() -> Embeddings {
        let rows: [(&str, [f32; 4]); 7] = [
            ("woman", [0.5, 0.2, -0.1, 0.7]),
            ("man", [-0.3, 0.25, 0.05, 0.6]),
            ("mother", [0.6, -0.1, 0.3, 0.2]),
            ("father", [-0.2, -0.05, 0.35, 0.25]),
            ("receptionist", [0.4, 0.1, 0.5, -0.3]),
            ("actor", [-0.1, 0.6, 0.2, 0.1]),
            ("actress", [0.45, 0.55, 0.15, 0.05]),
        ];
        let words = rows.iter().map(|(w, _)| (*w).to_owned()).collect();
        Embeddings::new(words, 4, rows.iter().flat_map(|(_, v)| *v).collect()).unwrap()
    }

    const PAIRS: [(&str, &str); 2] = [("woman", "man"), ("mother", "father")];

    fn assert_close(got: &[f32], want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((f64::from(*g) - w).abs() < 1e-6, "{got:?} != {want:?}");
        }
    }

    fn cos(a: &[f32], b: &[f32]) -> f64 {
        dot(a, b) / (dot(a, a) * dot(b, b)).sqrt()
    }

    #[test]
    fn the_course_formulas_give_numpys_numbers() {
        let emb = store();
        let g = bias_direction(&emb, &PAIRS).unwrap();
        assert_close(&g, &[0.8, -0.05, -0.1, 0.025]);
        let lean = bias_cosine(&emb, "receptionist", &g).unwrap();
        assert_close(&[lean], &[0.446_163_473_215_875_74]);
        let e = emb.vector(emb.id("receptionist").unwrap());
        let n = neutralize(e, &g).unwrap();
        assert_close(
            &n,
            &[
                0.084_593_287_7,
                0.119_712_920_5,
                0.539_425_835_7,
                -0.309_856_465_2,
            ],
        );
        assert!(dot(&n, &g).abs() < 1e-7);
        let (actor, actress) = (emb.vector(5), emb.vector(6));
        let (e1, e2) = equalize(actor, actress, &g).unwrap();
        assert_close(
            &e1,
            &[
                -0.712_957_764_8,
                0.630_497_375_2,
                0.285_994_712_9,
                0.047_251_340_0,
            ],
        );
        assert_close(
            &e2,
            &[
                0.828_699_388_9,
                0.534_143_807_6,
                0.093_287_588_4,
                0.095_428_093_3,
            ],
        );
        assert_close(
            &[cos(&e1, &g) as f32, cos(&e2, &g) as f32],
            &[-0.782_670_171_5, 0.782_670_171_5],
        );
        assert!(
            (cos(&e1, &n) - cos(&e2, &n)).abs() < 1e-6,
            "equally far from a neutral word"
        );
    }

    #[test]
    fn debias_replaces_only_the_named_words() {
        let emb = store();
        let g = bias_direction(&emb, &PAIRS[..1]).unwrap();
        let out = debias(&emb, &g, &["receptionist"], &[("actor", "actress")]).unwrap();
        assert_eq!(out.words(), emb.words());
        assert!(bias_cosine(&out, "receptionist", &g).unwrap().abs() < 1e-6);
        let (c1, c2) = (
            bias_cosine(&out, "actor", &g).unwrap(),
            bias_cosine(&out, "actress", &g).unwrap(),
        );
        assert!((c1 + c2).abs() < 1e-6 && c1 < -0.1, "{c1} {c2}");
        for id in 0..4 {
            assert_eq!(out.vector(id), emb.vector(id));
        }
        let same = equalize(emb.vector(0), emb.vector(0), &g).unwrap();
        assert_eq!(same.0, same.1);
    }

    #[test]
    fn bad_words_and_directions_are_errors() {
        let emb = store();
        let err = bias_direction(&emb, &[("she", "man"), ("woman", "he")]).unwrap_err();
        assert_eq!(err.to_string(), "unknown words: she, he");
        let err = bias_direction(&emb, &[("man", "man")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "input \"man-man\": the pairs give a zero bias direction"
        );
        assert!(bias_direction(&emb, &[]).is_err());
        let g = bias_direction(&emb, &PAIRS).unwrap();
        let err = debias(&emb, &g, &["nurse"], &[("king", "queen")]).unwrap_err();
        assert_eq!(err.to_string(), "unknown words: nurse, king, queen");
        let err = debias(&emb, &g, &["actor"], &[("actor", "actress")]).unwrap_err();
        assert!(err.to_string().starts_with("input \"actor\""), "{err}");
        let err = neutralize(&[1.0, 2.0], &g).unwrap_err();
        assert_eq!(
            err.to_string(),
            "input \"a bias direction of 4 values\": expected 2 finite values, not all zero"
        );
        assert!(equalize(&[1.0; 4], &[2.0; 4], &[0.0; 4]).is_err());
        assert!(bias_cosine(&emb, "man", &[1.0; 3]).is_err());
    }
}
