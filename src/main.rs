//! The `sybilscan` binary: parses the command line, starts logging, calls the library, maps errors to exit
//! codes. Everything else lives in the library.

use clap::Parser;

// The pipeline allocates many small strings while normalizing; mimalloc does that several times faster
// than the system allocator on this workload (see BENCHMARKS.md). Built without transparent huge pages
// (`no_thp`): the kernel zeroing 2 MiB pages on first touch cost 0.3–1 s of a 1M run and more memory.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use sybilscan::cli::{Cli, LogFormat};
use sybilscan::error::exit;

fn main() {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cli.log));
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match cli.log_format {
        // One JSON object per line (time, level, message and the stage's counts and seconds as fields).
        LogFormat::Json => log.json().flatten_event(true).init(),
        // Colour only on a terminal: cron mail and log shippers show escape codes raw.
        LogFormat::Text => log
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
    match sybilscan::commands::dispatch(cli.command) {
        Ok(()) => std::process::exit(exit::OK),
        Err(err) => {
            eprintln!("error: {err:#}");
            let code = err
                .chain()
                .find_map(|e| e.downcast_ref::<sybilscan::error::Error>())
                .map(|e| e.exit_code())
                .unwrap_or(exit::INTERNAL);
            std::process::exit(code);
        }
    }
}
