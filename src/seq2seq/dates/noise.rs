//! Typing noise for the `real` set: misspelt month and weekday names (a letter dropped, doubled,
//! swapped with its neighbour, replaced or added) and missing or doubled spaces, so a model
//! learns to read `Febuary`, `Thrusday` and `12  March2019`.

use rand::Rng;

use super::patterns::{MONTH_NAMES, WEEKDAY_NAMES};

/// Letters near each letter on a QWERTY keyboard: the substitutions a slip of the finger makes.
fn neighbours(c: char) -> &'static str {
    match c {
        'a' => "qwsz",
        'b' => "vghn",
        'c' => "xdfv",
        'd' => "serfcx",
        'e' => "wsdr",
        'f' => "drtgvc",
        'g' => "ftyhbv",
        'h' => "gyujnb",
        'i' => "ujko",
        'j' => "huikmn",
        'k' => "jiolm",
        'l' => "kop",
        'm' => "njk",
        'n' => "bhjm",
        'o' => "iklp",
        'p' => "ol",
        'q' => "wa",
        'r' => "edft",
        's' => "awedxz",
        't' => "rfgy",
        'u' => "yhji",
        'v' => "cfgb",
        'w' => "qase",
        'x' => "zsdc",
        'y' => "tghu",
        'z' => "asx",
        _ => "aeiou",
    }
}

/// One random edit of `word` (lower-case ASCII letters, possibly ending in '.').
fn edit<R: Rng + ?Sized>(word: &str, rng: &mut R) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    let letters = chars.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    if letters < 3 {
        return word.to_owned();
    }
    // The first letter is the one people get right most: edits fall on the others.
    let at = rng.random_range(1..letters);
    match rng.random_range(0..6) {
        0 | 1 => {
            chars.remove(at);
        }
        2 => chars.insert(at, chars[at]),
        3 if at + 1 < letters => chars.swap(at, at + 1),
        3 => chars.swap(at - 1, at),
        4 => {
            let near = neighbours(chars[at]).as_bytes();
            chars[at] = char::from(near[rng.random_range(0..near.len())]);
        }
        _ => {
            let vowels = b"aeiou";
            chars.insert(at, char::from(vowels[rng.random_range(0..vowels.len())]));
        }
    }
    chars.into_iter().collect()
}

/// `name` with one or two random edits.
fn misspell<R: Rng + ?Sized>(name: &str, rng: &mut R) -> String {
    let once = edit(name, rng);
    if rng.random_range(0..4) == 0 {
        edit(&once, rng)
    } else {
        once
    }
}

/// Whether `word` (lower case) is a month or weekday name or a start of one (`sept`, `thurs`).
fn is_name(word: &str) -> bool {
    word.len() >= 3
        && MONTH_NAMES
            .iter()
            .chain(&WEEKDAY_NAMES)
            .any(|name| name.starts_with(word))
}

/// `text` with its month and weekday names misspelt: one of them, or each of them one time in
/// three. Case is kept: an edit of a capitalised name stays capitalised.
pub(super) fn misspell_names<R: Rng + ?Sized>(text: &str, rng: &mut R) -> String {
    let mut words: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (c.is_ascii_alphabetic(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if is_name(&text[s..i].to_ascii_lowercase()) {
                    words.push((s, i));
                }
                start = None;
            }
            _ => {}
        }
    }
    if words.is_empty() {
        return text.to_owned();
    }
    let every = rng.random_range(0..3) == 0;
    let chosen = rng.random_range(0..words.len());
    let mut out = String::with_capacity(text.len() + 2);
    let mut last = 0;
    for (k, &(s, e)) in words.iter().enumerate() {
        out.push_str(&text[last..s]);
        let word = &text[s..e];
        if every || k == chosen {
            let upper = word.chars().all(|c| c.is_ascii_uppercase());
            let capital = word.starts_with(|c: char| c.is_ascii_uppercase());
            let typo = misspell(&word.to_ascii_lowercase(), rng);
            if upper {
                out.push_str(&typo.to_ascii_uppercase());
            } else if capital {
                out.push_str(&typo[..1].to_ascii_uppercase());
                out.push_str(&typo[1..]);
            } else {
                out.push_str(&typo);
            }
        } else {
            out.push_str(word);
        }
        last = e;
    }
    out.push_str(&text[last..]);
    out
}

/// `text` with one space dropped or doubled (when it has a space).
pub(super) fn respace<R: Rng + ?Sized>(text: &str, rng: &mut R) -> String {
    let spaces: Vec<usize> = text.match_indices(' ').map(|(i, _)| i).collect();
    if spaces.is_empty() {
        return text.to_owned();
    }
    let at = spaces[rng.random_range(0..spaces.len())];
    let (head, tail) = text.split_at(at);
    if rng.random_bool(0.5) {
        format!("{head}{}", &tail[1..])
    } else {
        format!("{head} {tail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// Levenshtein distance, to check that an edit changes little.
    fn distance(a: &str, b: &str) -> usize {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.iter().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let here = row[j + 1];
                row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(here + 1);
                prev = here;
            }
        }
        row[b.len()]
    }

    #[test]
    fn misspellings_are_small_and_keep_the_first_letter() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut changed = 0;
        for name in [
            "february",
            "thursday",
            "sept.",
            "november",
            "may",
            "wednesday",
        ] {
            for _ in 0..200 {
                let typo = misspell(name, &mut rng);
                assert!(distance(name, &typo) <= 4, "{name} -> {typo}");
                assert_eq!(typo.chars().next(), name.chars().next(), "{typo}");
                changed += usize::from(typo != name);
            }
        }
        assert!(changed > 900, "{changed}");
    }

    #[test]
    fn only_calendar_names_are_misspelt_and_case_is_kept() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..100 {
            let text = misspell_names("Posted on Thursday 8 August 1996", &mut rng);
            assert!(text.starts_with("Posted on T"), "{text}");
            assert!(text.contains(" 8 A") && text.ends_with(" 1996"), "{text}");
            assert_ne!(text, "Posted on Thursday 8 August 1996");
        }
        assert_eq!(
            misspell_names("2019-03-12 10:30", &mut rng),
            "2019-03-12 10:30"
        );
    }

    #[test]
    fn respacing_drops_or_doubles_one_space() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        for _ in 0..100 {
            let text = respace("12 march 2019", &mut rng);
            assert!(
                [
                    "12march 2019",
                    "12 march2019",
                    "12  march 2019",
                    "12 march  2019"
                ]
                .contains(&text.as_str()),
                "{text}"
            );
        }
        assert_eq!(respace("2019-03-12", &mut rng), "2019-03-12");
    }
}
