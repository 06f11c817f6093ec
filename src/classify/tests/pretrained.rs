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
