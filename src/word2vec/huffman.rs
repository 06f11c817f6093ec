//! The Huffman tree of hierarchical softmax: each word's path from the root, as the inner nodes
//! it passes (rows of the output matrix `syn1`) and the branch taken at each (its code bits).
//!
//! Hierarchical softmax (Morin & Bengio 2005; Mnih & Hinton 2009) replaces the softmax over the
//! whole vocabulary by a walk down a binary tree whose leaves are the words: the probability of
//! word `w` given the input `h` is `Π_j σ((1 - 2 c_j) h·u_{n_j})` over the inner nodes `n_j` on
//! `w`'s path and the bits `c_j` of its code. Mikolov et al. (2013) build the tree by Huffman's
//! algorithm on the word counts, so frequent words have short paths and the expected cost per
//! example is the entropy of the unigram distribution, about 10 nodes for a 70k-word vocabulary.
//!
//! [`HuffmanTree::new`] is word2vec.c's `CreateBinaryTree`: with the counts sorted in
//! decreasing order, the two cheapest nodes are always at the tail of the leaves or at the head
//! of the inner nodes made so far (which are made in increasing order of count), so the tree is
//! built in linear time with two cursors. Of the two nodes merged, the first (the cheaper) gets
//! bit 0 and the second bit 1; on a tie between a leaf and an inner node the inner node is
//! taken first (the C tool's `count[pos1] < count[pos2]`). Inner node `i` (`0..V-1`) is the
//! `i`-th made, so the root is `V - 2`, and it is row `i` of `syn1`.

/// The paths of all words, back to back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HuffmanTree {
    /// Code bits of every word's path, root first.
    codes: Vec<u8>,
    /// Inner nodes of every word's path, root first (`points[k]` is the node at which
    /// `codes[k]` is decided).
    points: Vec<u32>,
    /// Word `w`'s path is `offsets[w]..offsets[w + 1]` of `codes` and `points`.
    offsets: Vec<usize>,
}

impl HuffmanTree {
    /// The tree of words with these counts, which must be in decreasing order (as
    /// [`super::Vocabulary`] keeps them). One word has an empty path; no word, no paths.
    pub(crate) fn new(counts: &[u64]) -> Self {
        debug_assert!(counts.windows(2).all(|w| w[0] >= w[1]));
        let v = counts.len();
        let mut offsets = Vec::with_capacity(v + 1);
        offsets.push(0);
        if v < 2 {
            offsets.resize(v + 1, 0);
            return HuffmanTree {
                codes: Vec::new(),
                points: Vec::new(),
                offsets,
            };
        }
        // Nodes 0..v are the leaves, v..2v-1 the inner nodes in the order they are made.
        let mut count: Vec<u64> = counts.to_vec();
        count.resize(2 * v - 1, u64::MAX);
        let mut parent = vec![0usize; 2 * v - 2];
        let mut bit = vec![0u8; 2 * v - 2];
        // The next leaf to take (from the rarest) and the next inner node to take.
        let mut leaf = v; // one past: `leaf - 1` is the candidate
        let mut inner = v;
        for made in v..2 * v - 1 {
            let mut take = || {
                if leaf > 0 && (inner >= made || count[leaf - 1] < count[inner]) {
                    leaf -= 1;
                    leaf
                } else {
                    inner += 1;
                    inner - 1
                }
            };
            let (first, second) = (take(), take());
            count[made] = count[first].saturating_add(count[second]);
            parent[first] = made;
            parent[second] = made;
            bit[second] = 1;
        }
        let root = 2 * v - 2;
        let (mut codes, mut points) = (Vec::new(), Vec::new());
        let mut path = Vec::new();
        for word in 0..v {
            path.clear();
            let mut node = word;
            while node != root {
                path.push((bit[node], (parent[node] - v) as u32));
                node = parent[node];
            }
            for &(b, p) in path.iter().rev() {
                codes.push(b);
                points.push(p);
            }
            offsets.push(codes.len());
        }
        HuffmanTree {
            codes,
            points,
            offsets,
        }
    }

    /// The code bits and inner nodes of `word`'s path, root first (empty for an unknown id).
    #[inline(always)]
    pub(crate) fn path(&self, word: u32) -> (&[u8], &[u32]) {
        let w = word as usize;
        let (Some(&lo), Some(&hi)) = (self.offsets.get(w), self.offsets.get(w + 1)) else {
            return (&[], &[]);
        };
        (
            self.codes.get(lo..hi).unwrap_or(&[]),
            self.points.get(lo..hi).unwrap_or(&[]),
        )
    }

    /// Inner nodes of the tree (`V - 1`, or 0 for an empty vocabulary): the rows of `syn1`.
    pub(crate) fn inner_nodes(&self) -> usize {
        self.offsets.len().saturating_sub(2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(counts: &[u64]) -> Vec<(String, Vec<u32>)> {
        let tree = HuffmanTree::new(counts);
        (0..counts.len() as u32)
            .map(|w| {
                let (c, p) = tree.path(w);
                (c.iter().map(|b| char::from(b'0' + b)).collect(), p.to_vec())
            })
            .collect()
    }

    #[test]
    fn three_words_by_hand() {
        // Merge 1: the two rarest leaves, c (1, bit 0) and b (2, bit 1), into inner 0 (3).
        // Merge 2: a (3) ties inner 0 (3); the inner node goes first (bit 0), a gets bit 1;
        // they make inner 1 (6), the root.
        let p = paths(&[3, 2, 1]);
        assert_eq!(p[0], ("1".into(), vec![1]));
        assert_eq!(p[1], ("01".into(), vec![1, 0]));
        assert_eq!(p[2], ("00".into(), vec![1, 0]));
        assert_eq!(HuffmanTree::new(&[3, 2, 1]).inner_nodes(), 2);
    }

    #[test]
    fn five_words_by_hand() {
        // Counts a 5, b 4, c 3, d 2, e 1; "x (n, bit)" is node x of count n taking that bit:
        // inner 0 = e (1, 0) + d (2, 1) = 3
        // inner 1 = inner 0 (3, 0) + c (3, 1) = 6   (leaf c ties inner 0: the inner node first)
        // inner 2 = b (4, 0) + a (5, 1) = 9         (both leaves are below inner 1's 6)
        // inner 3 = inner 1 (6, 0) + inner 2 (9, 1) = 15, the root.
        let p = paths(&[5, 4, 3, 2, 1]);
        assert_eq!(p[0], ("11".into(), vec![3, 2]));
        assert_eq!(p[1], ("10".into(), vec![3, 2]));
        assert_eq!(p[2], ("01".into(), vec![3, 1]));
        assert_eq!(p[3], ("001".into(), vec![3, 1, 0]));
        assert_eq!(p[4], ("000".into(), vec![3, 1, 0]));
    }

    #[test]
    fn one_or_no_word_has_no_path() {
        let one = HuffmanTree::new(&[7]);
        assert_eq!(one.path(0), (&[][..], &[][..]));
        assert_eq!(one.inner_nodes(), 0);
        let none = HuffmanTree::new(&[]);
        assert_eq!(none.inner_nodes(), 0);
        assert_eq!(none.path(0), (&[][..], &[][..]));
        let two = paths(&[1, 1]);
        // Two leaves of equal count: the rarer end (word 1) is taken first.
        assert_eq!(two, vec![("1".into(), vec![0]), ("0".into(), vec![0])]);
    }

    /// The optimal weighted path length, by the textbook heap algorithm: the sum of the counts
    /// of all merged nodes.
    fn optimal_cost(counts: &[u64]) -> u64 {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let mut heap: BinaryHeap<Reverse<u64>> = counts.iter().map(|&c| Reverse(c)).collect();
        let mut cost = 0;
        while heap.len() > 1 {
            let (Reverse(a), Reverse(b)) = (heap.pop().unwrap(), heap.pop().unwrap());
            cost += a + b;
            heap.push(Reverse(a + b));
        }
        cost
    }

    #[test]
    fn codes_are_an_optimal_prefix_code() {
        let counts: Vec<u64> = (0..300u64).map(|i| 100_000 / (i + 1) + 3).collect();
        let tree = HuffmanTree::new(&counts);
        assert_eq!(tree.inner_nodes(), 299);
        let mut weighted = 0;
        let mut kraft = 0.0f64;
        let mut seen = std::collections::HashSet::new();
        for (w, &count) in counts.iter().enumerate() {
            let (codes, points) = tree.path(w as u32);
            assert_eq!(codes.len(), points.len());
            assert_eq!(points.first(), Some(&298), "every path starts at the root");
            assert!(points.iter().all(|&p| p < 299));
            weighted += count * codes.len() as u64;
            kraft += 0.5f64.powi(codes.len() as i32);
            assert!(seen.insert(codes.to_vec()), "word {w}: duplicate code");
        }
        // A full binary tree: Kraft's sum is exactly 1; and no code is a prefix of another.
        assert!((kraft - 1.0).abs() < 1e-12, "{kraft}");
        for a in &seen {
            for b in &seen {
                assert!(a == b || !b.starts_with(a), "{a:?} prefixes {b:?}");
            }
        }
        assert_eq!(weighted, optimal_cost(&counts));
        // Frequent words never have longer codes than rarer ones.
        let lens: Vec<usize> = (0..300).map(|w| tree.path(w).0.len()).collect();
        assert!(lens.windows(2).all(|l| l[0] <= l[1]), "{lens:?}");
    }
}
