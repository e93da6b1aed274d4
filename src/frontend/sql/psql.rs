//! What psql reads before PostgreSQL does: scripts run through `psql --file` (Sqitch, plain
//! `.sql` runners) may hold meta-commands (`\set`, `\echo`, `\connect`: a backslash at the
//! start of a line, to its end) and variable interpolations (`:'name'` as a literal, `:"name"`
//! as an identifier). Neither reaches the server as written: meta-commands are blanked and
//! `:'x'` / `:"x"` lose their colon, keeping every byte offset, so the SQL around them reads and
//! spans still point at the file.

use std::borrow::Cow;

pub fn mask_psql(original: &str) -> Cow<'_, str> {
    if !original.contains('\\') && !original.contains(":'") && !original.contains(":\"") {
        return Cow::Borrowed(original);
    }
    let without_data = mask_copy_data(original);
    let sql: &str = &without_data;
    let bytes = sql.as_bytes();
    let mut masked = bytes.to_vec();
    let mut changed = matches!(without_data, Cow::Owned(_));
    let mut i = 0;
    let mut line_start = true;
    while i < bytes.len() {
        let byte = bytes[i];
        match byte {
            b'\n' => {
                line_start = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' if line_start => {
                i += 1;
                continue;
            }
            b'\\' if line_start => {
                let end = sql[i..].find('\n').map_or(bytes.len(), |n| i + n);
                masked[i..end].fill(b' ');
                changed = true;
                i = end;
                continue;
            }
            _ => {}
        }
        line_start = false;
        match byte {
            b'\'' | b'"' => i = skip_quoted(bytes, i, byte),
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
            }
            b'$' => i = skip_dollar_quoted(sql, i),
            b':' if matches!(bytes.get(i + 1), Some(b'\'' | b'"'))
                && (i == 0 || bytes[i - 1] != b':') =>
            {
                masked[i] = b' ';
                changed = true;
                i += 1;
            }
            _ => i += 1,
        }
    }
    if !changed {
        return Cow::Borrowed(original);
    }
    // Only ASCII bytes, and whole lines, were replaced by spaces: still UTF-8.
    Cow::Owned(String::from_utf8(masked).unwrap_or_else(|_| sql.to_string()))
}

/// The rows psql sends after `COPY ... FROM stdin;` (pg_dump's data format), up to the `\.`
/// line that ends them, blanked: they are data for the COPY, not SQL.
fn mask_copy_data(sql: &str) -> Cow<'_, str> {
    let mut masked: Option<Vec<u8>> = None;
    let mut in_data = false;
    let mut offset = 0;
    for line in sql.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        if in_data {
            let bytes = masked.get_or_insert_with(|| sql.as_bytes().to_vec());
            bytes[offset..offset + content.len()].fill(b' ');
            in_data = content != "\\.";
        } else {
            let lower = content.trim().to_ascii_lowercase();
            in_data = lower.starts_with("copy ")
                && lower.ends_with(';')
                && lower
                    .trim_end_matches(';')
                    .trim_end()
                    .ends_with("from stdin");
        }
        offset += line.len();
    }
    match masked {
        // Whole lines of any bytes became spaces: the text is still UTF-8.
        Some(bytes) => Cow::Owned(String::from_utf8(bytes).unwrap_or_else(|_| sql.to_string())),
        None => Cow::Borrowed(sql),
    }
}

/// The offset after the quoted text starting at `start` (a doubled quote stays inside).
fn skip_quoted(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// The offset after a dollar-quoted body starting at `start`, or after the `$` when it opens
/// none (`$1`).
fn skip_dollar_quoted(sql: &str, start: usize) -> usize {
    let rest = &sql[start + 1..];
    let tag_length = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let tag = &rest[..tag_length];
    if !rest[tag_length..].starts_with('$') || tag.starts_with(|c: char| c.is_ascii_digit()) {
        return start + 1;
    }
    let delimiter = format!("${tag}$");
    let body = start + delimiter.len();
    sql[body..]
        .find(&delimiter)
        .map_or(sql.len(), |n| body + n + delimiter.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_commands_and_variables_become_what_postgresql_receives() {
        let script = "\\set template `cat file.html`\nBEGIN;\nINSERT INTO pages (body) VALUES (:'template');\n  \\echo done\nCOMMIT;\n";
        let masked = mask_psql(script);
        assert_eq!(masked.len(), script.len());
        let first_line = script.lines().next().unwrap();
        assert!(masked.starts_with(&format!("{}\nBEGIN;", " ".repeat(first_line.len()))));
        assert!(masked.contains("VALUES ( 'template')"));
        assert!(!masked.contains("echo"));
    }

    #[test]
    fn copy_rows_from_stdin_are_data_not_sql() {
        let script = "COPY public.plans (id, name) FROM stdin;\n1\tfree's plan\n2\tpro\n\\.\nCREATE INDEX plans_name ON plans (name);\n";
        let masked = mask_psql(script);
        assert_eq!(masked.len(), script.len());
        assert!(masked.starts_with("COPY public.plans (id, name) FROM stdin;\n"));
        assert!(!masked.contains("free") && !masked.contains("pro\n"));
        assert!(masked.ends_with("CREATE INDEX plans_name ON plans (name);\n"));
    }

    #[test]
    fn sql_that_only_looks_like_psql_stays() {
        for sql in [
            "SELECT 'a\\b', E'\\n';",
            "SELECT x::text FROM t;",
            "CREATE FUNCTION f() RETURNS text AS $$\n\\not psql\nSELECT ':''x''';\n$$ LANGUAGE sql;",
            "-- a comment with :'x' and\n-- \\set inside\nSELECT 1;",
        ] {
            assert_eq!(mask_psql(sql), sql, "{sql}");
        }
    }
}
