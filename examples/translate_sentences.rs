//! Train a sentence translator on a parallel corpus, then translate with beam search.
//!
//! cargo run --release --example translate_sentences -- PAIRS.tsv [SENTENCE ...]
//!
//! PAIRS.tsv holds `source<TAB>target` lines (the Tatoeba/manythings layout). Without it, the
//! example makes a toy language pair (the target is the source reversed, word by word
//! translated: "s3 s1 s4" -> "t4 t1 t3") so that it runs anywhere in about a minute.

use std::time::Duration;

use seqmodels::seq2seq::sentences::pairs::{self, Pair};
use seqmodels::seq2seq::sentences::tokenizer::{TokenizerConfig, TokenizerKind};
use seqmodels::seq2seq::sentences::{self, SentenceSetup, SentenceTrainConfig};
use seqmodels::seq2seq::{DecodeOptions, Seq2SeqConfig, Translator};
use seqmodels::train::Budget;
use seqmodels::{DeviceSpec, Silent};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (pairs, inputs) = match args.split_first() {
        Some((path, rest)) => (pairs::read_tsv(path.as_ref())?, rest.to_vec()),
        None => (
            toy_pairs(2000),
            vec!["s1 s2 s3".into(), "s7 s0 s4 s4".into()],
        ),
    };
    let device = DeviceSpec::Auto.resolve()?;
    let tokenizer = TokenizerConfig {
        kind: TokenizerKind::Word,
        vocab_size: 8000,
        ..TokenizerConfig::default()
    };
    let setup = SentenceSetup {
        model: Seq2SeqConfig {
            src_vocab: 0,
            tgt_vocab: 0,
            src_embed: Some(64),
            tgt_embed: Some(64),
            enc_hidden: 64,
            enc_layers: 1,
            dec_hidden: 128,
            attn_hidden: 64,
            output_uses_context: true,
            dropout: 0.1,
            max_src_len: 20,
            max_tgt_len: 21,
        },
        src_tokenizer: tokenizer.clone(),
        tgt_tokenizer: tokenizer,
    };
    let mut config = SentenceTrainConfig::default();
    config.train.budget = Budget {
        epochs: Some(10),
        time_budget: Some(Duration::from_secs(60)),
    };
    config.train.lr = 3e-3;
    let out = std::env::temp_dir().join("seqmodels-example-sentences");
    let report = sentences::train(&pairs, None, &setup, &config, device, &out, &Silent)?;
    for e in &report.epochs {
        println!(
            "epoch {}: train loss {:.3}, dev loss {:.3}, dev BLEU {:.1}",
            e.epoch, e.train_loss, e.dev_loss, e.dev_bleu
        );
    }

    // The saved directory holds the weights and both tokenizers.
    let translator = Translator::load(&out, device)?;
    let options = DecodeOptions {
        beam_width: 5,
        n_best: 2,
        ..DecodeOptions::default()
    };
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    for (input, result) in inputs.iter().zip(translator.translate(&inputs, &options)?) {
        for (rank, h) in result?.iter().enumerate() {
            println!("{input} -> #{} {} (score {:.3})", rank + 1, h.text, h.score);
        }
    }
    Ok(())
}

/// `n` toy pairs of 2 to 6 words.
fn toy_pairs(n: usize) -> Vec<Pair> {
    use rand::Rng;
    let mut rng = seqmodels::device::rng_from_seed(1);
    (0..n)
        .map(|line| {
            let words: Vec<u32> = (0..rng.random_range(2..=6))
                .map(|_| rng.random_range(0..10))
                .collect();
            let src: Vec<String> = words.iter().map(|w| format!("s{w}")).collect();
            let tgt: Vec<String> = words.iter().rev().map(|w| format!("t{w}")).collect();
            Pair {
                src: src.join(" "),
                tgt: tgt.join(" "),
                line: line + 1,
            }
        })
        .collect()
}
