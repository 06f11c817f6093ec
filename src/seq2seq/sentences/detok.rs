//! A detokeniser for the output of tokenizers that split punctuation from words (word-level
//! and `bpe`): their decoded text is tokens joined by single spaces (`c ' est mon patron .`),
//! and this puts the spaces back where written text has them (`c'est mon patron.`).
//!
//! The rules are Moses' language-independent ones, simplified: closing punctuation attaches to
//! the word before it, opening brackets to the word after, an apostrophe or a hyphen between two
//! words joins them, `.`, `,` and `:` between two digits join them (`3.5`, `1,000`, `10:30`),
//! and straight double quotes alternate between opening and closing. Anything else keeps its
//! space. Lossless tokenizers (`sentencepiece`) need none of this: they decode to the text.

/// Punctuation written against the word before it.
fn closes(token: &str) -> bool {
    token.chars().all(|c| {
        matches!(
            c,
            '.' | ',' | '!' | '?' | ';' | ':' | '%' | ')' | ']' | '}' | '»' | '…'
        )
    })
}

/// Punctuation written against the word after it.
fn opens(token: &str) -> bool {
    token
        .chars()
        .all(|c| matches!(c, '(' | '[' | '{' | '«' | '¿' | '¡' | '$'))
}

/// A word (or number): not punctuation alone.
fn is_word(token: &str) -> bool {
    token.chars().any(char::is_alphanumeric)
}

fn is_number(token: &str) -> bool {
    !token.is_empty() && token.chars().all(|c| c.is_ascii_digit())
}

/// `text`'s space-separated tokens joined as written text.
pub fn detokenize(text: &str) -> String {
    let tokens: Vec<&str> = text.split(' ').filter(|t| !t.is_empty()).collect();
    let mut out = String::with_capacity(text.len());
    // Whether the next token goes against the previous one.
    let mut glue_next = true;
    let mut quotes_open = false;
    for (i, &token) in tokens.iter().enumerate() {
        let before = i.checked_sub(1).map(|j| tokens[j]);
        let after = tokens.get(i + 1).copied();
        let between_words = before.is_some_and(is_word) && after.is_some_and(is_word);
        let between_numbers = before.is_some_and(is_number) && after.is_some_and(is_number);
        let (glue_before, glue_after) = match token {
            "'" | "’" | "-" if between_words => (true, true),
            "." | "," | ":" if between_numbers => (true, true),
            "\"" => {
                quotes_open = !quotes_open;
                if quotes_open {
                    (false, true)
                } else {
                    (true, false)
                }
            }
            t if closes(t) => (true, false),
            t if opens(t) => (false, true),
            _ => (false, false),
        };
        if !(glue_next || glue_before) {
            out.push(' ');
        }
        out.push_str(token);
        glue_next = glue_after;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::detokenize;

    #[test]
    fn puts_the_spaces_back_where_text_has_them() {
        for (tokens, text) in [
            ("c ' est mon patron .", "c'est mon patron."),
            ("je l ' ai vu , hier !", "je l'ai vu, hier!"),
            ("don ' t go ( now ) ?", "don't go (now)?"),
            ("he said \" yes \" and left", "he said \"yes\" and left"),
            (
                "it costs 3 . 5 or 1 , 000 at 10 : 30",
                "it costs 3.5 or 1,000 at 10:30",
            ),
            ("a well - known fact ...", "a well-known fact..."),
            ("aujourd ' hui", "aujourd'hui"),
            ("", ""),
            ("word", "word"),
            (". starts", ". starts"),
        ] {
            assert_eq!(detokenize(tokens), text, "{tokens}");
        }
    }
}
