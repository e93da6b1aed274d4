//! Placeholders that tools substitute before the SQL reaches PostgreSQL: Go templates
//! (`{{ index .Options "Namespace" }}.users`, golang-migrate users such as Supabase Auth), Jinja
//! (`{{ schema }}`) and Flyway / Liquibase placeholders (`${schema}`). Each becomes a quoted
//! identifier of the same byte length that still reads as the placeholder (`"{ .Schema }"`,
//! `"$schema"`), so
//! the statement parses, messages name what the file says, and every span still points at it.

use std::borrow::Cow;

pub fn mask_placeholders(sql: &str) -> Cow<'_, str> {
    if !sql.contains("{{") && !sql.contains("${") {
        return Cow::Borrowed(sql);
    }
    let mut masked = sql.as_bytes().to_vec();
    let bytes = sql.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        let close: &[u8] = match &bytes[i..i + 2] {
            b"{{" => b"}}",
            b"${" => b"}",
            _ => {
                i += 1;
                continue;
            }
        };
        let body_start = i + 2;
        let Some(length) = bytes[body_start..]
            .windows(close.len())
            .take_while(|w| w[0] != b'\n' && w[0] != b';')
            .position(|w| w == close)
        else {
            i += 1;
            continue;
        };
        let end = body_start + length + close.len();
        match i.checked_sub(1).map(|before| bytes[before]) {
            // Inside a string literal the placeholder is just text.
            Some(b'\'') => {}
            // Already inside a quoted name: only its own quotes must go.
            Some(b'"') => swap_quotes(&mut masked[i..end]),
            // Opening and closing bytes become the name's quotes, quotes inside become
            // apostrophes: same length, same char boundaries.
            _ => {
                swap_quotes(&mut masked[i + 1..end - 1]);
                masked[i] = b'"';
                masked[end - 1] = b'"';
                if close == b"}" {
                    // `${schema}` reads `$schema`.
                    masked[i + 1] = b'$';
                }
            }
        }
        i = end;
    }
    Cow::Owned(String::from_utf8(masked).expect("only whole placeholders are replaced, by ASCII"))
}

fn swap_quotes(bytes: &mut [u8]) {
    for byte in bytes {
        if *byte == b'"' {
            *byte = b'\'';
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mask_placeholders;

    #[test]
    fn placeholders_become_identifiers_of_the_same_length() {
        let sql = "ALTER TABLE {{ index .Options \"Namespace\" }}.users ADD COLUMN x int;";
        let masked = mask_placeholders(sql);
        assert_eq!(masked.len(), sql.len());
        assert!(masked.starts_with("ALTER TABLE \"{ index .Options 'Namespace' }\".users"));
        assert!(masked.ends_with(".users ADD COLUMN x int;"));

        let flyway = "CREATE INDEX ix ON ${schema}.t (a); -- ${unclosed";
        assert_eq!(
            mask_placeholders(flyway),
            "CREATE INDEX ix ON \"$schema\".t (a); -- ${unclosed"
        );
        assert!(matches!(
            mask_placeholders("SELECT '{'"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn placeholders_already_quoted_stay_inside_their_quotes() {
        let sql = r#"ALTER TABLE "{{ .Schema "x" }}"."users" ADD COLUMN a int;"#;
        assert_eq!(
            mask_placeholders(sql),
            r#"ALTER TABLE "{{ .Schema 'x' }}"."users" ADD COLUMN a int;"#
        );
        let literal = r#"SELECT 1 WHERE table_schema = '{{ index .Options "Namespace" }}';"#;
        assert_eq!(mask_placeholders(literal), literal);
    }

    #[test]
    fn multibyte_text_inside_a_placeholder_keeps_the_text_valid() {
        let sql = "DROP TABLE {{ .Schéma }}.t;";
        let masked = mask_placeholders(sql);
        assert_eq!(masked.len(), sql.len());
        assert_eq!(masked, "DROP TABLE \"{ .Schéma }\".t;");
    }
}
