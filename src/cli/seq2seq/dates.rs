//! `seqmodels seq2seq train` and `eval` for date translators.

use std::path::Path;

use seqmodels::seq2seq::{
    self, dates, DecodeOptions, Seq2SeqConfig, Task, Translator, TranslatorConfig,
};
use seqmodels::Progress;

use super::{warn_lines, EvalArgs, Preset, TrainArgs};
use crate::cli::common::Formats;

pub(super) fn train(args: TrainArgs, progress: &dyn Progress) -> anyhow::Result<()> {
    let mut given = args.sentence_model_options();
    given.extend(args.sentence_training_options());
    if !given.is_empty() {
        anyhow::bail!(
            "only --task pairs reads {}; date models take their sizes from --preset",
            given.join(", ")
        );
    }
    if args.src.is_some() {
        anyhow::bail!("--src and --tgt are for --task pairs");
    }
    let device = args.device.device.resolve()?;
    let model = match args.preset.unwrap_or(Preset::Course) {
        Preset::Course => Seq2SeqConfig::course(0, 0),
        Preset::Dates => seq2seq::dates_preset(),
        Preset::Small | Preset::Base | Preset::Large => {
            anyhow::bail!("--preset small, base and large size sentence translators (--task pairs); date models take course or dates")
        }
    };
    let mut train = seq2seq::dates::TrainConfig::default();
    args.apply(&mut train.train);
    let seed = train.train.seed;
    let (resume, out) = args.dirs()?;
    let _out = super::super::common::claim_out(Some(&out), seq2seq::KIND, args.force)?;
    // The inputs a model reads: a resumed model's own length, else the preset's.
    let max_src_len = match &resume {
        Some(dir) => {
            let saved = seqmodels::checkpoint::load::<TranslatorConfig, serde_json::Value>(
                dir,
                seq2seq::KIND,
                seq2seq::FORMAT_VERSION,
            )?;
            saved.config.model.max_src_len
        }
        None => model.max_src_len,
    };
    if args.formats.is_some() && args.generate.is_none() {
        anyhow::bail!("--formats chooses the formats of --generate: give --generate N too");
    }
    let pairs: Vec<(String, String)> = match (&args.pairs, args.generate) {
        (Some(path), _) => dates::DateRow::read(path, Some(max_src_len))?
            .into_iter()
            .map(|row| (row.human, row.iso))
            .collect(),
        (None, Some(n)) => {
            let mut rng = seqmodels::device::rng_from_seed(seed);
            dates::generate(n, args.formats.unwrap_or(Formats::Course).into(), &mut rng)
                .into_iter()
                .map(|p| (p.human, p.iso))
                .collect()
        }
        (None, None) => anyhow::bail!("give --pairs FILE or --generate N"),
    };
    let report = if let Some(dir) = &resume {
        if args.generate.is_some() {
            anyhow::bail!(
                "--resume trains on the pairs the model was trained on: give them with --pairs"
            );
        }
        let given = super::given_options(&[
            ("--preset", args.preset.is_some()),
            ("--lr", args.lr.is_some()),
            ("--valid-fraction", args.valid_fraction.is_some()),
            ("--batch-size", args.batch_size.is_some()),
            ("--clip-norm", args.clip_norm.is_some()),
        ]);
        if !given.is_empty() {
            anyhow::bail!(
                "--resume continues with the saved model's sizes, learning rate, batches, clipping \
                 and held-out split; leave out {}",
                given.join(", ")
            );
        }
        let budget = args.run.resumed_budget(20)?;
        seq2seq::dates::resume(dir, &pairs, budget, device, &out, progress)?
    } else {
        let config = TranslatorConfig {
            task: Task::Dates,
            lowercase: true,
            model,
        };
        seq2seq::dates::train(&pairs, config, &train, device, &out, progress)?
    };
    let seconds: f64 = report.epochs.iter().map(|e| e.train_seconds).sum();
    let saved = if report.epochs.iter().any(|e| e.saved) {
        format!("saved to {}", out.display())
    } else {
        format!(
            "no epoch beat the saved model, so {} is unchanged",
            out.display()
        )
    };
    println!(
        "trained {} epoch(s) on {} pairs ({} held out) in {:.1} s ({:.2} s/epoch); {saved}",
        report.epochs.len(),
        report.train_pairs,
        report.valid_pairs,
        seconds,
        seconds / report.epochs.len().max(1) as f64,
    );
    Ok(())
}

/// `seq2seq eval --pairs F`: exact match of a date translator, overall and per format.
pub(super) fn eval(
    translator: &Translator,
    args: &EvalArgs,
    options: &DecodeOptions,
    pairs: &Path,
) -> anyhow::Result<()> {
    if translator.config().task != Task::Dates {
        anyhow::bail!("this is a sentence translator: score it with --src F --ref F");
    }
    if args.max_len_ratio.is_some() || args.replace_unk {
        anyhow::bail!(
            "--max-len-ratio and --replace-unk are for sentence models; this is a date model"
        );
    }
    let rows = dates::DateRow::read(pairs, None)?;
    let eval = dates::evaluate(translator, &rows, options)?;
    // Name the lines whose input was rejected or holds characters the model never saw, so a
    // low score can be traced to its inputs.
    warn_lines(
        pairs,
        rows.iter().zip(&eval.outputs).filter_map(|(row, out)| {
            let warning = match out {
                Err(err) => Some(format!("rejected: {err}")),
                Ok(_) => {
                    let unseen: String = translator.unseen_characters(&row.human).iter().collect();
                    (!unseen.is_empty()).then(|| {
                        format!("characters the model never saw, read as unknown: {unseen:?}")
                    })
                }
            };
            warning.map(|w| (row.line, w))
        }),
    );
    if let Some(path) = &args.output {
        let mut text = String::new();
        for out in &eval.outputs {
            if let Some(h) = out.as_ref().ok().and_then(|h| h.first()) {
                text.push_str(&h.text);
            }
            text.push('\n');
        }
        seqmodels::text::write_atomic(path, text.as_bytes())?;
    }
    let n = rows.len();
    println!(
        "{n} pairs, beam width {}, {}: exact match {:.2}% ({}/{n}), valid dates {:.2}%, {} inputs rejected, {} refused ({} to refuse), {:.0} inputs/s",
        args.beam_width,
        if args.no_constrain { "unconstrained" } else { "calendar-constrained" },
        100.0 * eval.exact_match(),
        eval.right,
        100.0 * eval.valid_share(),
        eval.rejected,
        eval.refused,
        eval.to_refuse,
        n as f64 / eval.seconds
    );
    if eval.per_format.len() > 1 {
        println!("{:<24} {:>8} {:>7}", "format", "accuracy", "pairs");
        for f in &eval.per_format {
            let pct = 100.0 * f.right as f64 / f.total.max(1) as f64;
            println!("{:<24} {pct:>7.2}% {:>7}", f.format, f.total);
        }
    }
    Ok(())
}
