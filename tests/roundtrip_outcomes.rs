//! What the round trip says of revisions that are not plain passes or failures: an upgrade that
//! ran nothing, a downgrade declared (or accepted) irreversible, a forward-only history, and a
//! failure that is env.py's rather than the revision's. None of them is counted as passed, and
//! none stops the revisions after it from being judged.

use std::process::Output;

mod common;
use common::roundtrip::{document, everything, local_json, pairs, repo, roundtrip, statuses};
use common::{postgres_binaries, scratch_dir, test_python as python};

/// (rule, revision, severity) of every round-trip finding.
fn findings(output: &Output) -> Vec<(String, String, String)> {
    let mut found: Vec<(String, String, String)> = document(output)["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["revision"].as_str().unwrap_or_default().to_string(),
                d["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    found
}

fn note_of(output: &Output, revision: &str) -> String {
    document(output)["roundtrip"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["revision"] == revision)
        .and_then(|r| r["note"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn guarded_irreversible_and_accepted_revisions_are_counted_apart_and_the_run_goes_on() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let output = local_json("fixtures/roundtrip/outcomes", &python, &[], tmp.path());
    assert_eq!(output.status.code(), Some(1), "{}", everything(&output));
    assert_eq!(
        statuses(&output),
        pairs(&[
            ("o1", "passed"),
            ("o2", "ran-nothing"),
            ("o3", "irreversible"),
            ("o4", "failed"),
            ("o5", "passed"),
            ("o6", "irreversible"),
        ])
    );
    assert!(
        note_of(&output, "o2").contains(
            "`if not os.environ.get(\"ENABLE_ACCOUNT_SEARCH\")` (line 11) returned before any statement"
        ),
        "{}",
        note_of(&output, "o2")
    );
    assert!(
        note_of(&output, "o3")
            .contains("irreversible (declared): its downgrade raises NotImplementedError"),
        "{}",
        note_of(&output, "o3")
    );
    assert_eq!(
        findings(&output),
        vec![
            (
                "roundtrip-downgrade-failed".into(),
                "o4".into(),
                "error".into()
            ),
            ("roundtrip-irreversible".into(), "o3".into(), "note".into()),
            ("roundtrip-irreversible".into(), "o6".into(), "note".into()),
            // env.py names no models: nothing to compare at head, which a note says.
            ("roundtrip-model-drift".into(), "o6".into(), "note".into()),
            ("roundtrip-ran-nothing".into(), "o2".into(), "note".into()),
        ]
    );
    assert_eq!(
        document(&output)["summary"]["roundtrip"],
        serde_json::json!({"passed": 2, "failed": 1, "ran_nothing": 1, "irreversible": 2, "skipped": 0})
    );

    // Accepted in the config, o4's failing downgrade is a note too; with the setting the guard
    // reads, o2 runs.
    let config = tmp.path().join("migration-gate.toml");
    std::fs::write(&config, "[roundtrip]\nirreversible = [\"o4\"]\n").unwrap();
    let output = roundtrip(
        &[
            "fixtures/roundtrip/outcomes",
            "--postgres",
            "local",
            "--python",
            &python,
            "--config",
            &config.to_string_lossy(),
        ],
        tmp.path(),
    )
    .env("ENABLE_ACCOUNT_SEARCH", "1")
    .output()
    .unwrap();
    let said = everything(&output);
    assert_eq!(output.status.code(), Some(0), "{said}");
    assert!(
        said.contains("round trip: 3 passed, 0 failed, 3 irreversible"),
        "the text summary counts them apart: {said}"
    );
    assert!(
        said.contains("irreversible (accepted in [roundtrip] irreversible)"),
        "{said}"
    );
}

#[test]
fn a_forward_only_history_proves_its_upgrades_and_upgrade_only_skips_every_downgrade() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    // No revision has a downgrade to run: the history is forward-only, proven upgrade by
    // upgrade, and no downgrade is blamed.
    let output = local_json("fixtures/roundtrip/forward_only", &python, &[], tmp.path());
    assert_eq!(output.status.code(), Some(0), "{}", everything(&output));
    assert_eq!(
        statuses(&output),
        pairs(&[("f1", "passed"), ("f2", "passed")])
    );
    assert!(
        note_of(&output, "f1")
            .contains("upgrade only: no revision of this history has a downgrade")
    );

    let output = local_json(
        "fixtures/roundtrip/clean",
        &python,
        &["--upgrade-only"],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", everything(&output));
    let runs = document(&output)["roundtrip"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 3);
    for run in runs {
        let steps: Vec<(String, String)> = run["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["step"].as_str().unwrap().to_string(),
                    s["status"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(
            steps,
            pairs(&[("upgrade", "passed"), ("downgrade", "skipped")])
        );
    }
}

#[test]
fn env_py_failing_on_one_revision_is_reported_at_env_py_and_not_on_the_revision() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let output = local_json(
        "fixtures/roundtrip/env_fails_later",
        &python,
        &[],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(1), "{}", everything(&output));
    assert_eq!(
        statuses(&output),
        pairs(&[("e1", "passed"), ("e2", "failed"), ("e3", "skipped")])
    );
    let document = document(&output);
    let failure = &document["diagnostics"][0];
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .starts_with("env.py fails while running the upgrade of `e2`: RuntimeError: e2 is not in the release manifest"),
        "{failure:#?}"
    );
    assert!(
        failure["path"]
            .as_str()
            .unwrap()
            .ends_with("env_fails_later/env.py")
            && failure["line"] == 13,
        "{failure:#?}"
    );
}

#[test]
fn env_py_as_alembics_cookbook_writes_it_runs_from_any_folder() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    // From the repository's root: `prepend_sys_path = .` is alembic.ini's folder, where the
    // `app` package is; env.py takes the shared Connection from `config.attributes`.
    let output = local_json("fixtures/roundtrip/cookbook", &python, &[], tmp.path());
    assert_eq!(output.status.code(), Some(0), "{}", everything(&output));
    assert_eq!(
        statuses(&output),
        pairs(&[("k1", "passed"), ("k2", "passed"), ("k3", "passed")])
    );
    assert_eq!(
        findings(&output),
        vec![],
        "the models match: they were compared"
    );
    // From inside the project, whose `types` package must not shadow the standard library's.
    let project = repo().join("fixtures/roundtrip/cookbook");
    let output = roundtrip(
        &[
            ".",
            "--postgres",
            "local",
            "--python",
            &python,
            "--format",
            "json",
        ],
        tmp.path(),
    )
    .current_dir(&project)
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", everything(&output));
    assert_eq!(statuses(&output).len(), 3);
}

#[test]
fn when_the_head_fails_the_models_are_compared_at_the_last_revision_that_upgrades() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let output = local_json("fixtures/roundtrip/head_fails", &python, &[], tmp.path());
    assert_eq!(output.status.code(), Some(1), "{}", everything(&output));
    assert_eq!(
        findings(&output),
        vec![
            ("roundtrip-model-drift".into(), "h2".into(), "note".into()),
            (
                "roundtrip-model-drift".into(),
                "h2".into(),
                "warning".into()
            ),
            (
                "roundtrip-upgrade-failed".into(),
                "h2".into(),
                "error".into()
            ),
        ]
    );
    let messages: Vec<String> = document(&output)["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap().to_string())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains(
            "the models were compared with the schema at `h1`, the last revision whose upgrade passed"
        )),
        "{messages:#?}"
    );
    assert!(
        messages.iter().any(|m| m
            == "at `h1`: column accounts.nickname is in the models but no migration creates it"),
        "{messages:#?}"
    );
}

/// `alembic check` runs in a process of its own: a revision that reflected a table into the
/// models' metadata (and then dropped it) leaves no drift behind.
#[test]
fn the_models_are_compared_as_env_py_imports_them_not_as_revisions_left_them() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let output = local_json(
        "fixtures/roundtrip/reflecting_revision",
        &python,
        &[],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", everything(&output));
    assert_eq!(findings(&output), Vec::<(String, String, String)>::new());
}

#[test]
fn what_revision_files_do_when_imported_happens_before_any_revision_and_at_every_step() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    // m2 makes its enum type when imported, as every `alembic` command imports every file:
    // the type is there before m1 runs (m1 is not blamed for it), m2's downgrade drops a type
    // that was there before its upgrade, and its second upgrade, a command of its own,
    // imports the file again and finds the type made anew.
    let output = local_json(
        "fixtures/roundtrip/import_time_ddl",
        &python,
        &[],
        tmp.path(),
    );
    assert_eq!(
        statuses(&output),
        pairs(&[("m1", "passed"), ("m2", "failed"), ("m3", "passed")])
    );
    let messages: Vec<String> = document(&output)["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap().to_string())
        .collect();
    assert!(
        messages.contains(
            &"after upgrade and downgrade of `m2` the schema differs from before: type account_status was not restored".to_string()
        ),
        "{messages:#?}"
    );
}
