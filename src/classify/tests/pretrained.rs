//! Classifiers over pretrained word vectors: the vocabulary they fill, frozen and fine-tuned
//! rows, and words the vectors lack.

use super::*;

pub(super) fn vectors(dim: usize) -> Embeddings {
    let words: Vec<String> = ["sunny", "rainy", "snowy", "windy", "today", "cloudy"]
        .map(String::from)
        .to_vec();
    let values = (0..words.len() * dim)
        .map(|i| ((i * 7919) % 13) as f32 / 13.0 - 0.5)
        .collect();
    Embeddings::new(words, dim, values).unwrap()
}

/// How far row `row` of `table` is from `word`'s vector in `e` (largest absolute difference).
fn distance_from_pretrained(table: &Tensor, row: usize, e: &Embeddings, word: &str) -> f64 {
    let expected = Tensor::from_slice(e.vector(e.id(word).unwrap()));
    max_abs_diff(&table.get(row as i64), &expected)
}

#[test]
fn pretrained_vectors_fill_the_vocabulary_and_stay_frozen() {
    let data = separable();
    let e = vectors(8);
    let mut cfg = config(Architecture::Average);
    cfg.train_embeddings = false;
    let opts = TrainOptions {
        learn_new_words: false,
        ..options(60)
    };
    let (model, report) = fit(cfg, &data, Some(&e), &opts).unwrap();
    // Every pretrained word is in the vocabulary, even one training never saw ("cloudy");
    // training words without a vector are not (they would be frozen zeros).
    assert!(model.vocab().id("cloudy").is_some());
    assert!(model.vocab().id("tomorrow").is_none());
    assert_eq!(model.vocab().len(), 2 + 6);
    let table = &model.var_store().variables()["embed.weight"];
    let sunny = model.vocab().id("sunny").unwrap();
    assert!(distance_from_pretrained(table, sunny, &e, "sunny") < 1e-7);
    assert_eq!(model.trainable_parameters(), 4 * 8 + 4);
    assert!(report.pretrained_coverage > 0.3 && report.pretrained_coverage < 0.7);
    assert_eq!(evaluate(&model, &data).unwrap().accuracy, 1.0);
}

#[test]
fn new_words_get_trained_vectors_and_the_pretrained_ones_stay_frozen() {
    let data = separable();
    let e = vectors(8);
    let mut cfg = config(Architecture::Lstm);
    cfg.train_embeddings = false;
    let learn = |epochs| TrainOptions {
        learn_new_words: true,
        ..options(epochs)
    };
    let (model, _) = fit(cfg, &data, Some(&e), &learn(30)).unwrap();
    // The specials and the training words without a vector ("tomorrow", "!") are the trained
    // rows; every pretrained word, seen in training or not, is frozen.
    let trained = model.config().trained_rows.unwrap();
    let vocab = model.vocab();
    for word in ["tomorrow", "!", "today", "again"] {
        let id = vocab.id(word).unwrap_or_else(|| panic!("{word}"));
        assert_eq!(e.id(word).is_none(), id < trained, "{word}");
    }
    assert!(vocab.id("sunny").unwrap() >= trained);
    assert_eq!(vocab.len(), trained + e.len());
    let vars = model.var_store().variables();
    let frozen = &vars["embed.frozen"];
    for word in ["sunny", "cloudy"] {
        let row = vocab.id(word).unwrap() - trained;
        assert!(
            distance_from_pretrained(frozen, row, &e, word) < 1e-7,
            "{word}"
        );
    }
    // A new word's vector moves from its (seeded) start: compare with one epoch of the same
    // seed. <unk> never trains and stays zero.
    let mut cfg = config(Architecture::Lstm);
    cfg.train_embeddings = false;
    let (early, _) = fit(cfg, &data, Some(&e), &learn(1)).unwrap();
    let table = &vars["embed.weight"];
    let bang = vocab.id("!").unwrap() as i64;
    let start = early.var_store().variables()["embed.weight"].get(bang);
    assert!(max_abs_diff(&table.get(bang), &start) > 1e-3);
    let unk = table.get(UNK_ID);
    assert_eq!(f64::try_from(unk.abs().max()).unwrap(), 0.0);
    assert_eq!(evaluate(&model, &data).unwrap().accuracy, 1.0);
}

#[test]
fn fine_tuning_trains_the_training_words_and_keeps_the_others() {
    let data = separable();
    let e = vectors(8);
    let cfg = config(Architecture::Lstm); // trains its embeddings
    let (model, _) = fit(cfg, &data, Some(&e), &options(5)).unwrap();
    // Specials and the training words come first and are trained; "cloudy" (pretrained, never
    // in training) is in the frozen part and keeps its vector.
    let words = model.vocab().len();
    let trained = model.config().trained_rows.unwrap();
    assert!(trained > 2 && trained < words, "{trained} of {words}");
    let cloudy = model.vocab().id("cloudy").unwrap();
    assert!(cloudy >= trained);
    let vars = model.var_store().variables();
    let frozen = &vars["embed.frozen"];
    assert!(distance_from_pretrained(frozen, cloudy - trained, &e, "cloudy") < 1e-7);
    let sunny = model.vocab().id("sunny").unwrap();
    assert!(sunny < trained);
    assert!(distance_from_pretrained(&vars["embed.weight"], sunny, &e, "sunny") > 1e-4);
    // Padding stays exact across the two tables.
    let ids: Vec<Vec<i64>> = ["sunny cloudy today", "cloudy", "rainy so !"]
        .iter()
        .map(|t| model.encode(t).unwrap())
        .collect();
    let refs: Vec<&[i64]> = ids.iter().map(Vec::as_slice).collect();
    let batch = logits(&model, &refs);
    for (i, s) in refs.iter().enumerate() {
        assert!(max_abs_diff(&batch.get(i as i64), &logits(&model, &[s]).get(0)) < 1e-5);
    }
    // And it saves and loads.
    let dir = tempfile::tempdir().unwrap();
    model
        .save(
            &dir.path().join("m"),
            &crate::checkpoint::Meta::new(KIND, 1, 7),
        )
        .unwrap();
    let loaded = Classifier::load(&dir.path().join("m"), Device::Cpu).unwrap();
    let texts = ["cloudy today", "windy"];
    assert_eq!(
        loaded.probabilities(&texts, 2).unwrap(),
        model.probabilities(&texts, 2).unwrap()
    );
}

/// Subword vectors over the words of [`vectors`] less "today" and "windy": each word's own
/// row and the n-gram rows (3-grams in 11 buckets) are drawn from a fixed pattern.
fn subword_vectors(dim: usize) -> Embeddings {
    use crate::embeddings::subwords::{Ngrams, Subwords, Training};
    let words: Vec<String> = ["sunny", "rainy", "snowy", "cloudy"]
        .map(String::from)
        .to_vec();
    let pattern = |n: usize, salt: usize| -> Vec<f32> {
        (0..n * dim)
            .map(|i| (((i + salt) * 7919) % 17) as f32 / 17.0 - 0.5)
            .collect()
    };
    let subwords = Subwords {
        ngrams: Ngrams::new(3, 3, 11).unwrap(),
        word_rows: pattern(words.len(), 0),
        bucket_rows: pattern(11, 5),
        counts: vec![4, 3, 2, 1],
        training: Training::default(),
    };
    Embeddings::with_subwords(words, dim, subwords).unwrap()
}

#[test]
fn subword_vectors_give_the_missing_training_words_frozen_rows() {
    let data = separable();
    let e = subword_vectors(8);
    let mut cfg = config(Architecture::Average);
    cfg.train_embeddings = false;
    let opts = TrainOptions {
        learn_new_words: false,
        ..options(60)
    };
    let (model, report) = fit(cfg.clone(), &data, Some(&e), &opts).unwrap();
    let vocab = model.vocab();
    let table = &model.var_store().variables()["embed.weight"];
    // "today" and "windy" have no row of their own: their rows are their n-gram vectors,
    // frozen like the others ("!" is `<!>`, one 3-gram, so it has one too).
    for word in ["today", "windy", "tomorrow", "!"] {
        let id = vocab.id(word).unwrap_or_else(|| panic!("{word}")) as i64;
        let composed = Tensor::from_slice(&e.ngram_vector(word).unwrap());
        assert!(max_abs_diff(&table.get(id), &composed) < 1e-7, "{word}");
    }
    let sunny = vocab.id("sunny").unwrap();
    assert!(distance_from_pretrained(table, sunny, &e, "sunny") < 1e-7);
    assert_eq!(model.trainable_parameters(), 4 * 8 + 4);
    // Every training word has a vector now; few have their own.
    let (own, composed) = (report.pretrained_coverage, report.subword_coverage);
    assert!(own > 0.1 && own < 0.5, "{own}");
    assert!((own + composed - 1.0).abs() < 1e-12, "{own} + {composed}");
    // The fillers' made-up n-gram vectors blur the mean, but the cues still show (chance 0.25).
    let accuracy = evaluate(&model, &data).unwrap().accuracy;
    assert!(accuracy > 0.5, "{accuracy}");

    // The same vectors without their subword rows: those words read as <unk>.
    let plain = e.clone().without_subwords();
    let (model, report) = fit(cfg.clone(), &data, Some(&plain), &opts).unwrap();
    assert!(model.vocab().id("windy").is_none());
    assert_eq!(report.subword_coverage, 0.0);
    assert_eq!(report.pretrained_coverage, own);

    // With --learn-new-words, a word with a subword vector is not a new word: none is trained.
    let learn = TrainOptions {
        learn_new_words: true,
        ..options(2)
    };
    let (model, _) = fit(cfg, &data, Some(&e), &learn).unwrap();
    assert_eq!(model.config().trained_rows, Some(2));
    // Fine-tuned, the training words start from their vectors, composed or their own.
    let tokenizer = Tokenizer::new(true);
    let sentences: Vec<Vec<String>> = data
        .examples
        .iter()
        .map(|x| tokenizer.words(&x.text).unwrap())
        .collect();
    let (vocab, rows) = vocabulary(&sentences, Some(&e), TrainedWords::All).unwrap();
    let mut cfg = config(Architecture::Average);
    cfg.labels = vec!["a".into(), "b".into()];
    cfg.trained_rows = Some(rows);
    let model = {
        let _lock = crate::device::torch_rng_lock();
        Classifier::new(cfg, vocab, EmbeddingInit::Pretrained(&e), Device::Cpu).unwrap()
    };
    let table = &model.var_store().variables()["embed.weight"];
    for word in ["windy", "sunny"] {
        let id = model.vocab().id(word).unwrap();
        assert!(id < rows, "{word} is trained");
        let start = Tensor::from_slice(&e.get_vector(word).unwrap());
        assert!(max_abs_diff(&table.get(id as i64), &start) < 1e-7, "{word}");
    }
}
