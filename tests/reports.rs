//! The CI-facing formats as GitHub, code scanning and JUnit consumers read them.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::fake_github;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run_with(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migration-gate"));
    command
        .args(args)
        .current_dir(cwd)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_EVENT_PATH")
        .env_remove("GITHUB_REPOSITORY");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the binary runs")
}

#[test]
fn sarif_validates_against_the_official_schema_and_carries_every_rule() {
    let output = run_with(&["check", "migrations", "--format", "sarif"], repo(), &[]);
    let sarif: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/data/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft7::new(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The validator does catch a broken document.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = serde_json::json!("fatal");
    assert!(!validator.is_valid(&broken));

    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let listed = run_with(&["rules", "--format", "json"], repo(), &[]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(rules.len(), listed.as_array().unwrap().len());
    for rule in rules {
        for key in [
            "id",
            "name",
            "shortDescription",
            "fullDescription",
            "help",
            "helpUri",
            "defaultConfiguration",
        ] {
            assert!(rule.get(key).is_some(), "rule lacks {key}: {rule}");
        }
        assert!(
            rule["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("## The safe way")
        );
        assert!(rule["properties"].get("security-severity").is_none());
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 14);
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert!(
            location["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .starts_with("migrations/versions/")
        );
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
    }
    let first_error = results
        .iter()
        .find(|r| r["ruleId"] == "create-index-non-concurrently")
        .unwrap();
    let region = &first_error["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (
            region["startLine"].as_u64(),
            region["startColumn"].as_u64(),
            region["endColumn"].as_u64()
        ),
        (Some(21), Some(9), Some(88))
    );
}

#[test]
fn several_formats_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("out.sarif");
    let junit = dir.path().join("out.xml");
    let output = run_with(
        &[
            "check",
            "migrations",
            "--format",
            "text",
            "--format",
            &format!("sarif={}", sarif.display()),
            "--format",
            &format!("junit={}", junit.display()),
        ],
        repo(),
        &[],
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("5 errors, 2 warnings, 7 notes"));
    assert!(
        std::fs::read_to_string(&sarif)
            .unwrap()
            .contains("\"version\": \"2.1.0\"")
    );
    assert!(
        std::fs::read_to_string(&junit)
            .unwrap()
            .starts_with("<?xml")
    );
}

/// A history with 13 non-concurrent index builds and a message full of characters that
/// workflow commands must escape.
fn many_errors(dir: &Path) {
    let versions = dir.join("migrations/versions");
    std::fs::create_dir_all(&versions).unwrap();
    std::fs::write(
        dir.join("migrations/env.py"),
        "from alembic import context\n",
    )
    .unwrap();
    for i in 0..13 {
        let parent = if i == 0 {
            "None".to_string()
        } else {
            format!("\"r{}\"", i - 1)
        };
        std::fs::write(
            versions.join(format!("r{i}.py")),
            format!(
                "from alembic import op\nrevision = \"r{i}\"\ndown_revision = {parent}\n\ndef upgrade():\n    op.create_index(\"ix_{i}\", \"users\", [\"c{i}\"])\n\ndef downgrade():\n    op.drop_index(\"ix_{i}\", postgresql_concurrently=True)\n"
            ),
        )
        .unwrap();
    }
}

#[test]
fn github_annotations_escape_and_stop_at_ten_per_type() {
    let dir = tempfile::tempdir().unwrap();
    many_errors(dir.path());
    let output = run_with(
        &[
            "check",
            "migrations",
            "--format",
            "github",
            "--select",
            "create-index-non-concurrently,prefer-bigint-primary-key",
        ],
        dir.path(),
        &[],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let errors: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(errors.len(), 10, "{stdout}");
    assert!(
        stdout
            .lines()
            .last()
            .unwrap()
            .contains("3 more errors not shown as annotations"),
        "{stdout}"
    );
    let first = errors[0];
    assert!(
        first.contains("title=migration-gate%3A create-index-non-concurrently"),
        "{first}"
    );
    assert!(first.contains(",line=6,col=5,"), "{first}");
    // The message's line break (before help) is escaped, so one finding is one line.
    assert!(first.contains("%0Ahelp: "), "{first}");

    use migration_gate::report::github::{escape_data, escape_property};
    assert_eq!(escape_data("100% done\r\nnext"), "100%25 done%0D%0Anext");
    assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
}

#[test]
fn in_github_actions_text_output_also_annotates_and_writes_the_step_summary() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "# earlier step\n").unwrap();
    let output = run_with(
        &["check", "migrations"],
        repo(),
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "acme/levies"),
            ("GITHUB_SHA", "0123abcd"),
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("error[create-index-non-concurrently]"),
        "text output still there"
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("::error ")).count(),
        5
    );
    let written = std::fs::read_to_string(&summary).unwrap();
    assert!(
        written.starts_with("# earlier step\n"),
        "appended, not replaced"
    );
    assert!(written.contains("### ❌ migration-gate · Lint: "));
    assert!(written.contains("5 errors, 2 warnings, 7 notes"));
    assert!(written.contains("(https://github.com/acme/levies/blob/0123abcd/migrations/versions/5e6f7a8b9c0d_index_levies_by_status.py#L21)"), "{written}");

    // A summary that is nearly full is not pushed past GitHub's 1 MiB limit.
    std::fs::write(&summary, "x".repeat(1024 * 1024 - 1500)).unwrap();
    run_with(
        &["check", "migrations"],
        repo(),
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
    );
    assert!(std::fs::metadata(&summary).unwrap().len() <= 1024 * 1024);
    std::fs::write(&summary, "x".repeat(1024 * 1024 - 8000)).unwrap();
    run_with(
        &["check", "migrations"],
        repo(),
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
    );
    let size = std::fs::metadata(&summary).unwrap().len();
    assert!(size <= 1024 * 1024 && size > 1024 * 1024 - 8000, "{size}");
}

#[test]
fn junit_is_well_formed_with_a_case_per_revision() {
    let output = run_with(&["check", "migrations", "--format", "junit"], repo(), &[]);
    let xml = String::from_utf8(output.stdout).unwrap();
    let document = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let cases: Vec<_> = document
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 11);
    let failed: Vec<&str> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .map(|c| c.attribute("name").unwrap())
        .collect();
    assert_eq!(failed.len(), 5, "{failed:?}");
    let root = document.root_element();
    assert_eq!(root.attribute("tests"), Some("11"));
    assert_eq!(root.attribute("failures"), Some("5"));
}

#[test]
fn comment_creates_then_updates_its_own_comment_and_skips_forks() {
    let server = fake_github();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.md");
    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        r#"{"pull_request": {"number": 7, "head": {"repo": {"full_name": "acme/levies"}}, "base": {"repo": {"full_name": "acme/levies"}}}}"#,
    )
    .unwrap();
    let env = [
        ("GITHUB_API_URL", server.url.as_str()),
        ("GITHUB_TOKEN", "t0ken"),
        ("GITHUB_REPOSITORY", "acme/levies"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
    ];
    run_with(
        &[
            "check",
            "migrations",
            "--format",
            &format!("markdown={}", report.display()),
        ],
        repo(),
        &[],
    );

    let first = run_with(
        &["comment", "--file", report.to_str().unwrap()],
        repo(),
        &env,
    );
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    assert!(String::from_utf8_lossy(&first.stdout).contains("created the report comment"));
    let second = run_with(
        &["comment", "--file", report.to_str().unwrap()],
        repo(),
        &env,
    );
    assert!(
        String::from_utf8_lossy(&second.stdout).contains("updated the report comment"),
        "{second:?}"
    );

    let requests = server.requests.lock().unwrap().clone();
    let summary: Vec<(String, String)> = requests
        .iter()
        .map(|(m, t, _)| (m.clone(), t.split('?').next().unwrap().to_string()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("GET".into(), "/repos/acme/levies/issues/7/comments".into()),
            ("GET".into(), "/repos/acme/levies/issues/7/comments".into()),
            ("POST".into(), "/repos/acme/levies/issues/7/comments".into()),
            ("GET".into(), "/repos/acme/levies/issues/7/comments".into()),
            ("GET".into(), "/repos/acme/levies/issues/7/comments".into()),
            (
                "PATCH".into(),
                "/repos/acme/levies/issues/comments/100".into()
            ),
        ]
    );
    assert!(requests[2].2.contains("<!-- migration-gate report -->"));

    std::fs::write(
        &event,
        r#"{"pull_request": {"number": 7, "head": {"repo": {"full_name": "someone/levies"}}, "base": {"repo": {"full_name": "acme/levies"}}}}"#,
    )
    .unwrap();
    let fork = run_with(
        &["comment", "--file", report.to_str().unwrap()],
        repo(),
        &env,
    );
    assert_eq!(fork.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&fork.stdout);
    assert!(
        stdout.starts_with("::warning") && stdout.contains("fork someone/levies"),
        "{stdout}"
    );
    assert_eq!(
        server.requests.lock().unwrap().len(),
        6,
        "a fork gets no API calls"
    );
}

fn sarif_of(dir: &Path) -> serde_json::Value {
    let output = run_with(&["check", "migrations", "--format", "sarif"], dir, &[]);
    serde_json::from_slice(&output.stdout).unwrap()
}

/// What code scanning needs beyond the schema: alerts that survive lines moving, a category
/// per command, help pinned to the release, a sentence before the help, no empty regions.
#[test]
fn sarif_follows_code_scanning_rules() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_sample(dir.path());
    let before = sarif_of(dir.path());
    let run = &before["runs"][0];
    assert_eq!(run["automationDetails"]["id"], "migration-gate-check/");
    for rule in run["tool"]["driver"]["rules"].as_array().unwrap() {
        let uri = rule["helpUri"].as_str().unwrap();
        assert!(
            uri.contains(&format!("/blob/v{}/rules/", env!("CARGO_PKG_VERSION"))),
            "{uri}"
        );
    }
    let fingerprints = |sarif: &serde_json::Value| -> Vec<String> {
        sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["migrationGate/v1"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    for result in run["results"].as_array().unwrap() {
        let text = result["message"]["text"].as_str().unwrap();
        let first = text.split(" Help: ").next().unwrap();
        assert!(first.ends_with('.'), "{text}");
        let region = &result["locations"][0]["physicalLocation"]["region"];
        let same_line = region["endLine"] == region["startLine"];
        assert!(
            !same_line || region["endColumn"].as_u64() > region["startColumn"].as_u64(),
            "an empty region: {region}"
        );
    }
    let mut unique = fingerprints(&before);
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        fingerprints(&before).len(),
        "fingerprints are unique"
    );

    // Ten lines added at the top of every revision: lines move, fingerprints do not.
    for entry in std::fs::read_dir(dir.path().join("migrations/versions")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{}{text}", "# moved\n".repeat(10))).unwrap();
    }
    let after = sarif_of(dir.path());
    assert_ne!(
        before["runs"][0]["results"][0]["locations"],
        after["runs"][0]["results"][0]["locations"]
    );
    let (mut a, mut b) = (fingerprints(&before), fingerprints(&after));
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

/// The pull-request report as reviewers read it (rendered and looked at with
/// scripts/render-report.sh; the text is kept here).
#[test]
fn markdown_report_snapshots() {
    let lint = run_with(
        &["check", "migrations", "--format", "markdown"],
        repo(),
        &[],
    );
    insta::assert_snapshot!(
        "markdown_lint_sample",
        String::from_utf8_lossy(&lint.stdout)
    );

    let clean = run_with(
        &[
            "check",
            "migrations",
            "--select",
            "multiple-heads",
            "--format",
            "markdown",
        ],
        repo(),
        &[],
    );
    let clean = String::from_utf8_lossy(&clean.stdout).to_string();
    assert_eq!(
        clean.trim_end().lines().filter(|l| !l.is_empty()).count(),
        2,
        "{clean}"
    );
    insta::assert_snapshot!("markdown_clean_run", clean);

    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.md");
    let failed = run_with(
        &[
            "check",
            "migrations",
            "--config",
            "no-such-config.toml",
            "--format",
            &format!("markdown={}", report.display()),
        ],
        repo(),
        &[],
    );
    assert_eq!(failed.status.code(), Some(2));
    insta::assert_snapshot!(
        "markdown_stopped_run",
        std::fs::read_to_string(&report).unwrap()
    );
}

#[test]
fn two_machine_formats_on_stdout_are_a_usage_error() {
    let output = run_with(
        &[
            "check",
            "migrations",
            "--format",
            "json",
            "--format",
            "sarif",
        ],
        repo(),
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--format sarif=report.sarif"), "{stderr}");
}

#[test]
fn fixable_findings_become_review_suggestions_updated_in_place_and_removed_once_fixed() {
    let server = fake_github();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    common::copy_tree(&repo().join("fixtures/fixes/alembic"), &project);
    common::git(&project, &["init", "-q"]);
    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        r#"{"pull_request": {"number": 7, "head": {"sha": "abc123", "repo": {"full_name": "acme/levies"}}, "base": {"repo": {"full_name": "acme/levies"}}}}"#,
    )
    .unwrap();
    let env = [
        ("GITHUB_API_URL", server.url.as_str()),
        ("GITHUB_TOKEN", "t0ken"),
        ("GITHUB_REPOSITORY", "acme/levies"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
    ];
    let lint = |project: &Path| {
        run_with(
            &[
                "check",
                ".",
                "--format",
                "json=lint.json",
                "--format",
                "markdown=lint.md",
            ],
            project,
            &[],
        );
    };
    let comment = |project: &Path| {
        let output = run_with(
            &["comment", "--file", "lint.md", "--suggestions", "lint.json"],
            project,
            &env,
        );
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    lint(&project);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(project.join("lint.json")).unwrap()).unwrap();
    let fixable = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["fix"]["lines"].is_object())
        .count();
    assert!(fixable >= 10, "{fixable}");
    let posted = fixable.min(20);

    let first = comment(&project);
    assert!(
        first.contains(&format!(
            "suggestions: {posted} posted, 0 updated, 0 unchanged, 0 removed"
        )),
        "{first}"
    );
    let requests = server.requests.lock().unwrap().clone();
    let suggestion = requests
        .iter()
        .filter(|(method, target, _)| method == "POST" && target.ends_with("/pulls/7/comments"))
        .map(|(_, _, body)| serde_json::from_str::<serde_json::Value>(body).unwrap())
        .find(|body| {
            body["body"]
                .as_str()
                .unwrap()
                .contains("[add-foreign-key-without-not-valid]")
        })
        .expect("the foreign key's suggestion was posted");
    assert_eq!(suggestion["commit_id"], "abc123");
    assert_eq!(suggestion["path"], "versions/f3_constraints.py");
    assert_eq!(suggestion["line"], 9);
    assert!(
        suggestion.get("start_line").is_none(),
        "one line replaced: {suggestion}"
    );
    assert_eq!(suggestion["side"], "RIGHT");
    let body = suggestion["body"].as_str().unwrap();
    assert!(
        body.contains("```suggestion\n    op.create_foreign_key(\n        \"fk_invoices_account\",\n        \"invoices\",\n        \"accounts\",\n        [\"account_id\"],\n        [\"id\"],\n        postgresql_not_valid=True,\n    )\n    with op.get_context().autocommit_block():\n"),
        "{body}"
    );

    let spanning = requests
        .iter()
        .filter(|(method, _, _)| method == "POST")
        .map(|(_, _, body)| serde_json::from_str::<serde_json::Value>(body).unwrap())
        .find(|body| {
            body["path"] == "versions/f2_indexes.py"
                && body["body"]
                    .as_str()
                    .unwrap()
                    .contains("[missing-lock-timeout]")
        })
        .expect("the lock_timeout suggestion was posted");
    assert_eq!(
        (
            &spanning["start_line"],
            &spanning["line"],
            &spanning["start_side"]
        ),
        (
            &serde_json::json!(11),
            &serde_json::json!(25),
            &serde_json::json!("RIGHT")
        )
    );

    let second = comment(&project);
    assert!(
        second.contains(&format!(
            "suggestions: 0 posted, 0 updated, {posted} unchanged, 0 removed"
        )),
        "{second}"
    );

    // The author applies them: the findings are gone, and so are the suggestions (not the
    // other reviewer's comment).
    run_with(&["check", ".", "--fix", "--unsafe-fixes"], &project, &[]);
    lint(&project);
    let third = comment(&project);
    assert!(
        third.contains(&format!(
            "suggestions: 0 posted, 0 updated, 0 unchanged, {posted} removed"
        )),
        "{third}"
    );
    let requests = server.requests.lock().unwrap().clone();
    assert!(
        !requests
            .iter()
            .any(|(method, target, _)| method == "DELETE" && target.ends_with("/comments/9")),
        "another reviewer's comment was deleted"
    );
}
