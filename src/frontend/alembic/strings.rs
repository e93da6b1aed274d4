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
    /// For a part with escapes: (offset in its value, offset in its content) at the start of
    /// each character of the value, when decoding the escapes gives the value back.
    escaped: Vec<(usize, usize)>,
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
            let verbatim = content == &*part.value;
            parts.push(Part {
                value_start,
                value_len: part.value.len(),
                content_start,
                verbatim,
                escaped: if verbatim {
                    Vec::new()
                } else {
                    escape_map(content, &part.value)
                },
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
            Some(part) if !part.escaped.is_empty() => {
                let wanted = sql_offset.saturating_sub(part.value_start);
                let at = part.escaped.partition_point(|(value, _)| *value <= wanted);
                let (value, content) = part.escaped[at.saturating_sub(1)];
                part.content_start + content + (wanted - value)
            }
            Some(part) => part.content_start,
            None => self.fallback,
        }
    }
}

/// Where each character of `value` starts in `content`, the source text of a Python string with
/// escapes (`\\d`, `\n`, `\x41`, a line continuation...); empty when decoding `content` does not
/// give `value` (an escape this reading does not know), so the part maps to its start.
fn escape_map(content: &str, value: &str) -> Vec<(usize, usize)> {
    let mut map = Vec::new();
    let mut decoded = String::with_capacity(value.len());
    let mut chars = content.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c != '\\' {
            map.push((decoded.len(), at));
            decoded.push(c);
            continue;
        }
        let Some(&(_, next)) = chars.peek() else {
            map.push((decoded.len(), at));
            decoded.push(c);
            break;
        };
        let simple = match next {
            '\\' => Some('\\'),
            '\'' => Some('\''),
            '"' => Some('"'),
            'n' => Some('\n'),
            't' => Some('\t'),
            'r' => Some('\r'),
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'v' => Some('\u{b}'),
            _ => None,
        };
        if let Some(decoded_char) = simple {
            chars.next();
            map.push((decoded.len(), at));
            decoded.push(decoded_char);
        } else if next == '\n' {
            // A line continuation: nothing in the value.
            chars.next();
        } else if next == 'x' || next.is_digit(8) {
            let digits: String = if next == 'x' {
                chars.next();
                (0..2)
                    .filter_map(|_| chars.next().map(|(_, d)| d))
                    .collect()
            } else {
                let mut octal = String::new();
                while octal.len() < 3 && chars.peek().is_some_and(|(_, d)| d.is_digit(8)) {
                    octal.push(chars.next().unwrap().1);
                }
                octal
            };
            let radix = if next == 'x' { 16 } else { 8 };
            let Some(decoded_char) = u32::from_str_radix(&digits, radix)
                .ok()
                .and_then(char::from_u32)
            else {
                return Vec::new();
            };
            map.push((decoded.len(), at));
            decoded.push(decoded_char);
        } else if matches!(next, 'u' | 'U' | 'N') {
            return Vec::new();
        } else {
            // An unknown escape (`\\d` in a regular expression) keeps its backslash.
            map.push((decoded.len(), at));
            decoded.push(c);
        }
    }
    if decoded == value { map } else { Vec::new() }
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
    use super::{escape_map, neutral_placeholders};

    #[test]
    fn escaped_strings_map_each_character_to_its_source() {
        // The source `\n  SELECT '\\d+'` holds the value "\n  SELECT '\\d+'" after Python's
        // decoding: `\n` is one character, `\\` one backslash.
        let content = "\\n  SELECT '\\\\d+' \\x41";
        let value = "\n  SELECT '\\d+' A";
        let map = escape_map(content, value);
        assert!(!map.is_empty());
        let select = value.find("SELECT").unwrap();
        let (_, at) = map.iter().find(|(v, _)| *v == select).unwrap();
        assert_eq!(&content[*at..*at + 6], "SELECT");
        // A value the decoding does not give back maps nothing.
        assert!(escape_map("\\u0041", "A").is_empty());
    }

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
