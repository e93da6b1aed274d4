//! `pip install migration-gate`: the maturin wheel installs a working binary into a fresh venv.

use std::path::Path;
use std::process::Command;

#[test]
fn the_wheel_installs_a_working_binary() {
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
        .current_dir(repo)
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
}
