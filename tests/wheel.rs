//! The wheel and its three consumers: `pip install migration-gate` into a fresh venv, the
//! pre-commit hook (`language: python`, through pre-commit's own `try-repo`), and the action's
//! fallback install when no release archive answers.

mod common;

use std::path::Path;
use std::process::Command;

#[test]
fn the_wheel_serves_pip_pre_commit_and_the_action() {
    let python = match std::env::var("MIGRATION_GATE_TEST_PYTHON") {
        Ok(python) => python,
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!(
                "CI is set but MIGRATION_GATE_TEST_PYTHON is not: run the tests through scripts/test.sh"
            )
        }
        Err(_) => {
            eprintln!(
                "SKIPPED: MIGRATION_GATE_TEST_PYTHON is not set; run scripts/test.sh to build and install the wheel"
            );
            return;
        }
    };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let wheels = dir.path().join("wheels");
    let build = Command::new(&python)
        .args([
            "-m",
            "maturin",
            "build",
            "--profile",
            "dev",
            "--quiet",
            "--out",
        ])
        .arg(&wheels)
        .current_dir(repo.join("python"))
        .output()
        .expect("maturin runs");
    assert!(
        build.status.success(),
        "maturin build failed: {}",
        String::from_utf8_lossy(&build.stderr)
    );
    let wheel = std::fs::read_dir(&wheels)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .expect("a wheel");

    let venv = dir.path().join("venv");
    let created = Command::new(&python)
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(created.success());
    let install = Command::new(venv.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "--disable-pip-version-check",
        ])
        .arg(&wheel)
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );

    let installed = venv.join("bin/migration-gate");
    let version = Command::new(&installed).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("migration-gate {}", env!("CARGO_PKG_VERSION"))
    );
    let check = Command::new(&installed)
        .args(["check", "migrations"])
        .current_dir(repo)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&check.stdout).contains("5 errors"));

    pre_commit_hook_blocks_risky_revisions_only(&python, repo, &wheels);
    the_action_falls_back_to_the_wheel(repo, &wheels);
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// pre-commit's own `try-repo` on this repository, in a Flask-Migrate project: the hook installs
/// the wheel (no Rust toolchain), blocks a staged risky revision, and lets a commit that only
/// edits env.py through.
fn pre_commit_hook_blocks_risky_revisions_only(python: &str, repo: &Path, wheels: &Path) {
    let pre_commit = Path::new(python).with_file_name("pre-commit");
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    common::copy_sample(&project);
    git(&project, &["init", "-q"]);
    git(&project, &["add", "-A"]);
    git(&project, &["commit", "-qm", "the levy service"]);
    let try_repo = || {
        Command::new(&pre_commit)
            .arg("try-repo")
            .arg(repo)
            .arg("migration-gate")
            .current_dir(&project)
            .env("PRE_COMMIT_HOME", dir.path().join("cache"))
            .env("PIP_FIND_LINKS", wheels)
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .output()
            .unwrap()
    };

    let env_py = project.join("migrations/env.py");
    let mut text = std::fs::read_to_string(&env_py).unwrap();
    text.push_str("\n# statement_timeout comes from the deployment\n");
    std::fs::write(&env_py, text).unwrap();
    git(&project, &["add", "migrations/env.py"]);
    let started = std::time::Instant::now();
    let only_env = try_repo();
    eprintln!(
        "pre-commit: first run with the hook installed from the wheel took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        only_env.status.success(),
        "a commit that only edits env.py passes: {}{}",
        String::from_utf8_lossy(&only_env.stdout),
        String::from_utf8_lossy(&only_env.stderr)
    );
    git(&project, &["commit", "-qm", "env.py"]);

    std::fs::write(
        project.join("migrations/versions/c2d3e4f5a6b7_index_payments.py"),
        "from alembic import op\n\nrevision = 'c2d3e4f5a6b7'\ndown_revision = 'b1c2d3e4f5a6'\n\n\ndef upgrade():\n    op.create_index('ix_levies_amount', 'levies', ['amount'])\n\n\ndef downgrade():\n    op.drop_index('ix_levies_amount', table_name='levies')\n",
    )
    .unwrap();
    git(&project, &["add", "-A"]);
    let risky = try_repo();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&risky.stdout),
        String::from_utf8_lossy(&risky.stderr)
    );
    assert_eq!(risky.status.code(), Some(1), "{said}");
    assert!(said.contains("create-index-non-concurrently"), "{said}");
    assert!(said.contains("c2d3e4f5a6b7_index_payments.py:8"), "{said}");
}

/// No release archive for this version: the action installs the same version's wheel with pip.
fn the_action_falls_back_to_the_wheel(repo: &Path, wheels: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir_all(work.join("runner-temp")).unwrap();
    let output = Command::new("bash")
        .arg(repo.join("scripts/action.sh"))
        .current_dir(repo)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HOME", &work)
        .env("RUNNER_TEMP", work.join("runner-temp"))
        .env(
            "MIGRATION_GATE_RELEASES_URL",
            format!("file://{}/none", dir.path().display()),
        )
        .env("MG_VERSION", format!("v{}", env!("CARGO_PKG_VERSION")))
        .env("MG_PATHS", "migrations")
        .env("MG_SARIF_FILE", work.join("out.sarif"))
        .env("PIP_NO_INDEX", "1")
        .env("PIP_FIND_LINKS", wheels)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "installing migration-gate=={} from PyPI",
            env!("CARGO_PKG_VERSION")
        )),
        "{stderr}"
    );
    assert!(
        work.join("runner-temp/migration-gate/venv/bin/migration-gate")
            .is_file()
    );
}
