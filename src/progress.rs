//! Progress reporting from long work, without printing.
//!
//! Library code never writes to the terminal. A long job (training, evaluation over a file)
//! takes a `&dyn Progress` and tells it what it is doing; the binary draws an indicatif bar
//! from the events, a test records them, and [`Silent`] ignores them. Any
//! `Fn(&ProgressEvent)` closure is a `Progress`.

/// One thing a long job has to say.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgressEvent<'a> {
    /// A stage begins: `total` steps of `unit` (e.g. 40 "batches"), or an unknown number.
    Begin {
        /// What the stage is, e.g. "epoch 3/10".
        label: &'a str,
        /// Steps in the stage, when known.
        total: Option<u64>,
        /// What a step is: "batches", "words", "lines".
        unit: &'a str,
    },
    /// `done` steps of the current stage are finished (a position, not an increment).
    Advance {
        /// Steps finished so far.
        done: u64,
    },
    /// Figures to show beside the bar, e.g. "loss 0.412 lr 1.0e-3".
    Status {
        /// The figures, formatted.
        message: &'a str,
    },
    /// The stage ended; `summary` is a line worth keeping on screen.
    End {
        /// What the stage achieved, e.g. "epoch 3: dev accuracy 98.2%".
        summary: &'a str,
    },
}

/// Receives progress events. `Sync` so that worker threads may report.
pub trait Progress: Sync {
    /// Called for every event, in order.
    fn event(&self, event: &ProgressEvent<'_>);
}

impl<F: Fn(&ProgressEvent<'_>) + Sync> Progress for F {
    fn event(&self, event: &ProgressEvent<'_>) {
        self(event)
    }
}

/// A `Progress` that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn event(&self, _event: &ProgressEvent<'_>) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn closures_receive_events_in_order() {
        let seen = Mutex::new(Vec::new());
        let record = |e: &ProgressEvent<'_>| seen.lock().unwrap().push(format!("{e:?}"));
        let report: &dyn Progress = &record;
        report.event(&ProgressEvent::Begin {
            label: "epoch 1",
            total: Some(2),
            unit: "batches",
        });
        report.event(&ProgressEvent::Advance { done: 2 });
        report.event(&ProgressEvent::End { summary: "ok" });
        Silent.event(&ProgressEvent::Advance { done: 1 });
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), 3);
        assert!(seen[0].starts_with("Begin"));
        assert!(seen[2].contains("ok"));
    }
}
