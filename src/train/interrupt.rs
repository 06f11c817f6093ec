//! Ctrl-C (SIGINT) while [`run`](super::run) trains: the run stops at the end of the batch in
//! progress, without scoring or saving that unfinished epoch, so the model directory keeps the
//! best epoch saved so far, and [`run`](super::run) returns [`Error::Interrupted`]
//! (the binary exits with status 130, as a shell expects of a process ended by Ctrl-C).
//!
//! A save in progress when Ctrl-C comes is finished first: the flag is only read between
//! batches and epochs. A second Ctrl-C, or one outside training, ends the process at once as
//! usual (the next run cleans up what a save cut short leaves).
//!
//! The handler is installed (with `signal-hook`) the first time a run starts and stays for the
//! life of the process, acting as the default handler whenever no run is watching.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

use crate::error::Error;

static WATCHING: AtomicUsize = AtomicUsize::new(0);
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// While it lives, Ctrl-C asks the run to stop instead of ending the process.
pub(crate) struct Watch(());

impl Watch {
    /// Starts watching for Ctrl-C (installing the handler the first time).
    pub(crate) fn start() -> Watch {
        static INSTALLED: OnceLock<bool> = OnceLock::new();
        INSTALLED.get_or_init(install);
        if WATCHING.fetch_add(1, Ordering::SeqCst) == 0 {
            INTERRUPTED.store(false, Ordering::SeqCst);
        }
        Watch(())
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        WATCHING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whether Ctrl-C came while a run was watching.
pub(crate) fn requested() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

#[cfg(unix)]
fn install() -> bool {
    let action = || {
        let watched = WATCHING.load(Ordering::SeqCst) > 0;
        if !watched || INTERRUPTED.swap(true, Ordering::SeqCst) {
            let _ = signal_hook::low_level::emulate_default_handler(signal_hook::consts::SIGINT);
        }
    };
    // SAFETY: the action only touches atomics and calls emulate_default_handler, all
    // async-signal-safe.
    unsafe { signal_hook::low_level::register(signal_hook::consts::SIGINT, action) }.is_ok()
}

#[cfg(not(unix))]
fn install() -> bool {
    false
}

/// The error that ends an interrupted run: `when` it stopped ("during epoch 3"), the best epoch
/// this run saved, and where the model is.
pub(crate) fn interrupted(when: &str, saved: Option<usize>, plan: &super::Plan) -> Error {
    let out = plan.out.as_deref();
    let kept = match (saved, out, plan.resumed_from.as_deref()) {
        (Some(best), Some(out), _) => {
            format!(
                "epoch {best}, the best so far, is saved in {}",
                out.display()
            )
        }
        (Some(best), None, _) => format!("epoch {best} was the best so far"),
        (None, _, Some(resumed)) => format!(
            "no epoch of this run was saved; the resumed model in {} is unchanged",
            resumed.display()
        ),
        (None, Some(out), None) => format!("no epoch was saved to {}", out.display()),
        (None, None, None) => "no epoch was kept".to_owned(),
    };
    Error::Interrupted(format!("interrupted (Ctrl-C) {when}; {kept}"))
}
