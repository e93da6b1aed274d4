//! The round trip under faults: servers that hang or refuse, passwords that must not show, runs
//! killed at random early moments that must leave nothing behind, and histories that start from
//! a schema no revision made.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::roundtrip::{everything, local_json, roundtrip, statuses};
use common::{eventually, postgres_binaries, scratch_dir, test_python as python};

/// A TCP server that accepts connections and never says a word.
fn silent_server() -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(4) {
            held.push(stream);
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    (port, handle)
}

/// A server speaking just enough of PostgreSQL's protocol to reject every password.
fn rejecting_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let read_message = |stream: &mut std::net::TcpStream| -> Option<Vec<u8>> {
                let mut length = [0u8; 4];
                stream.read_exact(&mut length).ok()?;
                let mut body = vec![0u8; (u32::from_be_bytes(length) as usize).saturating_sub(4)];
                stream.read_exact(&mut body).ok()?;
                Some(body)
            };
            let Some(first) = read_message(&mut stream) else {
                continue;
            };
            // An SSLRequest (code 80877103) is declined before the real startup message.
            if first == 80877103u32.to_be_bytes() {
                let _ = stream.write_all(b"N");
                if read_message(&mut stream).is_none() {
                    continue;
                }
            }
            let mut fields = Vec::new();
            for (code, value) in [
                (b'S', "FATAL"),
                (b'V', "FATAL"),
                (b'C', "28P01"),
                (b'M', "password authentication failed for user \"deploy\""),
            ] {
                fields.push(code);
                fields.extend_from_slice(value.as_bytes());
                fields.push(0);
            }
            fields.push(0);
            let mut message = vec![b'E'];
            message.extend_from_slice(&((fields.len() + 4) as u32).to_be_bytes());
            message.extend_from_slice(&fields);
            let _ = stream.write_all(&message);
        }
    });
    port
}

#[test]
fn a_server_that_never_answers_fails_within_the_connect_timeout() {
    let tmp = tempfile::tempdir().unwrap();
    let (port, _server) = silent_server();
    let url = format!("postgresql://deploy:hung-pw-4471@127.0.0.1:{port}/app");
    let started = Instant::now();
    let output = roundtrip(
        &[
            "fixtures/roundtrip/golang",
            "--postgres",
            "url",
            "--database-url",
            &url,
            "--connect-timeout",
            "2",
        ],
        tmp.path(),
    )
    .output()
    .unwrap();
    let took = started.elapsed();
    let said = everything(&output);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(said.contains("no answer within 2 s"), "{said}");
    assert!(!said.contains("hung-pw-4471"), "{said}");
    // Not hung: well under the 60 s a default would have allowed a retrying loop.
    assert!(took < Duration::from_secs(30), "took {took:?}");
}

#[test]
fn a_rejected_password_fails_at_once_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let port = rejecting_server();
    let url = format!("postgresql://deploy:wrong-pw-8812@127.0.0.1:{port}/app");
    let started = Instant::now();
    let output = roundtrip(
        &[
            "fixtures/roundtrip/golang",
            "--postgres",
            "url",
            "--database-url",
            &url,
            "--connect-timeout",
            "60",
        ],
        tmp.path(),
    )
    .output()
    .unwrap();
    let said = everything(&output);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(said.contains("refuses the connection"), "{said}");
    assert!(said.contains("password authentication failed"), "{said}");
    assert!(!said.contains("wrong-pw-8812"), "{said}");
    // No retrying until the 60 s connect timeout: the server's answer is final.
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn passwords_never_reach_any_output_format_or_error_path() {
    let tmp = tempfile::tempdir().unwrap();
    let (port, _server) = silent_server();
    let urls = [
        format!("postgresql://deploy:pw-1-secret@127.0.0.1:{port}/app"),
        format!("postgresql://deploy:pw/2?secret@127.0.0.1:{port}/app"),
        "deploy:pw-3-secret@127.0.0.1/app".to_string(),
        format!("host=127.0.0.1 port={port} password=pw-4-secret user=deploy"),
        "host=127.0.0.1 port=notaport password='pw 5 secret'".to_string(),
        "postgres://deploy@127.0.0.1:99999/app?password=pw-6-secret".to_string(),
    ];
    for url in &urls {
        for format in ["text", "json", "sarif", "markdown", "junit", "github"] {
            let output = roundtrip(
                &[
                    "fixtures/roundtrip/golang",
                    "--postgres",
                    "url",
                    "--database-url",
                    url,
                    "--connect-timeout",
                    "1",
                    "--format",
                    format,
                ],
                tmp.path(),
            )
            .output()
            .unwrap();
            let said = everything(&output);
            assert_eq!(output.status.code(), Some(2), "{url} {format}: {said}");
            assert!(!said.contains("secret"), "{url} {format}: {said}");
        }
    }
}

fn command_lines() -> Vec<String> {
    std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
                .map(|bytes| String::from_utf8_lossy(&bytes).replace('\0', " "))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_password_is_on_no_command_line_while_the_driver_runs() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let cluster = migration_gate::roundtrip::postgres::LocalCluster::start().unwrap();
    let mut admin = cluster.conninfo();
    // The cluster trusts its socket: a password is carried along, and never asked for.
    admin.password = Some(migration_gate::roundtrip::postgres::Secret::new(
        "argv-pw-5531",
    ));
    let url = admin.url_with_password();
    let mut child = roundtrip(
        &[
            "fixtures/roundtrip/slow",
            "--postgres",
            "url",
            "--database-url",
            &url,
            "--python",
            &python,
            "--timeout",
            "20",
        ],
        tmp.path(),
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let started = Instant::now();
    let mut driver_seen = false;
    while started.elapsed() < Duration::from_secs(15) && !driver_seen {
        let lines = command_lines();
        driver_seen = lines
            .iter()
            .any(|l| l.contains("MIGRATION_GATE_DRIVER_SOURCE"));
        let leaking: Vec<&String> = lines
            .iter()
            .filter(|l| l.contains("argv-pw-5531") && !l.contains("--database-url"))
            .collect();
        assert!(leaking.is_empty(), "{leaking:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(driver_seen, "the driver never ran");
}

fn leftovers(tmp: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(tmp)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    let name = p.to_string_lossy();
                    name.contains("migration-gate-pg-") || name.contains("migration-gate-driver-")
                })
                .collect()
        })
        .unwrap_or_default()
}

fn signal(child: &std::process::Child, name: &str) {
    Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
}

#[test]
fn runs_killed_at_early_moments_leave_no_cluster_behind() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    // Early moments: before, during and after initdb and the server start, by SIGTERM (the
    // run removes what it made and says so) and by SIGKILL (the watchdog does).
    let trials = [
        ("TERM", 0),
        ("TERM", 150),
        ("KILL", 100),
        ("KILL", 300),
        ("TERM", 700),
    ];
    for (signal_name, after_ms) in trials {
        let child = roundtrip(
            &[
                "fixtures/roundtrip/slow",
                "--postgres",
                "local",
                "--python",
                &python,
            ],
            tmp.path(),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        std::thread::sleep(Duration::from_millis(after_ms));
        signal(&child, signal_name);
        let output = child.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&output.stderr).to_string();
        if signal_name == "TERM" && output.status.code() == Some(143) {
            assert!(said.contains("interrupted by SIGTERM"), "{said}");
        }
        assert!(
            eventually(Duration::from_secs(30), || leftovers(tmp.path()).is_empty()),
            "SIG{signal_name} after {after_ms} ms left {:?}\n{said}",
            leftovers(tmp.path())
        );
    }
}

/// `roundtrip FIXTURE --postgres local --format json` with the test Python, plus `extra`.
#[test]
fn a_history_that_starts_from_an_existing_schema_runs_on_a_baseline() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let run = |extra: &[&str]| {
        local_json(
            "fixtures/roundtrip/existing_schema",
            &python,
            extra,
            tmp.path(),
        )
    };
    // Without the schema it starts from, the first revision cannot apply.
    let bare = run(&[]);
    assert_eq!(bare.status.code(), Some(1), "{}", everything(&bare));
    assert_eq!(statuses(&bare)[0], ("e1".to_string(), "failed".to_string()));
    let based = run(&[
        "--baseline",
        "fixtures/roundtrip/existing_schema/baseline.sql",
    ]);
    assert_eq!(based.status.code(), Some(0), "{}", everything(&based));
    assert_eq!(
        statuses(&based),
        [
            ("e1".into(), "passed".into()),
            ("e2".into(), "passed".into())
        ]
    );
    // A baseline taken at e1 with --from e2: e1 is stamped, not applied again (it would fail:
    // the column exists).
    let stamped = run(&[
        "--baseline",
        "fixtures/roundtrip/existing_schema/baseline_at_e1.sql",
        "--from",
        "e2",
    ]);
    assert_eq!(stamped.status.code(), Some(0), "{}", everything(&stamped));
    assert_eq!(statuses(&stamped), [("e2".into(), "passed".into())]);
    // A baseline that does not apply is an error before any revision is judged.
    let broken = tmp.path().join("broken.sql");
    std::fs::write(&broken, "CREATE TABLE accounts (id bigint;\n").unwrap();
    let output = run(&["--baseline", &broken.to_string_lossy()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        everything(&output).contains("does not apply"),
        "{}",
        everything(&output)
    );
}

#[test]
fn a_merge_after_a_failure_on_a_sibling_branch_is_judged_on_both_branches() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let output = local_json(
        "fixtures/roundtrip/merge_after_failure",
        &python,
        &[],
        tmp.path(),
    );
    // Only mb's broken downgrade is a finding: the database rebuilt after it holds branch a
    // too, so the merge is not blamed for a_items (a false schema drift before).
    assert_eq!(
        statuses(&output),
        [
            ("m0".into(), "passed".into()),
            ("ma".into(), "passed".into()),
            ("mb".into(), "failed".into()),
            ("mm".into(), "passed".into())
        ],
        "{}",
        everything(&output)
    );
}

#[test]
fn a_revision_that_depends_on_another_branch_is_judged_after_what_it_depends_on() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let output = local_json("fixtures/roundtrip/branches", &python, &[], tmp.path());
    // a1 (on a second base) `depends_on` the merge b4: Alembic applies b0..b4 with it. Judged
    // before them, its upgrade applied them unseen and b0's upgrade was then blamed on env.py
    // connecting elsewhere. Merges, branch points, a second base and the downgrades that
    // delete or unmerge a head all pass through the driver's own step planning here.
    assert_eq!(output.status.code(), Some(0), "{}", everything(&output));
    let expected: Vec<(String, String)> = ["a0", "b0", "b1", "b2", "b3", "b4", "a1", "b5"]
        .iter()
        .map(|id| (id.to_string(), "passed".to_string()))
        .collect();
    assert_eq!(statuses(&output), expected, "{}", everything(&output));
}

#[test]
fn env_py_as_alembic_init_async_writes_it_runs() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let output = local_json("fixtures/roundtrip/async_env", &python, &[], tmp.path());
    assert_eq!(output.status.code(), Some(0), "{}", everything(&output));
    assert!(
        statuses(&output)
            .iter()
            .all(|(_, status)| status == "passed")
    );
    // The SQL each upgrade really sent, as SQLAlchemy rendered the op.* calls.
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let first: Vec<&str> = document["roundtrip"][0]["sql"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        first.iter().any(|s| s.starts_with("CREATE TABLE accounts")),
        "{first:?}"
    );
    assert!(
        !first.iter().any(|s| s.contains("alembic_version")),
        "{first:?}"
    );
    // A project with asyncpg and no other driver: its own async env.py, and --standalone's.
    let Some(asyncpg_only) = common::require(
        "MIGRATION_GATE_TEST_PYTHON_ASYNCPG (the asyncpg-only venv's Python)",
        std::env::var("MIGRATION_GATE_TEST_PYTHON_ASYNCPG").ok(),
    ) else {
        return;
    };
    let output = local_json(
        "fixtures/roundtrip/async_env",
        &asyncpg_only,
        &[],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", everything(&output));
    // asyncpg tells where its transactions begin and end, as libpq's drivers do.
    let output = local_json(
        "fixtures/roundtrip/captured",
        &asyncpg_only,
        &["--standalone"],
        tmp.path(),
    );
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let s5: Vec<&str> = document["roundtrip"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["revision"] == "s5")
        .unwrap()["sql"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(s5.first(), Some(&"BEGIN"), "{s5:?}");
    assert!(
        s5[s5.len() - 2] == "COMMIT" && s5[s5.len() - 1].contains("VALIDATE"),
        "{s5:?}"
    );
}

#[test]
fn a_revision_importing_the_application_under_standalone_says_what_to_do() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let output = local_json(
        "fixtures/roundtrip/import_error",
        &python,
        &["--standalone"],
        tmp.path(),
    );
    let document: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", everything(&output)));
    let help = document["diagnostics"][0]["help"]
        .as_str()
        .unwrap_or_default();
    assert!(
        help.contains("under --standalone") && help.contains("pip install -e ."),
        "{help}"
    );
}

#[test]
fn models_that_drifted_from_the_migrations_are_reported_on_the_head() {
    let (Some(python), Some(_)) = (python(), postgres_binaries()) else {
        return;
    };
    let tmp = scratch_dir();
    let report = tmp.path().join("report.md");
    let markdown = format!("markdown={}", report.display());
    let output = local_json(
        "fixtures/roundtrip/model_drift",
        &python,
        &["--format", &markdown],
        tmp.path(),
    );
    assert_eq!(output.status.code(), Some(1), "{}", everything(&output));
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let drift: Vec<(String, String, String)> = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "roundtrip-model-drift")
        .map(|d| {
            (
                d["severity"].as_str().unwrap().to_string(),
                d["revision"].as_str().unwrap_or_default().to_string(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let said = |words: &str| {
        drift
            .iter()
            .any(|(s, r, m)| s == "error" && r == "d1" && m.contains(words))
    };
    assert!(
        said("column users.nickname is in the models but no migration creates it"),
        "{drift:#?}"
    );
    assert!(
        said("column users.email: type is VARCHAR(50) in the database, VARCHAR(100) in the models"),
        "{drift:#?}"
    );
    // Alike when printed as SQL, so the Python forms tell them apart.
    assert!(
        said(
            "column users.status: type is VARCHAR(length=6) in the database, Enum('active', 'closed', name='user_status') in the models"
        ),
        "{drift:#?}"
    );
    assert_eq!(drift.len(), 3, "{drift:#?}");
    // In one order from run to run (Alembic's is its sets'): a PR comment updated by each push
    // changes only when the findings do.
    assert!(drift.is_sorted_by(|a, b| a.2 <= b.2), "{drift:#?}");
    // All on the head revision's line: the PR report, which folds a rule's repeats in a file,
    // still names each difference (a repeated line number would say nothing).
    let markdown = std::fs::read_to_string(&report).unwrap();
    for words in ["users.nickname", "users.email", "users.status"] {
        assert!(markdown.contains(words), "{words} hidden: {markdown}");
    }
    assert!(markdown.contains("like it on the same line"), "{markdown}");
}
