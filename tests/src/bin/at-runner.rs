//! Runs the QuickFIX acceptance scripts against an acceptor that is already running, such as the
//! `fixgate` binary:
//!
//! ```text
//! at-runner HOST:PORT [FOLDER...] [--timeout SECS] [--report FILE]
//! ```
//!
//! FOLDERs are names under `definitions/server` (default: the normal run) or paths; they run in
//! parallel. Prints `PASS`/`FAIL` per script and `N passed, M failed`; exits 1 if any failed.
//! `--report` writes the conformance report (`docs/conformance.md`'s format) of the run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use fixgate_tests::conformance::compare::FieldFormats;
use fixgate_tests::conformance::report as conformance_report;
use fixgate_tests::conformance::runner::{RunnerConfig, report, run_folders};
use fixgate_tests::conformance::{NORMAL_RUN, suite_dir};

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("at-runner: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool, String> {
    let mut args = std::env::args().skip(1);
    let mut addr = None;
    let mut folders = Vec::new();
    let mut timeout = Duration::from_secs(30);
    let mut report_file = None;
    while let Some(arg) = args.next() {
        if arg == "--report" {
            report_file = Some(PathBuf::from(args.next().ok_or("--report takes a file")?));
        } else if arg == "--timeout" {
            let secs = args.next().and_then(|s| s.parse().ok());
            timeout = Duration::from_secs(secs.ok_or("--timeout takes seconds")?);
        } else if addr.is_none() {
            let parsed = std::net::ToSocketAddrs::to_socket_addrs(&arg)
                .map_err(|e| format!("{arg}: {e}"))?
                .next();
            addr = Some(parsed.ok_or_else(|| format!("{arg}: no address"))?);
        } else {
            folders.push(arg);
        }
    }
    let addr =
        addr.ok_or("usage: at-runner HOST:PORT [FOLDER...] [--timeout SECS] [--report FILE]")?;
    let suite = suite_dir();
    let fmt = suite.join("definitions/fields.fmt");
    let text = std::fs::read_to_string(&fmt).map_err(|e| format!("{}: {e}", fmt.display()))?;
    let config = RunnerConfig {
        addr,
        expect_timeout: timeout,
        formats: FieldFormats::parse(&text)?,
    };
    if folders.is_empty() {
        folders = NORMAL_RUN.iter().map(|s| (*s).to_owned()).collect();
    }
    let dirs: Vec<PathBuf> = folders
        .iter()
        .map(|f| {
            let path = PathBuf::from(f);
            if path.is_dir() {
                path
            } else {
                suite.join("definitions/server").join(f)
            }
        })
        .collect();
    let results = run_folders(&config, &dirs);
    let (_, failed) = report(&results);
    if let Some(file) = report_file {
        let (_, tests) = conformance_report::paths();
        let own = conformance_report::own_tests(&tests).map_err(|e| e.to_string())?;
        let text = conformance_report::render(&results, &own);
        std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    Ok(failed == 0)
}
