//! One thread per model, fed by a bounded channel: dynamic batching off the async threads.
//!
//! The HTTP handlers never touch a model. Each sends its request to the model's worker with a
//! reply channel and waits, at most `--timeout`, for the answer. The worker takes the first
//! waiting request, then keeps taking requests until they hold `--max-batch` inputs or
//! `--max-wait-ms` has passed since the first, whichever comes first (the dynamic batching of
//! TorchServe and Triton). Among those it runs the compatible ones (a translator: the same
//! decoding options) in one call of the model, and answers each request with its own share.
//! The model's answer for an input does not depend on the inputs beside it (the beam search
//! is batch-invariant), so batching changes throughput, never answers.
//!
//! An engine that replicates (a translator) runs as several replicas, each a copy of the model
//! on a thread of its own with a share of libtorch's threads and of `--max-batch`, taking
//! batches from the one queue: while one replica decodes a batch, the next gathers. A decoder
//! runs faster that way than with every thread on one batch, whose matrices are too small to
//! share out well.
//!
//! A replica's model is loaded on its worker thread and never leaves it, so it needs no lock
//! and no `Send`; the library's calls borrow it immutably, so a call that panics (a libtorch
//! failure) leaves it intact: the panic is caught, its requests get a 500, and the worker goes on. A
//! request whose client has gone (it timed out, or hung up) is dropped unrun.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::limits::ApiError;
use super::metrics::ModelStats;
use crate::error::{Error, Result};

/// How requests for one model are gathered into a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    /// The most inputs decoded together (`--max-batch`); a request with more is decoded in
    /// chunks of this size.
    pub max_batch: usize,
    /// How long the first request of a batch waits for others (`--max-wait-ms`).
    pub max_wait: Duration,
}

impl Default for Batching {
    fn default() -> Self {
        Batching {
            max_batch: 64,
            max_wait: Duration::from_millis(5),
        }
    }
}

/// A loaded model that answers requests on its worker thread.
pub(crate) trait Engine: 'static {
    /// One HTTP request's work.
    type Request: Send + 'static;
    /// Its answer.
    type Answer: Send + 'static;
    /// Whether requests are gathered into batches (false: each is run as it comes).
    const BATCHES: bool;
    /// Whether the model runs as replicas that share the threads and `--max-batch` (a decoder
    /// whose loop of small steps shares out poorly over threads); false: one copy with every
    /// thread.
    const REPLICATES: bool = false;

    /// The inputs `request` holds, counted against `--max-batch`.
    fn size(request: &Self::Request) -> usize;

    /// Whether `a` and `b` can be run in one call.
    fn compatible(a: &Self::Request, b: &Self::Request) -> bool;

    /// Runs compatible `requests` together (at most `max_batch` inputs per model call): one
    /// answer per request, in order.
    fn run(
        &self,
        requests: &[Self::Request],
        max_batch: usize,
    ) -> Vec<Result<Self::Answer, ApiError>>;
}

struct Job<E: Engine> {
    request: E::Request,
    reply: oneshot::Sender<Result<E::Answer, ApiError>>,
}

/// The sending end of a model's worker.
pub(crate) struct Handle<E: Engine> {
    /// `kind/name`, for messages.
    label: String,
    queue: SyncSender<Job<E>>,
    stats: Arc<ModelStats>,
    max_queue: usize,
}

/// A worker whose model is loading.
pub(crate) struct Pending<E: Engine> {
    handle: Handle<E>,
    ready: Receiver<Result<serde_json::Value>>,
    threads: Vec<JoinHandle<()>>,
}

/// The threads of one model: `threads` libtorch threads in all, shared out among `replicas`
/// copies of it when the engine replicates (one copy otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Threads {
    pub replicas: usize,
    pub threads: usize,
}

impl Threads {
    /// How many copies an engine of kind `E` runs.
    fn replicas<E: Engine>(self) -> usize {
        match E::REPLICATES {
            true => self.replicas.max(1),
            false => 1,
        }
    }
}

/// Starts the workers of model `label`: `load` runs on each new thread (with its share of the
/// libtorch threads) and returns the engine and a description of it for `GET /v1/models`.
/// Replicas share `batching.max_batch` too: each decodes at most its share at a time, so that
/// concurrent requests keep every replica busy. Returns at once; [`Pending::wait`] waits for
/// the models.
pub(crate) fn spawn<E, L>(
    label: String,
    load: L,
    batching: Batching,
    max_queue: usize,
    threads: Threads,
    stats: Arc<ModelStats>,
) -> Result<Pending<E>>
where
    E: Engine,
    L: Fn() -> Result<(E, serde_json::Value)> + Send + Sync + 'static,
{
    let (queue, jobs) = std::sync::mpsc::sync_channel::<Job<E>>(max_queue);
    let jobs = Arc::new(Mutex::new(jobs));
    let load = Arc::new(load);
    let (ready_tx, ready) = std::sync::mpsc::channel::<Result<serde_json::Value>>();
    let replicas = threads.replicas::<E>();
    let per_replica = (threads.threads / replicas).max(1);
    let batching = Batching {
        max_batch: (batching.max_batch / replicas).max(1),
        ..batching
    };
    let mut handles = Vec::with_capacity(replicas);
    for replica in 0..replicas {
        let (load, jobs, ready_tx) = (load.clone(), jobs.clone(), ready_tx.clone());
        let worker_stats = stats.clone();
        let name = match replicas {
            1 => format!("model {label}"),
            _ => format!("model {label} #{replica}"),
        };
        let thread = std::thread::Builder::new()
            .name(name)
            .spawn(move || {
                // libtorch keeps its thread count per OS thread under OpenMP: set it here too.
                crate::device::set_threads(per_replica);
                let engine = match load() {
                    Ok((engine, description)) => {
                        let _ = ready_tx.send(Ok(description));
                        engine
                    }
                    Err(err) => {
                        let _ = ready_tx.send(Err(err));
                        return;
                    }
                };
                // Dropped now, so that a replica whose loader panics ends `Pending::wait`.
                drop(ready_tx);
                serve_jobs(&engine, &jobs, batching, &worker_stats);
            })
            .map_err(|e| Error::Config(format!("cannot start a thread for model {label}: {e}")))?;
        handles.push(thread);
    }
    Ok(Pending {
        handle: Handle {
            label,
            queue,
            stats,
            max_queue,
        },
        ready,
        threads: handles,
    })
}

impl<E: Engine> Pending<E> {
    /// Waits for every replica of the model: its handle, the first loader's description and
    /// the workers' threads; or the first loader's error, or an error if a loader stopped
    /// without an answer.
    pub fn wait(self) -> Result<(Handle<E>, serde_json::Value, Vec<JoinHandle<()>>)> {
        let silent = || {
            Error::Config(format!(
                "model {}: its loader stopped without an answer",
                self.handle.label
            ))
        };
        let mut description = None;
        for _ in &self.threads {
            let described = self.ready.recv().map_err(|_| silent())??;
            description.get_or_insert(described);
        }
        let description = description.ok_or_else(silent)?;
        Ok((self.handle, description, self.threads))
    }
}

impl<E: Engine> Handle<E> {
    /// Sends `request` to the worker and waits at most `timeout` for its answer: a full queue
    /// or the wait running out is a 503.
    pub async fn submit(
        &self,
        request: E::Request,
        timeout: Duration,
    ) -> Result<E::Answer, ApiError> {
        let (reply, answer) = oneshot::channel();
        self.stats.enqueued();
        if let Err(err) = self.queue.try_send(Job { request, reply }) {
            self.stats.dequeued();
            return Err(match err {
                TrySendError::Full(_) => ApiError::unavailable(format!(
                    "model {} has {} requests waiting (--max-queue); try again later",
                    self.label, self.max_queue
                )),
                TrySendError::Disconnected(_) => {
                    ApiError::internal(format!("model {}: its worker has stopped", self.label))
                }
            });
        }
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err(ApiError::internal(format!(
                "model {}: its worker dropped the request",
                self.label
            ))),
            Err(_) => Err(ApiError::unavailable(format!(
                "model {} did not answer within {} ms (--timeout); try again later",
                self.label,
                timeout.as_millis()
            ))),
        }
    }
}

/// The worker's loop: until every handle is dropped, gather a batch and run it. Replicas
/// take turns to gather: one holds the queue while it gathers, then lets it go to decode.
fn serve_jobs<E: Engine>(
    engine: &E,
    jobs: &Mutex<Receiver<Job<E>>>,
    batching: Batching,
    stats: &ModelStats,
) {
    loop {
        // Nothing panics while the lock is held; a poisoned lock still holds a good queue.
        let queue = jobs.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(batch) = gather(&queue, batching, stats) else {
            return;
        };
        drop(queue);
        run_batch(engine, batch, batching.max_batch, stats);
    }
}

/// The next batch: the first waiting job and those that come within `max_wait`, up to
/// `max_batch` inputs; `None` once every handle is dropped.
fn gather<E: Engine>(
    jobs: &Receiver<Job<E>>,
    batching: Batching,
    stats: &ModelStats,
) -> Option<Vec<Job<E>>> {
    let first = jobs.recv().ok()?;
    stats.dequeued();
    let mut size = E::size(&first.request);
    let mut batch = vec![first];
    let until = Instant::now() + batching.max_wait;
    while E::BATCHES && size < batching.max_batch {
        let next = match until.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => jobs.recv_timeout(left),
            _ => jobs.try_recv().map_err(|_| RecvTimeoutError::Timeout),
        };
        match next {
            Ok(job) => {
                stats.dequeued();
                size += E::size(&job.request);
                batch.push(job);
            }
            Err(_) => break,
        }
    }
    Some(batch)
}

/// Runs each group of compatible jobs of `batch` in one call, in the order the groups came.
fn run_batch<E: Engine>(engine: &E, batch: Vec<Job<E>>, max_batch: usize, stats: &ModelStats) {
    let mut groups: Vec<Vec<Job<E>>> = Vec::new();
    for job in batch.into_iter().filter(|j| !j.reply.is_closed()) {
        match groups
            .iter_mut()
            .find(|g| E::compatible(&g[0].request, &job.request))
        {
            Some(group) => group.push(job),
            None => groups.push(vec![job]),
        }
    }
    for group in groups {
        let (requests, replies): (Vec<_>, Vec<_>) =
            group.into_iter().map(|j| (j.request, j.reply)).unzip();
        let inputs: usize = requests.iter().map(E::size).sum();
        let answers = catch_unwind(AssertUnwindSafe(|| engine.run(&requests, max_batch)));
        let answers = match answers {
            Ok(answers) if answers.len() == replies.len() => answers,
            _ => {
                let failed = ApiError::internal(
                    "the model failed on this request's batch; the server goes on",
                );
                replies.iter().map(|_| Err(failed.clone())).collect()
            }
        };
        if E::BATCHES {
            for chunk in 0..inputs.div_ceil(max_batch.max(1)) {
                stats.batch((inputs - chunk * max_batch).min(max_batch));
            }
        } else {
            requests.iter().for_each(|r| stats.batch(E::size(r)));
        }
        for (reply, answer) in replies.into_iter().zip(answers) {
            // The client may have gone meanwhile; nothing to do then.
            let _ = reply.send(answer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::metrics::Metrics;

    /// Doubles numbers; panics on 13; records each call's sizes.
    struct Doubler(std::sync::Mutex<Vec<usize>>);

    impl Engine for Doubler {
        type Request = Vec<i32>;
        type Answer = Vec<i32>;
        const BATCHES: bool = true;
        const REPLICATES: bool = true;

        fn size(request: &Vec<i32>) -> usize {
            request.len()
        }

        fn compatible(a: &Vec<i32>, b: &Vec<i32>) -> bool {
            a.first().map(|x| x % 2) == b.first().map(|x| x % 2)
        }

        fn run(&self, requests: &[Vec<i32>], _: usize) -> Vec<Result<Vec<i32>, ApiError>> {
            self.0.lock().unwrap().push(requests.len());
            assert!(!requests.iter().flatten().any(|&x| x == 13), "unlucky");
            requests
                .iter()
                .map(|r| Ok(r.iter().map(|x| x * 2).collect()))
                .collect()
        }
    }

    fn doubler(max_wait_ms: u64) -> (Handle<Doubler>, Arc<Metrics>) {
        let metrics = Arc::new(Metrics::default());
        let pending = spawn(
            "test/doubler".into(),
            || Ok((Doubler(Default::default()), serde_json::json!({}))),
            Batching {
                max_batch: 8,
                max_wait: Duration::from_millis(max_wait_ms),
            },
            4,
            Threads {
                replicas: 1,
                threads: 1,
            },
            metrics.model("test/doubler"),
        )
        .unwrap();
        (pending.wait().unwrap().0, metrics)
    }

    #[test]
    fn concurrent_requests_are_answered_each_with_its_own_share() {
        let (handle, metrics) = doubler(50);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let answers = rt.block_on(async {
            let t = Duration::from_secs(5);
            tokio::join!(
                handle.submit(vec![1, 3], t),
                handle.submit(vec![5], t),
                handle.submit(vec![2], t),
            )
        });
        assert_eq!(answers.0.unwrap(), vec![2, 6]);
        assert_eq!(answers.1.unwrap(), vec![10]);
        assert_eq!(answers.2.unwrap(), vec![4]);
        // The odd requests went together, the even one alone: two calls of 2 and 1 requests.
        let text = metrics.render();
        assert!(
            text.contains("seqmodels_model_inputs_total{model=\"test/doubler\"} 4"),
            "{text}"
        );
    }

    #[test]
    fn a_panicking_batch_is_a_500_and_the_worker_goes_on() {
        let (handle, _) = doubler(0);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let t = Duration::from_secs(5);
        let failed = rt.block_on(handle.submit(vec![13], t)).unwrap_err();
        assert_eq!(failed.status, axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(rt.block_on(handle.submit(vec![4], t)).unwrap(), vec![8]);
    }

    #[test]
    fn replicas_share_one_queue_and_answer_every_request() {
        let metrics = Arc::new(Metrics::default());
        let (handle, _, threads) = spawn(
            "test/doublers".into(),
            || Ok((Doubler(Default::default()), serde_json::json!({}))),
            Batching {
                max_batch: 6,
                max_wait: Duration::from_millis(1),
            },
            64,
            Threads {
                replicas: 3,
                threads: 3,
            },
            metrics.model("test/doublers"),
        )
        .unwrap()
        .wait()
        .unwrap();
        assert_eq!(threads.len(), 3);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap();
        let handle = Arc::new(handle);
        let answers = rt.block_on(async {
            let tasks: Vec<_> = (0..40)
                .map(|i| {
                    let handle = handle.clone();
                    tokio::spawn(async move {
                        handle
                            .submit(vec![2 * i, 2 * i + 100], Duration::from_secs(5))
                            .await
                    })
                })
                .collect();
            let mut answers = Vec::new();
            for task in tasks {
                answers.push(task.await.unwrap().unwrap());
            }
            answers
        });
        for (i, answer) in (0..40).zip(answers) {
            assert_eq!(answer, vec![4 * i, 4 * i + 200]);
        }
        // Dropping the last handle stops every replica.
        drop(handle);
        threads.into_iter().for_each(|t| t.join().unwrap());
    }

    #[test]
    fn a_replica_whose_loader_panics_fails_the_model() {
        // One of the two replicas loads, the other panics: the model is not served short.
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let err = spawn::<Doubler, _>(
            "test/panicking".into(),
            move || match calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                0 => panic!("no model here"),
                _ => Ok((Doubler(Default::default()), serde_json::json!({}))),
            },
            Batching::default(),
            4,
            Threads {
                replicas: 2,
                threads: 2,
            },
            Arc::new(Metrics::default()).model("test/panicking"),
        )
        .unwrap()
        .wait()
        .err()
        .unwrap();
        assert!(
            err.to_string().contains("stopped without an answer"),
            "{err}"
        );
    }

    #[test]
    fn a_loader_error_is_returned() {
        let err = spawn::<Doubler, _>(
            "test/broken".into(),
            || Err(Error::Config("no such model".into())),
            Batching::default(),
            4,
            Threads {
                replicas: 2,
                threads: 1,
            },
            Arc::new(Metrics::default()).model("test/broken"),
        )
        .unwrap()
        .wait()
        .err()
        .unwrap();
        assert!(err.to_string().contains("no such model"), "{err}");
    }
}
