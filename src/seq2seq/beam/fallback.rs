//! The fallback token of a [`Constraint`]: the probability that the model gives to the tokens
//! the constraint forbids is pooled onto it (see [`Constraint::fallback`]), so that a model that
//! wants an output outside the constraint ends on the fallback (a date model's refusal) instead
//! of the best output inside it. With `p` the model's next-token distribution and `F` the
//! forbidden tokens, the fallback's log-probability is `log(p_fallback + Σ_{t∈F} p_t)`,
//! computed as a log-sum-exp.

use super::{usable, Constraint};

/// The log-probability the constraint's fallback token takes after the mask is filled: its own
/// probability plus that of every forbidden token (see [`Constraint::fallback`]), or `None` when
/// there is no fallback or the mask does not allow it. Computed as a log-sum-exp, and never above
/// 0.
pub(super) fn pooled_fallback(
    row: &[f32],
    mask: &[bool],
    constraint: Option<&dyn Constraint>,
) -> Option<(usize, f64)> {
    let fallback = constraint?.fallback()?;
    if !mask.get(fallback).copied().unwrap_or(false) {
        return None;
    }
    let pooled = || {
        row.iter()
            .zip(mask)
            .enumerate()
            .filter(move |&(t, (_, &ok))| t == fallback || !ok)
            .filter_map(|(_, (&x, _))| usable(x))
    };
    let max = pooled().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return None;
    }
    let sum: f64 = pooled().map(|v| (v - max).exp()).sum();
    Some((fallback, (max + sum.ln()).min(0.0)))
}

/// The log-probability of `token` as the search sees it: the model's, or the pooled one for the
/// fallback token.
pub(super) fn step_log_prob(token: usize, x: f32, pooled: Option<(usize, f64)>) -> Option<f64> {
    match pooled {
        Some((fallback, lp)) if fallback == token => Some(lp),
        _ => usable(x),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{beam, from_probs, greedy_of};
    use super::super::*;

    /// Allows tokens 2 and 3 at the first step and 4 after them; token 5 is the fallback, allowed
    /// everywhere, and after it only itself.
    struct WithFallback;

    impl Constraint for WithFallback {
        fn allowed(&self, prefix: &[usize], allowed: &mut [bool]) {
            if prefix.contains(&5) {
                allowed[5] = true;
                return;
            }
            match prefix.len() {
                0 => [2, 3].iter().for_each(|&t| allowed[t] = true),
                _ => allowed[4] = true,
            }
            allowed[5] = true;
        }

        fn fallback(&self) -> Option<usize> {
            Some(5)
        }
    }

    #[test]
    fn the_fallback_takes_the_mass_of_forbidden_tokens() {
        // Step 0: the model wants token 4 (forbidden there, 0.6); 2 and 3 get 0.2 and 0.15, the
        // fallback 0.05, so the fallback pools 0.6 + 0.05 (+ the specials' 0) and wins.
        let table = |_: u64, prefix: &[usize]| match prefix.len() {
            0 => from_probs(&[1e-9, 1e-9, 0.2, 0.15, 0.6, 0.05]),
            _ => from_probs(&[1e-9, 1e-9, 0.3, 0.3, 0.3, 0.1]),
        };
        let cfg = BeamConfig {
            width: 1,
            max_len: 3,
            eos: None,
            ..BeamConfig::default()
        };
        for width in [1, 3] {
            let cfg = BeamConfig {
                width,
                ..cfg.clone()
            };
            let hyps = beam(&table, &[0], &cfg, Some(&WithFallback));
            let best = &hyps[0][0];
            assert_eq!(best.tokens, vec![5, 5, 5], "width {width}");
            // After the fallback every step is forced: it costs nothing.
            assert!(
                (best.log_prob - (0.65f64 + 2e-9).ln()).abs() < 1e-5,
                "{best:?}"
            );
        }
        let greedy = greedy_of(&table, &[0], &cfg, Some(&WithFallback));
        assert_eq!(greedy[0].tokens, vec![5, 5, 5]);
        // Where the model prefers an allowed token, the fallback is not taken.
        let likes_two = |_: u64, prefix: &[usize]| match prefix.len() {
            0 => from_probs(&[1e-9, 1e-9, 0.7, 0.1, 0.1, 0.1]),
            _ => from_probs(&[1e-9, 1e-9, 0.05, 0.05, 0.85, 0.05]),
        };
        let hyps = beam(&likes_two, &[0], &cfg, Some(&WithFallback));
        assert_eq!(hyps[0][0].tokens, vec![2, 4, 4]);
        // Mid-output: the model wants 3 after 2 (forbidden), so the fallback takes over there.
        let late = |_: u64, prefix: &[usize]| match prefix.len() {
            0 => from_probs(&[1e-9, 1e-9, 0.9, 0.05, 0.025, 0.025]),
            _ => from_probs(&[1e-9, 1e-9, 0.05, 0.8, 0.1, 0.05]),
        };
        let hyps = beam(&late, &[0], &cfg, Some(&WithFallback));
        assert_eq!(hyps[0][0].tokens, vec![2, 5, 5]);
    }
}
