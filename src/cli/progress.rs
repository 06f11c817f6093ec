//! Draws the library's progress events as an indicatif bar on stderr.

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use seqmodels::{Progress, ProgressEvent};

/// A progress bar on a terminal; when stderr is not a terminal (a log file), only the stage
/// summaries, one line each; nothing at all with `--quiet`.
pub struct Bar {
    quiet: bool,
    enabled: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Bar {
    pub fn new(quiet: bool) -> Self {
        Bar {
            quiet,
            enabled: !quiet && std::io::stderr().is_terminal(),
            bar: Mutex::new(None),
        }
    }
}

impl Progress for Bar {
    fn event(&self, event: &ProgressEvent<'_>) {
        if !self.enabled {
            if let ProgressEvent::End { summary } = event {
                if !self.quiet && !summary.is_empty() {
                    eprintln!("{summary}");
                }
            }
            return;
        }
        let mut slot = self.bar.lock().unwrap_or_else(|p| p.into_inner());
        match *event {
            ProgressEvent::Begin { label, total, unit } => {
                let bar = match total {
                    Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
                    None => ProgressBar::new_spinner(),
                };
                let template = if total.is_some() {
                    format!("{{prefix}} [{{bar:30}}] {{pos}}/{{len}} {unit} {{elapsed_precise}}<{{eta_precise}} {{msg}}")
                } else {
                    format!("{{prefix}} {{spinner}} {{pos}} {unit} {{elapsed_precise}} {{msg}}")
                };
                if let Ok(style) = ProgressStyle::with_template(&template) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_prefix(label.to_owned());
                if let Some(old) = slot.replace(bar) {
                    old.finish_and_clear();
                }
            }
            ProgressEvent::Advance { done } => {
                if let Some(bar) = slot.as_ref() {
                    bar.set_position(done);
                }
            }
            ProgressEvent::Status { message } => {
                if let Some(bar) = slot.as_ref() {
                    bar.set_message(message.to_owned());
                }
            }
            ProgressEvent::End { summary } => match slot.take() {
                Some(bar) => {
                    if !summary.is_empty() {
                        bar.println(summary);
                    }
                    bar.finish_and_clear();
                }
                // A summary of the whole run (after the last stage's bar is gone).
                None if !summary.is_empty() => eprintln!("{summary}"),
                None => {}
            },
        }
    }
}
