//! `seqmodels dates`: the date data generator.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use seqmodels::seq2seq::dates;

use super::common::Formats;

#[derive(Debug, Args)]
pub struct DatesArgs {
    #[command(subcommand)]
    pub command: DatesCommand,
}

#[derive(Debug, Subcommand)]
pub enum DatesCommand {
    /// Write N random human-written dates with their ISO form, tab-separated.
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// How many pairs.
    #[arg(short, default_value_t = 10, value_parser = super::common::between_one_and::<10_000_000>)]
    pub n: usize,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// course: the course's 24 babel patterns; wide: those plus ordinals, numerics, casing;
    /// real: any year 1000-2999, more layouts, times, typos, a <day-first> tag, and inputs to
    /// refuse (an empty second column, or an impossible date's transcription).
    #[arg(long, value_enum, default_value_t = Formats::Course)]
    pub formats: Formats,
    /// Add a third column with the name of the format used.
    #[arg(long)]
    pub with_format: bool,
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

pub fn run(args: DatesArgs) -> anyhow::Result<()> {
    match args.command {
        DatesCommand::Generate(g) => generate(g),
    }
}

fn generate(args: GenerateArgs) -> anyhow::Result<()> {
    let mut rng = seqmodels::device::rng_from_seed(args.seed);
    let pairs = dates::generate(args.n, args.formats.into(), &mut rng);
    let mut text = String::new();
    for p in &pairs {
        text.push_str(&p.human);
        text.push('\t');
        text.push_str(&p.iso);
        if args.with_format {
            text.push('\t');
            text.push_str(p.format);
        }
        text.push('\n');
    }
    match &args.out {
        Some(path) => seqmodels::text::write_atomic(path, text.as_bytes())?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(())
}
