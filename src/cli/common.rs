//! What several command groups share: where to run, the value parsers that refuse a bad
//! number at once, the options every `train` command takes (budget, patience, schedule, seed),
//! the date format sets, opening a translator and reading stdin line by line.

use std::path::Path;
use std::time::Duration;

use clap::{Args, ValueEnum};
use seqmodels::seq2seq::dates::FormatSet;
use seqmodels::seq2seq::Translator;
use seqmodels::train::{Budget, LrSchedule, Settings, DEFAULT_SEED};
use seqmodels::DeviceSpec;

/// Where to run: shared by every command that computes.
#[derive(Debug, Clone, Args)]
pub struct DeviceArgs {
    /// auto (first GPU if any, else CPU), cpu, cuda or cuda:N. Asking for CUDA where there is
    /// none is an error, never a silent fallback.
    #[arg(long, default_value = "auto", value_parser = parse_device)]
    pub device: DeviceSpec,
}

pub fn parse_device(s: &str) -> Result<DeviceSpec, String> {
    s.parse().map_err(|e: seqmodels::Error| e.to_string())
}

/// A count of at least 1 (a batch size, a number of neighbours): 0 would do nothing.
pub fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>().map_err(|e| format!("{e}"))? {
        0 => Err("must be at least 1".into()),
        n => Ok(n),
    }
}

/// A count of at most `MAX`, for the options whose memory or time grows with them, so that a
/// mistyped value is refused at once rather than exhausting the machine.
pub fn at_most<const MAX: usize>(s: &str) -> Result<usize, String> {
    let n: usize = s.parse().map_err(|e| format!("{e}"))?;
    if n > MAX {
        return Err(format!("{n} is more than the {MAX} allowed"));
    }
    Ok(n)
}

/// A count from 1 to `MAX` (how many samples or dates to print): 0 would print nothing.
pub fn between_one_and<const MAX: usize>(s: &str) -> Result<usize, String> {
    match at_most::<MAX>(s)? {
        0 => Err("must be at least 1".into()),
        n => Ok(n),
    }
}

/// A size in bytes, at least 16: `1048576`, `64K`, `1M`, `2G` (powers of 1024; `KiB`, `MiB`,
/// `GiB` and `B` are read too).
pub fn byte_count(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => {
            return Err(format!(
                "expected a size such as 1048576, 64K, 1M or 2G, got {s:?}"
            ))
        }
    };
    let bytes = number
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("expected a size such as 1048576, 64K, 1M or 2G, got {s:?}"))?;
    if bytes < 16 {
        return Err(format!("{bytes} bytes is below the 16 allowed"));
    }
    Ok(bytes)
}

/// The lines of stdin, numbered from 1, for the commands that read one input per line: each
/// longer than `--max-line-bytes` is cut there, with a warning on stderr naming it, so that
/// memory stays bounded and output line N still answers input line N. A line that is not
/// UTF-8 is an `Err(BadLine)` naming it, and reading goes on after it. A drop-in for
/// `seqmodels::text::lines(stdin.lock(), Path::new("<stdin>"))`.
pub fn stdin_lines() -> impl Iterator<Item = seqmodels::Result<(usize, String)>> {
    let stdin = std::io::stdin().lock();
    seqmodels::text::cut_lines(stdin, Path::new("<stdin>")).map(|line| {
        line.map(|line| {
            if let Some(cut) = &line.cut {
                eprintln!("warning: {cut}");
            }
            (line.number, line.text)
        })
    })
}

/// Prints `warning: PATH:LINE: ...` on stderr for the first ten of `cuts` (texts cut at
/// `--max-line-bytes`), then how many more there are.
pub fn warn_cuts(cuts: &[seqmodels::text::Cut]) {
    for cut in cuts.iter().take(10) {
        eprintln!("warning: {cut}");
    }
    if cuts.len() > 10 {
        eprintln!("warning: {} more text(s) cut like these", cuts.len() - 10);
    }
}

/// A factor of at least 1 (the GPU word2vec trainer's row cap).
pub fn at_least_one(s: &str) -> Result<f64, String> {
    let x: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if x >= 1.0 {
        Ok(x)
    } else {
        Err(format!("{x} is below 1"))
    }
}

/// The options every `train` command takes, with one meaning everywhere.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Passes over the training data, at most [default: the model's; no limit with
    /// --time-budget].
    #[arg(long, value_parser = at_most::<1_000_000>)]
    pub epochs: Option<usize>,
    /// Stop once the run has taken this much wall time, e.g. 90s, 10m, 1h (the epoch it stops
    /// is evaluated and saved if it is the best).
    #[arg(long, value_parser = parse_duration)]
    pub time_budget: Option<Duration>,
    /// Stop after N epochs in a row without a better held-out score; 0 never stops early
    /// [default: the model's].
    #[arg(long, value_name = "N")]
    pub patience: Option<usize>,
    /// How the learning rate moves: constant, linear:FLOOR (down to FLOOR over the run) or
    /// plateau:FACTOR (times FACTOR after each epoch without a better held-out score, or without
    /// held-out data a lower training loss) [default: the model's].
    #[arg(long, value_name = "SCHEDULE", value_parser = parse_schedule)]
    pub lr_schedule: Option<LrSchedule>,
    /// Seeds the held-out draw, the initial weights, the batches and dropout.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
}

impl RunArgs {
    /// The budget: the given epochs and/or time; with neither, `default_epochs`.
    pub fn budget(&self, default_epochs: usize) -> Budget {
        Budget {
            epochs: match (self.epochs, self.time_budget) {
                (Some(e), _) => Some(e),
                (None, Some(_)) => None,
                (None, None) => Some(default_epochs),
            },
            time_budget: self.time_budget,
        }
    }

    /// Puts the given options into `settings` (the model's defaults stay for the others).
    pub fn apply(&self, settings: &mut Settings) {
        settings.budget = self.budget(settings.budget.epochs.unwrap_or(10));
        if let Some(p) = self.patience {
            settings.patience = p;
        }
        if let Some(s) = self.lr_schedule {
            settings.lr_schedule = s;
        }
        settings.seed = self.seed;
    }

    /// The budget of a resumed run, the one thing it takes from the command line: the rest is
    /// the saved run's, so `--seed`, `--patience` and `--lr-schedule` are refused there.
    pub fn resumed_budget(&self, default_epochs: usize) -> anyhow::Result<Budget> {
        if self.seed != DEFAULT_SEED || self.lr_schedule.is_some() || self.patience.is_some() {
            anyhow::bail!(
                "--resume continues the saved run with its seed, patience and learning-rate \
                 schedule; leave out --seed, --patience and --lr-schedule"
            );
        }
        Ok(self.budget(default_epochs))
    }
}

/// `constant`, `linear:2e-4`, `plateau:0.5`.
pub fn parse_schedule(s: &str) -> Result<LrSchedule, String> {
    let (name, value) = match s.split_once(':') {
        Some((n, v)) => (n, Some(v)),
        None => (s, None),
    };
    let number = |v: Option<&str>| -> Result<f64, String> {
        v.ok_or_else(|| format!("{name} needs a value: {name}:X"))?
            .parse::<f64>()
            .map_err(|_| format!("{s:?}: the value after ':' is not a number"))
    };
    match name {
        "constant" if value.is_none() => Ok(LrSchedule::Constant),
        "linear" => Ok(LrSchedule::Linear(number(value)?)),
        "plateau" => Ok(LrSchedule::Plateau(number(value)?)),
        _ => Err(format!(
            "unknown schedule {s:?}: use constant, linear:FLOOR or plateau:FACTOR"
        )),
    }
}

/// `90`, `90s`, `10m`, `1.5h`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (number, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("expected a duration such as 90s, 10m or 1h, got {s:?}"))?;
    let seconds = match unit {
        "s" | "sec" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("unknown unit {unit:?} in {s:?}: use s, m or h")),
    };
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(format!("the duration must be > 0, got {s:?}"));
    }
    // A year is past any training run, and far below what Duration and Instant can add.
    const YEAR: f64 = 365.0 * 24.0 * 3600.0;
    if seconds > YEAR {
        return Err(format!(
            "the duration must be at most a year (8760h), got {s:?}"
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Closed choice of format sets for clap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Formats {
    /// The course's 24 patterns, lower-cased, commas removed.
    Course,
    /// The course set plus what people really type.
    Wide,
    /// Dates as people write them: any year 1000-2999, more layouts, times, typos, day-first
    /// slashes behind a tag, and inputs to refuse (empty target).
    Real,
}

impl From<Formats> for FormatSet {
    fn from(f: Formats) -> Self {
        match f {
            Formats::Course => FormatSet::Course,
            Formats::Wide => FormatSet::Wide,
            Formats::Real => FormatSet::Real,
        }
    }
}

/// The translator in `model`, or the built-in date translator without one.
pub fn translator(model: Option<&Path>, device: tch::Device) -> seqmodels::Result<Translator> {
    match model {
        Some(dir) => Translator::load(dir, device),
        None => Translator::builtin_dates(device),
    }
}

/// Claims the model directory a training run writes (its `--out`, or the resumed one) before
/// the run reads or trains anything: a model of another kind there is refused unless `--force`,
/// a second run on it fails at once, and what crashed runs left beside it is cleaned up (see
/// `seqmodels::checkpoint::claim`). `None` (no directory: `--cv`) claims nothing.
pub fn claim_out(
    out: Option<impl AsRef<Path>>,
    kind: &str,
    force: bool,
) -> seqmodels::Result<Option<seqmodels::checkpoint::Claim>> {
    out.map(|dir| seqmodels::checkpoint::claim(dir.as_ref(), kind, force))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn byte_counts() {
        assert_eq!(byte_count("1M").unwrap(), 1 << 20);
        assert_eq!(byte_count("64KiB").unwrap(), 64 << 10);
        assert_eq!(byte_count("2g").unwrap(), 2 << 30);
        assert_eq!(byte_count("100").unwrap(), 100);
        assert!(byte_count("8").unwrap_err().contains("below the 16"));
        assert!(byte_count("1T").is_err());
        assert!(byte_count("M").is_err());
        assert!(byte_count("99999999999999999999G").is_err());
    }

    #[test]
    fn schedules() {
        assert_eq!(parse_schedule("constant").unwrap(), LrSchedule::Constant);
        assert_eq!(
            parse_schedule("linear:2e-4").unwrap(),
            LrSchedule::Linear(2e-4)
        );
        assert_eq!(
            parse_schedule("plateau:0.5").unwrap(),
            LrSchedule::Plateau(0.5)
        );
        assert!(parse_schedule("linear").is_err());
        assert!(parse_schedule("cosine").is_err());
        assert!(parse_schedule("plateau:x").is_err());
    }
}
