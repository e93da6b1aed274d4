//! `migration-gate server`: the Language Server Protocol on stdio. Open revisions and SQL
//! migrations are linted with the whole history in view (the workspace is read from disk, the
//! open documents from the editor's text), on open and on every change; each fix is a code
//! action.

use std::collections::BTreeMap;
use std::path::PathBuf;

use lsp_server::{Connection, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Notification as _,
    PublishDiagnostics,
};
use lsp_types::request::{CodeActionRequest, Request as _};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams,
    CodeActionProviderCapability, DiagnosticSeverity, InitializeParams, NumberOrString, Position,
    PublishDiagnosticsParams, Range, ServerCapabilities, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextEdit, Uri, WorkspaceEdit,
};

use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::{Applicability, Fix};
use crate::lint::{self, LintOptions};
use crate::model::SourceFile;

use super::AppError;

fn failed(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::new(format!("server: {what}: {e}"))
}

/// A finding as the editor shows it, with its fix in the editor's terms.
struct Shown {
    diagnostic: lsp_types::Diagnostic,
    fix: Option<(String, Applicability, Vec<TextEdit>)>,
}

struct State {
    options: LintOptions,
    /// Open documents: their text, by URI, and the path the lint knows them by.
    open: BTreeMap<String, (Uri, String)>,
    /// The last findings of each open document, by URI.
    shown: BTreeMap<String, Vec<Shown>>,
}

pub fn run() -> Result<u8, AppError> {
    let (connection, io_threads) = Connection::stdio();
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        ..ServerCapabilities::default()
    };
    let params = connection
        .initialize(serde_json::to_value(capabilities).expect("capabilities serialize"))
        .map_err(|e| failed("initialize", e))?;
    let params: InitializeParams =
        serde_json::from_value(params).map_err(|e| failed("initialize parameters", e))?;
    // Paths in findings are relative to the working folder: the workspace's root.
    if let Some(root) = workspace_root(&params) {
        std::env::set_current_dir(&root)
            .map_err(|e| failed(&format!("cannot enter {}", root.display()), e))?;
    }
    let (config, paths) = super::resolve_inputs(None, &[])?;
    let mut state = State {
        options: super::lint_options(&config, paths, super::LintFlags::default())?,
        open: BTreeMap::new(),
        shown: BTreeMap::new(),
    };
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection
                    .handle_shutdown(&request)
                    .map_err(|e| failed("shutdown", e))?
                {
                    break;
                }
                let response = answer(&state, request);
                send(&connection, Message::Response(response))?;
            }
            Message::Notification(notification) => {
                if state.document_changed(notification) {
                    for published in state.lint() {
                        send(&connection, Message::Notification(published))?;
                    }
                }
            }
            Message::Response(_) => {}
        }
    }
    drop(connection);
    io_threads.join().map_err(|e| failed("stdio", e))?;
    Ok(0)
}

fn send(connection: &Connection, message: Message) -> Result<(), AppError> {
    connection
        .sender
        .send(message)
        .map_err(|e| failed("the editor went away", e))
}

/// The workspace's folder: its first workspace folder, else its root URI.
fn workspace_root(params: &InitializeParams) -> Option<PathBuf> {
    let uri = params
        .workspace_folders
        .as_ref()
        .and_then(|folders| folders.first())
        .map(|folder| folder.uri.clone());
    #[allow(deprecated)]
    let uri = uri.or_else(|| params.root_uri.clone())?;
    file_path(&uri)
}

/// The file a `file://` URI names.
fn file_path(uri: &Uri) -> Option<PathBuf> {
    if uri.scheme().map(|s| s.as_str()) != Some("file") {
        return None;
    }
    let path = uri.path().as_estr().decode().into_string_lossy();
    Some(PathBuf::from(path.as_ref()))
}

impl State {
    /// Applies an open, change or close; true when the findings must be read again.
    fn document_changed(&mut self, notification: Notification) -> bool {
        match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(
                    notification.params,
                ) else {
                    return false;
                };
                let document = params.text_document;
                self.open.insert(
                    document.uri.as_str().to_string(),
                    (document.uri, document.text),
                );
                true
            }
            DidChangeTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(
                    notification.params,
                ) else {
                    return false;
                };
                // Full sync: the last change holds the whole text.
                let Some(change) = params.content_changes.into_iter().last() else {
                    return false;
                };
                let uri = params.text_document.uri;
                self.open
                    .insert(uri.as_str().to_string(), (uri, change.text));
                true
            }
            DidCloseTextDocument::METHOD => {
                let Ok(params) = serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(
                    notification.params,
                ) else {
                    return false;
                };
                self.open.remove(params.text_document.uri.as_str());
                self.shown.remove(params.text_document.uri.as_str());
                true
            }
            _ => false,
        }
    }

    /// Lints the workspace with the open documents' texts, and says what each open document's
    /// findings are now.
    fn lint(&mut self) -> Vec<Notification> {
        let mut options = self.options.clone();
        let mut paths: BTreeMap<String, String> = BTreeMap::new();
        for (key, (uri, text)) in &self.open {
            if let Some(path) = file_path(uri) {
                let display = crate::frontend::display_path(&path);
                options.overrides.insert(display.clone(), text.clone());
                paths.insert(display, key.clone());
            }
        }
        let outcome = lint::lint(&options).ok();
        let mut found: BTreeMap<String, Vec<Shown>> = BTreeMap::new();
        if let Some(outcome) = &outcome {
            for diagnostic in &outcome.diagnostics {
                let Some(span) = diagnostic.span else {
                    continue;
                };
                let file = outcome.sources.get(span.file);
                let Some(key) = paths.get(&file.path) else {
                    continue;
                };
                found.entry(key.clone()).or_default().push(shown(
                    diagnostic,
                    file,
                    &outcome.sources,
                ));
            }
        }
        self.shown = found;
        self.open
            .iter()
            .map(|(key, (uri, _))| {
                let diagnostics = self
                    .shown
                    .get(key)
                    .map(|shown| shown.iter().map(|s| s.diagnostic.clone()).collect())
                    .unwrap_or_default();
                Notification::new(
                    PublishDiagnostics::METHOD.to_string(),
                    PublishDiagnosticsParams {
                        uri: uri.clone(),
                        diagnostics,
                        version: None,
                    },
                )
            })
            .collect()
    }
}

fn shown(diagnostic: &Diagnostic, file: &SourceFile, sources: &crate::model::Sources) -> Shown {
    let span = diagnostic.span.expect("placed");
    let message = match &diagnostic.help {
        Some(help) => format!("{}\nhelp: {help}", diagnostic.message),
        None => diagnostic.message.clone(),
    };
    Shown {
        diagnostic: lsp_types::Diagnostic {
            range: Range::new(position(file, span.start), position(file, span.end)),
            severity: Some(match diagnostic.severity {
                Severity::Error => DiagnosticSeverity::ERROR,
                Severity::Warning => DiagnosticSeverity::WARNING,
                Severity::Note => DiagnosticSeverity::INFORMATION,
            }),
            code: Some(NumberOrString::String(diagnostic.rule.to_string())),
            source: Some("migration-gate".into()),
            message,
            ..lsp_types::Diagnostic::default()
        },
        fix: diagnostic.fix.as_ref().map(|fix| {
            (
                fix.title.clone(),
                fix.applicability,
                text_edits(fix, sources.get(fix.file)),
            )
        }),
    }
}

fn text_edits(fix: &Fix, file: &SourceFile) -> Vec<TextEdit> {
    fix.edits
        .iter()
        .map(|edit| TextEdit {
            range: Range::new(
                position(file, edit.range.start),
                position(file, edit.range.end),
            ),
            new_text: edit.content.clone(),
        })
        .collect()
}

/// A byte offset as LSP counts: 0-based line, UTF-16 code units into it.
fn position(file: &SourceFile, offset: usize) -> Position {
    let offset = offset.min(file.text.len());
    let (line, _) = file.line_col(offset);
    let start = file.line_start(line).unwrap_or(0);
    let character = file.text[start..offset].encode_utf16().count();
    Position::new((line - 1) as u32, character as u32)
}

fn answer(state: &State, request: Request) -> Response {
    if request.method != CodeActionRequest::METHOD {
        return Response::new_err(
            request.id,
            lsp_server::ErrorCode::MethodNotFound as i32,
            format!("migration-gate does not answer {}", request.method),
        );
    }
    let Ok(params) = serde_json::from_value::<CodeActionParams>(request.params) else {
        return Response::new_err(
            request.id,
            lsp_server::ErrorCode::InvalidParams as i32,
            "codeAction parameters".into(),
        );
    };
    let uri = params.text_document.uri;
    let wanted = params.range;
    let actions: Vec<CodeActionOrCommand> = state
        .shown
        .get(uri.as_str())
        .into_iter()
        .flatten()
        .filter(|shown| overlaps(&shown.diagnostic.range, &wanted))
        .filter_map(|shown| {
            let (title, applicability, edits) = shown.fix.as_ref()?;
            let title = match applicability {
                Applicability::Safe => title.clone(),
                Applicability::Unsafe => format!("{title} (unsafe: changes what it does)"),
            };
            Some(CodeActionOrCommand::CodeAction(CodeAction {
                title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![shown.diagnostic.clone()]),
                edit: Some(WorkspaceEdit {
                    changes: Some([(uri.clone(), edits.clone())].into_iter().collect()),
                    ..WorkspaceEdit::default()
                }),
                is_preferred: Some(*applicability == Applicability::Safe),
                ..CodeAction::default()
            }))
        })
        .collect();
    Response::new_ok(request.id, actions)
}

fn overlaps(a: &Range, b: &Range) -> bool {
    !(a.end < b.start || b.end < a.start)
}
