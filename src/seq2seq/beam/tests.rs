//! Tests of beam search against a hand-built model whose log-probs are a pure function of
//! (input key, prefix), so every result can be recomputed or enumerated exhaustively.

use super::*;
use std::collections::HashSet;

const BOS: usize = 0;
const EOS: usize = 1;

/// Log-probs of the next token, from an input's key and the tokens produced so far.
pub(super) type Table<'a> = dyn Fn(u64, &[usize]) -> Vec<f32> + 'a;

/// One row per hypothesis: the input it belongs to and the tokens produced so far.
type Rows = Vec<(usize, Vec<usize>)>;

struct FnModel<'a> {
    keys: Vec<u64>,
    table: &'a Table<'a>,
    rows_per_step: Vec<usize>,
    fail_at: Option<usize>,
}

impl<'a> FnModel<'a> {
    fn new(keys: &[u64], table: &'a Table<'a>) -> Self {
        FnModel {
            keys: keys.to_vec(),
            table,
            rows_per_step: Vec::new(),
            fail_at: None,
        }
    }

    fn init(&self) -> Rows {
        (0..self.keys.len()).map(|i| (i, Vec::new())).collect()
    }
}

impl StepModel for FnModel<'_> {
    type State = Rows;
    type Error = String;

    fn step(
        &mut self,
        state: &Rows,
        last: &[usize],
        source: &[usize],
        step: usize,
    ) -> Result<(Rows, Vec<f32>), String> {
        if last.len() != state.len() || source.len() != state.len() {
            return Err("row counts disagree".into());
        }
        if self.fail_at == Some(step) {
            return Err(format!("failure at step {step}"));
        }
        self.rows_per_step.push(state.len());
        let mut next = Vec::new();
        let mut out = Vec::new();
        for (((src, prefix), &tok), &s) in state.iter().zip(last).zip(source) {
            if s != *src {
                return Err(format!("row of input {src} labelled {s}"));
            }
            let mut prefix = prefix.clone();
            if step == 0 {
                if tok != BOS || !prefix.is_empty() {
                    return Err("step 0 must start from BOS".into());
                }
            } else {
                if prefix.len() + 1 != step {
                    return Err(format!("prefix {prefix:?} at step {step}"));
                }
                prefix.push(tok);
            }
            let key = *self.keys.get(*src).ok_or("source out of range")?;
            out.extend((self.table)(key, &prefix));
            next.push((*src, prefix));
        }
        Ok((next, out))
    }

    fn select(&mut self, state: &Rows, rows: &[usize]) -> Result<Rows, String> {
        rows.iter()
            .map(|&r| state.get(r).cloned().ok_or(format!("row {r} out of range")))
            .collect()
    }
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn log_softmax(x: &[f32]) -> Vec<f32> {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let z = x.iter().map(|v| (v - m).exp()).sum::<f32>().ln() + m;
    x.iter().map(|v| v - z).collect()
}

pub(super) fn from_probs(p: &[f64]) -> Vec<f32> {
    p.iter().map(|&p| p.ln() as f32).collect()
}

/// Random-looking log-probs; the end token gets `eos_bias` more logit per produced token so that
/// outputs have varied lengths.
fn hashed(vocab: usize, eos_bias: f32) -> impl Fn(u64, &[usize]) -> Vec<f32> {
    move |key, prefix| {
        let mut h = mix(key);
        for &t in prefix {
            h = mix(h ^ (t as u64 + 1));
        }
        let logits: Vec<f32> = (0..vocab)
            .map(|t| {
                let u = (mix(h ^ ((t as u64) << 32)) >> 40) as f32 / (1u64 << 24) as f32;
                let bias = if t == EOS {
                    eos_bias * prefix.len() as f32
                } else {
                    0.0
                };
                u * 6.0 - 3.0 + bias
            })
            .collect();
        log_softmax(&logits)
    }
}

fn config(
    width: usize,
    n_best: usize,
    alpha: f64,
    max_len: usize,
    eos: Option<usize>,
) -> BeamConfig {
    BeamConfig {
        width,
        n_best,
        alpha,
        max_len,
        min_len: 0,
        bos: BOS,
        eos,
        max_lens: None,
    }
}

pub(super) fn beam(
    table: &Table,
    keys: &[u64],
    cfg: &BeamConfig,
    c: Option<&dyn Constraint>,
) -> Vec<Vec<Hypothesis>> {
    let mut m = FnModel::new(keys, table);
    let init = m.init();
    beam_search(&mut m, init, keys.len(), cfg, c).expect("model never fails here")
}

pub(super) fn greedy_of(
    table: &Table,
    keys: &[u64],
    cfg: &BeamConfig,
    c: Option<&dyn Constraint>,
) -> Vec<Hypothesis> {
    let mut m = FnModel::new(keys, table);
    let init = m.init();
    greedy(&mut m, init, keys.len(), cfg, c).expect("model never fails here")
}

/// Every finished output by depth-first enumeration, best score first: the ground truth that a
/// beam wide enough to keep every candidate must match.
fn exhaustive(
    table: &Table,
    key: u64,
    cfg: &BeamConfig,
    c: Option<&dyn Constraint>,
) -> Vec<Hypothesis> {
    fn go(
        table: &Table,
        key: u64,
        cfg: &BeamConfig,
        c: Option<&dyn Constraint>,
        prefix: &mut Vec<usize>,
        lp: f64,
        out: &mut Vec<Hypothesis>,
    ) {
        let lps = table(key, prefix);
        let mut allowed = vec![c.is_none(); lps.len()];
        if let Some(c) = c {
            c.allowed(prefix, &mut allowed);
        }
        for (t, &x) in lps.iter().enumerate() {
            if !allowed[t] || x.is_nan() || x == f32::NEG_INFINITY {
                continue;
            }
            let total = lp + f64::from(x);
            if Some(t) == cfg.eos {
                if prefix.len() >= cfg.min_len {
                    let len = prefix.len() + 1;
                    out.push(Hypothesis {
                        tokens: prefix.clone(),
                        log_prob: total,
                        score: total / (len as f64).powf(cfg.alpha),
                    });
                }
                continue;
            }
            prefix.push(t);
            if prefix.len() == cfg.max_len {
                out.push(Hypothesis {
                    tokens: prefix.clone(),
                    log_prob: total,
                    score: total / (cfg.max_len as f64).powf(cfg.alpha),
                });
            } else {
                go(table, key, cfg, c, prefix, total, out);
            }
            prefix.pop();
        }
    }
    let mut out = Vec::new();
    go(table, key, cfg, c, &mut Vec::new(), 0.0, &mut out);
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

/// Forbids BOS as output and repeating the previous token; EOS only after an even, non-zero count.
struct NoRepeatEven;

impl Constraint for NoRepeatEven {
    fn allowed(&self, prefix: &[usize], allowed: &mut [bool]) {
        for (t, a) in allowed.iter_mut().enumerate() {
            *a = match t {
                BOS => false,
                EOS => !prefix.is_empty() && prefix.len() % 2 == 0,
                _ => prefix.last() != Some(&t),
            };
        }
    }
}

fn honours_no_repeat_even(h: &Hypothesis, max_len: usize) -> bool {
    let ended = h.tokens.len() < max_len;
    !h.tokens.contains(&BOS)
        && !h.tokens.contains(&EOS)
        && h.tokens.windows(2).all(|w| w[0] != w[1])
        && (!ended || (!h.tokens.is_empty() && h.tokens.len() % 2 == 0))
}

#[test]
fn width_one_equals_greedy() {
    let keys: Vec<u64> = (0..24).collect();
    let mut min3 = config(1, 1, 0.7, 12, Some(EOS));
    min3.min_len = 3;
    let cases = [
        (hashed(7, 0.4), config(1, 1, 0.7, 12, Some(EOS))),
        (hashed(5, 0.0), config(1, 1, 0.0, 9, Some(EOS))),
        (hashed(9, 0.6), min3),
        (hashed(6, 0.0), config(1, 1, 0.7, 6, None)),
    ];
    for (table, cfg) in &cases {
        for c in [None, Some(&NoRepeatEven as &dyn Constraint)] {
            let b = beam(table, &keys, cfg, c);
            let g = greedy_of(table, &keys, cfg, c);
            for (bi, gi) in b.iter().zip(&g) {
                assert_eq!(bi, &vec![gi.clone()], "config {cfg:?}");
            }
        }
    }
}

#[test]
fn width_two_escapes_a_greedy_trap() {
    // "A" looks best first (0.6) but every continuation of it is mediocre; "B" + EOS is 0.38.
    let table = |_: u64, prefix: &[usize]| match prefix {
        [] => from_probs(&[0.0, 0.0, 0.6, 0.4]),
        [2] => from_probs(&[0.0, 0.4, 0.3, 0.3]),
        [3] => from_probs(&[0.0, 0.95, 0.025, 0.025]),
        _ => from_probs(&[0.0, 0.9, 0.05, 0.05]),
    };
    let narrow = config(1, 1, 0.7, 8, Some(EOS));
    let wide = config(2, 1, 0.7, 8, Some(EOS));
    assert_eq!(beam(&table, &[0], &narrow, None)[0][0].tokens, vec![2]);
    assert_eq!(greedy_of(&table, &[0], &narrow, None)[0].tokens, vec![2]);
    let best = &beam(&table, &[0], &wide, None)[0][0];
    assert_eq!(best.tokens, vec![3]);
    assert!((best.log_prob - 0.38f64.ln()).abs() < 1e-6);
}

#[test]
fn ties_go_to_the_lower_token() {
    let uniform = |_: u64, _: &[usize]| vec![-(4f32.ln()); 4];
    let one = config(1, 1, 0.7, 3, None);
    assert_eq!(beam(&uniform, &[0], &one, None)[0][0].tokens, vec![0, 0, 0]);
    assert_eq!(
        greedy_of(&uniform, &[0], &one, None)[0].tokens,
        vec![0, 0, 0]
    );
    let tokens: Vec<Vec<usize>> = beam(&uniform, &[0], &config(3, 3, 0.7, 3, None), None)[0]
        .iter()
        .map(|h| h.tokens.clone())
        .collect();
    assert_eq!(tokens, vec![vec![0, 0, 0], vec![0, 0, 1], vec![0, 0, 2]]);
}

#[test]
fn batching_and_order_do_not_change_results() {
    let table = hashed(8, 0.3);
    let keys = [3, 1, 4, 1, 5, 9, 2, 6];
    let mut cfg = config(3, 3, 0.7, 10, Some(EOS));
    cfg.min_len = 1;
    for c in [None, Some(&NoRepeatEven as &dyn Constraint)] {
        let together = beam(&table, &keys, &cfg, c);
        let reversed: Vec<u64> = keys.iter().rev().copied().collect();
        let mut back = beam(&table, &reversed, &cfg, c);
        back.reverse();
        assert_eq!(together, back);
        for (i, &k) in keys.iter().enumerate() {
            assert_eq!(beam(&table, &[k], &cfg, c)[0], together[i]);
        }
        // The two inputs with key 1 are the same problem.
        assert_eq!(together[1], together[3]);
        assert!(together.iter().all(|hs| hs.len() == 3));
    }
}

#[test]
fn done_inputs_leave_the_batch() {
    let random = hashed(6, 0.0);
    // Key 0 ends immediately with near certainty; its other hypotheses cannot catch up.
    let table = |key: u64, prefix: &[usize]| {
        if key == 0 {
            from_probs(&[0.0002, 0.999, 0.0002, 0.0002, 0.0002, 0.0002])
        } else {
            random(key, prefix)
        }
    };
    let cfg = config(3, 1, 0.7, 10, Some(EOS));
    let mut m = FnModel::new(&[0, 7], &table);
    let init = m.init();
    let both = beam_search(&mut m, init, 2, &cfg, None).unwrap();
    assert_eq!(both[0][0].tokens, Vec::<usize>::new());
    assert_eq!(m.rows_per_step[0], 2);
    assert!(m.rows_per_step[1..].iter().all(|&r| r <= cfg.width));
    assert_eq!(both[1], beam(&table, &[7], &cfg, None)[0]);

    let mut alone = FnModel::new(&[0], &table);
    let init = alone.init();
    beam_search(&mut alone, init, 1, &cfg, None).unwrap();
    assert_eq!(alone.rows_per_step, vec![1]);
}

#[test]
fn n_best_is_distinct_sorted_and_scored() {
    let table = hashed(6, 0.3);
    let cfg = config(5, 4, 0.7, 9, Some(EOS));
    for (key, hyps) in (10..20).zip(beam(&table, &(10..20).collect::<Vec<_>>(), &cfg, None)) {
        assert_eq!(hyps.len(), 4);
        let distinct: HashSet<_> = hyps.iter().map(|h| h.tokens.clone()).collect();
        assert_eq!(distinct.len(), hyps.len());
        assert!(hyps.windows(2).all(|w| w[0].score >= w[1].score));
        for h in &hyps {
            let ended = h.tokens.len() < cfg.max_len;
            let len = h.tokens.len() + usize::from(ended);
            assert_eq!(h.score, h.log_prob / (len as f64).powf(cfg.alpha));
            // The log-prob is the sum along the path, EOS step included.
            let mut lp = 0.0;
            for i in 0..len {
                let next = h.tokens.get(i).copied().unwrap_or(EOS);
                lp += f64::from(table(key, &h.tokens[..i])[next]);
            }
            assert!((lp - h.log_prob).abs() < 1e-9);
        }
    }
}

#[test]
fn wide_beam_matches_exhaustive_search() {
    let table = hashed(4, 0.2);
    for alpha in [0.0, 0.7, 1.0, -0.5] {
        for min_len in [0, 2] {
            let mut cfg = config(128, 3, alpha, 4, Some(EOS));
            cfg.min_len = min_len;
            for key in 0..6 {
                for c in [None, Some(&NoRepeatEven as &dyn Constraint)] {
                    let got = beam(&table, &[key], &cfg, c).remove(0);
                    let mut want = exhaustive(&table, key, &cfg, c);
                    want.truncate(cfg.n_best);
                    assert_eq!(got.len(), want.len());
                    for (g, w) in got.iter().zip(&want) {
                        assert_eq!(g.tokens, w.tokens, "alpha {alpha} key {key}");
                        assert!((g.score - w.score).abs() < 1e-12);
                    }
                }
            }
        }
    }
}

#[test]
fn alpha_decides_between_short_and_long() {
    // Short: [A] + EOS, p = 0.495. Long: [B, C, D] + EOS, p = 0.45 * 0.99^3 = 0.437.
    let table = |_: u64, prefix: &[usize]| match prefix {
        [] => from_probs(&[0.0, 0.0, 0.55, 0.45, 0.0, 0.0]),
        [2] => from_probs(&[0.0, 0.9, 0.025, 0.025, 0.025, 0.025]),
        [3] => from_probs(&[0.0, 0.0025, 0.0025, 0.0025, 0.99, 0.0025]),
        [3, 4] => from_probs(&[0.0, 0.0025, 0.0025, 0.0025, 0.0025, 0.99]),
        [3, 4, 5] => from_probs(&[0.0, 0.99, 0.0025, 0.0025, 0.0025, 0.0025]),
        _ => from_probs(&[0.0, 0.2, 0.2, 0.2, 0.2, 0.2]),
    };
    let raw = config(2, 1, 0.0, 10, Some(EOS));
    let per_token = config(2, 1, 1.0, 10, Some(EOS));
    assert_eq!(beam(&table, &[0], &raw, None)[0][0].tokens, vec![2]);
    let long = &beam(&table, &[0], &per_token, None)[0][0];
    assert_eq!(long.tokens, vec![3, 4, 5]);
    assert!((long.score - long.log_prob / 4.0).abs() < 1e-12);
}

#[test]
fn early_stop_waits_while_a_live_hypothesis_could_still_win() {
    // alpha 1: after step 1, [A] + EOS scores ln(0.5) / 2 = -0.35 and the live [B, B] has
    // ln(0.3) = -1.2. Judged at its shortest possible length (-1.2 / 3) it looks beaten, but it
    // goes on almost for free to ten tokens and ends at about -1.21 / 10.
    let table = |_: u64, prefix: &[usize]| match prefix {
        [] => from_probs(&[0.0, 0.2, 0.5, 0.3]),
        [2] => from_probs(&[0.0, 1.0, 0.0, 0.0]),
        [3, ..] if prefix.len() < 9 => from_probs(&[0.0, 0.0005, 0.0005, 0.999]),
        _ => from_probs(&[0.0, 0.999, 0.0005, 0.0005]),
    };
    let best = &beam(&table, &[0], &config(2, 1, 1.0, 10, Some(EOS)), None)[0][0];
    assert_eq!(best.tokens, vec![3; 9]);

    // alpha -1 favours short outputs: at step 0 the finished [] + EOS scores ln(0.3) = -1.20,
    // the live [A] has ln(0.7) = -0.36. Judged at max_len (-0.36 * 10) [A] looks beaten, but
    // [A] + EOS ends at -0.37 * 2.
    let table = |_: u64, prefix: &[usize]| match prefix {
        [] => from_probs(&[0.0, 0.3, 0.7, 0.0]),
        _ => from_probs(&[0.0, 0.99, 0.01, 0.0]),
    };
    let best = &beam(&table, &[0], &config(2, 1, -1.0, 10, Some(EOS)), None)[0][0];
    assert_eq!(best.tokens, vec![2]);
}

#[test]
fn eos_min_len_and_fixed_length() {
    let eager = |_: u64, _: &[usize]| from_probs(&[0.025, 0.9, 0.025, 0.025, 0.025]);
    let cfg = config(2, 2, 0.7, 6, Some(EOS));
    let best = &beam(&eager, &[0], &cfg, None)[0][0];
    assert!(best.tokens.is_empty());
    assert_eq!(best.score, best.log_prob);

    let mut late = cfg.clone();
    late.min_len = 3;
    let hyps = beam(&eager, &[0], &late, None).remove(0);
    assert!(hyps.iter().all(|h| h.tokens.len() >= 3));
    assert_eq!(hyps[0].tokens.len(), 3);
    assert_eq!(greedy_of(&eager, &[0], &late, None)[0].tokens.len(), 3);

    // Without an end token, the id 1 is an ordinary token and every output is max_len long.
    let fixed = config(3, 2, 0.7, 5, None);
    let hyps = beam(&eager, &[0, 1], &fixed, None);
    assert!(hyps.iter().flatten().all(|h| h.tokens.len() == 5));
    assert_eq!(hyps[0][0].tokens, vec![1; 5]);
    assert_eq!(greedy_of(&eager, &[0], &fixed, None)[0].tokens, vec![1; 5]);

    // An end token the model never wants: outputs stop at max_len, normalised by max_len.
    let never = |_: u64, _: &[usize]| from_probs(&[0.3, 1e-9, 0.4, 0.3]);
    let hyps = beam(&never, &[0], &config(2, 2, 0.7, 4, Some(EOS)), None).remove(0);
    assert!(hyps.iter().all(|h| h.tokens.len() == 4));
    assert_eq!(hyps[0].score, hyps[0].log_prob / 4f64.powf(0.7));
}

#[test]
fn constraints_are_honoured() {
    let table = hashed(6, 0.5);
    let keys: Vec<u64> = (0..12).collect();
    let cfg = config(4, 3, 0.7, 9, Some(EOS));
    let c: Option<&dyn Constraint> = Some(&NoRepeatEven);
    for h in beam(&table, &keys, &cfg, c).iter().flatten() {
        assert!(honours_no_repeat_even(h, cfg.max_len), "{h:?}");
    }
    for h in greedy_of(&table, &keys, &config(1, 1, 0.7, 9, Some(EOS)), c) {
        assert!(honours_no_repeat_even(&h, cfg.max_len), "{h:?}");
    }
}

#[test]
fn dead_ends_are_dropped() {
    struct TwoTokensOnly;
    impl Constraint for TwoTokensOnly {
        fn allowed(&self, prefix: &[usize], allowed: &mut [bool]) {
            if prefix.len() < 2 {
                allowed.fill(true);
            }
        }
    }
    let table = hashed(5, 0.0);
    let cfg = config(3, 2, 0.7, 4, None);
    let hyps = beam(&table, &[0, 1], &cfg, Some(&TwoTokensOnly));
    assert!(hyps.iter().all(Vec::is_empty));
    let cfg1 = config(1, 1, 0.7, 4, None);
    for g in greedy_of(&table, &[0, 1], &cfg1, Some(&TwoTokensOnly)) {
        assert_eq!(g.tokens.len(), 2);
        assert_eq!(g.log_prob, f64::NEG_INFINITY);
    }
}

#[test]
fn nan_and_malformed_outputs_never_panic() {
    let nan = |_: u64, _: &[usize]| vec![-1.0, -2.0, f32::NAN, -1.5];
    let hyps = beam(&nan, &[0, 1], &config(3, 3, 0.7, 5, Some(EOS)), None);
    assert!(hyps.iter().flatten().all(|h| !h.tokens.contains(&2)));
    assert!(hyps.iter().flatten().all(|h| h.score.is_finite()));

    let all_nan = |_: u64, _: &[usize]| vec![f32::NAN; 4];
    assert!(beam(&all_nan, &[0], &config(2, 1, 0.7, 5, Some(EOS)), None)[0].is_empty());

    // Rows of different widths make the flat output unsplittable.
    let ragged = |key: u64, _: &[usize]| vec![-1.0; 4 + key as usize];
    let cfg = config(2, 1, 0.7, 5, Some(EOS));
    assert!(beam(&ragged, &[0, 1], &cfg, None).iter().all(Vec::is_empty));
    let empty = |_: u64, _: &[usize]| Vec::new();
    assert!(beam(&empty, &[0], &cfg, None)[0].is_empty());
    let g = greedy_of(&empty, &[0], &config(1, 1, 0.7, 5, Some(EOS)), None);
    assert_eq!(g[0].log_prob, f64::NEG_INFINITY);
}

#[test]
fn model_errors_propagate_and_empty_batches_are_fine() {
    let table = hashed(5, 0.0);
    let cfg = config(2, 1, 0.7, 6, None);
    let mut m = FnModel::new(&[0], &table);
    m.fail_at = Some(3);
    let init = m.init();
    assert_eq!(
        beam_search(&mut m, init, 1, &cfg, None),
        Err("failure at step 3".to_string())
    );
    let mut m = FnModel::new(&[], &table);
    assert_eq!(
        beam_search(&mut m, Vec::new(), 0, &cfg, None),
        Ok(Vec::new())
    );
    assert!(m.rows_per_step.is_empty());
}

#[test]
fn validate_rejects_bad_configs() {
    assert_eq!(BeamConfig::default().validate(), Ok(()));
    let good = config(4, 2, 0.7, 20, Some(EOS));
    assert_eq!(good.validate(), Ok(()));
    let bad = [
        BeamConfig {
            width: 0,
            n_best: 0,
            ..good.clone()
        },
        BeamConfig {
            n_best: 0,
            ..good.clone()
        },
        BeamConfig {
            n_best: 5,
            ..good.clone()
        },
        BeamConfig {
            max_len: 0,
            min_len: 0,
            ..good.clone()
        },
        BeamConfig {
            min_len: 21,
            ..good.clone()
        },
        BeamConfig {
            alpha: f64::NAN,
            ..good.clone()
        },
        BeamConfig {
            alpha: f64::INFINITY,
            ..good.clone()
        },
    ];
    for cfg in bad {
        assert!(cfg.validate().is_err(), "{cfg:?}");
        // Invalid configs are still searched without panicking.
        let table = hashed(4, 0.0);
        let _ = beam(&table, &[0], &cfg, None);
        let _ = greedy_of(&table, &[0], &cfg, None);
    }
}
