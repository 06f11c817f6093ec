//! The CPU training run: initialisation, then per epoch `threads` Hogwild workers, each reading
//! its own part of the corpus, until the epochs are run or the time budget is spent.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::corpus::{self, SentenceSink};
use super::huffman::HuffmanTree;
use super::kernels::cpu_has_fma;
use super::objective::{Outputs, SigmoidTable};
use super::sampling::{keep_thresholds, NegativeSampler, Rng};
use super::schedule::Schedule;
use super::state::{State, Weights};
use super::subword::{compose_all, BucketLists, SubwordInputs};
use super::train::{train_job, Job, Scratch, Shared, SharedRows, Totals, JOB_WORDS};
use super::{EpochCallback, EpochStats, Next, TrainReport, Vocabulary, Word2VecConfig};
use crate::embeddings::Embeddings;
use crate::error::Result;
use crate::progress::{Progress, ProgressEvent};
use crate::train::Stop;

/// How often the bar's word count moves.
const ADVANCE_EVERY: Duration = Duration::from_millis(100);
/// How often the running figures (rate, loss, learning rate) are reported.
const STATUS_EVERY: Duration = Duration::from_millis(500);

/// What the workers of one epoch report back.
#[derive(Default)]
struct EpochState {
    /// Words finished in this epoch.
    done: AtomicU64,
    /// Loss sum and pairs of finished jobs.
    totals: Mutex<Totals>,
}

/// Everything a worker reads.
struct WorkerContext<'a> {
    shared: Shared<'a>,
    schedule: Schedule,
    seed: u64,
    dim: usize,
    /// Words finished in the run before this epoch.
    before: u64,
    state: EpochState,
}

impl WorkerContext<'_> {
    /// Trains worker `worker` on `job` at the current learning rate and adds up its figures.
    fn train(&self, worker: usize, job: &Job, scratch: &mut Scratch) {
        let alpha = self
            .schedule
            .at(self.before + self.state.done.load(Relaxed)) as f32;
        let mut rng = Rng::for_job(self.seed, worker as u64, job.index);
        let (loss, pairs) = train_job(&self.shared, job, scratch, alpha, &mut rng);
        self.state.done.fetch_add(job.ids.len() as u64, Relaxed);
        let mut totals = self
            .state
            .totals
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        totals.0 += loss;
        totals.1 += pairs;
    }
}

/// An empty job with room for a full one.
fn empty_job() -> Job {
    Job {
        index: 0,
        ids: Vec::with_capacity(2 * JOB_WORDS),
        ends: Vec::new(),
    }
}

/// A worker that reads its own part of the corpus and trains on it as it goes.
struct PartWorker<'a, 'w> {
    index: usize,
    vocab: &'a Vocabulary,
    job: Job,
    /// This worker's next job number; it goes on from epoch to epoch.
    next_index: &'a mut u64,
    scratch: Scratch,
    cx: &'a WorkerContext<'w>,
    /// Set when another worker failed or the time budget is spent: stop reading.
    stop: &'a AtomicBool,
    /// In-vocabulary words to pass over before this worker's share begins.
    skip: u64,
    /// In-vocabulary words of the share still to train on.
    left: u64,
}

impl PartWorker<'_, '_> {
    /// Trains on the current job; `false` once the epoch is being abandoned.
    fn flush(&mut self) -> bool {
        if !self.job.ids.is_empty() {
            self.job.index = *self.next_index;
            *self.next_index += 1;
            self.cx.train(self.index, &self.job, &mut self.scratch);
            self.job.ids.clear();
            self.job.ends.clear();
        }
        !self.stop.load(Relaxed)
    }
}

impl SentenceSink for PartWorker<'_, '_> {
    fn token(&mut self, token: &str) {
        // Out-of-vocabulary tokens are dropped before windowing, as in both reference tools.
        let Some(id) = self.vocab.id32(token) else {
            return;
        };
        if self.skip > 0 {
            self.skip -= 1;
        } else if self.left > 0 {
            self.left -= 1;
            self.job.ids.push(id);
        }
    }

    fn end_sentence(&mut self) -> bool {
        // Checked here too, not only when a job is flushed: a worker still skipping to its share
        // of a gzip corpus, or reading long unknown stretches, flushes nothing for a while.
        if self.stop.load(Relaxed) {
            return false;
        }
        let len = self.job.ids.len();
        if self.job.ends.last().copied().unwrap_or(0) < len {
            self.job.ends.push(len);
        }
        if len >= JOB_WORDS || self.left == 0 {
            // Once the share is done, the pass stops here.
            return self.flush() && self.left > 0;
        }
        true
    }
}

/// The running figures on the progress bar: the words done at every tick, the rate, loss and
/// learning rate every [`STATUS_EVERY`].
struct Ticker {
    start: Instant,
    last_status: Instant,
}

impl Ticker {
    /// A ticker for an epoch that began at `start`.
    fn new(start: Instant) -> Self {
        Ticker {
            start,
            last_status: Instant::now(),
        }
    }

    fn tick(&mut self, progress: &dyn Progress, cx: &WorkerContext<'_>) {
        progress.event(&ProgressEvent::Advance {
            done: cx.state.done.load(Relaxed),
        });
        if self.last_status.elapsed() >= STATUS_EVERY {
            self.last_status = Instant::now();
            progress.event(&ProgressEvent::Status {
                message: &status(cx, self.start),
            });
        }
    }
}

/// Tells `progress` that `epoch` of `last` begins (over `words` in-vocabulary words) and
/// returns its label, "epoch 2/5".
pub(crate) fn begin_epoch(
    progress: &dyn Progress,
    last: usize,
    words: u64,
    epoch: usize,
) -> String {
    let label = format!("epoch {epoch}/{last}");
    progress.event(&ProgressEvent::Begin {
        label: &label,
        total: Some(words),
        unit: "words",
    });
    label
}

/// "lr 0.0213 loss 3.41 412k words/s".
fn status(cx: &WorkerContext<'_>, start: Instant) -> String {
    let done = cx.state.done.load(Relaxed);
    let (loss, pairs) = *cx
        .state
        .totals
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    format!(
        "lr {:.4} loss {:.3} {} words/s",
        cx.schedule.at(cx.before + done),
        loss / pairs.max(1) as f64,
        rate(done as f64 / start.elapsed().as_secs_f64().max(1e-9))
    )
}

/// A rate for humans: "412k" or "1.23M".
fn rate(words_per_sec: f64) -> String {
    if words_per_sec >= 1e6 {
        format!("{:.2}M", words_per_sec / 1e6)
    } else {
        format!("{:.0}k", words_per_sec / 1e3)
    }
}

/// The trainer behind [`super::train`] and [`super::train_with`]: [`run_state`] from scratch,
/// returning the input vectors.
pub(crate) fn run(
    corpus: &Path,
    config: &Word2VecConfig,
    progress: &dyn Progress,
    after_epoch: Option<EpochCallback<'_>>,
) -> Result<(Embeddings, TrainReport)> {
    let (state, report) = run_state(corpus, config, None, progress, after_epoch)?;
    Ok((state.into_vectors()?, report))
}

/// The CPU run behind [`super::train_state`]: from scratch, or from `resumed` (its vocabulary
/// and weights, epochs numbered after its own, job numbers after its own, and a fresh
/// learning-rate decay over `config.epochs`). Returns the state after the last epoch.
pub(crate) fn run_state(
    corpus: &Path,
    config: &Word2VecConfig,
    resumed: Option<State>,
    progress: &dyn Progress,
    mut after_epoch: Option<EpochCallback<'_>>,
) -> Result<(State, TrainReport)> {
    config.validate()?;
    let (vocab, weights, words, done, jobs) = match resumed {
        None => {
            let vocab = Vocabulary::build_reporting(corpus, config, progress)?;
            let words = vocab.total_words();
            (vocab, None, words, 0, 0)
        }
        Some(state) => {
            state.check_continues(config)?;
            let words = super::state::words_in(corpus, config, &state.vocab)?;
            let weights = Weights {
                syn0: state.syn0,
                syn1neg: state.syn1neg,
                syn1: state.syn1,
                ngrams: state.ngrams,
            };
            let done = state.epochs_done;
            (state.vocab, Some(weights), words, done, state.jobs_done)
        }
    };
    release_freed_memory();
    let tree = HuffmanTree::new(if config.hs { vocab.counts() } else { &[] });
    let mut weights = match weights {
        Some(w) => w,
        None => Weights::new(&vocab, config, tree.inner_nodes())?,
    };
    let lists = match config.ngrams() {
        Some(ngrams) => Some(BucketLists::new(vocab.words(), ngrams, config.threads)?),
        None => None,
    };
    let mut run = Run {
        corpus,
        config,
        vocab: &vocab,
        keep: keep_thresholds(vocab.counts(), vocab.total_words(), config.sample),
        sampler: NegativeSampler::new(vocab.counts()),
        tree,
        table: SigmoidTable::new(),
        fma: cpu_has_fma(),
        lists,
        schedule: Schedule::new(config, words),
        words,
        done,
        // Each worker numbers its jobs over the whole run, after the resumed state's.
        next_index: vec![jobs; config.threads],
    };
    let mut report = TrainReport {
        vocab_size: vocab.len(),
        corpus_words: words,
        epochs: Vec::with_capacity(config.epochs),
        stop: Stop::Epochs,
    };
    for n in 1..=config.epochs {
        let epoch = done + n;
        let stats = run.epoch(n, &mut weights, progress)?;
        let complete = stats.complete;
        report.epochs.push(stats);
        super::check_finite(&weights.syn0, epoch, config.alpha)?;
        super::check_finite(&weights.ngrams, epoch, config.alpha)?;
        if let Some(callback) = after_epoch.as_mut() {
            let values = match &run.lists {
                Some(lists) => compose_all(&weights.syn0, &weights.ngrams, lists, config.dim),
                None => weights.syn0.clone(),
            };
            let vectors = Embeddings::new(vocab.words().to_vec(), config.dim, values)?;
            if callback(epoch, &vectors)? == Next::Stop {
                report.stop = Stop::Patience;
                break;
            }
        }
        if !complete || (n < config.epochs && run.schedule.out_of_time()) {
            report.stop = Stop::TimeBudget;
            break;
        }
    }
    let jobs_done = run.next_index.iter().copied().max().unwrap_or(jobs);
    let Weights {
        syn0,
        syn1neg,
        syn1,
        ngrams,
    } = weights;
    let state = State {
        config: config.clone(),
        vocab,
        syn0,
        syn1neg,
        syn1,
        ngrams,
        epochs_done: done + report.epochs.len(),
        jobs_done,
    };
    Ok((state, report))
}

/// What every epoch of a CPU run shares.
struct Run<'a> {
    corpus: &'a Path,
    config: &'a Word2VecConfig,
    vocab: &'a Vocabulary,
    keep: Vec<u64>,
    sampler: NegativeSampler,
    /// The Huffman tree of hierarchical softmax (empty without it).
    tree: HuffmanTree,
    table: SigmoidTable,
    fma: bool,
    /// Each word's n-gram buckets, for the subword model.
    lists: Option<BucketLists>,
    schedule: Schedule,
    /// In-vocabulary words of the corpus: one epoch's work.
    words: u64,
    /// Epochs done before this run (of a resumed state).
    done: usize,
    /// Each worker's next job number.
    next_index: Vec<u64>,
}

impl Run<'_> {
    /// Trains the run's epoch `n` (1-based; epoch `done + n` of the model) on the weights,
    /// reports it to `progress` and returns its figures.
    fn epoch(
        &mut self,
        n: usize,
        weights: &mut Weights,
        progress: &dyn Progress,
    ) -> Result<EpochStats> {
        let (config, total) = (self.config, self.words);
        let epoch = self.done + n;
        let label = begin_epoch(progress, self.done + config.epochs, total, epoch);
        let start = Instant::now();
        // The workers' view of the weights ends with this block, before the caller reads them.
        let (words, loss, pairs, last_status, complete) = {
            let cx = WorkerContext {
                shared: Shared {
                    syn0: SharedRows::new(&mut weights.syn0, config.dim),
                    out: Outputs {
                        syn1neg: SharedRows::new(&mut weights.syn1neg, config.dim),
                        syn1: SharedRows::new(&mut weights.syn1, config.dim),
                        tree: &self.tree,
                        table: &self.table,
                    },
                    arch: config.arch,
                    hs: config.hs,
                    window: config.window as u32,
                    negative: config.negative,
                    keep: &self.keep,
                    sampler: &self.sampler,
                    fma: self.fma,
                    ngrams: self.lists.as_ref().map(|lists| SubwordInputs {
                        rows: SharedRows::new(&mut weights.ngrams, config.dim),
                        lists,
                    }),
                },
                schedule: self.schedule.clone(),
                seed: config.seed,
                dim: config.dim,
                before: (n as u64 - 1) * total,
                state: EpochState::default(),
            };
            let complete = read_and_train(
                self.corpus,
                config,
                (self.vocab, total),
                &cx,
                &mut self.next_index,
                start,
                progress,
            )?;
            let words = cx.state.done.load(Relaxed);
            let (loss, pairs) = *cx
                .state
                .totals
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            (words, loss, pairs, status(&cx, start), complete)
        };
        let seconds = start.elapsed().as_secs_f64();
        let stats = EpochStats {
            epoch,
            words,
            seconds,
            words_per_sec: words as f64 / seconds.max(1e-9),
            mean_loss: loss / pairs.max(1) as f64,
            final_alpha: self.schedule.at(n as u64 * total),
            complete,
        };
        progress.event(&ProgressEvent::Advance { done: words });
        progress.event(&ProgressEvent::Status {
            message: &last_status,
        });
        progress.event(&ProgressEvent::End {
            summary: &epoch_summary(&label, &stats),
        });
        Ok(stats)
    }
}

/// "epoch 2/5: loss 3.4100, 412k words/s, 1.2s, lr 0.01234", with "(stopped by the time
/// budget)" after the label of an epoch that did not run to its end.
fn epoch_summary(label: &str, stats: &EpochStats) -> String {
    format!(
        "{label}{}: loss {:.4}, {} words/s, {:.1}s, lr {:.5}",
        if stats.complete {
            ""
        } else {
            " (stopped by the time budget)"
        },
        stats.mean_loss,
        rate(stats.words_per_sec),
        stats.seconds,
        stats.final_alpha
    )
}

/// Hands the heap pages freed so far back to the operating system.
///
/// The counting pass built a map of every distinct token (257k on a 10M-word corpus, four times
/// the vocabulary) and freed it, but glibc keeps freed small allocations in its heap, so without
/// this the weights allocated next would add to that high-water mark instead of reusing it.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap memory to the OS; it is always safe to call.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// One epoch: each worker reads its own part of the corpus and trains on it as it reads, as
/// gensim's `corpus_file` workers do, so that at any time the workers train on distant parts of
/// the corpus; this thread reports progress.
///
/// A plain-text corpus is cut into byte ranges ([`corpus::split`]) and each worker seeks to its
/// own. A gzip stream cannot be entered in the middle, so there every worker decompresses from
/// the start, passes over the in-vocabulary words before its share (`total / threads` words)
/// and stops after it; decompressing and splitting runs at hundreds of MB/s, so the words passed
/// over cost a few per cent of an epoch at most.
///
/// Returns whether the epoch ran to its end: once the time budget is spent, this thread tells
/// the workers to stop, and each stops after the job in hand.
fn read_and_train(
    corpus: &Path,
    config: &Word2VecConfig,
    (vocab, total): (&Vocabulary, u64),
    cx: &WorkerContext<'_>,
    next_index: &mut [u64],
    start: Instant,
    progress: &dyn Progress,
) -> Result<bool> {
    let threads = config.threads.max(1) as u64;
    let parts = corpus::split(corpus, config.threads)?;
    let share = |w: u64| (u128::from(total) * u128::from(w) / u128::from(threads)) as u64;
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (finished, results) = channel::<Result<()>>();
        for (index, next_index) in next_index.iter_mut().enumerate() {
            let finished = finished.clone();
            let stop = &stop;
            let w = index as u64;
            let (part, skip, left) = match &parts {
                Some(parts) => (Some(parts[index].clone()), 0, u64::MAX),
                None => (None, share(w), share(w + 1) - share(w)),
            };
            scope.spawn(move || {
                let mut worker = PartWorker {
                    index,
                    vocab,
                    job: empty_job(),
                    next_index,
                    scratch: Scratch::new(cx.dim),
                    cx,
                    stop,
                    skip,
                    left,
                };
                let (lowercase, lossy) = (config.lowercase, config.lossy);
                let read = match part {
                    Some(part) => corpus::stream_part(corpus, part, lowercase, lossy, &mut worker),
                    None => corpus::stream(corpus, lowercase, lossy, &mut worker),
                };
                if read.is_ok() {
                    worker.flush();
                }
                // The receiver outlives the workers.
                let _ = finished.send(read.map(|_| ()));
            });
        }
        drop(finished);
        let mut ticker = Ticker::new(start);
        let mut outcome = Ok(());
        let mut out_of_time = false;
        loop {
            match results.recv_timeout(ADVANCE_EVERY) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    stop.store(true, Relaxed);
                    if outcome.is_ok() {
                        outcome = Err(e);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    ticker.tick(progress, cx);
                    if !out_of_time && cx.schedule.out_of_time() {
                        out_of_time = true;
                        stop.store(true, Relaxed);
                    }
                }
                // Every worker has finished (a panicking one is re-raised by the scope).
                Err(RecvTimeoutError::Disconnected) => return outcome.map(|()| !out_of_time),
            }
        }
    })
}
