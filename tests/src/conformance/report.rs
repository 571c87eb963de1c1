//! `docs/conformance.md`: for each FIX session test case (1B to 20), the deterministic tests of
//! ours that cover it (test functions named `tc_<case>_…` in `tests/tests`) and the QuickFIX
//! acceptance scripts that do, with the scripts' results of a run.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use super::runner::{Outcome, ScriptResult};

/// The session test cases of the FIX specification, with what each one checks.
pub const CASES: &[(&str, &str)] = &[
    ("1B", "Initiator: connect and send Logon, handle the reply"),
    (
        "1S",
        "Acceptor: receive Logon (valid, duplicate identity, gap, invalid, not a Logon)",
    ),
    (
        "2",
        "Receive the standard header: MsgSeqNum, PossDup, BeginString, CompIDs, SendingTime, MsgType",
    ),
    (
        "3",
        "Receive the standard trailer: CheckSum, garbled messages",
    ),
    (
        "4",
        "Send Heartbeat (after HeartBtInt of silence, or to a TestRequest)",
    ),
    ("5", "Receive Heartbeat"),
    (
        "6",
        "Send TestRequest after silence, disconnect when unanswered",
    ),
    ("7", "Receive Reject"),
    (
        "8",
        "Receive ResendRequest: resend application messages, gap-fill session ones",
    ),
    ("9", "Synchronise sequence numbers (optional)"),
    ("10", "Receive SequenceReset (GapFill)"),
    ("11", "Receive SequenceReset (Reset)"),
    ("12", "Initiate Logout"),
    ("13", "Receive Logout (reply or unsolicited)"),
    (
        "14",
        "Receive messages with field errors: Reject with the right SessionRejectReason",
    ),
    (
        "15",
        "Send application and session messages; any header and body order accepted",
    ),
    ("16", "Queue outgoing messages while disconnected"),
    ("17", "Encryption (optional; obsolete, TLS instead)"),
    (
        "18",
        "Third-party addressing (OnBehalfOf/DeliverTo, reverse routing)",
    ),
    ("19", "PossResend handling"),
    ("20", "Simultaneous ResendRequests"),
];

/// The test case a QuickFIX script covers, from its file name (`14b_RequiredFieldMissing`).
pub fn case_of_script(script: &str) -> Option<&'static str> {
    let name = script.rsplit('/').next().unwrap_or(script);
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    let case = match (digits.as_str(), name) {
        ("1", _) | (_, "AlreadyLoggedOn") => "1S",
        // 21: a group count of zero; RejectResentMessage: validation of a resent message.
        ("21", _) | (_, "RejectResentMessage" | "CheckFieldsHaveValues") => "14",
        (_, n) if n.starts_with("ReverseRoute") => "18",
        ("", _) => return None,
        (d, _) => d,
    };
    CASES.iter().map(|(c, _)| *c).find(|c| *c == case)
}

/// The case of one of our test functions, `tc_14b_…` → `14`, `tc_1s_…` → `1S`.
fn case_of_test(name: &str) -> Option<&'static str> {
    let rest = name.strip_prefix("tc_")?;
    let id = rest.split('_').next()?;
    let digits: String = id.chars().take_while(char::is_ascii_digit).collect();
    let case = match (digits.as_str(), &id[digits.len()..]) {
        ("1", "b") => "1B",
        ("1", "s") => "1S",
        (d, _) => d,
    };
    CASES.iter().map(|(c, _)| *c).find(|c| *c == case)
}

/// Our test functions named for a case, as `file::function`, from the `.rs` files of `dir`.
pub fn own_tests(dir: &Path) -> std::io::Result<Vec<(&'static str, String)>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    let mut tests = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        for line in text.lines() {
            let Some(rest) = line.trim_start().strip_prefix("fn ") else {
                continue;
            };
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if let Some(case) = case_of_test(&name) {
                tests.push((case, format!("{stem}::{name}")));
            }
        }
    }
    Ok(tests)
}

/// The report of a run: `results` of the QuickFIX scripts, `own` tests by case.
pub fn render(results: &[ScriptResult], own: &[(&'static str, String)]) -> String {
    let mut scripts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut folders: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for result in results {
        if matches!(result.outcome, Outcome::Skipped(_)) {
            continue;
        }
        let passed = usize::from(result.outcome == Outcome::Pass);
        let folder = result.name.split('/').next().unwrap_or_default();
        let entry = folders.entry(folder).or_default();
        entry.0 += passed;
        entry.1 += 1;
        let case = case_of_script(&result.name).unwrap_or("other");
        let entry = scripts.entry(case).or_default();
        entry.0 += passed;
        entry.1 += 1;
    }
    let mut out = String::from(
        "# Conformance report\n\n\
         Generated by the conformance runner (`tests/tests/conformance`; `at-runner --report` against a\n\
         running acceptor): do not edit by hand. The test fails when this file differs from what the\n\
         run produces; `FIXGATE_WRITE_REPORT=1 cargo test -p fixgate-tests --test conformance`\n\
         writes it again.\n\n\
         For each session test case of the FIX specification: our own deterministic tests (functions\n\
         `tc_<case>_…` in `tests/tests`, which drive the sans-IO session with a simulated clock and\n\
         run in every CI build, so on main they all pass), and the QuickFIX acceptance scripts\n\
         (`../shared/conformance/quickfix`) played over loopback against `tests/conformance/at.properties`\n\
         with the `fixgate` binary's echo application, on the tokio adapter (the fix44 and fix50sp2\n\
         folders also run on the async-io adapter).\n\n\
         | case | what | our tests | QuickFIX scripts passed | result |\n\
         |---|---|---|---|---|\n",
    );
    for (case, what) in CASES.iter().copied() {
        let names: Vec<&str> = own
            .iter()
            .filter(|(c, _)| *c == case)
            .map(|(_, n)| n.as_str())
            .collect();
        let ours = match names.len() {
            0 => "—".to_owned(),
            n => format!("{n}: `{}`", names.join("`, `")),
        };
        let (theirs, result) = match scripts.get(case) {
            Some(&(passed, run)) => (
                format!("{passed}/{run}"),
                if passed == run { "pass" } else { "FAIL" },
            ),
            None if names.is_empty() => ("—".to_owned(), "not covered"),
            None => ("—".to_owned(), "pass (our tests)"),
        };
        let _ = writeln!(out, "| {case} | {what} | {ours} | {theirs} | {result} |");
    }
    if let Some(&(passed, run)) = scripts.get("other") {
        let _ = writeln!(
            out,
            "| — | Scripts outside the case list (SessionReset: Logon with ResetSeqNumFlag mid-session) | — | {passed}/{run} | {} |",
            if passed == run { "pass" } else { "FAIL" }
        );
    }
    out.push_str("\n## QuickFIX scripts by folder\n\n| folder | passed |\n|---|---|\n");
    let (mut passed_all, mut run_all) = (0, 0);
    for (folder, (passed, run)) in &folders {
        let _ = writeln!(out, "| {folder} | {passed}/{run} |");
        passed_all += passed;
        run_all += run;
    }
    let _ = writeln!(out, "| all | {passed_all}/{run_all} |");
    let failed: Vec<&ScriptResult> = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Fail(_)))
        .collect();
    if !failed.is_empty() {
        out.push_str("\n## Failures\n\n");
        for result in failed {
            let _ = writeln!(out, "- {}", result.line().replace('\n', " "));
        }
    }
    out
}

/// Where the report lives, and where our tests are, in this repository.
pub fn paths() -> (std::path::PathBuf, std::path::PathBuf) {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR"));
    (tests.join("../docs/conformance.md"), tests.join("tests"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_tests_map_to_cases() {
        assert_eq!(case_of_script("fix42/14b_RequiredFieldMissing"), Some("14"));
        assert_eq!(
            case_of_script("fix44/1a_ValidLogonWithCorrectMsgSeqNum"),
            Some("1S")
        );
        assert_eq!(case_of_script("fix50/AlreadyLoggedOn"), Some("1S"));
        assert_eq!(
            case_of_script("fix44/ReverseRouteWithEmptyRoutingTags"),
            Some("18")
        );
        assert_eq!(
            case_of_script("fix44/21_RepeatingGroupSpecifierWithValueOfZero"),
            Some("14")
        );
        assert_eq!(case_of_script("fix44/SessionReset"), None);
        assert_eq!(case_of_test("tc_1b_initiator_sends_logon"), Some("1B"));
        assert_eq!(case_of_test("tc_14i_group_count"), Some("14"));
        assert_eq!(case_of_test("tc_20_resend"), Some("20"));
        assert_eq!(case_of_test("reset_seq_num"), None);
    }
}
