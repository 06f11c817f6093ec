//! Which inputs the translator decodes together.
//!
//! A batch pads every source to the length of its longest one, and the padding is paid for
//! everywhere: the encoder's LSTMs run over it, and every decoder step scores it in attention
//! before masking it out. Inputs of mixed lengths decoded in the order they came would make
//! nearly every batch as long as the longest input. So when the inputs of one call fill more
//! than one batch, they are grouped by length (shortest first, ties in input order) and each
//! batch pads only to the longest of its own; within a batch they keep their input order.
//! The inputs of a call that fits one batch are decoded as they came. Either way each input's
//! result is its own: a padded position gets no attention and no encoder state reaches it.

/// The batches in which to decode inputs `valid` (indices into the call's inputs, in order):
/// at most `size` to a batch, grouped by `length(i)` when they fill more than one batch; none
/// for no inputs.
pub(super) fn batches(
    valid: &[usize],
    length: impl Fn(usize) -> usize,
    size: usize,
) -> Vec<Vec<usize>> {
    let size = size.max(1);
    if valid.is_empty() {
        return Vec::new();
    }
    if valid.len() <= size {
        return vec![valid.to_vec()];
    }
    let mut by_length = valid.to_vec();
    // Stable: equal lengths stay in input order.
    by_length.sort_by_key(|&i| length(i));
    by_length
        .chunks(size)
        .map(|chunk| {
            let mut batch = chunk.to_vec();
            batch.sort_unstable();
            batch
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_batch_keeps_input_order() {
        let lengths = [9, 3, 5];
        assert_eq!(batches(&[0, 1, 2], |i| lengths[i], 3), vec![vec![0, 1, 2]]);
        assert!(batches(&[], |i| lengths[i], 3).is_empty());
    }

    #[test]
    fn several_batches_group_by_length() {
        // Inputs 0..8 with lengths; input 4 was not valid.
        let lengths = [30, 6, 29, 7, 99, 6, 28, 8];
        let valid = [0, 1, 2, 3, 5, 6, 7];
        let got = batches(&valid, |i| lengths[i], 3);
        // Shortest first (1 and 5 tie at 6: input order), each batch in input order.
        assert_eq!(got, vec![vec![1, 3, 5], vec![2, 6, 7], vec![0]]);
        let longest: Vec<usize> = got
            .iter()
            .map(|b| b.iter().map(|&i| lengths[i]).max().unwrap())
            .collect();
        assert_eq!(longest, [7, 29, 30]);
        // Every valid input once.
        let mut all: Vec<usize> = got.concat();
        all.sort_unstable();
        assert_eq!(all, valid);
    }
}
