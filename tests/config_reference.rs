//! The configuration's documentation cannot drift from the configuration: every key the config
//! types accept is in the reference, the reference is what docs/configuration.md and README say,
//! and every Action input maps to a key or is one of the Action's own.

use std::collections::BTreeSet;
use std::path::Path;

use migration_gate::config::Config;
use migration_gate::config_reference::{ACTION_ONLY, KEYS, markdown, readme_table};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The keys a table of the config types accepts, as serde lists them when it meets another.
fn accepted(table: &str) -> BTreeSet<String> {
    let probe = if table.is_empty() {
        "no-such-key = 1".to_string()
    } else {
        format!("[{table}]\nno-such-key = 1\n")
    };
    let error = toml::from_str::<Config>(&probe)
        .unwrap_err()
        .message()
        .to_string();
    // serde says "expected `a`", "expected `a` or `b`", or "expected one of `a`, `b`, ...".
    let (_, expected) = error
        .split_once("expected ")
        .unwrap_or_else(|| panic!("{error}"));
    let expected = expected.trim_start_matches("one of ");
    expected
        .split(", ")
        .flat_map(|part| part.split(" or "))
        .map(|k| k.trim().trim_matches('`').to_string())
        // The snake_case aliases of kebab-case keys.
        .filter(|k| !k.contains('_'))
        .collect()
}

#[test]
fn every_key_the_config_accepts_is_documented() {
    for table in ["", "roundtrip", "gate"] {
        let documented: BTreeSet<String> = KEYS
            .iter()
            .filter(|k| k.table == table)
            .map(|k| k.name.to_string())
            .collect();
        let mut accepted = accepted(table);
        // Tables are documented as their own sections.
        if table.is_empty() {
            accepted.remove("roundtrip");
            accepted.remove("gate");
        }
        assert_eq!(accepted, documented, "[{table}]");
    }
}

#[test]
fn the_docs_and_readme_say_what_the_reference_says() {
    let docs = std::fs::read_to_string(repo().join("docs/configuration.md")).unwrap();
    assert_eq!(
        docs,
        markdown(),
        "docs/configuration.md is stale: run bash scripts/update-config-reference.sh"
    );
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme
        .find("<!-- config:start")
        .expect("README's config table");
    let body = readme[start..].find("-->\n").unwrap() + start + 4;
    let end = readme.find("<!-- config:end -->").unwrap();
    assert_eq!(
        &readme[body..end],
        readme_table(),
        "README's config table is stale: run bash scripts/update-config-reference.sh"
    );
}

#[test]
fn every_action_input_is_a_documented_key_or_the_actions_own() {
    let text = std::fs::read_to_string(repo().join("action.yml")).unwrap();
    let action: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    let inputs: BTreeSet<String> = action["inputs"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    let documented: BTreeSet<String> = KEYS
        .iter()
        .filter_map(|k| k.input)
        .chain(ACTION_ONLY.iter().map(|(input, _)| *input))
        .map(str::to_string)
        .collect();
    assert_eq!(inputs, documented);
    // And the script reads each one (action.yml hands input `x-y` over as MG_X_Y).
    let script = std::fs::read_to_string(repo().join("scripts/action.sh")).unwrap();
    for input in &inputs {
        if [
            "working-directory",
            "upload-sarif",
            "github-token",
            "version",
        ]
        .contains(&input.as_str())
        {
            continue;
        }
        let variable = format!("MG_{}", input.to_uppercase().replace('-', "_"));
        assert!(
            script.contains(&variable),
            "scripts/action.sh never reads {variable}"
        );
    }
}
