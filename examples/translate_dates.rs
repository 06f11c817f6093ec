//! Translate human-written dates with the built-in model, then train a small model of your own.
//!
//! cargo run --release --example translate_dates

use seqmodels::seq2seq::{self, dates, DecodeOptions, Task, Translator, TranslatorConfig};
use seqmodels::{DeviceSpec, Silent};

fn main() -> anyhow::Result<()> {
    let device = DeviceSpec::Auto.resolve()?;

    // The built-in model: beam search with the three best hypotheses, always real dates.
    let model = Translator::builtin_dates(device)?;
    let options = DecodeOptions {
        beam_width: 5,
        n_best: 3,
        ..DecodeOptions::default()
    };
    let inputs = ["Tuesday 10 July 2007", "the 4th of july 1976", "12/25/99"];
    for (input, result) in inputs.iter().zip(model.translate(&inputs, &options)?) {
        let best = result?;
        let others: Vec<String> = best[1..]
            .iter()
            .map(|h| format!("{} ({:.3})", h.text, h.score))
            .collect();
        println!(
            "{input:>22} -> {} (score {:.3}); next: {}",
            best[0].text,
            best[0].score,
            others.join(", ")
        );
    }

    // A model of your own: 3,000 generated pairs, a few epochs, saved as a directory.
    let mut rng = seqmodels::device::rng_from_seed(1);
    let pairs: Vec<(String, String)> = dates::generate(3000, dates::FormatSet::Course, &mut rng)
        .into_iter()
        .map(|p| (p.human, p.iso))
        .collect();
    let config = TranslatorConfig {
        task: Task::Dates,
        lowercase: true,
        model: seq2seq::dates_preset(),
    };
    let mut train = seq2seq::dates::TrainConfig::default();
    train.train.budget = seqmodels::train::Budget::epochs(3);
    let out = std::env::temp_dir().join("seqmodels-example-dates");
    let history = seq2seq::dates::train(&pairs, config, &train, device, &out, &Silent)?;
    for e in &history.epochs {
        println!(
            "epoch {}: loss {:.4}, held-out exact match {:.1}%",
            e.epoch,
            e.train_loss,
            100.0 * e.valid_accuracy
        );
    }
    let mine = Translator::load(&out, device)?;
    let result = mine.translate(&["3 may 1979"], &DecodeOptions::default())?;
    println!(
        "own model: 3 may 1979 -> {}",
        result[0]
            .as_ref()
            .map(|h| h[0].text.as_str())
            .unwrap_or("?")
    );
    Ok(())
}
