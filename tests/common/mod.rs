//! Test helpers shared by several test files.
#![allow(dead_code)]

pub mod project;
pub mod roundtrip;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A stand-in for the GitHub REST API on 127.0.0.1: issue comments with pagination (two per
/// page), and a pull request's review comments (one of another reviewer's to start with; a
/// comment on a line past 500 is refused with 422, as GitHub refuses lines outside the diff),
/// recording every request.
pub struct FakeGitHub {
    pub url: String,
    pub requests: Arc<Mutex<Vec<(String, String, String)>>>,
}

pub fn fake_github() -> FakeGitHub {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let recorded = requests.clone();
    let base = url.clone();
    std::thread::spawn(move || {
        let mut comments: Vec<(u64, String)> = vec![
            (1, "LGTM".into()),
            (2, "please rebase".into()),
            (3, "<!-- another-bot -->".into()),
        ];
        let mut reviews: Vec<(u64, String)> = vec![(9, "nit: typo".into())];
        let mut next_review = 200;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut length = 0;
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                if header.trim().is_empty() {
                    break;
                }
                if let Some(value) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let body = String::from_utf8(body).unwrap();
            let mut parts = request_line.split_whitespace();
            let method = parts.next().unwrap().to_string();
            let target = parts.next().unwrap().to_string();
            recorded
                .lock()
                .unwrap()
                .push((method.clone(), target.clone(), body.clone()));
            let (status, answer, link) = if target.contains("/pulls/") {
                review_answer(&method, &target, &body, &mut reviews, &mut next_review)
            } else if method == "GET" {
                let page: usize = target
                    .split("page=")
                    .nth(2)
                    .or_else(|| target.split("&page=").nth(1))
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(1);
                let chunk: Vec<serde_json::Value> = comments
                    .iter()
                    .skip((page - 1) * 2)
                    .take(2)
                    .map(|(id, body)| serde_json::json!({"id": id, "body": body}))
                    .collect();
                let link = (comments.len() > page * 2).then(|| {
                    format!(
                        "<{base}/repos/acme/levies/issues/7/comments?per_page=100&page={}>; rel=\"next\"",
                        page + 1
                    )
                });
                ("200 OK", serde_json::Value::Array(chunk), link)
            } else {
                let text = serde_json::from_str::<serde_json::Value>(&body).unwrap()["body"]
                    .as_str()
                    .unwrap()
                    .to_string();
                if method == "POST" {
                    comments.push((100, text));
                    (
                        "201 Created",
                        serde_json::json!({"id": 100, "html_url": "https://github.com/acme/levies/pull/7#issuecomment-100"}),
                        None,
                    )
                } else {
                    comments.iter_mut().find(|(id, _)| *id == 100).unwrap().1 = text;
                    (
                        "200 OK",
                        serde_json::json!({"id": 100, "html_url": "https://github.com/acme/levies/pull/7#issuecomment-100"}),
                        None,
                    )
                }
            };
            let payload = answer.to_string();
            let link = link.map(|l| format!("Link: {l}\r\n")).unwrap_or_default();
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{link}Connection: close\r\n\r\n{payload}",
                payload.len()
            );
        }
    });
    FakeGitHub { url, requests }
}

/// The fake's answer to a request on review comments.
fn review_answer(
    method: &str,
    target: &str,
    body: &str,
    reviews: &mut Vec<(u64, String)>,
    next: &mut u64,
) -> (&'static str, serde_json::Value, Option<String>) {
    let id = || -> u64 {
        target
            .rsplit('/')
            .next()
            .and_then(|id| id.parse().ok())
            .unwrap()
    };
    let sent = || serde_json::from_str::<serde_json::Value>(body).unwrap();
    match method {
        "GET" => (
            "200 OK",
            reviews
                .iter()
                .map(|(id, body)| serde_json::json!({"id": id, "body": body}))
                .collect(),
            None,
        ),
        "POST" => {
            let sent = sent();
            if sent["line"].as_u64().unwrap() > 500 {
                return (
                    "422 Unprocessable Entity",
                    serde_json::json!({"message": "pull_request_review_thread.line must be part of the diff"}),
                    None,
                );
            }
            *next += 1;
            reviews.push((*next, sent["body"].as_str().unwrap().to_string()));
            ("201 Created", serde_json::json!({"id": *next}), None)
        }
        "PATCH" => {
            let id = id();
            let text = sent()["body"].as_str().unwrap().to_string();
            reviews.iter_mut().find(|(i, _)| *i == id).unwrap().1 = text;
            ("200 OK", serde_json::json!({"id": id}), None)
        }
        _ => {
            let id = id();
            reviews.retain(|(i, _)| *i != id);
            ("204 No Content", serde_json::Value::Null, None)
        }
    }
}

/// A prerequisite the test cannot run without: skipped loudly on a developer machine, a
/// failure under CI, where scripts/test.sh provides everything.
pub fn require(what: &str, found: Option<String>) -> Option<String> {
    match found {
        Some(value) => Some(value),
        None if std::env::var_os("CI").is_some() => {
            panic!("CI is set but {what} is missing: run the tests through scripts/test.sh")
        }
        None => {
            eprintln!("SKIPPED: {what} is missing; run scripts/test.sh");
            None
        }
    }
}

/// The test venv's Python (alembic, SQLAlchemy, psycopg, maturin, pre-commit).
pub fn test_python() -> Option<String> {
    require(
        "MIGRATION_GATE_TEST_PYTHON (the test venv's Python)",
        std::env::var("MIGRATION_GATE_TEST_PYTHON").ok(),
    )
}

/// A copy of the folder `from` (files and folders) at `to`.
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of the bundled sample project (`migrations/`) under `dir`.
pub fn copy_sample(dir: &std::path::Path) {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for entry in walkdir::WalkDir::new(repo.join("migrations")) {
        let entry = entry.unwrap();
        let target = dir.join(entry.path().strip_prefix(repo).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// PostgreSQL's server binaries (initdb, pg_ctl), required like the test Python.
pub fn postgres_binaries() -> Option<String> {
    let found =
        migration_gate::roundtrip::postgres::find_postgres_bin().map(|p| p.display().to_string());
    require("PostgreSQL server binaries (initdb, pg_ctl)", found)
}

/// A temporary folder a local cluster can live in: as root the cluster runs as `postgres`,
/// which must be able to reach it.
pub fn scratch_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let _ = std::process::Command::new("chmod")
        .arg("755")
        .arg(dir.path())
        .status();
    dir
}

/// Waits until `done` holds, for at most `limit`.
pub fn eventually(limit: std::time::Duration, mut done: impl FnMut() -> bool) -> bool {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    done()
}

/// `git ARGS` in `dir` as a test author (name and email set), which must succeed.
pub fn git(dir: &std::path::Path, args: &[&str]) {
    let output = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {output:?}");
}
