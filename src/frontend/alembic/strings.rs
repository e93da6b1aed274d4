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

/// SQL with its driver placeholders (`:name` as `sa.text` binds them, `%s` and `%(name)s` as
/// the DBAPI does) replaced by `$1` padded to the same length, so that the SQL parser reads them
/// as values and every offset still maps to the same place in the file. Text inside quotes and
/// `::` casts are left alone.
pub fn neutral_placeholders(sql: &str) -> std::borrow::Cow<'_, str> {
    if !sql.contains([':', '%']) {
        return std::borrow::Cow::Borrowed(sql);
    }
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == q {
                quote = None;
            }
        } else if b == b'\'' || b == b'"' {
            quote = Some(b);
        } else {
            let placeholder_end = match b {
                b'%' if bytes.get(i + 1) == Some(&b's') => Some(i + 2),
                b'%' if bytes.get(i + 1) == Some(&b'(') => {
                    sql[i..].find(")s").map(|n| i + n + 2).filter(|&end| {
                        sql[i + 2..end - 2]
                            .chars()
                            .all(|c| c.is_alphanumeric() || c == '_')
                    })
                }
                b':' if i > 0 && bytes[i - 1] == b':' => None,
                b':' if bytes
                    .get(i + 1)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
                    && !(i > 0 && bytes[i - 1].is_ascii_alphanumeric()) =>
                {
                    let len = sql[i + 1..]
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(sql.len() - i - 1);
                    Some(i + 1 + len)
                }
                _ => None,
            };
            if let Some(end) = placeholder_end {
                out.push_str("$1");
                out.push_str(&" ".repeat(end - i - 2));
                i = end;
                continue;
            }
        }
        let ch = sql[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::neutral_placeholders;

    #[test]
    fn placeholders_become_values_of_the_same_length() {
        for (sql, expected) in [
            ("UPDATE t SET x = :value", "UPDATE t SET x = $1    "),
            ("UPDATE t SET x = %s", "UPDATE t SET x = $1"),
            (
                "UPDATE t SET x = %(v)s WHERE y::text = ':no'",
                "UPDATE t SET x = $1    WHERE y::text = ':no'",
            ),
            ("SELECT 'a:b', 10%2", "SELECT 'a:b', 10%2"),
        ] {
            let replaced = neutral_placeholders(sql);
            assert_eq!(replaced, expected);
            assert_eq!(replaced.len(), sql.len());
        }
    }
}
