//! The documentation a user lives in keeps up with the code: every error that stops a command is
//! explained in docs/troubleshooting.md, and every guide README links to exists.

use std::path::Path;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Errors a user never causes: a failed runtime start, a debugging check, a hidden command's
/// usage, the driver breaking its own protocol.
const INTERNAL: &[&str] = &[
    "cannot listen for signals:",
    "cannot start the async runtime:",
    "internal error: the check stopped unexpectedly",
    "a snapshot read in part differs from the whole schema",
    "unknown part `",
    "unexpected git cat-file answer:",
    "the Alembic driver said something unexpected (",
];

/// The words each error message passed to `fail(…)` or `AppError::new(…)` starts with, up to
/// its first placeholder.
fn error_heads() -> Vec<(String, String)> {
    let mut heads = Vec::new();
    for entry in walkdir::WalkDir::new(repo().join("src")) {
        let entry = entry.unwrap();
        if entry.path().extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        for opener in ["fail(", "AppError::new(", "AppError("] {
            for (at, _) in text.match_indices(opener) {
                let rest = text[at + opener.len()..].trim_start();
                let rest = rest.strip_prefix("format!(").unwrap_or(rest).trim_start();
                let Some(literal) = rest.strip_prefix('"') else {
                    continue;
                };
                let head = literal
                    .split(['{', '"', '\\'])
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .chars()
                    .take(60)
                    .collect::<String>();
                if head.len() >= 8 {
                    heads.push((head, entry.path().display().to_string()));
                }
            }
        }
    }
    heads
}

#[test]
fn every_error_that_stops_a_command_is_in_troubleshooting() {
    let doc = std::fs::read_to_string(repo().join("docs/troubleshooting.md")).unwrap();
    let heads = error_heads();
    assert!(heads.len() > 40, "the error messages were found: {heads:?}");
    let missing: Vec<&(String, String)> = heads
        .iter()
        .filter(|(head, _)| !INTERNAL.iter().any(|i| head.starts_with(i.trim_end())))
        .filter(|(head, _)| !doc.contains(head.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "not in docs/troubleshooting.md: {missing:#?}"
    );
}

#[test]
fn every_guide_the_readme_links_to_exists() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let mut linked = 0;
    for part in readme.split("](docs/").skip(1) {
        let target = part.split([')', '#']).next().unwrap();
        assert!(repo().join("docs").join(target).is_file(), "docs/{target}");
        linked += 1;
    }
    for guide in [
        "install.md",
        "configuration.md",
        "github-actions.md",
        "gitlab-ci.md",
        "pre-commit.md",
        "flask-migrate.md",
        "alembic.md",
        "sql-frameworks.md",
        "troubleshooting.md",
    ] {
        assert!(
            readme.contains(&format!("](docs/{guide})")),
            "README links docs/{guide}"
        );
    }
    assert!(linked >= 9);
}
