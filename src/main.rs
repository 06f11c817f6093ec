//! The `seqmodels` binary: a thin clap shell over the library.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so printing into a closed pipe (`seqmodels translate | head`) would
    // panic; the default action ends the process quietly, as other command-line tools do.
    #[cfg(unix)]
    // SAFETY: called before any other thread exists; SIG_DFL is a valid handler for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = cli::Cli::parse();
    // tch's infallible methods (a backward pass, an optimiser step) panic on a libtorch error,
    // such as running out of memory: say what libtorch said, as any other error, without the
    // panic's trace and the C++ stack trace in the message.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        match libtorch_error(message) {
            Some(torch) => eprintln!("error: libtorch: {torch}"),
            None => {
                let place = info
                    .location()
                    .map(|l| format!(" at {l}"))
                    .unwrap_or_default();
                eprintln!(
                    "error: internal error{place}: {message} (a bug in seqmodels; please report it)"
                );
            }
        }
    }));
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cli::run(args))) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        // Ctrl-C during training: the run stopped at a safe point and says what it kept.
        Ok(Err(err)) if matches!(err.downcast_ref(), Some(seqmodels::Error::Interrupted(_))) => {
            eprintln!("{err:#}");
            ExitCode::from(130)
        }
        Ok(Err(err)) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
        // The hook has said what happened.
        Err(_) => ExitCode::FAILURE,
    }
}

/// libtorch's own words in a panic message from tch (`...: Torch("what\nframe #0: ...")`),
/// up to the first escaped line break, where its C++ stack trace starts.
fn libtorch_error(message: &str) -> Option<&str> {
    let inner = &message[message.find("Torch(\"")? + 7..];
    let end = inner
        .find("\\n")
        .or_else(|| inner.rfind("\")"))
        .unwrap_or(inner.len());
    Some(inner[..end].trim())
}

#[cfg(test)]
mod tests {
    use super::libtorch_error;

    #[test]
    fn a_tch_panic_message_gives_libtorch_words_alone() {
        let panic = "called `Result::unwrap()` on an `Err` value: Torch(\"[enforce fail at \
                     alloc_cpu.cpp:127] can't allocate memory\\nframe #0: c10::Throw\")";
        assert_eq!(
            libtorch_error(panic),
            Some("[enforce fail at alloc_cpu.cpp:127] can't allocate memory")
        );
        assert_eq!(libtorch_error("Torch(\"short\")"), Some("short"));
        assert_eq!(libtorch_error("index out of bounds"), None);
    }
}
