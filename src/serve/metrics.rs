//! The server's counters, in the Prometheus text exposition format (version 0.0.4) that
//! `GET /metrics` answers: requests by endpoint and status, errors, the latency histogram,
//! and per model the batch sizes its worker decoded, the inputs it answered and its queue
//! depth. Written by hand: a few counters behind a mutex need no metrics crate.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Upper bounds of the batch-size buckets, in inputs.
const BATCH_BUCKETS: [f64; 10] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// A cumulative histogram over fixed bucket bounds.
#[derive(Debug, Clone)]
struct Histogram {
    bounds: &'static [f64],
    /// `counts[i]`: observations at most `bounds[i]` (not cumulative; summed when written).
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, value: f64) {
        if let Some(i) = self.bounds.iter().position(|&b| value <= b) {
            self.counts[i] += 1;
        }
        self.sum += value;
        self.count += 1;
    }

    /// The `_bucket`, `_sum` and `_count` lines of `name` with `labels` (`key="value"`).
    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        for (bound, n) in self.bounds.iter().zip(&self.counts) {
            cumulative += n;
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

/// What one model's worker reports.
#[derive(Debug)]
pub(crate) struct ModelStats {
    /// Requests sent to the worker and not yet taken by it.
    queue: AtomicI64,
    /// Inputs answered.
    inputs: AtomicU64,
    /// Inputs per model call.
    batches: Mutex<Histogram>,
}

impl ModelStats {
    /// A request joined the queue.
    pub fn enqueued(&self) {
        self.queue.fetch_add(1, Ordering::Relaxed);
    }

    /// A request left the queue (taken by the worker, or never sent).
    pub fn dequeued(&self) {
        self.queue.fetch_sub(1, Ordering::Relaxed);
    }

    /// The worker ran the model once on `inputs` inputs.
    pub fn batch(&self, inputs: usize) {
        self.inputs.fetch_add(inputs as u64, Ordering::Relaxed);
        lock(&self.batches).observe(inputs as f64);
    }
}

/// Every counter of one server.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    /// Requests answered, by endpoint and status code.
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    /// Time to answer, by endpoint.
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
    /// Requests being answered now.
    in_flight: AtomicI64,
    /// Each model's worker, by `kind/name`.
    models: Mutex<BTreeMap<String, Arc<ModelStats>>>,
}

/// A mutex's data even if a thread panicked while holding it: counters stay usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Metrics {
    /// The stats of the model `label` (`translator/dates`), created on first use.
    pub fn model(&self, label: &str) -> Arc<ModelStats> {
        lock(&self.models)
            .entry(label.to_owned())
            .or_insert_with(|| {
                Arc::new(ModelStats {
                    queue: AtomicI64::new(0),
                    inputs: AtomicU64::new(0),
                    batches: Mutex::new(Histogram::new(&BATCH_BUCKETS)),
                })
            })
            .clone()
    }

    /// A request started.
    pub fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A request ended, answered or not.
    pub fn ended(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// A request to `endpoint` was answered with `status` after `elapsed`.
    pub fn answered(&self, endpoint: &'static str, status: u16, elapsed: Duration) {
        *lock(&self.requests).entry((endpoint, status)).or_default() += 1;
        lock(&self.latency)
            .entry(endpoint)
            .or_insert_with(|| Histogram::new(&LATENCY_BUCKETS))
            .observe(elapsed.as_secs_f64());
    }

    /// Everything, in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let requests = lock(&self.requests).clone();
        header(
            &mut out,
            "seqmodels_requests_total",
            "counter",
            "HTTP requests answered, by endpoint and status code.",
        );
        for ((endpoint, status), n) in &requests {
            let _ = writeln!(
                out,
                "seqmodels_requests_total{{endpoint=\"{endpoint}\",status=\"{status}\"}} {n}"
            );
        }
        header(
            &mut out,
            "seqmodels_request_errors_total",
            "counter",
            "Requests answered with a 4xx or 5xx status, by endpoint and status code.",
        );
        for ((endpoint, status), n) in requests.iter().filter(|((_, s), _)| *s >= 400) {
            let _ = writeln!(
                out,
                "seqmodels_request_errors_total{{endpoint=\"{endpoint}\",status=\"{status}\"}} {n}"
            );
        }
        header(
            &mut out,
            "seqmodels_request_duration_seconds",
            "histogram",
            "Time from a request's arrival to its answer, by endpoint.",
        );
        for (endpoint, h) in lock(&self.latency).iter() {
            h.write(
                &mut out,
                "seqmodels_request_duration_seconds",
                &format!("endpoint=\"{endpoint}\""),
            );
        }
        header(
            &mut out,
            "seqmodels_requests_in_flight",
            "gauge",
            "Requests being answered now.",
        );
        let _ = writeln!(
            out,
            "seqmodels_requests_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        let models = lock(&self.models).clone();
        header(
            &mut out,
            "seqmodels_batch_size",
            "histogram",
            "Inputs a model decoded together in one call, by model.",
        );
        for (label, stats) in &models {
            lock(&stats.batches).write(
                &mut out,
                "seqmodels_batch_size",
                &format!("model=\"{label}\""),
            );
        }
        header(
            &mut out,
            "seqmodels_model_inputs_total",
            "counter",
            "Inputs a model answered, by model.",
        );
        for (label, stats) in &models {
            let _ = writeln!(
                out,
                "seqmodels_model_inputs_total{{model=\"{label}\"}} {}",
                stats.inputs.load(Ordering::Relaxed)
            );
        }
        header(
            &mut out,
            "seqmodels_queue_depth",
            "gauge",
            "Requests waiting for a model's worker, by model.",
        );
        for (label, stats) in &models {
            let _ = writeln!(
                out,
                "seqmodels_queue_depth{{model=\"{label}\"}} {}",
                stats.queue.load(Ordering::Relaxed).max(0)
            );
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_with_an_infinite_bucket() {
        let mut h = Histogram::new(&[1.0, 2.0]);
        for x in [0.5, 1.5, 1.7, 9.0] {
            h.observe(x);
        }
        let mut out = String::new();
        h.write(&mut out, "x", "m=\"a\"");
        assert!(out.contains("x_bucket{m=\"a\",le=\"1\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{m=\"a\",le=\"2\"} 3\n"), "{out}");
        assert!(out.contains("x_bucket{m=\"a\",le=\"+Inf\"} 4\n"), "{out}");
        assert!(out.contains("x_count{m=\"a\"} 4\n"), "{out}");
    }

    #[test]
    fn requests_errors_batches_and_queues_are_written() {
        let m = Metrics::default();
        m.started();
        m.answered("/v1/translate", 200, Duration::from_millis(3));
        m.ended();
        m.started();
        m.answered("/v1/translate", 400, Duration::from_millis(1));
        m.ended();
        let stats = m.model("translator/dates");
        stats.enqueued();
        stats.batch(5);
        let text = m.render();
        for line in [
            "seqmodels_requests_total{endpoint=\"/v1/translate\",status=\"200\"} 1",
            "seqmodels_request_errors_total{endpoint=\"/v1/translate\",status=\"400\"} 1",
            "seqmodels_request_duration_seconds_count{endpoint=\"/v1/translate\"} 2",
            "seqmodels_batch_size_bucket{model=\"translator/dates\",le=\"8\"} 1",
            "seqmodels_model_inputs_total{model=\"translator/dates\"} 5",
            "seqmodels_queue_depth{model=\"translator/dates\"} 1",
            "seqmodels_requests_in_flight 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        assert!(!text.contains("errors_total{endpoint=\"/v1/translate\",status=\"200\"}"));
    }
}
