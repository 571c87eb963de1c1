//! `docs/settings.md` and the code list the same settings, with the same aliases.

use std::collections::BTreeMap;

use fixgate_core::SESSION_SETTINGS;

/// The rows of the table under the heading `## {section}`.
fn documented_rows(section: &str) -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/settings.md");
    let text = std::fs::read_to_string(path).expect("docs/settings.md");
    let heading = format!("## {section}");
    let start = text
        .find(&heading)
        .unwrap_or_else(|| panic!("no section {section}"));
    text[start + heading.len()..]
        .lines()
        .take_while(|line| !line.starts_with("## "))
        .filter(|line| line.starts_with("| `"))
        .map(str::to_owned)
        .collect()
}

fn documented() -> BTreeMap<String, Vec<String>> {
    documented_rows("Session keys")
        .iter()
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let name = cells[1].trim_matches('`').to_owned();
            let aliases = cells[2]
                .split(',')
                .map(|a| a.trim().trim_matches('`').to_owned())
                .filter(|a| !a.is_empty())
                .collect();
            (name, aliases)
        })
        .collect()
}

#[test]
fn settings_doc_matches_the_code() {
    let in_code: BTreeMap<String, Vec<String>> = SESSION_SETTINGS
        .iter()
        .map(|s| {
            (
                s.name.to_owned(),
                s.aliases.iter().map(|a| (*a).to_owned()).collect(),
            )
        })
        .collect();
    assert_eq!(documented(), in_code);
}

#[test]
fn engine_keys_doc_matches_the_code() {
    let documented: Vec<String> = documented_rows("Engine keys")
        .iter()
        .map(|row| {
            row.split('|')
                .nth(1)
                .unwrap()
                .trim()
                .trim_matches('`')
                .to_owned()
        })
        .collect();
    let in_code: Vec<String> = fixgate_core::properties::ENGINE_SETTINGS
        .iter()
        .map(|k| (*k).to_owned())
        .collect();
    assert_eq!(documented, in_code);
}

/// The QuickFIX table: each row's key, its origin (`J`, `C++`, `J, C++`) and its status.
fn quickfix_rows() -> Vec<(String, String, String)> {
    documented_rows("QuickFIX keys")
        .iter()
        .map(|row| {
            let cells: Vec<&str> = row.split(" | ").collect();
            let name = cells[0]
                .trim_start_matches("| ")
                .trim_matches('`')
                .to_owned();
            let status = cells[2].trim_end_matches(" |").to_owned();
            (name, cells[1].to_owned(), status)
        })
        .collect()
}

#[test]
fn quickfix_keys_doc_matches_the_code() {
    use fixgate_core::quickfix_keys::{Origin, UNSUPPORTED_QUICKFIX_KEYS};
    let origin = |o: Origin| match o {
        Origin::QuickFixJ => "J",
        Origin::QuickFixCpp => "C++",
        Origin::Both => "J, C++",
    };
    let rows = quickfix_rows();
    let unsupported: Vec<(String, String, String)> = rows
        .iter()
        .filter(|(_, _, status)| !status.starts_with("supported"))
        .cloned()
        .collect();
    let mut in_code: Vec<(String, String, String)> = UNSUPPORTED_QUICKFIX_KEYS
        .iter()
        .map(|k| {
            (
                k.name.to_owned(),
                origin(k.origin).to_owned(),
                k.advice.to_owned(),
            )
        })
        .collect();
    in_code.sort_by_key(|(name, _, _)| name.to_lowercase());
    assert_eq!(unsupported, in_code);
    // A supported key names a key fixgate takes: its own, or the fixgate name after `as`.
    for (name, _, status) in rows.iter().filter(|(_, _, s)| s.starts_with("supported")) {
        let key = status
            .strip_prefix("supported as `")
            .and_then(|rest| rest.split('`').next())
            .unwrap_or(name);
        let known = fixgate_core::properties::Properties::parse(&format!("{key} = 1\n"), "e")
            .is_ok()
            || fixgate_core::properties::Properties::parse(&format!("Session.x.{key} = 1\n"), "s")
                .is_ok();
        assert!(known, "{name}: {key} is not a fixgate key");
    }
}
