//! `seqmodels seq2seq train --task pairs` and `eval --src --ref` for sentence translators.

use seqmodels::metrics::BLEU_SIGNATURE;
use seqmodels::seq2seq::sentences::pairs::{self, Pair};
use seqmodels::seq2seq::sentences::tokenizer::{TokenizerConfig, TokenizerKind};
use seqmodels::seq2seq::sentences::{
    SentencePreset, SentenceSetup, SentenceSizes, SentenceTrainConfig,
};
use seqmodels::seq2seq::{self, DecodeOptions, Task, Translator};
use seqmodels::train::LrSchedule;
use seqmodels::Progress;

use super::{given_options, warn_lines, EvalArgs, Preset, TokenizerArg, TrainArgs};

/// Reads the training (and dev) pairs of `--task pairs`.
fn read_pairs(args: &TrainArgs) -> anyhow::Result<(Vec<Pair>, Option<Vec<Pair>>)> {
    let train = match (&args.pairs, &args.src, &args.tgt) {
        (Some(path), _, _) => pairs::read_tsv(path)?,
        (None, Some(src), Some(tgt)) => pairs::read_aligned(src, tgt)?,
        _ => anyhow::bail!("give --pairs FILE, or --src FILE and --tgt FILE"),
    };
    let dev = match (&args.dev_src, &args.dev_tgt) {
        (Some(src), Some(tgt)) => Some(pairs::read_aligned(src, tgt)?),
        _ => None,
    };
    Ok((train, dev))
}

pub(super) fn train(args: TrainArgs, progress: &dyn Progress) -> anyhow::Result<()> {
    if args.generate.is_some() {
        anyhow::bail!("--generate makes date pairs; --task pairs reads --pairs or --src/--tgt");
    }
    let _out = super::super::common::claim_out(Some(&args.dirs()?.1), seq2seq::KIND, args.force)?;
    let device = args.device.device.resolve()?;
    let (train, dev) = read_pairs(&args)?;
    let preset = match args.preset {
        None => SentencePreset::for_pairs(train.len()),
        Some(Preset::Small) => SentencePreset::Small,
        Some(Preset::Base) => SentencePreset::Base,
        Some(Preset::Large) => SentencePreset::Large,
        Some(Preset::Course | Preset::Dates) => anyhow::bail!(
            "--preset course and dates size date models; --task pairs takes small, base or large"
        ),
    };
    let mut config = training_config(&args, preset.config());
    let (resume, out) = args.dirs()?;
    let report = if let Some(dir) = &resume {
        check_resume_options(&args, dir)?;
        config.train.budget = args.run.resumed_budget(20)?;
        seq2seq::sentences::resume(dir, &train, dev.as_deref(), &config, device, &out, progress)?
    } else {
        let setup = new_setup(&args, preset.sizes());
        announce_preset(&args, preset, &setup, &config, train.len());
        seq2seq::sentences::train(
            &train,
            dev.as_deref(),
            &setup,
            &config,
            device,
            &out,
            progress,
        )?
    };
    let seconds: f64 = report.epochs.iter().map(|e| e.train_seconds).sum();
    let Some(best) = report.epochs.iter().rev().find(|e| e.saved) else {
        println!(
            "trained {} epoch(s) on {} pairs in {:.1} s; no epoch lowered the saved model's dev \
             loss, so {} is unchanged",
            report.epochs.len(),
            report.train_pairs,
            seconds,
            out.display()
        );
        return Ok(());
    };
    println!(
        "trained {} epoch(s) on {} pairs ({} left out as longer than the model reads), vocabularies {} / {}, in {:.1} s on {}; best epoch {}: dev loss {:.4}, dev BLEU {:.2} ({} dev pairs); saved to {}",
        report.epochs.len(),
        report.train_pairs,
        report.too_long,
        report.vocab_sizes.0,
        report.vocab_sizes.1,
        seconds,
        seqmodels::device::device_name(device),
        best.epoch,
        best.dev_loss,
        best.dev_bleu,
        report.dev_pairs,
        out.display()
    );
    Ok(())
}

/// `seq2seq eval --src F --ref F`: corpus BLEU of a sentence translator.
pub(super) fn eval_bleu(
    translator: &Translator,
    args: &EvalArgs,
    options: &DecodeOptions,
) -> anyhow::Result<()> {
    let (Some(src), Some(reference)) = (&args.src, &args.reference) else {
        anyhow::bail!("give --pairs FILE (dates) or --src FILE --ref FILE (sentences)");
    };
    if translator.config().task != Task::Sentences {
        anyhow::bail!("--src/--ref score sentence translators; this is a date model (use --pairs)");
    }
    let (sources, references) = pairs::read_parallel_lines(src, reference)?;
    let inputs: Vec<&str> = sources.iter().map(String::as_str).collect();
    let references: Vec<&str> = references.iter().map(String::as_str).collect();
    let scored = seq2seq::sentences::score(translator, &inputs, &references, options)?;
    if let Some(path) = &args.output {
        let mut text = scored.hypotheses.join("\n");
        text.push('\n');
        seqmodels::text::write_atomic(path, text.as_bytes())?;
    }
    warn_lines(
        src,
        (0..inputs.len())
            .filter(|&i| inputs[i].trim().is_empty())
            .map(|i| {
                (
                    i + 1,
                    "empty source, scored as an empty translation".to_owned(),
                )
            }),
    );
    let (bleu, chrf) = (scored.bleu()?, scored.chrf()?);
    let (failed, truncated, seconds) = (scored.rejected, scored.truncated, scored.seconds);
    println!(
        "{} sentences, beam width {}: {bleu}, {chrf}; {:.1} sentences/s; {failed} empty or rejected, {truncated} truncated",
        inputs.len(),
        args.beam_width,
        inputs.len() as f64 / seconds
    );
    println!("signature: {BLEU_SIGNATURE} (sacreBLEU's defaults, raw references)");
    if translator.config().lowercase {
        println!(
            "lower-cased (the model writes lower case): {}",
            scored.bleu_lowercased()?
        );
    }
    Ok(())
}

/// Refuses, on `--resume DIR`, the options the saved model keeps: its tokenizers and sizes,
/// its learning rate, seed and dev split, and the training options it recorded.
fn check_resume_options(args: &TrainArgs, dir: &std::path::Path) -> anyhow::Result<()> {
    // The tokenizers and sizes are the saved model's: another one would be ignored.
    let mut given = args.sentence_model_options();
    if args.preset.is_some() {
        given.push("--preset");
    }
    if !given.is_empty() {
        anyhow::bail!(
            "--resume keeps the saved model's tokenizers and sizes; leave out {}",
            given.join(", ")
        );
    }
    // So are its learning rate and its dev split: the seed and share that drew it, where
    // the model records them (a model saved before the share was recorded takes the one
    // given, which must be the one it was trained with).
    let saved = seqmodels::checkpoint::read_meta(dir)?.training;
    let given = given_options(&[
        ("--lr", args.lr.is_some()),
        ("--seed", args.run.seed != seqmodels::train::DEFAULT_SEED),
        ("--lr-decay", args.lr_decay.is_some()),
        (
            "--valid-fraction",
            args.valid_fraction.is_some() && saved.contains_key("valid_fraction"),
        ),
    ]);
    if !given.is_empty() {
        anyhow::bail!(
            "--resume continues with the saved learning rate, seed and dev split; leave out {}",
            given.join(", ")
        );
    }
    // A model that recorded its training options trains with them again.
    if saved.contains_key("train_options") {
        let given = given_options(&[
            ("--batch-size", args.batch_size.is_some()),
            ("--clip-norm", args.clip_norm.is_some()),
            ("--label-smoothing", args.label_smoothing.is_some()),
            ("--teacher-forcing", args.teacher_forcing.is_some()),
            ("--bleu-sentences", args.bleu_sentences.is_some()),
        ]);
        if !given.is_empty() {
            anyhow::bail!(
                "--resume continues with the saved training options; leave out {}",
                given.join(", ")
            );
        }
    }
    Ok(())
}

/// Prints the preset a new sentence model is sized by, and whether flags changed it.
fn announce_preset(
    args: &TrainArgs,
    preset: SentencePreset,
    setup: &SentenceSetup,
    config: &SentenceTrainConfig,
    pairs: usize,
) {
    let s = &setup.model;
    eprintln!(
        "sizes: the {} preset{} (embed {}, hidden {}, dropout {}, batch {}, lr {:e}){}",
        preset.name(),
        if args.preset.is_some() {
            String::new()
        } else {
            format!(" for {} pairs", pairs)
        },
        s.src_embed.unwrap_or(0),
        s.enc_hidden,
        s.dropout,
        config.train.batch_size,
        config.train.lr,
        if args.embed.or(args.hidden).is_some()
            || args.dropout.is_some()
            || args.batch_size.is_some()
            || args.lr.is_some()
        {
            ", with the sizes given"
        } else {
            ""
        }
    );
}

/// The training options of a sentence model, from the preset's and the flags given.
fn training_config(args: &TrainArgs, mut config: SentenceTrainConfig) -> SentenceTrainConfig {
    args.apply(&mut config.train);
    if let Some(decay) = args.lr_decay {
        config.train.lr_schedule = LrSchedule::Plateau(decay);
    }
    let set = |slot: &mut f64, value: Option<f64>| {
        if let Some(v) = value {
            *slot = v;
        }
    };
    set(&mut config.label_smoothing, args.label_smoothing);
    set(&mut config.teacher_forcing, args.teacher_forcing);
    if let Some(n) = args.bleu_sentences {
        config.bleu_sentences = n;
    }
    config
}

/// The tokenizers and sizes of a new sentence model, from the defaults and the flags given.
fn new_setup(args: &TrainArgs, sizes: SentenceSizes) -> SentenceSetup {
    let tokenizer_defaults = TokenizerConfig::default();
    let tokenizer = TokenizerConfig {
        kind: match args.tokenizer.unwrap_or(TokenizerArg::Sentencepiece) {
            TokenizerArg::Word => TokenizerKind::Word,
            TokenizerArg::Bpe => TokenizerKind::Bpe,
            TokenizerArg::Sentencepiece => TokenizerKind::SentencePiece,
        },
        vocab_size: args.vocab_size.unwrap_or(tokenizer_defaults.vocab_size),
        min_frequency: args
            .min_frequency
            .unwrap_or(tokenizer_defaults.min_frequency),
        lowercase: args.lowercase,
        nfkc: !args.no_nfkc,
    };
    let sizes = SentenceSizes {
        embed: args.embed.unwrap_or(sizes.embed),
        hidden: args.hidden.unwrap_or(sizes.hidden),
        layers: args.layers.unwrap_or(sizes.layers),
        dropout: args.dropout.unwrap_or(sizes.dropout),
        max_len: args.max_len.unwrap_or(sizes.max_len),
    };
    SentenceSetup::new(sizes, tokenizer)
}
