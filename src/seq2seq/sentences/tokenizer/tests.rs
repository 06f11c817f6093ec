//! Tests of the sentence tokenizers: training, round trips, specials and foreign files.

use super::*;

const TEXT: [&str; 4] = [
    "A man rides a bike.",
    "Two dogs play in the snow.",
    "A woman is riding a horse.",
    "The dogs are running.",
];

/// The word-level tokenizer of earlier models: lower-cased, every word kept.
fn word_config(vocab_size: usize) -> TokenizerConfig {
    TokenizerConfig {
        kind: TokenizerKind::Word,
        vocab_size,
        min_frequency: 1,
        lowercase: true,
        nfkc: true,
    }
}

fn word(vocab_size: usize) -> SentenceTokenizer {
    let config = word_config(vocab_size);
    SentenceTokenizer::train(&config, TEXT.iter().copied()).unwrap()
}

#[test]
fn a_min_frequency_no_word_reaches_is_refused() {
    // Word level: nothing but the specials would be left. (BPE keeps its characters.)
    let config = TokenizerConfig {
        min_frequency: 1000,
        ..word_config(10_000)
    };
    let err = SentenceTokenizer::train(&config, TEXT.iter().copied())
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(err.contains("occurs 1000 times"), "{err}");
}

#[test]
fn word_level_round_trip_specials_and_unknown_words() {
    let t = word(100);
    assert_eq!(t.tokens()[..4], SPECIALS.map(String::from));
    let ids = t.encode("A man rides a bike.").unwrap();
    assert_eq!(ids.len(), 6);
    assert!(ids.iter().all(|&i| i > EOS_ID));
    assert_eq!(t.decode(&ids).unwrap(), "a man rides a bike.");
    // Case is folded, NFKC folds the full-width letters, unknown words become <unk>.
    let ids = t.encode("ＴＷＯ zebras").unwrap();
    assert_eq!(ids[1], UNK_ID);
    assert_eq!(t.token(ids[0]).as_deref(), Some("two"));
    // Specials are skipped when decoding.
    assert_eq!(t.decode(&[BOS_ID, ids[0], EOS_ID, PAD_ID]).unwrap(), "two");
    // The vocabulary is capped, specials included, most frequent words first ("a" and "."
    // both appear 4 times: ties go in byte order).
    let small = word(6);
    assert_eq!(small.len(), 6);
    assert_eq!(small.tokens()[4..], [".", "a"].map(String::from));
}

#[test]
fn bpe_spells_unseen_words_in_pieces() {
    let config = TokenizerConfig {
        kind: TokenizerKind::Bpe,
        ..word_config(60)
    };
    let t = SentenceTokenizer::train(&config, TEXT.iter().copied()).unwrap();
    assert_eq!(t.tokens()[..4], SPECIALS.map(String::from));
    // "rides" and "riding" share pieces; "snowing" was never seen as a word.
    let ids = t.encode("snowing dogs").unwrap();
    assert!(!ids.contains(&UNK_ID), "{:?}", t.tokens());
    assert!(ids.len() > 2);
    assert_eq!(t.decode(&ids).unwrap(), "snowing dogs");
    // Words start with the mark; the same text gives the same tokenizer every time (the
    // crate's end-of-word suffix numbered its forms in a hash map's order).
    assert!(t
        .tokens()
        .iter()
        .any(|s| s.starts_with(WORD_START) && s.chars().count() > 2));
    let json = t.inner.to_string(false).unwrap();
    for _ in 0..10 {
        let again = SentenceTokenizer::train(&config, TEXT.iter().copied()).unwrap();
        assert_eq!(again.inner.to_string(false).unwrap(), json);
    }
    // Out-of-vocabulary ids are an error, not a panic in the decoder.
    assert!(t.decode(&[t.len()]).is_err());
    // A character never seen in training is unknown.
    assert!(t.encode("zzz").unwrap().contains(&UNK_ID));
    assert!(t.len() <= 60);
    // A size smaller than the characters of the text is refused, naming the least that fits.
    let small = TokenizerConfig {
        vocab_size: 6,
        ..config.clone()
    };
    let err = SentenceTokenizer::train(&small, TEXT.iter().copied())
        .unwrap_err()
        .to_string();
    // The least is the alphabet with the specials: what a trainer that merges nothing keeps.
    let no_merges = TokenizerConfig {
        vocab_size: 1000,
        min_frequency: 1000,
        ..config.clone()
    };
    let least = SentenceTokenizer::train(&no_merges, TEXT.iter().copied())
        .unwrap()
        .len();
    assert!(least > 6);
    assert!(
        err.contains(&format!("raise --vocab-size to at least {least}")),
        "{err}"
    );
    let exact = TokenizerConfig {
        vocab_size: least,
        ..config
    };
    assert_eq!(
        SentenceTokenizer::train(&exact, TEXT.iter().copied())
            .unwrap()
            .len(),
        least
    );
}

#[test]
fn json_round_trip_and_foreign_files() {
    for kind in [
        TokenizerKind::Word,
        TokenizerKind::Bpe,
        TokenizerKind::SentencePiece,
    ] {
        let config = TokenizerConfig {
            kind,
            lowercase: false,
            ..word_config(50)
        };
        let t = SentenceTokenizer::train(&config, TEXT.iter().copied()).unwrap();
        let json = t.to_json().unwrap();
        let back = SentenceTokenizer::from_bytes(json.as_bytes(), Path::new("t.json")).unwrap();
        for text in TEXT {
            assert_eq!(back.encode(text).unwrap(), t.encode(text).unwrap());
        }
        assert_eq!(back.tokens(), t.tokens());
    }
    let err = SentenceTokenizer::from_bytes(b"{not json", Path::new("bad.json"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("bad.json"), "{err}");
    // A valid tokenizer whose specials are elsewhere is refused.
    let json = word(50).to_json().unwrap().replace("<eos>", "<end>");
    let err = SentenceTokenizer::from_bytes(json.as_bytes(), Path::new("other.json"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("<eos>"), "{err}");
    let tiny = word_config(4);
    assert!(SentenceTokenizer::train(&tiny, TEXT.iter().copied()).is_err());
}

#[test]
fn sentencepiece_decodes_back_to_the_text_and_repeats_exactly() {
    let text = [
        "C'est mon patron.",
        "Je l'ai vu hier, à Paris !",
        "« Où est-il ? » demanda-t-elle.",
        "Tom's dog doesn't bark (usually).",
        "L'avion décolle à 10:30.",
    ];
    let config = TokenizerConfig {
        vocab_size: 200,
        min_frequency: 1,
        ..TokenizerConfig::default()
    };
    assert_eq!(config.kind, TokenizerKind::SentencePiece);
    let t = SentenceTokenizer::train(&config, text.iter().copied()).unwrap();
    for s in text {
        let ids = t.encode(s).unwrap();
        assert!(!ids.contains(&UNK_ID), "{s}");
        assert_eq!(t.decode(&ids).unwrap(), s);
    }
    // Unseen words are spelt in pieces and still decode to themselves, case kept.
    let ids = t.encode("Patron, c'est Tom.").unwrap();
    assert_eq!(t.decode(&ids).unwrap(), "Patron, c'est Tom.");
    let json = t.to_json().unwrap();
    for _ in 0..5 {
        let again = SentenceTokenizer::train(&config, text.iter().copied()).unwrap();
        assert_eq!(again.to_json().unwrap(), json);
    }
}

#[test]
fn word_level_output_is_detokenised() {
    let t = word(100);
    let ids = t.encode("Two dogs play in the snow.").unwrap();
    assert_eq!(t.decode(&ids).unwrap(), "two dogs play in the snow.");
}

#[test]
fn a_thousand_training_sentences_round_trip() {
    // Sentences with case, accents, apostrophes, quotes, brackets, digits and double
    // spaces, drawn from word lists by a fixed rule.
    let words = [
        "Tom",
        "l'avion",
        "n'est",
        "pas",
        "là",
        "Où",
        "est-il",
        "«",
        "»",
        "(vraiment)",
        "10:30",
        "3,5",
        "C'est",
        "don't",
        "Ça",
        "naïve",
        "Zürich",
        "\"yes\"",
        "?",
        "!",
        "...",
        "élève",
    ];
    let sentences: Vec<String> = (0..1000)
        .map(|i| {
            let n = 3 + i % 7;
            let mut s: Vec<&str> = (0..n)
                .map(|k| words[(i * 7 + k * 13) % words.len()])
                .collect();
            if i % 10 == 0 {
                s.push(" ");
            }
            s.join(" ").trim_end().to_owned() + "."
        })
        .collect();
    let config = TokenizerConfig {
        vocab_size: 300,
        ..TokenizerConfig::default()
    };
    let t = SentenceTokenizer::train(&config, sentences.iter().map(String::as_str)).unwrap();
    for s in &sentences {
        let ids = t.encode(s).unwrap();
        assert_eq!(t.decode(&ids).unwrap(), *s, "{ids:?}");
    }
}
