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
