//! How the Action gets its binary when the ref it runs has no release: no archive answers and no
//! wheel installs, so it builds this ref's source with the runner's cargo (and says so, so that
//! action.yml keeps the build in the cache); `version: source` builds it straight away.
//! cargo and python3 are stand-ins here that record how they were called: what is under test is
//! the script's order of fallbacks and the build it asks for, not cargo.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A folder of stand-ins: `cargo` puts the test's binary where a release build would, `python3`
/// has no pip to offer.
fn stand_ins(dir: &Path) {
    let cargo = format!(
        "#!/bin/sh\necho \"$@\" >> \"{calls}\"\nwhile [ $# -gt 0 ]; do [ \"$1\" = --target-dir ] && target=\"$2\"; shift; done\nmkdir -p \"$target/release\" && cp \"{binary}\" \"$target/release/migration-gate\"\n",
        calls = dir.join("cargo-calls").display(),
        binary = env!("CARGO_BIN_EXE_migration-gate"),
    );
    std::fs::write(dir.join("cargo"), cargo).unwrap();
    std::fs::write(dir.join("python3"), "#!/bin/sh\nexit 1\n").unwrap();
    for tool in ["cargo", "python3"] {
        Command::new("chmod")
            .arg("+x")
            .arg(dir.join(tool))
            .status()
            .unwrap();
    }
}

fn action(dir: &Path, version: &str) -> Output {
    let runner_temp = dir.join("runner");
    std::fs::create_dir_all(&runner_temp).unwrap();
    // The workspace is a copy of the sample: the reports the action writes stay out of the repo.
    let workspace = dir.join("workspace");
    common::copy_sample(&workspace);
    Command::new("bash")
        .arg(repo().join("scripts/action.sh"))
        .current_dir(&workspace)
        .env_clear()
        .env(
            "PATH",
            format!("{}:{}", dir.display(), std::env::var("PATH").unwrap()),
        )
        .env("HOME", dir)
        .env("RUNNER_TEMP", &runner_temp)
        .env("GITHUB_OUTPUT", runner_temp.join("output.txt"))
        .env("GITHUB_ACTION_PATH", repo())
        .env("MIGRATION_GATE_BUILD_DIR", dir.join("build"))
        // Nothing answers here: no release archive to download.
        .env(
            "MIGRATION_GATE_RELEASES_URL",
            "file:///nonexistent/releases",
        )
        .env("MG_VERSION", version)
        .env("MG_PATHS", "migrations")
        .env("MG_MODE", "lint")
        .output()
        .unwrap()
}

#[test]
fn a_ref_without_a_release_is_built_from_its_source() {
    for version in ["latest", "source"] {
        let dir = tempfile::tempdir().unwrap();
        stand_ins(dir.path());
        let output = action(dir.path(), version);
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        // The sample's lint errors: the built binary ran.
        assert_eq!(output.status.code(), Some(1), "{version}: {said}");
        assert!(
            said.contains("building migration-gate from source"),
            "{said}"
        );
        let calls = std::fs::read_to_string(dir.path().join("cargo-calls")).unwrap();
        assert!(
            calls.starts_with("build --release --locked")
                && calls.contains(&format!("--manifest-path {}/Cargo.toml", repo().display())),
            "{calls}"
        );
        let outputs = std::fs::read_to_string(dir.path().join("runner/output.txt")).unwrap();
        assert!(outputs.contains("built-from-source=true"), "{outputs}");
        assert!(outputs.contains("errors=5"), "{outputs}");
    }
}
