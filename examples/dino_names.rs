//! Dinosaur Island: train the course's character RNN on a list of dinosaur names and sample new
//! ones.
//!
//! ```sh
//! cargo run --release --example dino_names -- dinos.txt [OUT_DIR]
//! ```
//!
//! `dinos.txt` is one name per line (the Sequence Models course's list, or any names list).

use seqmodels::charlm::{self, CharLm, Dataset, SampleOptions, SampleStats, TrainOptions, Unit};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let data_path = args.next().ok_or_else(|| {
        anyhow::anyhow!("usage: dino_names DINOS.txt [OUT_DIR] (one name per line)")
    })?;
    let out = args.next().unwrap_or_else(|| "dino-model".to_owned());
    let device = seqmodels::DeviceSpec::Cpu.resolve()?;
    seqmodels::device::set_threads(1);

    let data = Dataset::load(data_path.as_ref(), Unit::Line)?;
    let options = TrainOptions::dinosaur(); // vanilla RNN, 50 hidden units, SGD, clip value 5
    let print_epochs = |e: &seqmodels::ProgressEvent<'_>| {
        if let seqmodels::ProgressEvent::End { summary } = e {
            eprintln!("{summary}");
        }
    };
    let report = charlm::train(&data, &options, device, out.as_ref(), &print_epochs)?;
    println!(
        "held-out {:.3} nats/char after {} epochs; model in {out}",
        report.best_valid_nats,
        report.epochs.len()
    );

    let model = CharLm::load(out.as_ref(), device)?;
    let samples = model.sample(&SampleOptions {
        count: 10,
        seed: 7,
        ..SampleOptions::default()
    })?;
    for name in &samples {
        println!("{name}");
    }
    let stats = SampleStats::of(&samples, Some(&data));
    println!(
        "{:.0}% unique, {:.0}% not in the training list",
        100.0 * stats.unique,
        100.0 * stats.novel.unwrap_or(0.0)
    );
    Ok(())
}
