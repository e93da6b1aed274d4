//! Edits of Python calls and statements, built from the edit sites the Alembic frontend
//! recorded: keyword arguments set, a statement moved into a block, a statement added.

use crate::model::edit_site::{BodyStart, EditSite};

use super::Edit;

/// One level of indentation, as Alembic's templates and PEP 8 write it.
const INDENT: &str = "    ";

/// The line length past which an added keyword puts the call's arguments one per line, as
/// ruff's and black's formatters write a call that does not fit.
const LINE_LIMIT: usize = 88;

/// Sets keyword arguments of the call: a keyword already written gets the new value, the
/// others are added after the last argument (on lines of their own in a call written one
/// argument per line, one level further in when the statement also moves into a block). A
/// one-line call that the added keywords would take past [`LINE_LIMIT`] gets its arguments
/// one per line. `None` when the statement is no call.
pub fn set_keywords(
    site: &EditSite,
    keywords: &[(&str, &str)],
    moved_in: bool,
) -> Option<Vec<Edit>> {
    let call = site.call.as_ref()?;
    let mut edits = Vec::new();
    let mut added: Vec<String> = Vec::new();
    for (name, value) in keywords {
        match call.keyword(name) {
            Some(range) => edits.push(Edit::replace(range.clone(), *value)),
            None => added.push(format!("{name}={value}")),
        }
    }
    if added.is_empty() {
        return Some(edits);
    }
    let deeper = if moved_in { INDENT } else { "" };
    let outer = format!("{}{deeper}", site.indent);
    let inline = added.join(", ");
    let width =
        outer.chars().count() + (site.line_end - site.statement.start) + inline.chars().count() + 2;
    if call.one_line && width > LINE_LIMIT && !call.arguments.is_empty() {
        let inner = format!("{outer}{INDENT}");
        let mut previous_end = None;
        for argument in &call.arguments {
            match previous_end {
                None => edits.push(Edit::insert(argument.start, format!("\n{inner}"))),
                Some(end) => edits.push(Edit::replace(end..argument.start, format!(",\n{inner}"))),
            }
            previous_end = Some(argument.end);
        }
        let last = previous_end.expect("arguments are not empty");
        let tail: String = added.iter().map(|k| format!(",\n{inner}{k}")).collect();
        edits.push(Edit::replace(last..call.close, format!("{tail},\n{outer}")));
        return Some(edits);
    }
    let separator = match &call.argument_indent {
        Some(indent) => format!(",\n{indent}{deeper}"),
        None => ", ".to_string(),
    };
    let mut text = String::new();
    for (index, keyword) in added.iter().enumerate() {
        if index > 0 || !call.arguments.is_empty() {
            text.push_str(&separator);
        }
        text.push_str(keyword);
    }
    edits.push(Edit::insert(call.arguments_end, text));
    Some(edits)
}

/// Moves the statement into `with <header>:` at its own indentation; its lines move one level
/// in (string literals spanning lines are left as they are).
pub fn wrap_in_block(site: &EditSite, header: &str) -> Vec<Edit> {
    let mut edits = vec![Edit::insert(
        site.statement.start,
        format!("with {header}:\n{}{INDENT}", site.indent),
    )];
    edits.extend(
        site.continuation_lines
            .iter()
            .map(|&line| Edit::insert(line, INDENT)),
    );
    edits
}

/// Adds statements after the statement's line (after a comment on it), at its indentation.
pub fn add_after(site: &EditSite, lines: &[String]) -> Edit {
    let text: String = lines
        .iter()
        .map(|line| format!("\n{}{line}", site.indent))
        .collect();
    Edit::insert(site.line_end, text)
}

/// Adds a statement before everything a body runs.
pub fn add_at_start(start: &BodyStart, line: &str) -> Edit {
    Edit::insert(start.line_start, format!("{}{line}\n", start.indent))
}

/// `with op.get_context().autocommit_block():`, Alembic's way out of its transaction.
pub const AUTOCOMMIT_BLOCK: &str = "op.get_context().autocommit_block()";

/// One level deeper than the statement's own.
pub fn indented(line: &str) -> String {
    format!("{INDENT}{line}")
}

/// A Python string literal holding `text`: in double quotes, as Alembic's templates write
/// strings, unless the text holds double quotes itself (SQL's quoted names).
pub fn python_string(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\");
    if !text.contains('"') || text.contains('\'') {
        format!("\"{}\"", escaped.replace('"', "\\\""))
    } else {
        format!("'{escaped}'")
    }
}

/// `op.f("name")`: a name written out, which no naming convention rewrites.
pub fn final_name(name: &str) -> String {
    format!("op.f({})", python_string(name))
}

/// `schema="s"` for a schema-qualified table, the keyword Alembic's operations take.
pub fn schema_keyword(table: &str) -> Option<String> {
    table
        .rsplit_once('.')
        .map(|(schema, _)| format!("schema={}", python_string(schema)))
}

/// A call written as a formatter writes it: on one line when it fits in [`LINE_LIMIT`] at
/// `indent` columns, else one argument per line (each ending with a comma).
pub fn call_lines(function: &str, arguments: &[String], indent: usize) -> Vec<String> {
    let one_line = format!("{function}({})", arguments.join(", "));
    if indent + one_line.chars().count() <= LINE_LIMIT {
        return vec![one_line];
    }
    let mut lines = vec![format!("{function}(")];
    lines.extend(arguments.iter().map(|a| format!("{INDENT}{a},")));
    lines.push(")".into());
    lines
}
