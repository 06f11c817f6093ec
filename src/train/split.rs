//! Held-out data: how much to hold out, and the one seeded draw every model uses.
//!
//! The draw shuffles the item numbers with a generator seeded by the run's seed alone (not the
//! generator that shuffles batches), so a resumed run holds out the same items.

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How much of the training data to hold out for the per-epoch score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeldOut {
    /// This share of the items, rounded; at least one when the share is above 0.
    Fraction(f64),
    /// This many items.
    Count(usize),
}

impl HeldOut {
    /// Checks the share: in [0, 1).
    pub fn validate(self) -> Result<()> {
        match self {
            HeldOut::Fraction(f) => crate::limits::check_fraction("valid fraction", f),
            HeldOut::Count(_) => Ok(()),
        }
    }

    /// Items held out of `n`: a share is rounded, and is at least 1 when above 0 and at most
    /// `n - 1`, so that one is left to train on; a count is taken as it is ([`split_indices`]
    /// refuses one that leaves nothing to train on).
    pub fn size(self, n: usize) -> usize {
        match self {
            HeldOut::Fraction(f) if f > 0.0 => ((n as f64 * f).round() as usize)
                .max(1)
                .min(n.saturating_sub(1)),
            HeldOut::Fraction(_) => 0,
            HeldOut::Count(c) => c,
        }
    }
}

/// The seeded draw: the numbers `0..n` shuffled with `seed`, the first `held_out` of them held
/// out. Returns `(train, held_out)`, each in drawn order. An error when nothing would be left to
/// train on.
pub fn split_indices(n: usize, held_out: usize, seed: u64) -> Result<(Vec<usize>, Vec<usize>)> {
    if held_out >= n && n > 0 {
        return Err(Error::Config(format!(
            "cannot hold out {held_out} of {n} items"
        )));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut crate::device::rng_from_seed(seed));
    let train = order.split_off(held_out.min(n));
    Ok((train, order))
}

/// Seeds an epoch: libtorch's generator (dropout) and the returned Rust generator (the
/// epoch's shuffle) from the run's seed and the epoch number alone, so that a resumed run's
/// epoch N draws exactly what epoch N of an uninterrupted run draws.
pub fn seed_epoch(seed: u64, epoch: usize) -> crate::device::Rng {
    tch::manual_seed((seed ^ 0x5eed_0000) as i64 + epoch as i64);
    crate::device::rng_from_seed(seed.wrapping_add(epoch as u64))
}

/// The order in which an epoch visits `n` items: `0..n` shuffled by `rng`.
pub fn epoch_order(n: usize, rng: &mut crate::device::Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    order
}

/// [`split_indices`] with each part in file order.
pub fn split_sorted(n: usize, held_out: usize, seed: u64) -> Result<(Vec<usize>, Vec<usize>)> {
    let (mut train, mut valid) = split_indices(n, held_out, seed)?;
    train.sort_unstable();
    valid.sort_unstable();
    Ok((train, valid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_draw_is_seeded_disjoint_and_complete() {
        let (t, v) = split_indices(10, 3, 7).unwrap();
        assert_eq!(v.len(), 3);
        let mut all: Vec<usize> = t.iter().chain(&v).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(split_indices(10, 3, 7).unwrap(), (t, v));
        assert_ne!(
            split_indices(10, 3, 8).unwrap().1,
            split_indices(10, 3, 7).unwrap().1
        );
        assert!(split_indices(3, 3, 1).is_err());
    }

    #[test]
    fn shares_round_and_leave_one_to_train_on() {
        assert_eq!(HeldOut::Fraction(0.1).size(100), 10);
        assert_eq!(HeldOut::Fraction(0.1).size(3), 1);
        assert_eq!(HeldOut::Fraction(0.0).size(3), 0);
        assert_eq!(HeldOut::Fraction(0.5).size(1), 0);
        assert_eq!(HeldOut::Count(5).size(3), 5);
    }
}
