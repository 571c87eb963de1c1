//! `docs/settings.md` and the code list the same settings, with the same aliases.

use std::collections::BTreeMap;

use fixgate_core::SESSION_SETTINGS;

fn documented() -> BTreeMap<String, Vec<String>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/settings.md");
    let text = std::fs::read_to_string(path).expect("docs/settings.md");
    text.lines()
        .filter(|line| line.starts_with("| `"))
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
