//! Emojify: label sentences with one of five emoji, as in the Sequence Models course.
//!
//! ```sh
//! cargo run --release --example emojify -- [TRAIN.csv] [VECTORS.bin]
//! ```
//!
//! Without arguments it trains on the small emoji corpus the project ships
//! (`corpora/emoji/train.csv`) with embeddings learnt from scratch; give the course's
//! `train_emoji.csv` and word vectors (from `seqmodels embed train`) for the real thing.

use seqmodels::classify::{
    self, Architecture, ClassifierConfig, Dataset, TableOptions, TrainData, TrainOptions,
};
use seqmodels::embeddings::formats;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let train_path = args
        .next()
        .unwrap_or_else(|| "corpora/emoji/train.csv".to_owned());
    let vectors = args
        .next()
        .map(|p| formats::read(p.as_ref(), None, None))
        .transpose()?;
    let device = seqmodels::DeviceSpec::Cpu.resolve()?;
    seqmodels::device::set_threads(1);

    let data = Dataset::table(train_path.as_ref(), &TableOptions::default())?;
    let config = ClassifierConfig {
        architecture: Architecture::Lstm, // Emojify V2; Architecture::Average is V1
        embed_dim: vectors.as_ref().map_or(50, |v| v.dim()),
        display: ["❤️", "⚾", "😄", "😞", "🍴"].map(String::from).to_vec(),
        ..ClassifierConfig::default()
    };
    let mut options = TrainOptions::default();
    options.train.budget = seqmodels::train::Budget::epochs(40);
    let data = TrainData {
        train: &data,
        valid: None,
        pretrained: vectors.as_ref(),
    };
    // Saved with its optimiser state, so `classify::resume` could continue it.
    let out = std::env::temp_dir().join("seqmodels-example-emojify");
    let (model, report) = classify::train(
        config,
        &data,
        &options,
        device,
        Some(&out),
        &seqmodels::Silent,
    )?;
    println!(
        "{} sentences, best dev accuracy {:.1}% at epoch {}",
        report.train_size,
        100.0 * report.best_valid_accuracy.unwrap_or(0.0),
        report.best_epoch
    );

    let texts = [
        "I love you",
        "let us play ball",
        "what a great day",
        "I lost my keys",
        "pizza tonight",
    ];
    for (text, probs) in texts.iter().zip(model.probabilities(&texts, 8)?) {
        let best = (0..probs.len())
            .max_by(|&a, &b| probs[a].total_cmp(&probs[b]))
            .unwrap_or(0);
        println!(
            "{text:20} {} {:.2}",
            model.config().display_name(best),
            probs[best]
        );
    }
    Ok(())
}
