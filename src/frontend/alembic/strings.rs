//! Maps offsets inside a Python string's value back to the file, so SQL findings inside
//! `op.execute("...")` point at the right line and column.

use ruff_python_ast::ExprStringLiteral;
use ruff_text_size::Ranged;

use crate::frontend::sql::OffsetMap;

/// One literal part of a (possibly implicitly concatenated) string: where its value starts in
/// the concatenated value, where its content starts in the file, and whether the source text is
/// the value character for character (no escapes).
struct Part {
    value_start: usize,
    value_len: usize,
    content_start: usize,
    verbatim: bool,
}

pub struct StringMap {
    parts: Vec<Part>,
    fallback: usize,
}

impl StringMap {
    pub fn new(source: &str, literal: &ExprStringLiteral) -> Self {
        let mut parts = Vec::new();
        let mut value_start = 0;
        for part in literal.value.iter() {
            let range = part.range();
            let raw = &source[range.start().to_usize()..range.end().to_usize()];
            let prefix = raw.find(['"', '\'']).unwrap_or(0);
            let quotes = if raw[prefix..].starts_with("\"\"\"") || raw[prefix..].starts_with("'''")
            {
                3
            } else {
                1
            };
            let content_start = range.start().to_usize() + prefix + quotes;
            let content_end = range
                .end()
                .to_usize()
                .saturating_sub(quotes)
                .max(content_start);
            let content = &source[content_start..content_end];
            parts.push(Part {
                value_start,
                value_len: part.value.len(),
                content_start,
                verbatim: content == &*part.value,
            });
            value_start += part.value.len();
        }
        StringMap {
            parts,
            fallback: literal.range().start().to_usize(),
        }
    }
}

impl OffsetMap for StringMap {
    fn file_offset(&self, sql_offset: usize) -> usize {
        let part = self
            .parts
            .iter()
            .find(|p| sql_offset < p.value_start + p.value_len)
            .or(self.parts.last());
        match part {
            Some(part) if part.verbatim => {
                part.content_start + (sql_offset - part.value_start).min(part.value_len)
            }
            Some(part) => part.content_start,
            None => self.fallback,
        }
    }
}
