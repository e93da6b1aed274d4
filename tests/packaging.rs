//! What GitHub and pre-commit read before any of our code runs: action.yml, the workflows, the
//! documented example workflow and the pre-commit manifest, parsed as YAML and validated against
//! SchemaStore's `github-action` / `github-workflow` schemas (vendored in tests/data, as
//! check-jsonschema ships them), plus the pins that tie the packages to the crate's version.

use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The file as GitHub would load it: a YAML parse error names the file and the line.
fn load_yaml(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    let value: serde_norway::Value = serde_norway::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()));
    serde_json::to_value(value).unwrap()
}

fn schema(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo().join("tests/data").join(name)).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn violations(validator: &jsonschema::Validator, document: &serde_json::Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn workflows() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.push(repo().join("docs/example-workflow.yml"));
    files.sort();
    files
}

#[test]
fn action_yml_is_valid_yaml_and_a_valid_action() {
    let action = load_yaml(&repo().join("action.yml"));
    let problems = violations(&schema("schemastore-github-action.json"), &action);
    assert!(problems.is_empty(), "action.yml: {problems:#?}");
}

#[test]
fn action_inputs_reach_the_script_only_through_the_environment() {
    let action = load_yaml(&repo().join("action.yml"));
    let steps = action["runs"]["steps"].as_array().unwrap();
    let gate = steps.iter().find(|s| s["id"] == "gate").unwrap();
    let run = gate["run"].as_str().unwrap();
    assert!(
        !run.contains("${{"),
        "expressions in the script text: {run}"
    );
    let env = serde_json::to_string(&gate["env"]).unwrap();
    for (input, _) in action["inputs"].as_object().unwrap() {
        let reference = format!("inputs.{input}");
        let used = steps
            .iter()
            .any(|s| serde_json::to_string(s).unwrap().contains(&reference));
        assert!(used, "input {input} is never used");
        if input != "working-directory" && input != "upload-sarif" {
            assert!(
                env.contains(&reference),
                "input {input} is not passed to the script"
            );
        }
    }
    for output in ["sarif-file", "roundtrip-sarif-file", "findings", "errors"] {
        assert!(action["outputs"][output].is_object(), "output {output}");
    }
}

#[test]
fn workflows_are_valid_yaml_and_valid_workflows() {
    let validator = schema("schemastore-github-workflow.json");
    for file in workflows() {
        let workflow = load_yaml(&file);
        let problems = violations(&validator, &workflow);
        assert!(problems.is_empty(), "{}: {problems:#?}", file.display());
    }
}

/// Runner labels GitHub has retired: a job asking for one waits for a runner that never comes.
const RETIRED_RUNNERS: &[&str] = &[
    "macos-11",
    "macos-12",
    "macos-13",
    "ubuntu-18.04",
    "ubuntu-20.04",
    "windows-2019",
];

#[test]
fn workflows_use_no_retired_runner() {
    for file in workflows() {
        let text = serde_json::to_string(&load_yaml(&file)).unwrap();
        for label in RETIRED_RUNNERS {
            assert!(
                !text.contains(&format!("\"{label}\"")),
                "{} asks for the retired runner {label}",
                file.display()
            );
        }
    }
}

#[test]
fn the_release_publishes_every_promised_artifact() {
    let release = load_yaml(&repo().join(".github/workflows/release.yml"));
    let text = serde_json::to_string(&release).unwrap();
    for target in [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "musllinux_1_2",
    ] {
        assert!(
            text.contains(target),
            "release.yml builds nothing for {target}"
        );
    }
    let jobs = release["jobs"].as_object().unwrap();
    // Trusted publishing: an OIDC token, no stored secret.
    for job in ["pypi", "crates-io"] {
        assert_eq!(jobs[job]["permissions"]["id-token"], "write", "{job}");
    }
    assert!(text.contains("pypa/gh-action-pypi-publish"));
    assert!(text.contains("cargo publish"));
    assert!(text.contains("sha256"));
}

#[test]
fn the_pre_commit_manifest_is_valid_and_installs_the_wheel() {
    let hooks = load_yaml(&repo().join(".pre-commit-hooks.yaml"));
    let hooks = hooks.as_array().expect("a list of hooks");
    let ids: Vec<&str> = hooks.iter().map(|h| h["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["migration-gate", "migration-gate-system"]);
    for hook in hooks {
        for key in ["id", "name", "entry", "language"] {
            assert!(hook[key].is_string(), "{key} in {hook}");
        }
        let files = python_search(hook["files"].as_str().unwrap());
        assert!(files("migrations/versions/1a2b_create.py"));
        assert!(files("app/alembic/versions/1a2b_create.py"));
        assert!(files("db/migrations/001_init.up.sql"));
        assert!(!files("migrations/env.py"), "env.py is not a revision");
        assert!(!files("migrations/script.py.mako"));
        assert!(!files("app/models.py"));
    }
    assert_eq!(hooks[0]["language"], "python");
    assert_eq!(hooks[1]["language"], "system");
    // The root pyproject is what pre-commit installs: only the released wheel, pinned to us.
    let pyproject: toml::Value =
        toml::from_str(&std::fs::read_to_string(repo().join("pyproject.toml")).unwrap()).unwrap();
    let pin = format!("migration-gate=={}", env!("CARGO_PKG_VERSION"));
    assert_eq!(
        pyproject["project"]["dependencies"].as_array().unwrap()[0].as_str(),
        Some(pin.as_str())
    );
    assert_eq!(
        pyproject["project"]["version"].as_str(),
        Some(env!("CARGO_PKG_VERSION"))
    );
}

/// The manifest's `files` pattern as pre-commit applies it: Python's `re.search`.
fn python_search(pattern: &str) -> impl Fn(&str) -> bool + '_ {
    move |path: &str| {
        let python =
            std::env::var("MIGRATION_GATE_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let output = std::process::Command::new(python)
            .args([
                "-c",
                "import re, sys; sys.exit(0 if re.search(sys.argv[1], sys.argv[2]) else 1)",
                pattern,
                path,
            ])
            .status()
            .expect("python runs");
        output.success()
    }
}
