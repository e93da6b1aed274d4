//! Input built to hurt: links out of the tree, unreadable folders, broken config paths, deep
//! nesting, megabyte lines, sparse giants, and a few thousand mutated fixtures. Each ends in a
//! finding or a clear error, never a panic, an abort or a file read from outside the tree.

use std::path::Path;
use std::process::{Command, Output};

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migration-gate"));
    command.env_remove("GITHUB_ACTIONS");
    command
}

fn check(args: &[&str], cwd: &Path) -> Output {
    binary()
        .arg("check")
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the binary runs")
}

fn report(output: &Output) -> serde_json::Value {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("overflow"),
        "{stderr}"
    );
    assert!(
        matches!(output.status.code(), Some(0..=2)),
        "exit {:?}: {stderr}",
        output.status
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// (rule, file name, message) of every finding.
fn findings(document: &serde_json::Value) -> Vec<(String, String, String)> {
    document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let path = d["path"].as_str().unwrap_or_default();
            (
                d["rule"].as_str().unwrap().to_string(),
                path.rsplit('/').next().unwrap_or_default().to_string(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn write(path: &Path, text: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn revision(id: &str, parent: Option<&str>, upgrade: &str) -> String {
    let parent = parent.map_or("None".to_string(), |p| format!("'{p}'"));
    format!(
        "from alembic import op\n\nrevision = '{id}'\ndown_revision = {parent}\n\n\ndef upgrade():\n    {upgrade}\n\n\ndef downgrade():\n    pass\n"
    )
}

#[test]
fn links_leaving_the_tree_are_not_read_and_loops_are_reported() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("credentials.py");
    write(&secret, "PASSWORD = 'hunter2-outside-the-tree'\n");
    let project = tempfile::tempdir().unwrap();
    let versions = project.path().join("versions");
    write(&versions.join("0001_a.py"), revision("a1", None, "pass"));
    write(
        &project.path().join("shared/0002_b.py"),
        revision("b2", Some("a1"), "op.create_index('ix', 't', ['c'])"),
    );
    let link = |target: &Path, name: &str| {
        std::os::unix::fs::symlink(target, versions.join(name)).unwrap();
    };
    link(&secret, "0003_secret.py");
    link(&project.path().join("shared/0002_b.py"), "0002_b.py");
    link(&versions, "loop");
    link(Path::new("/nonexistent/target.sql"), "0004_gone.py");

    let output = check(&["versions", "--format", "json"], project.path());
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let found = findings(&report(&output));
    assert!(!stdout.contains("hunter2"), "{stdout}");
    let note = |name: &str, words: &str| {
        found.iter().any(|(rule, file, message)| {
            rule == "skipped-link" && file == name && message.contains(words)
        })
    };
    assert!(
        note("0003_secret.py", "outside the checked folder"),
        "{found:#?}"
    );
    assert!(note("loop", "a loop"), "{found:#?}");
    assert!(note("0004_gone.py", "to nothing"), "{found:#?}");
    // A link that stays inside the checked folder is read like any file: `shared/` is inside
    // the project, so checking the project reads it through the link.
    let output = check(&[".", "--format", "json"], project.path());
    let found = findings(&report(&output));
    assert!(
        found
            .iter()
            .any(|(rule, file, _)| rule == "create-index-non-concurrently" && file == "0002_b.py"),
        "{found:#?}"
    );
    // Notes about links do not make the run incomplete.
    assert_ne!(output.status.code(), Some(2));
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn an_unreadable_folder_is_an_error_not_an_empty_project() {
    let project = tempfile::tempdir().unwrap();
    let versions = project.path().join("versions");
    write(&versions.join("0001_a.py"), revision("a1", None, "pass"));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(project.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&versions, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads every folder: the check runs as an unprivileged user instead.
    let mut command = if running_as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "nobody", "--", env!("CARGO_BIN_EXE_migration-gate")]);
        c
    } else {
        binary()
    };
    let output = command
        .args(["check", ".", "--format", "json"])
        .current_dir(project.path())
        .output()
        .expect("the binary runs");
    std::fs::set_permissions(&versions, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let found = findings(&report(&output));
    assert!(
        found
            .iter()
            .any(|(rule, file, message)| rule == "unreadable-file"
                && file == "versions"
                && message.contains("ermission denied")),
        "{found:#?}"
    );
}

#[test]
fn config_paths_that_are_folders_or_dangling_links_are_errors() {
    let project = tempfile::tempdir().unwrap();
    write(&project.path().join("sql/001_a.sql"), "SELECT 1;\n");
    let config = project.path().join("migration-gate.toml");
    std::fs::create_dir(&config).unwrap();
    let output = check(&["sql"], project.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is a folder"));
    std::fs::remove_dir(&config).unwrap();
    std::os::unix::fs::symlink("/nonexistent/migration-gate.toml", &config).unwrap();
    let output = check(&["sql"], project.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not exist"));
    let output = check(&["sql", "--config", "sql"], project.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is a folder"));
}

#[test]
fn a_file_that_is_not_a_migration_is_refused_by_name() {
    let project = tempfile::tempdir().unwrap();
    write(&project.path().join("hostname"), "box-17\n");
    let output = check(&["hostname"], project.path());
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a migration file"), "{stderr}");
    assert!(!stderr.contains("box-17"), "{stderr}");
}

#[test]
fn hostile_sizes_and_nesting_end_in_findings() {
    let project = tempfile::tempdir().unwrap();
    let root = project.path();
    write(
        &root.join("deep/versions/0001_unary.py"),
        revision("u1", None, &format!("x = {}1", "-".repeat(1_100_000))),
    );
    write(
        &root.join("sql/V1__one_long_line.sql"),
        format!("ALTER TABLE t {};\n", "@".repeat(1_000_000)),
    );
    write(
        &root.join("sql/V2__nested.sql"),
        format!("SELECT {}1{};\n", "(".repeat(200_000), ")".repeat(200_000)),
    );
    let sparse = root.join("sparse/V1__sparse.sql");
    std::fs::create_dir_all(sparse.parent().unwrap()).unwrap();
    std::fs::File::create(&sparse)
        .unwrap()
        .set_len(4 * 1024 * 1024 * 1024)
        .unwrap();
    let output = check(&[".", "--format", "json"], root);
    assert_eq!(output.status.code(), Some(2));
    let found = findings(&report(&output));
    let has = |rule: &str, name: &str, words: &str| {
        found
            .iter()
            .any(|(r, file, message)| r == rule && file == name && message.contains(words))
    };
    assert!(
        has("unreadable-file", "0001_unary.py", "nests more than"),
        "{found:#?}"
    );
    assert!(
        has("unreadable-file", "V1__sparse.sql", "4096.0 MiB"),
        "{found:#?}"
    );
    assert!(
        has("unparsed-sql", "V1__one_long_line.sql", ""),
        "{found:#?}"
    );
    assert!(has("unparsed-sql", "V2__nested.sql", ""), "{found:#?}");
}

/// A small seeded generator: the same mutants on every run, so a failure reproduces.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(original: &[u8], rng: &mut Seeded) -> Vec<u8> {
    let mut bytes = original.to_vec();
    let at = rng.below(bytes.len() + 1);
    match rng.below(8) {
        0 => bytes.truncate(at),
        1 => {
            for _ in 0..=rng.below(8) {
                let i = rng.below(bytes.len());
                if let Some(b) = bytes.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
        }
        2 => {
            let depth = 1 + rng.below(3000);
            let (open, close) = [("(", ")"), ("[", "]"), ("-", ""), ("not ", "")][rng.below(4)];
            let nested = format!("{}1{}", open.repeat(depth), close.repeat(depth));
            bytes.splice(at..at, nested.into_bytes());
        }
        3 => bytes.insert(at, 0),
        4 => {
            bytes.splice(at..at, [0xff, 0xfe, 0xc3]);
        }
        5 => {
            bytes = String::from_utf8_lossy(&bytes)
                .replace('\n', "\r\n")
                .into_bytes()
        }
        6 => {
            bytes.splice(0..0, [0xef, 0xbb, 0xbf]);
        }
        _ => {
            let from = rng.below(bytes.len());
            let piece: Vec<u8> = bytes[from..].iter().take(200).copied().collect();
            bytes.splice(at..at, piece);
        }
    }
    bytes
}

#[test]
fn thousands_of_mutated_fixtures_never_panic_and_always_give_json() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules");
    let originals: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(&fixtures)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter(|e| {
            e.path()
                .extension()
                .is_some_and(|x| x == "py" || x == "sql")
        })
        .map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect();
    assert!(originals.len() > 50, "fixtures found: {}", originals.len());
    let mut rng = Seeded(0x5eed_1234_abcd_0001);
    let workspace = tempfile::tempdir().unwrap();
    const MUTANTS: usize = 3000;
    // Batches of mutants share a folder (a set), so that graph rules see broken neighbours too.
    for i in 0..MUTANTS {
        let (name, original) = &originals[rng.below(originals.len())];
        let mutant = mutate(original, &mut rng);
        let folder = if name.ends_with(".py") {
            "versions"
        } else {
            "sql"
        };
        let path = workspace
            .path()
            .join(format!("batch{:02}/{folder}/m{i:04}_{name}", i % 30));
        write(&path, mutant);
    }
    let output = check(&[".", "--format", "json"], workspace.path());
    let document = report(&output);
    let checked = document["summary"]["files"]
        .as_u64()
        .expect("summary.files in the report");
    assert!(checked as usize >= MUTANTS / 2, "files checked: {checked}");
    eprintln!(
        "{MUTANTS} mutants, {checked} files in the report: {}",
        document["summary"]
    );
}
