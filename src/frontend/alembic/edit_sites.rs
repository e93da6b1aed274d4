//! The text positions of an `op.*` call statement that fixes edit: where its statement and
//! arguments are, and which of its lines can take more indentation.

use ruff_python_ast::visitor::{Visitor, walk_expr};
use ruff_python_ast::{Expr, ExprCall, StmtWith};
use ruff_text_size::{Ranged, TextRange};

use crate::model::edit_site::{CallSite, EditSite};

/// The edit site of `call`, written as the expression statement `statement`, when the
/// statement is alone on its lines (nothing but indentation before it, nothing but a comment
/// after it).
pub fn call_statement(
    source: &str,
    statement: TextRange,
    call: &ExprCall,
    method: &str,
    on_op: bool,
) -> Option<EditSite> {
    let start = statement.start().to_usize();
    let end = statement.end().to_usize();
    let before = crate::frontend::line_start_before(source, start)?;
    let line_end = line_end(source, end);
    let rest_of_line = source[end..line_end].trim();
    if !(rest_of_line.is_empty() || rest_of_line.starts_with('#')) {
        return None;
    }
    let mut strings = StringRanges::default();
    for argument in &call.arguments.args {
        strings.visit_expr(argument);
    }
    for keyword in &call.arguments.keywords {
        strings.visit_expr(&keyword.value);
    }
    let continuation_lines = strings.lines_outside(source, start..end);
    let arguments = &call.arguments;
    // Every argument, whole, in source order: the last one ends where keywords are added.
    let mut all: Vec<std::ops::Range<usize>> = arguments
        .args
        .iter()
        .map(|a| a.range())
        .chain(arguments.keywords.iter().map(|k| k.range()))
        .map(|r| r.start().to_usize()..r.end().to_usize())
        .collect();
    all.sort_by_key(|r| r.start);
    let argument_indent = all
        .last()
        .and_then(|last| {
            crate::frontend::line_start_before(source, before_opening_brackets(source, last.start))
        })
        .map(|start| start.indent);
    let close = arguments.range().end().to_usize().saturating_sub(1);
    let call = CallSite {
        method: method.to_string(),
        arguments_end: all
            .last()
            .map_or(arguments.range().start().to_usize() + 1, |last| {
                after_closing_brackets(source, last.end, close)
            }),
        argument_indent,
        keywords: arguments
            .keywords
            .iter()
            .filter_map(|k| {
                let name = k.arg.as_ref()?.to_string();
                let value = k.value.range();
                Some((name, value.start().to_usize()..value.end().to_usize()))
            })
            .collect(),
        positional: arguments
            .args
            .iter()
            .map(|a| a.range().start().to_usize()..a.range().end().to_usize())
            .collect(),
        arguments: all,
        close,
        one_line: !source[start..end].contains('\n'),
        none_literals: arguments
            .args
            .iter()
            .chain(arguments.keywords.iter().map(|k| &k.value))
            .filter(|value| matches!(value, Expr::NoneLiteral(_)))
            .map(|value| value.range().start().to_usize()..value.range().end().to_usize())
            .collect(),
        on_op,
    };
    Some(EditSite {
        statement: start..end,
        line_end,
        indent: before.indent,
        continuation_lines,
        call: Some(call),
        index_keyword_end: None,
        batch_block: None,
    })
}

/// The end of the line `at` is on (after a comment on it), before its line break.
fn line_end(source: &str, at: usize) -> usize {
    let rest = source[at..].split('\n').next().unwrap_or_default();
    at + rest.trim_end_matches('\r').len()
}

/// Past the brackets that close a parenthesized last argument (`( "a" "b" )`, whose own
/// range ends inside them), up to the call's closing bracket at `close`: a keyword added
/// inside them would be part of that expression.
fn after_closing_brackets(source: &str, end: usize, close: usize) -> usize {
    let mut after = end;
    let text = source.get(end..close).unwrap_or_default();
    let mut chars = text.char_indices().peekable();
    while let Some((offset, c)) = chars.next() {
        match c {
            ')' | ']' | '}' => after = end + offset + 1,
            // A comment runs to its line's end and may hold anything.
            '#' => {
                while chars.peek().is_some_and(|(_, c)| *c != '\n') {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    after
}

/// The start of a parenthesized argument (`(` before its own range's start), over the
/// whitespace between them.
fn before_opening_brackets(source: &str, start: usize) -> usize {
    let mut outer = start;
    let mut at = start;
    while let Some(c) = source[..at].chars().next_back() {
        match c {
            '(' => {
                at -= 1;
                outer = at;
            }
            ' ' | '\t' | '\n' | '\r' => at -= 1,
            _ => break,
        }
    }
    outer
}

/// The edit site of a `with` statement (a batch's block), when it starts a line of its own.
pub fn with_statement(source: &str, with: &StmtWith) -> Option<EditSite> {
    let start = with.range().start().to_usize();
    let end = with.range().end().to_usize();
    let before = crate::frontend::line_start_before(source, start)?;
    let mut strings = StringRanges::default();
    for item in &with.items {
        strings.visit_expr(&item.context_expr);
    }
    strings.visit_body(&with.body);
    Some(EditSite {
        statement: start..end,
        line_end: line_end(source, end),
        indent: before.indent,
        continuation_lines: strings.lines_outside(source, start..end),
        call: None,
        index_keyword_end: None,
        batch_block: None,
    })
}

/// The ranges of the string literals in an expression: a line break inside one is part of the
/// string's value, not indentation.
#[derive(Default)]
struct StringRanges(Vec<TextRange>);

impl StringRanges {
    /// The starts of the lines after the first in `range` that do not begin inside a string.
    fn lines_outside(&self, source: &str, range: std::ops::Range<usize>) -> Vec<usize> {
        source[range.clone()]
            .match_indices('\n')
            .map(|(at, _)| range.start + at + 1)
            .filter(|line| {
                !self
                    .0
                    .iter()
                    .any(|s| s.start().to_usize() < *line && *line < s.end().to_usize())
            })
            .collect()
    }
}

impl<'a> Visitor<'a> for StringRanges {
    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::StringLiteral(_) | Expr::BytesLiteral(_) | Expr::FString(_) => {
                self.0.push(expr.range())
            }
            _ => walk_expr(self, expr),
        }
    }
}
