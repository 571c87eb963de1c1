//! Running scripts against an acceptor: the steps of one script in order, the scripts of a folder
//! one after another, and folders in parallel (one thread each; their CompIDs differ).

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::compare::{FieldFormats, compare, show};
use super::connection::Connection;
use super::script::{ParseError, Script, Step, complete, expand};

/// Where the acceptor is and how patient to be.
#[derive(Clone, Debug)]
pub struct RunnerConfig {
    /// The acceptor's address.
    pub addr: SocketAddr,
    /// How long an `E` line waits for its message (the reference runner waits forever).
    pub expect_timeout: Duration,
    /// The `fields.fmt` patterns.
    pub formats: FieldFormats,
}

/// What became of one script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every line executed without error.
    Pass,
    /// The first failing line and why.
    Fail(String),
    /// Not an acceptor script (initiator-side): not counted.
    Skipped(String),
}

/// One script's result, named `folder/stem` (`fix42/2m_BodyLengthValueNotCorrect`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptResult {
    /// `folder/stem`.
    pub name: String,
    /// Pass, fail or skip.
    pub outcome: Outcome,
}

impl ScriptResult {
    /// The report line: `PASS name`, `FAIL name: reason` or `SKIP name: reason`.
    pub fn line(&self) -> String {
        match &self.outcome {
            Outcome::Pass => format!("PASS {}", self.name),
            Outcome::Fail(why) => format!("FAIL {}: {why}", self.name),
            Outcome::Skipped(why) => format!("SKIP {}: {why}", self.name),
        }
    }
}

/// The `.def` files of `dir`, sorted by name.
pub fn scripts_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "def"))
        .collect();
    files.sort();
    Ok(files)
}

/// Runs the folders in parallel, each folder's scripts in order; results in folder order.
pub fn run_folders(config: &RunnerConfig, dirs: &[PathBuf]) -> Vec<ScriptResult> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = dirs
            .iter()
            .map(|dir| scope.spawn(move || run_folder(config, dir)))
            .collect();
        handles
            .into_iter()
            .zip(dirs)
            .flat_map(|(handle, dir)| {
                handle.join().unwrap_or_else(|_| {
                    vec![ScriptResult {
                        name: folder_name(dir),
                        outcome: Outcome::Fail("the runner thread panicked".into()),
                    }]
                })
            })
            .collect()
    })
}

/// Runs every script of `dir` in name order.
pub fn run_folder(config: &RunnerConfig, dir: &Path) -> Vec<ScriptResult> {
    match scripts_in(dir) {
        Ok(files) => files.iter().map(|path| run_file(config, path)).collect(),
        Err(e) => vec![ScriptResult {
            name: folder_name(dir),
            outcome: Outcome::Fail(format!("cannot list {}: {e}", dir.display())),
        }],
    }
}

/// Reads, parses and runs one script file.
pub fn run_file(config: &RunnerConfig, path: &Path) -> ScriptResult {
    let folder = path.parent().map(folder_name).unwrap_or_default();
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let outcome = match std::fs::read(path) {
        Err(e) => Outcome::Fail(format!("cannot read: {e}")),
        Ok(bytes) => match Script::parse(path, &bytes) {
            Err(ParseError::InitiatorScript) => {
                Outcome::Skipped(ParseError::InitiatorScript.to_string())
            }
            Err(e) => Outcome::Fail(e.to_string()),
            Ok(script) => match probe(config.addr).and_then(|()| run_script(config, &script)) {
                Ok(()) => Outcome::Pass,
                Err(why) => Outcome::Fail(why),
            },
        },
    };
    ScriptResult {
        name: format!("{folder}/{stem}"),
        outcome,
    }
}

/// Opens and at once closes a connection, up to 30 times a second apart, until the acceptor
/// takes one (the reference runner does this before every script).
fn probe(addr: SocketAddr) -> Result<(), String> {
    for attempt in 0..30 {
        if attempt > 0 {
            std::thread::sleep(Duration::from_secs(1));
        }
        if TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok() {
            return Ok(());
        }
    }
    Err(format!("the acceptor at {addr} takes no connection"))
}

/// Runs the steps of `script`; the first failing line ends it, and its connections are closed.
pub fn run_script(config: &RunnerConfig, script: &Script) -> Result<(), String> {
    let dir = script.path.parent().unwrap_or(Path::new("."));
    let mut conns: [Option<Connection>; 10] = Default::default();
    let result = script.steps.iter().try_for_each(|(line, step)| {
        run_step(config, dir, &mut conns, step).map_err(|why| format!("line {line}: {why}"))
    });
    for conn in conns.into_iter().flatten() {
        conn.close();
    }
    result
}

fn run_step(
    config: &RunnerConfig,
    dir: &Path,
    conns: &mut [Option<Connection>; 10],
    step: &Step,
) -> Result<(), String> {
    let message = |text: &[u8]| -> Result<Vec<u8>, String> {
        Ok(complete(&expand(text, SystemTime::now(), dir)?))
    };
    match step {
        Step::Connect { conn } => {
            let opened = Connection::open(config.addr).map_err(|e| format!("connect: {e}"))?;
            conns[usize::from(*conn)] = Some(opened);
        }
        Step::Disconnect { conn } => {
            if let Some(open) = conns[usize::from(*conn)].take() {
                open.close();
            }
        }
        Step::Send { conn, text } => {
            let bytes = message(text)?;
            open(conns, *conn)?.send(&bytes)?;
        }
        Step::Expect { conn, text } => {
            let expected = message(text)?;
            let received = open(conns, *conn)?
                .read_message(config.expect_timeout)
                .map_err(|why| format!("{why}; expected {}", show(&expected)))?;
            compare(&config.formats, &expected, &received).map_err(|why| {
                format!(
                    "{why}\n    expected: {}\n    received: {}",
                    show(&expected),
                    show(&received)
                )
            })?;
        }
        Step::ExpectDisconnect { conn } => {
            open(conns, *conn)?.expect_close()?;
            conns[usize::from(*conn)] = None;
        }
        Step::ExpectConnect { .. } => {
            return Err("eCONNECT: this runner only plays the initiator".into());
        }
    }
    Ok(())
}

fn open(conns: &mut [Option<Connection>; 10], conn: u8) -> Result<&mut Connection, String> {
    conns[usize::from(conn)]
        .as_mut()
        .ok_or_else(|| format!("connection {conn} is not open"))
}

fn folder_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Prints one line per result and the closing `N passed, M failed` line; returns (passed, failed).
pub fn report(results: &[ScriptResult]) -> (usize, usize) {
    let mut passed = 0;
    let mut failed = 0;
    for result in results {
        println!("{}", result.line());
        match result.outcome {
            Outcome::Pass => passed += 1,
            Outcome::Fail(_) => failed += 1,
            Outcome::Skipped(_) => {}
        }
    }
    println!("{passed} passed, {failed} failed");
    (passed, failed)
}
