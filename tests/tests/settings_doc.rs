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
