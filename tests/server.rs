//! `migration-gate server` driven the way an editor drives it: initialize, open a revision,
//! read the diagnostics it publishes, change the text, ask for code actions, shut down. The
//! whole session is recorded (tests/snapshots/server__session.snap).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{Value, json};

mod common;

struct Editor {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// Every message both ways, as the session's record.
    transcript: Vec<String>,
    root: String,
}

impl Editor {
    fn start(root: &Path) -> Editor {
        let mut child = Command::new(env!("CARGO_BIN_EXE_migration-gate"))
            .arg("server")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        Editor {
            stdin: child.stdin.take().unwrap(),
            stdout: BufReader::new(child.stdout.take().unwrap()),
            child,
            transcript: Vec::new(),
            root: format!("file://{}", root.display()),
        }
    }

    fn send(&mut self, message: Value) {
        let text = message.to_string();
        self.transcript
            .push(format!("→ {}", text.replace(&self.root, "file://ROOT")));
        write!(self.stdin, "Content-Length: {}\r\n\r\n{text}", text.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn receive(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut header = String::new();
            self.stdout.read_line(&mut header).unwrap();
            assert!(!header.is_empty(), "the server closed its output");
            let header = header.trim();
            if header.is_empty() {
                break;
            }
            if let Some(value) = header.strip_prefix("Content-Length:") {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.stdout.read_exact(&mut body).unwrap();
        let text = String::from_utf8(body).unwrap();
        self.transcript
            .push(format!("← {}", text.replace(&self.root, "file://ROOT")));
        serde_json::from_str(&text).unwrap()
    }

    /// The next message that is not a log or progress notification.
    fn next_diagnostics(&mut self) -> Value {
        loop {
            let message = self.receive();
            if message["method"] == "textDocument/publishDiagnostics" {
                return message["params"].clone();
            }
        }
    }

    fn uri(&self, relative: &str) -> String {
        format!("{}/{relative}", self.root)
    }
}

fn rules(diagnostics: &Value) -> Vec<(String, u64)> {
    diagnostics["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["range"]["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn an_editor_gets_diagnostics_on_open_and_change_and_fixes_as_code_actions() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    common::copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fixes/alembic"),
        &root,
    );
    let mut editor = Editor::start(&root);
    editor.send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "processId": null, "rootUri": editor.root, "capabilities": {},
        "workspaceFolders": [{"uri": editor.root, "name": "project"}]}}),
    );
    let initialized = editor.receive();
    assert_eq!(initialized["id"], 1);
    assert_eq!(
        initialized["result"]["capabilities"]["textDocumentSync"], 1,
        "full sync"
    );
    assert_eq!(
        initialized["result"]["capabilities"]["codeActionProvider"],
        true
    );
    editor.send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));

    // Open the revision that adds the constraints: the earlier revisions (their tables, which
    // make these tables existing ones) are read from the workspace.
    let uri = editor.uri("versions/f3_constraints.py");
    let text = std::fs::read_to_string(root.join("versions/f3_constraints.py")).unwrap();
    editor.send(
        json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}}),
    );
    let opened = editor.next_diagnostics();
    assert_eq!(opened["uri"], uri);
    let found = rules(&opened);
    assert!(
        found.contains(&("add-foreign-key-without-not-valid".into(), 8)),
        "{found:?}"
    );
    assert!(found.contains(&("add-check-constraint-without-not-valid".into(), 10)));

    // The author types: the foreign key is now added NOT VALID; only the edited text has it.
    let edited = text.replace(
        r#"["account_id"], ["id"])"#,
        r#"["account_id"], ["id"], postgresql_not_valid=True)"#,
    );
    assert_ne!(edited, text);
    editor.send(
        json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": uri, "version": 2},
        "contentChanges": [{"text": edited}]}}),
    );
    let changed = rules(&editor.next_diagnostics());
    assert!(
        !changed
            .iter()
            .any(|(rule, _)| rule == "add-foreign-key-without-not-valid"),
        "{changed:?}"
    );
    assert!(changed.contains(&("add-check-constraint-without-not-valid".into(), 10)));

    // Code actions on the selected lines (the key's and the CHECK's): the fixes, as edits of
    // the open document.
    editor.send(
        json!({"jsonrpc": "2.0", "id": 2, "method": "textDocument/codeAction", "params": {
        "textDocument": {"uri": uri},
        "range": {"start": {"line": 8, "character": 0}, "end": {"line": 11, "character": 4}},
        "context": {"diagnostics": []}}}),
    );
    let actions = editor.receive();
    assert_eq!(actions["id"], 2);
    let actions = actions["result"].as_array().unwrap();
    let fix = actions
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .unwrap()
                .contains("`ck_invoices_amount` NOT VALID")
        })
        .expect("the CHECK's fix is offered");
    assert_eq!(fix["kind"], "quickfix");
    assert_eq!(fix["isPreferred"], true);
    let edits = fix["edit"]["changes"][&uri].as_array().unwrap();
    assert!(edits.iter().any(|e| {
        e["newText"]
            .as_str()
            .unwrap()
            .contains("postgresql_not_valid=True")
    }));
    assert!(edits.iter().any(|e| {
        e["newText"]
            .as_str()
            .unwrap()
            .contains(r#"VALIDATE CONSTRAINT "ck_invoices_amount""#)
    }));
    // The unsafe lock_timeout fix is offered too, said to be unsafe, not preferred.
    let unsafe_fix = actions
        .iter()
        .find(|a| a["title"].as_str().unwrap().contains("lock_timeout"))
        .expect("the lock_timeout fix");
    assert_eq!(unsafe_fix["isPreferred"], false);
    assert!(unsafe_fix["title"].as_str().unwrap().contains("unsafe"));

    // Closing the document clears its diagnostics.
    editor.send(
        json!({"jsonrpc": "2.0", "method": "textDocument/didClose", "params": {
        "textDocument": {"uri": uri}}}),
    );
    editor.send(json!({"jsonrpc": "2.0", "id": 3, "method": "shutdown", "params": null}));
    let shutdown = editor.receive();
    assert_eq!(shutdown["id"], 3);
    editor.send(json!({"jsonrpc": "2.0", "method": "exit", "params": null}));
    let status = editor.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    insta::assert_snapshot!("session", editor.transcript.join("\n"));
}
