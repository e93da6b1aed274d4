//! The functions an SQL expression calls (a column default), and whether PostgreSQL ships them
//! as immutable or stable: what decides if adding a column with that default rewrites the table.

use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Words followed by `(` that are syntax or type modifiers, not function calls.
const NOT_CALLS: &[&str] = &[
    "all",
    "and",
    "any",
    "array",
    "as",
    "between",
    "bit",
    "case",
    "cast",
    "char",
    "character",
    "coalesce",
    "decimal",
    "else",
    "exists",
    "extract",
    "float",
    "greatest",
    "in",
    "interval",
    "is",
    "least",
    "not",
    "nullif",
    "numeric",
    "or",
    "overlay",
    "position",
    "row",
    "some",
    "substring",
    "then",
    "time",
    "timestamp",
    "trim",
    "values",
    "varchar",
    "varying",
    "when",
];

/// Built-in functions none of whose overloads is VOLATILE (generated from PostgreSQL's catalog
/// by scripts/gen-nonvolatile-functions.sh).
fn nonvolatile_builtins() -> &'static BTreeSet<&'static str> {
    static NAMES: OnceLock<BTreeSet<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        include_str!("nonvolatile_functions.txt")
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .collect()
    })
}

/// Whether `name` (lower-case, maybe `pg_catalog.`-qualified) is a built-in function PostgreSQL
/// evaluates once per statement at most. A name in another schema is the project's own.
pub fn is_nonvolatile_builtin(name: &str) -> bool {
    let bare = name.strip_prefix("pg_catalog.").unwrap_or(name);
    !bare.contains('.') && nonvolatile_builtins().contains(bare)
}

/// The names of the functions `sql` calls, lower-cased, in order; string literals, quoted
/// identifiers and type modifiers after `::` are not calls.
pub fn calls(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    let mut after_cast = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' || c == '"' {
            // A literal or a quoted identifier, with its doubled quotes.
            i += 1;
            while i < chars.len() {
                if chars[i] == c {
                    if chars.get(i + 1) == Some(&c) {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
            after_cast = false;
            continue;
        }
        if c == ':' && chars.get(i + 1) == Some(&':') {
            after_cast = true;
            i += 2;
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '$' | '.'))
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect::<String>().to_lowercase();
            let mut next = i;
            while next < chars.len() && chars[next].is_whitespace() {
                next += 1;
            }
            let is_call = chars.get(next) == Some(&'(');
            // `::character varying(20)`: every word of the type name until the modifier.
            if is_call && !after_cast && !NOT_CALLS.contains(&word.as_str()) {
                found.push(word);
            }
            if is_call {
                after_cast = false;
            }
            continue;
        }
        if !c.is_whitespace() {
            after_cast = false;
        }
        i += 1;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_found_outside_literals_and_casts() {
        assert_eq!(calls("now()"), ["now"]);
        assert_eq!(calls("timezone('utc'::text, now())"), ["timezone", "now"]);
        assert_eq!(calls("'random()'::text"), Vec::<String>::new());
        assert_eq!(calls("'0'::numeric(10, 2)"), Vec::<String>::new());
        assert_eq!(calls("'x'::character varying(20)"), Vec::<String>::new());
        assert_eq!(calls("CAST(0 AS numeric(10,2))"), Vec::<String>::new());
        assert_eq!(
            calls("public.next_invoice_no()"),
            ["public.next_invoice_no"]
        );
        assert_eq!(
            calls("COALESCE(uuid_generate_v4(), NULL)"),
            ["uuid_generate_v4"]
        );
    }

    #[test]
    fn builtins_are_known_by_their_catalog_volatility() {
        assert!(is_nonvolatile_builtin("now"));
        assert!(is_nonvolatile_builtin("pg_catalog.lower"));
        assert!(is_nonvolatile_builtin("statement_timestamp"));
        assert!(!is_nonvolatile_builtin("random"));
        assert!(!is_nonvolatile_builtin("gen_random_uuid"));
        assert!(!is_nonvolatile_builtin("public.lower"));
        assert!(!is_nonvolatile_builtin("next_invoice_no"));
    }
}
