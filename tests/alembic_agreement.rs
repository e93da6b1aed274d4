//! The revision graph we read statically agrees with real Alembic's on the sample project.

use std::path::{Path, PathBuf};
use std::process::Command;

use migration_gate::lint::{LintOptions, lint};
use migration_gate::model::graph::RevisionGraph;

/// The test venv's Python (scripts/test.sh sets it). Skips loudly on a developer machine
/// without it; fails under CI, where it must be there.
fn test_python() -> Option<PathBuf> {
    match std::env::var_os("MIGRATION_GATE_TEST_PYTHON") {
        Some(python) => Some(PathBuf::from(python)),
        None if std::env::var_os("CI").is_some() => {
            panic!(
                "CI is set but MIGRATION_GATE_TEST_PYTHON is not: run the tests through scripts/test.sh"
            )
        }
        None => {
            eprintln!(
                "SKIPPED: MIGRATION_GATE_TEST_PYTHON is not set; run scripts/test.sh to compare with real Alembic"
            );
            None
        }
    }
}

#[test]
fn heads_and_history_match_alembic_on_the_sample() {
    let Some(python) = test_python() else { return };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = r#"
import sys
from alembic.config import Config
from alembic.script import ScriptDirectory
config = Config(sys.argv[1])
script = ScriptDirectory.from_config(config)
print("heads", " ".join(sorted(script.get_heads())))
print("bases", " ".join(sorted(script.get_bases())))
print("count", len(list(script.walk_revisions())))
"#;
    let output = Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(repo.join("migrations/alembic.ini"))
        .current_dir(repo.join("migrations"))
        .output()
        .expect("the test Python runs");
    assert!(
        output.status.success(),
        "alembic failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let alembic = String::from_utf8_lossy(&output.stdout).to_string();

    let outcome = lint(&LintOptions {
        paths: vec![repo.join("migrations")],
        ..LintOptions::default()
    })
    .unwrap();
    let set = &outcome.sets[0];
    let graph = RevisionGraph::build(set);
    let mut heads = graph.heads.clone();
    heads.sort();
    let mut bases = graph.bases.clone();
    bases.sort();
    let ours = format!(
        "heads {}\nbases {}\ncount {}\n",
        heads.join(" "),
        bases.join(" "),
        graph.index.len()
    );
    assert_eq!(ours, alembic);
}

/// A long history in the shapes real projects have: a `core` branch with a fork and a merge
/// every few revisions, ids that are not hex, file names that do not contain the id, and a
/// second history labelled `reporting` whose revisions depend on core revisions.
fn generate_history(dir: &Path) -> usize {
    let versions = dir.join("versions");
    std::fs::create_dir_all(&versions).unwrap();
    std::fs::write(dir.join("alembic.ini"), "[alembic]\nscript_location = .\n").unwrap();
    std::fs::write(dir.join("env.py"), "from alembic import context\n").unwrap();
    let mut files = 0;
    let mut write = |name: String, id: &str, parents: &str, extra: &str| {
        let body = format!(
            "\"\"\"{name}\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = \"{id}\"\ndown_revision = {parents}\n{extra}\n\ndef upgrade():\n    op.add_column(\"t\", sa.Column(\"c_{n}\", sa.Text()))\n\n\ndef downgrade():\n    op.drop_column(\"t\", \"c_{n}\")\n",
            n = id.replace('-', "_")
        );
        std::fs::write(versions.join(format!("{name}.py")), body).unwrap();
        files += 1;
    };
    write(
        "0000_core_base".into(),
        "c0000",
        "None",
        "branch_labels = (\"core\",)",
    );
    let mut head = "c0000".to_string();
    let mut step = 0;
    for fork in 0..34 {
        for _ in 0..5 {
            step += 1;
            let id = if step % 3 == 0 {
                format!("core_step_{step}")
            } else {
                format!("{:012x}", 0xa1b2c3d4e5u64 + step as u64 * 7919)
            };
            write(format!("{step:04}_step"), &id, &format!("{head:?}"), "");
            head = id;
        }
        let left = format!("fork{fork}_left");
        let right = format!("fork{fork}_right");
        write(format!("f{fork:03}_a"), &left, &format!("{head:?}"), "");
        write(format!("f{fork:03}_b"), &right, &format!("{head:?}"), "");
        let merge = format!("merge_{fork:02}");
        write(
            format!("m{fork:03}_merge"),
            &merge,
            &format!("({left:?}, {right:?})"),
            "",
        );
        head = merge;
    }
    let mut reporting = "r0".to_string();
    write(
        "r000_reporting_base".into(),
        "r0",
        "None",
        "branch_labels = (\"reporting\",)\ndepends_on = \"c0000\"",
    );
    for i in 1..30 {
        let id = format!("r{i}");
        let extra = if i % 10 == 0 {
            format!("depends_on = \"merge_{:02}\"", i)
        } else {
            String::new()
        };
        write(
            format!("r{i:03}_report"),
            &id,
            &format!("{reporting:?}"),
            &extra,
        );
        reporting = id;
    }
    files
}

fn alembic_cli(python: &Path, dir: &Path, command: &str) -> String {
    let output = Command::new(python)
        .args(["-m", "alembic", "-c", "alembic.ini", command])
        .current_dir(dir)
        .output()
        .expect("the test Python runs");
    assert!(
        output.status.success(),
        "alembic {command}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).to_string()
}

fn first_words(text: &str, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let mut words: Vec<String> = text
        .lines()
        .filter(|l| keep(l))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    words.sort();
    words
}

fn ours(dir: &Path, args: &[&str]) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_migration-gate"))
        .args(args)
        .arg(dir)
        .output()
        .unwrap();
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn sorted(value: &serde_json::Value) -> Vec<String> {
    let mut list: Vec<String> = value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    list.sort();
    list
}

#[test]
fn graph_and_graph_rules_match_alembic_on_a_long_branchy_history() {
    let Some(python) = test_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let files = generate_history(dir);
    assert!(files >= 300, "{files} revisions");

    let heads = first_words(&alembic_cli(&python, dir, "heads"), |_| true);
    let branch_points = first_words(&alembic_cli(&python, dir, "branches"), |l| {
        !l.starts_with(' ') && !l.trim().is_empty()
    });
    let mut merges: Vec<String> = alembic_cli(&python, dir, "history")
        .lines()
        .filter(|l| l.contains("(mergepoint)"))
        .filter_map(|l| l.split("-> ").nth(1)?.split_whitespace().next())
        .map(str::to_string)
        .collect();
    merges.sort();

    let graph = ours(dir, &["graph", "--format", "json"]);
    let set = &graph["sets"][0];
    assert_eq!(set["revisions"], files);
    assert_eq!(sorted(&set["heads"]), heads);
    assert_eq!(sorted(&set["branch_points"]), branch_points);
    assert_eq!(sorted(&set["merge_points"]), merges);
    assert!(merges.len() >= 30, "{} merges", merges.len());
    assert_eq!(heads.len(), 2, "one head per label: {heads:?}");

    let graph_rules = "multiple-heads,missing-parent-revision,duplicate-revision-id,revision-cycle,invalid-revision-id";
    let check = ours(dir, &["check", "--format", "json", "--select", graph_rules]);
    assert_eq!(check["diagnostics"], serde_json::json!([]), "{check:#}");

    // Two pull requests both merged a revision on the same parent: a second core head.
    std::fs::remove_file(dir.join("versions/m033_merge.py")).unwrap();
    let heads = first_words(&alembic_cli(&python, dir, "heads"), |_| true);
    assert_eq!(heads.len(), 3);
    let graph = ours(dir, &["graph", "--format", "json"]);
    assert_eq!(sorted(&graph["sets"][0]["heads"]), heads);
    let check = ours(dir, &["check", "--format", "json", "--select", graph_rules]);
    let mut flagged: Vec<String> = check["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            assert_eq!(d["rule"], "multiple-heads");
            d["revision"].as_str().unwrap().to_string()
        })
        .collect();
    flagged.sort();
    assert_eq!(flagged, vec!["fork33_left", "fork33_right", "r29"]);
}
