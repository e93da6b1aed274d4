//! A long history spread over a CI matrix: `roundtrip --shard K/N` judges one slice, applies
//! the revisions before it, and compares the models only in the last slice.

mod common;
use common::roundtrip::{everything, local_json, pairs, statuses};
use common::{postgres_binaries, scratch_dir, test_python as python};

fn judged(output: &std::process::Output) -> Vec<String> {
    assert_eq!(output.status.code(), Some(0), "{}", everything(output));
    statuses(output)
        .into_iter()
        .map(|(revision, status)| {
            assert_eq!(status, "passed", "{revision}: {}", everything(output));
            revision
        })
        .collect()
}

#[test]
fn the_shards_of_a_history_judge_each_revision_once_and_in_order() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let shard = |k: &str| {
        local_json(
            "fixtures/roundtrip/clean",
            &python,
            &["--shard", k],
            tmp.path(),
        )
    };
    // c2 and c3 build on c1: the second shard applies it before judging them.
    assert_eq!(judged(&shard("1/2")), ["c1"]);
    assert_eq!(judged(&shard("2/2")), ["c2", "c3"]);

    let output = local_json(
        "fixtures/roundtrip/clean",
        &python,
        &["--shard", "3/2"],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(2), "{}", everything(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("is not K/N"),
        "{}",
        everything(&output)
    );
}

#[test]
fn only_the_last_shard_compares_the_models() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let drift = |k: &str| {
        let output = local_json(
            "fixtures/roundtrip/model_drift",
            &python,
            &["--shard", k],
            tmp.path(),
        );
        let document: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", everything(&output)));
        document["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["rule"] == "roundtrip-model-drift")
            .count()
    };
    // One revision, two shards: the first has nothing to judge; the last judges it and
    // compares the models at head.
    assert_eq!(drift("1/2"), 0);
    assert_eq!(drift("2/2"), 3);
}

#[test]
fn restoring_from_checkpoints_finds_what_replaying_the_history_finds() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    // Every kind of failure, each followed by revisions judged on a rebuilt database.
    let run = |checkpoint_after: &str| {
        let output = common::roundtrip::roundtrip(
            &[
                "fixtures/roundtrip/broken",
                "--postgres",
                "local",
                "--python",
                &python,
                "--format",
                "json",
            ],
            tmp.path(),
        )
        .env("MIGRATION_GATE_CHECKPOINT_AFTER", checkpoint_after)
        .env("MIGRATION_GATE_PROFILE", "1")
        .output()
        .unwrap();
        let document: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", everything(&output)));
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        (statuses(&output), document["diagnostics"].clone(), stderr)
    };
    // A checkpoint after every rebuild, restored from at the next; and none.
    let (restored_statuses, restored, profile) = run("1");
    let (replayed_statuses, replayed, _) = run("1000000");
    assert!(
        profile.contains("profile: checkpoint:"),
        "checkpoints were taken: {profile}"
    );
    assert_eq!(restored_statuses, replayed_statuses);
    assert_eq!(restored, replayed);
}

/// A downgrade that does nothing leaves the upgraded schema, so the second upgrade fails on it
/// and the next revision can start right there once the version table is stamped: the state
/// check finds the schema it expects, and nothing is rebuilt.
#[test]
fn a_downgrade_that_does_nothing_costs_no_rebuild() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let output = common::roundtrip::roundtrip(
        &[
            "fixtures/roundtrip/downgrade_does_nothing",
            "--postgres",
            "local",
            "--python",
            &python,
            "--format",
            "json",
        ],
        tmp.path(),
    )
    .env("MIGRATION_GATE_PROFILE", "1")
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", everything(&output));
    assert_eq!(
        statuses(&output),
        pairs(&[("d1", "passed"), ("d2", "failed"), ("d3", "passed")])
    );
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let rules: Vec<&str> = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        ["roundtrip-schema-drift", "roundtrip-reupgrade-failed"],
        "{}",
        everything(&output)
    );
    let profile = String::from_utf8_lossy(&output.stderr);
    assert!(
        !profile.contains("rebuild:"),
        "the database was rebuilt: {profile}"
    );
    assert!(profile.contains("state check after a failure"), "{profile}");
}
