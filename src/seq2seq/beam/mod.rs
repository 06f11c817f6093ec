//! Batched beam search, independent of the model behind it.
//!
//! A decoder is anything that implements [`StepModel`]: given a state with one row per live
//! hypothesis, it returns next-token log-probabilities for every row, and it can gather rows of a
//! state. Everything else — which hypotheses survive, when an input is finished, how hypotheses
//! are ranked — is plain Rust over slices and lives here, so it is tested without a network.
//!
//! All live hypotheses of all inputs are stacked into one state, so each output position costs a
//! single [`StepModel::step`] and a single [`StepModel::select`] for the whole batch. An input whose
//! result can no longer change has its rows removed from the state and costs nothing afterwards.
//!
//! Finished hypotheses are ranked by the length-normalised score of Wu et al. (2016, "Google's
//! Neural Machine Translation System"), in the simplified form taught in the Sequence Models course:
//! `score = log_prob / len^alpha`. Raw log-probabilities only ever decrease with every extra
//! token, so without normalisation beam search systematically prefers short outputs; `alpha`
//! (0 = none, 1 = full per-token average) tunes how much of that bias is removed.
//!
//! [`greedy`] is the argmax decoder that a width-1 beam search must reproduce exactly.

use std::cmp::Ordering;

mod fallback;

use fallback::{pooled_fallback, step_log_prob};

/// The widest beam a search takes: the work and memory of a step grow with the width.
pub const MAX_BEAM_WIDTH: usize = 1024;

/// What beam search needs from a model. `State` holds one row per live hypothesis
/// (e.g. decoder hidden states as a tensor of shape `[rows, hidden]`).
///
/// The search calls [`step`](StepModel::step) once per output position for the whole batch, then
/// [`select`](StepModel::select) once with the parent row of every surviving hypothesis; it never
/// calls either with zero rows.
pub trait StepModel {
    /// Per-row decoder state, e.g. hidden states of shape `[rows, hidden]`.
    type State;
    /// Whatever the model's operations can fail with; beam search only passes it through.
    type Error;

    /// Log-probabilities of the next token for every row of `state`, given the last token of each
    /// row (`last.len()` == rows). `source[r]` is the index of the input (in the batch) that row `r`
    /// belongs to, so the model can attend over the right encoder outputs. `step` is the 0-based
    /// output position being produced. Returns the new state (same row order) and a flat row-major
    /// `Vec` of `rows * vocab` log-probs.
    fn step(
        &mut self,
        state: &Self::State,
        last: &[usize],
        source: &[usize],
        step: usize,
    ) -> Result<(Self::State, Vec<f32>), Self::Error>;

    /// A state made of the given rows of `state`, in that order (rows may repeat).
    fn select(&mut self, state: &Self::State, rows: &[usize]) -> Result<Self::State, Self::Error>;
}

/// Restricts which tokens may come next, given the tokens produced so far for one hypothesis.
pub trait Constraint {
    /// Writes `true` into `allowed[token]` for every permitted next token (`allowed.len()` == vocab,
    /// pre-filled with `false` by the caller). `prefix` excludes the start token.
    ///
    /// The end token is subject to the constraint too: a constraint that never allows it forces
    /// outputs of exactly `max_len` tokens.
    fn allowed(&self, prefix: &[usize], allowed: &mut [bool]);

    /// The token that stands for every output the constraint rules out, if it has one. Wherever
    /// the constraint allows it, it takes the probability the model gives to the forbidden
    /// tokens on top of its own, `log(p_fallback + Σ_forbidden p)`. A model that wants an output
    /// outside the constraint then ends on the fallback instead of being steered, silently, to
    /// the best output inside it; and a step where the fallback is the only allowed token costs
    /// nothing (its log-probability is `log 1 = 0`).
    fn fallback(&self) -> Option<usize> {
        None
    }
}

/// Settings of [`beam_search`] and [`greedy`]. Check them with [`BeamConfig::validate`]; an invalid
/// configuration never makes the search panic, but its results are unspecified (e.g. width 0 yields
/// no hypotheses).
#[derive(Debug, Clone, PartialEq)]
pub struct BeamConfig {
    /// Number of hypotheses kept per input and step (>= 1); 1 is greedy decoding.
    pub width: usize,
    /// Number of finished hypotheses returned per input (`1..=width`).
    pub n_best: usize,
    /// Length normalisation exponent: `score = log_prob / len^alpha`; 0 ranks by raw log-prob.
    pub alpha: f64,
    /// Hard cap on produced tokens (>= 1); hypotheses still live at this length finish as they are.
    pub max_len: usize,
    /// The end token is not allowed before this many tokens have been produced.
    pub min_len: usize,
    /// Start token, fed as the "last token" of every row at step 0.
    pub bos: usize,
    /// End token. `None`: fixed-length outputs of exactly `max_len` tokens (e.g. the date model,
    /// which has no end token).
    pub eos: Option<usize>,
    /// A cap per input (`max_lens[i]` for input `i`, never above `max_len`), e.g. a multiple
    /// of the source length; `None`: `max_len` for all.
    pub max_lens: Option<Vec<usize>>,
}

impl Default for BeamConfig {
    /// Width 1, one result, `alpha` 0.7 (the course's value), at most 50 tokens, no minimum,
    /// `bos` 0 and no end token. Token ids depend on the vocabulary a model was trained with, so
    /// callers are expected to set `bos` and `eos` (and `max_len` for fixed-length outputs).
    fn default() -> Self {
        BeamConfig {
            width: 1,
            n_best: 1,
            alpha: 0.7,
            max_len: 50,
            min_len: 0,
            bos: 0,
            eos: None,
            max_lens: None,
        }
    }
}

impl BeamConfig {
    /// The cap on input `i`'s output length.
    pub fn max_len_of(&self, i: usize) -> usize {
        self.max_lens
            .as_ref()
            .and_then(|caps| caps.get(i))
            .map_or(self.max_len, |&cap| cap.min(self.max_len))
    }

    /// Checks the fields against each other; the message names the offending field.
    pub fn validate(&self) -> Result<(), String> {
        if self.width == 0 || self.width > MAX_BEAM_WIDTH {
            return Err(format!(
                "beam width {} is not in 1..={MAX_BEAM_WIDTH}",
                self.width
            ));
        }
        if self.n_best == 0 {
            return Err("the n-best count must be at least 1".into());
        }
        if self.n_best > self.width {
            return Err(format!(
                "the n-best count ({}) cannot exceed the beam width ({})",
                self.n_best, self.width
            ));
        }
        if !self.alpha.is_finite() {
            return Err(format!("alpha must be a finite number, got {}", self.alpha));
        }
        if self.max_len == 0 {
            return Err("max_len must be at least 1".into());
        }
        if self.max_lens.as_ref().is_some_and(|caps| caps.contains(&0)) {
            return Err("every max_lens entry must be at least 1".into());
        }
        if self.min_len > self.max_len {
            return Err(format!(
                "min_len ({}) cannot exceed max_len ({})",
                self.min_len, self.max_len
            ));
        }
        Ok(())
    }
}

/// One decoded output.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    /// Produced tokens, without the start token and without the end token.
    pub tokens: Vec<usize>,
    /// Sum of the log-probs of every step taken, including the end-token step if there was one.
    /// `-inf` only for a [`greedy`] output that reached a dead end (no allowed token).
    pub log_prob: f64,
    /// `log_prob / len^alpha`, where `len` counts the end token when there is one (so an output
    /// that ends immediately has length 1, and "a" + EOS ranks as two steps, as it cost two).
    pub score: f64,
}

/// Length-normalised score. `len` is floored at 1 so that invalid configs (max_len 0) cannot
/// produce 0/0; valid searches never finish a hypothesis of length 0.
fn normalised(log_prob: f64, len: usize, alpha: f64) -> f64 {
    log_prob / (len.max(1) as f64).powf(alpha)
}

/// A model output as a usable log-prob: NaN and `-inf` mean "never pick this token".
fn usable(x: f32) -> Option<f64> {
    // `>` is false for NaN, so NaN is rejected along with -inf.
    (x > f32::NEG_INFINITY).then_some(f64::from(x))
}

/// Vocabulary size implied by a step's output, or `None` when the output is malformed (empty or
/// not a whole number of rows). A malformed step turns every row into a dead end instead of
/// panicking, because the generic error type gives no way to report it.
fn vocab_of(len: usize, rows: usize) -> Option<usize> {
    (rows > 0 && len > 0 && len % rows == 0).then(|| len / rows)
}

/// Fills `mask` with the tokens allowed after `prefix`: the constraint's choice, minus the end
/// token while fewer than `min_len` tokens exist.
fn fill_mask(
    mask: &mut Vec<bool>,
    vocab: usize,
    prefix: &[usize],
    config: &BeamConfig,
    constraint: Option<&dyn Constraint>,
) {
    mask.clear();
    match constraint {
        Some(c) => {
            mask.resize(vocab, false);
            c.allowed(prefix, mask);
        }
        None => mask.resize(vocab, true),
    }
    if let Some(eos) = config.eos {
        if prefix.len() < config.min_len {
            if let Some(m) = mask.get_mut(eos) {
                *m = false;
            }
        }
    }
}

/// A live (unfinished) hypothesis.
#[derive(Debug, Clone)]
struct Live {
    tokens: Vec<usize>,
    log_prob: f64,
}

/// One possible extension: `row` is the parent's rank within its input's beam, so ordering does
/// not depend on where the input sits in the batch.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    log_prob: f64,
    row: usize,
    token: usize,
}

/// Best first; ties go to the lower parent rank, then the lower token id, which makes the order
/// total and therefore the search deterministic.
fn rank(a: &Candidate, b: &Candidate) -> Ordering {
    b.log_prob
        .total_cmp(&a.log_prob)
        .then(a.row.cmp(&b.row))
        .then(a.token.cmp(&b.token))
}

/// Keeps the best `k` candidates, sorted best first.
fn keep_best(cands: &mut Vec<Candidate>, k: usize) {
    if k == 0 {
        cands.clear();
    } else if cands.len() > k {
        // Linear-time partition first: the vocabulary can be large, the beam is small.
        cands.select_nth_unstable_by(k - 1, rank);
        cands.truncate(k);
    }
    cands.sort_unstable_by(rank);
}

/// The best normalised score any completion of `h` could reach. Completions only add log-probs
/// `<= 0`, so their log-prob stays `<= h.log_prob`; their length `n` (end token included) lies in
/// `len+1 ..= max_len`, and `log_prob / n^alpha` is monotone in `n`, so the bound is the better of
/// the two ends. With a positive log-prob (not a real probability) no bound holds: `+inf`.
fn upper_bound(h: &Live, config: &BeamConfig) -> f64 {
    if h.log_prob.is_nan() || h.log_prob > 0.0 {
        return f64::INFINITY;
    }
    let shortest = normalised(h.log_prob, h.tokens.len() + 1, config.alpha);
    let longest = normalised(h.log_prob, config.max_len, config.alpha);
    shortest.max(longest)
}

/// Per-input search state.
#[derive(Debug)]
struct InputBeam {
    live: Vec<Live>,
    /// Best first, at most `n_best`; ties keep the earlier-finished hypothesis first.
    finished: Vec<Hypothesis>,
    done: bool,
}

impl InputBeam {
    fn finish(&mut self, tokens: Vec<usize>, log_prob: f64, len: usize, config: &BeamConfig) {
        let score = normalised(log_prob, len, config.alpha);
        self.finished.push(Hypothesis {
            tokens,
            log_prob,
            score,
        });
        // Stable sort: equal scores keep finishing order, which is batch-independent.
        self.finished.sort_by(|a, b| b.score.total_cmp(&a.score));
        self.finished.truncate(config.n_best);
    }

    /// Termination criterion: nothing live is left, or `n_best` hypotheses are finished and no
    /// live hypothesis can reach a normalised score above the worst of them (see [`upper_bound`]).
    /// A tie cannot displace a finished hypothesis, as earlier finishers win ties.
    fn settled(&self, config: &BeamConfig) -> bool {
        if self.live.is_empty() {
            return true;
        }
        if self.finished.len() < config.n_best {
            return false;
        }
        // The pool is kept sorted and cut to `n_best`, so its last entry is the one to beat.
        self.finished.last().is_some_and(|worst| {
            self.live
                .iter()
                .all(|h| upper_bound(h, config) <= worst.score)
        })
    }
}

/// Beam search for a batch of `n_inputs` inputs. `init` has one row per input (row `i` = input `i`).
/// Returns, for each input, up to `n_best` hypotheses, best score first.
///
/// At each step, each input keeps its `width` best (parent, token) extensions by cumulative
/// log-prob; those ending in the end token join the input's finished pool, the rest stay live.
/// Tokens that the constraint forbids, the end token before `min_len`, and tokens whose log-prob
/// is NaN or `-inf` are never chosen; a hypothesis with no allowed token is dropped, so an input
/// whose every path hits such a dead end gets an empty list. Hypotheses still live at `max_len`
/// finish as they are (without an end token); with `eos: None` every output has `max_len` tokens.
///
/// An input stops (and its rows leave the state) as soon as it has `n_best` finished hypotheses
/// and no live hypothesis can beat the worst of them even in the best case: keeping its current
/// log-prob (log-probs are `<= 0`) while reaching whichever length in `len+1 ..= max_len`
/// normalises best. This is exact for real log-probabilities; with `alpha > 0` it correctly keeps
/// searching when a longer output could still overtake a short finished one.
///
/// Ties are broken by parent rank, then token id, so the result for an input does not depend on
/// the batch it is decoded in or its position there.
pub fn beam_search<M: StepModel>(
    model: &mut M,
    init: M::State,
    n_inputs: usize,
    config: &BeamConfig,
    constraint: Option<&dyn Constraint>,
) -> Result<Vec<Vec<Hypothesis>>, M::Error> {
    let mut beams: Vec<InputBeam> = (0..n_inputs)
        .map(|_| InputBeam {
            live: vec![Live {
                tokens: Vec::new(),
                log_prob: 0.0,
            }],
            finished: Vec::new(),
            done: config.width == 0 || config.n_best == 0,
        })
        .collect();
    let mut state = init;
    let mut mask = Vec::new();
    let mut cands = Vec::new();
    let mut last = Vec::new();
    let mut source = Vec::new();
    let mut parents = Vec::new();

    for step in 0..config.max_len {
        // The state's rows are, in order, the live hypotheses of every input not yet done.
        last.clear();
        source.clear();
        for (i, beam) in beams.iter().enumerate().filter(|(_, b)| !b.done) {
            for h in &beam.live {
                last.push(h.tokens.last().copied().unwrap_or(config.bos));
                source.push(i);
            }
        }
        if last.is_empty() {
            break;
        }
        let (next, log_probs) = model.step(&state, &last, &source, step)?;
        let vocab = vocab_of(log_probs.len(), last.len());

        parents.clear();
        let mut offset = 0;
        for (input, beam) in beams.iter_mut().enumerate().filter(|(_, b)| !b.done) {
            let cap = config.max_len_of(input);
            let rows = beam.live.len();
            cands.clear();
            if let Some(vocab) = vocab {
                for (row, h) in beam.live.iter().enumerate() {
                    let start = (offset + row) * vocab;
                    let Some(row_lps) = log_probs.get(start..start + vocab) else {
                        continue;
                    };
                    fill_mask(&mut mask, vocab, &h.tokens, config, constraint);
                    let pooled = pooled_fallback(row_lps, &mask, constraint);
                    for (token, (&x, &ok)) in row_lps.iter().zip(&mask).enumerate() {
                        if let (true, Some(lp)) = (ok, step_log_prob(token, x, pooled)) {
                            cands.push(Candidate {
                                log_prob: h.log_prob + lp,
                                row,
                                token,
                            });
                        }
                    }
                }
            }
            keep_best(&mut cands, config.width);

            let parents_before = parents.len();
            let old = std::mem::take(&mut beam.live);
            for c in &cands {
                let mut tokens = old[c.row].tokens.clone();
                if Some(c.token) == config.eos {
                    let len = tokens.len() + 1;
                    beam.finish(tokens, c.log_prob, len, config);
                    continue;
                }
                tokens.push(c.token);
                if tokens.len() >= cap {
                    let len = tokens.len();
                    beam.finish(tokens, c.log_prob, len, config);
                } else {
                    parents.push(offset + c.row);
                    beam.live.push(Live {
                        tokens,
                        log_prob: c.log_prob,
                    });
                }
            }
            if beam.settled(config) {
                beam.done = true;
                beam.live.clear();
                parents.truncate(parents_before);
            }
            offset += rows;
        }
        if parents.is_empty() {
            break;
        }
        state = model.select(&next, &parents)?;
    }
    Ok(beams.into_iter().map(|b| b.finished).collect())
}

/// Greedy decoding (argmax each step, honouring the constraint): the reference that width 1 must
/// equal. Returns exactly one hypothesis per input.
///
/// Ties go to the lowest token id. Like [`beam_search`] it compares cumulative log-probs, so the
/// two agree bit for bit. An input that reaches a dead end (no allowed token) gets the tokens
/// produced so far with `log_prob` and `score` of `-inf`, where beam search would return nothing.
pub fn greedy<M: StepModel>(
    model: &mut M,
    init: M::State,
    n_inputs: usize,
    config: &BeamConfig,
    constraint: Option<&dyn Constraint>,
) -> Result<Vec<Hypothesis>, M::Error> {
    let mut live: Vec<Live> = vec![
        Live {
            tokens: Vec::new(),
            log_prob: 0.0,
        };
        n_inputs
    ];
    let mut done: Vec<Option<Hypothesis>> = vec![None; n_inputs];
    let mut state = init;
    let mut mask = Vec::new();

    for step in 0..config.max_len {
        let source: Vec<usize> = (0..n_inputs).filter(|&i| done[i].is_none()).collect();
        if source.is_empty() {
            break;
        }
        let last: Vec<usize> = source
            .iter()
            .map(|&i| live[i].tokens.last().copied().unwrap_or(config.bos))
            .collect();
        let (next, log_probs) = model.step(&state, &last, &source, step)?;
        let vocab = vocab_of(log_probs.len(), source.len());

        let mut parents = Vec::new();
        for (row, &i) in source.iter().enumerate() {
            let h = &mut live[i];
            let mut best: Option<(usize, f64)> = None;
            if let Some(vocab) = vocab {
                let start = row * vocab;
                if let Some(row_lps) = log_probs.get(start..start + vocab) {
                    fill_mask(&mut mask, vocab, &h.tokens, config, constraint);
                    let pooled = pooled_fallback(row_lps, &mask, constraint);
                    for (token, (&x, &ok)) in row_lps.iter().zip(&mask).enumerate() {
                        if let (true, Some(lp)) = (ok, step_log_prob(token, x, pooled)) {
                            let total = h.log_prob + lp;
                            // Strictly better only, so the lowest token id wins ties.
                            if best.map_or(true, |(_, b)| total.total_cmp(&b).is_gt()) {
                                best = Some((token, total));
                            }
                        }
                    }
                }
            }
            let tokens = std::mem::take(&mut h.tokens);
            done[i] = match best {
                None => Some(Hypothesis {
                    tokens,
                    log_prob: f64::NEG_INFINITY,
                    score: f64::NEG_INFINITY,
                }),
                Some((token, total)) if Some(token) == config.eos => Some(Hypothesis {
                    score: normalised(total, tokens.len() + 1, config.alpha),
                    tokens,
                    log_prob: total,
                }),
                Some((token, total)) => {
                    let mut tokens = tokens;
                    tokens.push(token);
                    if tokens.len() >= config.max_len_of(i) {
                        Some(Hypothesis {
                            score: normalised(total, tokens.len(), config.alpha),
                            tokens,
                            log_prob: total,
                        })
                    } else {
                        h.tokens = tokens;
                        h.log_prob = total;
                        parents.push(row);
                        None
                    }
                }
            };
        }
        if parents.is_empty() {
            break;
        }
        state = model.select(&next, &parents)?;
    }
    // Only an invalid `max_len` of 0 leaves inputs unfinished: they get the empty output.
    Ok(done
        .into_iter()
        .zip(live)
        .map(|(d, h)| {
            d.unwrap_or_else(|| Hypothesis {
                score: normalised(h.log_prob, h.tokens.len(), config.alpha),
                tokens: h.tokens,
                log_prob: h.log_prob,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests;
