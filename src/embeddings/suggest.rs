//! "Did you mean ...?" for a word the vectors do not have: the same word in another case, or
//! else the nearest spelling in the vocabulary.
//!
//! The distance is the optimal string alignment distance over characters (Levenshtein's
//! insertions, deletions and substitutions, plus the transposition of two neighbours, as
//! spelling correctors count them; Damerau 1964), on lower-cased words. Its cost is bounded:
//! only words within 1 edit (words of up to 4 characters) or 2 edits (longer ones) are taken,
//! words whose length differs by more are skipped without a look, and the table of a
//! candidate stops as soon as a whole row is over the bound. A pass over a vocabulary of
//! millions of words takes a fraction of a second.

use super::Embeddings;

impl Embeddings {
    /// The word of the vocabulary that `word` most likely meant: the first (most frequent, in
    /// files sorted by frequency) that equals it but for case, else the nearest by spelling
    /// within 1 edit (words of up to 4 characters) or 2 edits, the first of equals. `None`
    /// when none is that near, or when `word` is in the vocabulary.
    pub fn suggest(&self, word: &str) -> Option<&str> {
        if self.id(word).is_some() {
            return None;
        }
        let lower: Vec<char> = word.chars().flat_map(char::to_lowercase).collect();
        let folded = |w: &str| {
            w.chars()
                .flat_map(char::to_lowercase)
                .eq(lower.iter().copied())
        };
        if let Some(w) = self.words().iter().find(|w| folded(w)) {
            return Some(w);
        }
        let bound = if lower.len() <= 4 { 1 } else { 2 };
        let mut best: Option<(usize, &str)> = None;
        let mut row = Vec::new();
        for w in self.words() {
            // A character is at most 4 bytes: a cheap test before counting characters.
            let bytes = w.len();
            if bytes + bound < lower.len() || bytes > 4 * (lower.len() + bound) {
                continue;
            }
            row.clear();
            row.extend(w.chars().flat_map(char::to_lowercase));
            let limit = best.map_or(bound, |(d, _)| d - 1);
            if let Some(d) = distance_within(&lower, &row, limit) {
                best = Some((d, w));
                if d == 1 {
                    break;
                }
            }
        }
        best.map(|(_, w)| w)
    }

    /// What to say of `words` that the vocabulary lacks: each with its
    /// [`suggestion`](Embeddings::suggest) when it has one, as in
    /// `unknown word: King (did you mean king?)`.
    pub fn unknown_words_message(&self, words: &[String]) -> String {
        let named: Vec<String> = words
            .iter()
            .map(|w| match self.suggest(w) {
                Some(s) => format!("{w} (did you mean {s}?)"),
                None => w.clone(),
            })
            .collect();
        let s = if words.len() == 1 { "" } else { "s" };
        format!("unknown word{s}: {}", named.join(", "))
    }
}

/// The optimal string alignment distance between `a` and `b` if it is at most `bound`.
fn distance_within(a: &[char], b: &[char], bound: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > bound {
        return None;
    }
    let width = b.len() + 1;
    // Three rows of the table: two back (for transpositions), one back, and this one.
    let mut rows = vec![vec![0usize; width]; 3];
    rows[1] = (0..width).collect();
    for i in 1..=a.len() {
        let (before, rest) = rows.split_at_mut(2);
        let (two_back, one_back, this) = (&before[0], &before[1], &mut rest[0]);
        this[0] = i;
        let mut least = this[0];
        for j in 1..width {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (one_back[j] + 1)
                .min(this[j - 1] + 1)
                .min(one_back[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(two_back[j - 2] + 1);
            }
            this[j] = d;
            least = least.min(d);
        }
        if least > bound {
            return None;
        }
        rows.rotate_left(1);
    }
    // After the rotation the last row computed is the middle one.
    Some(rows[1][b.len()]).filter(|&d| d <= bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(words: &[&str]) -> Embeddings {
        let n = words.len();
        Embeddings::new(
            words.iter().map(|w| (*w).to_owned()).collect(),
            1,
            vec![1.0; n],
        )
        .unwrap()
    }

    fn d(a: &str, b: &str, bound: usize) -> Option<usize> {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        distance_within(&a, &b, bound)
    }

    #[test]
    fn distances_count_edits_and_transpositions() {
        assert_eq!(d("kitten", "sitting", 3), Some(3));
        assert_eq!(d("kitten", "sitting", 2), None);
        assert_eq!(d("teh", "the", 2), Some(1));
        assert_eq!(d("naïve", "naive", 2), Some(1));
        assert_eq!(d("", "ab", 2), Some(2));
        assert_eq!(d("abc", "abc", 0), Some(0));
        assert_eq!(d("abcdef", "ab", 2), None);
    }

    #[test]
    fn case_first_then_the_nearest_spelling() {
        let emb = store(&["the", "king", "queen", "King", "kings", "quick", "Paris"]);
        assert_eq!(
            emb.suggest("KING"),
            Some("king"),
            "the first of two case matches"
        );
        assert_eq!(emb.suggest("paris"), Some("Paris"));
        assert_eq!(emb.suggest("qeen"), Some("queen"));
        assert_eq!(
            emb.suggest("quene"),
            Some("queen"),
            "a transposition is one edit"
        );
        assert_eq!(
            emb.suggest("kingz"),
            Some("king"),
            "the first of two at one edit"
        );
        assert_eq!(emb.suggest("Kingss"), Some("kings"));
        assert_eq!(emb.suggest("Teh"), Some("the"));
        assert_eq!(emb.suggest("xyzzy"), None);
        assert_eq!(
            emb.suggest("qu"),
            None,
            "two edits are too many for a short word"
        );
        assert_eq!(emb.suggest("king"), None, "known words need no suggestion");
        assert_eq!(
            emb.unknown_words_message(&["Quene".into(), "xyzzy".into()]),
            "unknown words: Quene (did you mean queen?), xyzzy"
        );
    }
}
