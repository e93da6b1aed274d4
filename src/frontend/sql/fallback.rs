//! Classifies a statement the parser rejected from its leading keywords, so that PostgreSQL
//! statements sqlparser does not know still reach the rules.

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::model::{ConstraintKind, MaintenanceKind, OpKind, ReindexScope};

/// The statement's words (keywords and identifiers, upper-cased) and punctuation, in order.
pub fn words(tokens: &[TokenWithSpan]) -> Vec<String> {
    tokens
        .iter()
        .filter_map(|t| match &t.token {
            Token::Word(word)
                if word.quote_style.is_none() && word.keyword != Keyword::NoKeyword =>
            {
                Some(word.value.to_ascii_uppercase())
            }
            Token::Word(word) => Some(word.value.clone()),
            Token::Whitespace(_) | Token::EOF => None,
            other => Some(other.to_string()),
        })
        .collect()
}

pub fn classify(words: &[String]) -> Option<OpKind> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let skip = |from: usize, optional: &[&str]| {
        let mut i = from;
        while i < w.len() && optional.contains(&w[i]) {
            i += 1;
        }
        i
    };
    match w.as_slice() {
        ["DO", ..] => Some(OpKind::Unparsed {
            reason: "an anonymous code block (DO): the statements inside it are not checked".into(),
        }),
        ["REINDEX", rest @ ..] => {
            // `REINDEX (CONCURRENTLY false) ...` builds without CONCURRENTLY.
            let options = rest.split(|t| *t == ")").next().unwrap_or_default();
            let concurrently = rest.contains(&"CONCURRENTLY")
                && !(rest.first() == Some(&"(")
                    && options
                        .windows(2)
                        .any(|p| p[0] == "CONCURRENTLY" && matches!(p[1], "FALSE" | "OFF" | "0")));
            let scope = match rest
                .iter()
                .find(|t| matches!(**t, "INDEX" | "TABLE" | "SCHEMA" | "DATABASE" | "SYSTEM"))
            {
                Some(&"INDEX") => ReindexScope::Index,
                Some(&"SCHEMA") => ReindexScope::Schema,
                Some(&"DATABASE") => ReindexScope::Database,
                Some(&"SYSTEM") => ReindexScope::System,
                _ => ReindexScope::Table,
            };
            let table = rest
                .iter()
                .rev()
                .find(|t| !matches!(**t, "CONCURRENTLY" | "TABLE" | "INDEX" | ")" | "("))
                .map(|t| t.to_string());
            Some(OpKind::Maintenance {
                kind: MaintenanceKind::Reindex {
                    concurrently,
                    scope,
                },
                table,
            })
        }
        ["CLUSTER", rest @ ..] => Some(OpKind::Maintenance {
            kind: MaintenanceKind::Cluster,
            table: rest
                .iter()
                .find(|t| **t != "VERBOSE")
                .map(|t| t.to_string()),
        }),
        // `VACUUM (FULL false)` is a plain VACUUM.
        ["VACUUM", rest @ ..]
            if rest.contains(&"FULL")
                && !rest
                    .windows(2)
                    .any(|p| p[0] == "FULL" && matches!(p[1], "FALSE" | "OFF" | "0")) =>
        {
            Some(OpKind::Maintenance {
                kind: MaintenanceKind::VacuumFull,
                table: rest
                    .last()
                    .filter(|t| !matches!(**t, "FULL" | ")"))
                    .map(|t| t.to_string()),
            })
        }
        // Plain VACUUM and ANALYZE take no lock that blocks reads or writes.
        ["VACUUM" | "ANALYZE" | "ANALYSE", ..] => Some(OpKind::Other),
        ["LOCK", rest @ ..] => Some(OpKind::Maintenance {
            kind: MaintenanceKind::LockTable {
                blocks_reads: !rest.contains(&"MODE")
                    || rest.windows(2).any(|p| p == ["ACCESS", "EXCLUSIVE"]),
            },
            table: rest
                .iter()
                .find(|t| !matches!(**t, "TABLE" | "ONLY"))
                .map(|t| t.to_string()),
        }),
        ["DROP", "INDEX", ..] => {
            let i = skip(2, &["CONCURRENTLY", "IF", "EXISTS"]);
            Some(OpKind::DropIndex {
                name: w.get(i).map(|_| qualified(&w, i)),
                table: None,
                concurrently: w[2..i].contains(&"CONCURRENTLY"),
            })
        }
        ["CREATE", ..] if w.iter().take(4).any(|t| *t == "INDEX") => {
            let unique = w.get(1) == Some(&"UNIQUE");
            let after_index = w.iter().position(|t| *t == "INDEX")? + 1;
            let i = skip(after_index, &["CONCURRENTLY", "IF", "NOT", "EXISTS"]);
            let on = w.iter().position(|t| *t == "ON")?;
            let table_at = skip(on + 1, &["ONLY"]);
            Some(OpKind::CreateIndex {
                name: (i < on).then(|| qualified(&w, i)),
                table: qualified(&w, table_at),
                columns: Vec::new(),
                unique,
                concurrently: w[after_index..i].contains(&"CONCURRENTLY"),
            })
        }
        ["ALTER", "TYPE", rest @ ..] if rest.windows(2).any(|p| p == ["ADD", "VALUE"]) => {
            let value = rest
                .iter()
                .rev()
                .find(|t| !matches!(**t, "EXISTS" | "NOT" | "IF"))
                .map(|t| t.to_string());
            Some(OpKind::AddEnumValue {
                type_name: qualified(&w, 2),
                value: value.unwrap_or_default(),
            })
        }
        ["ALTER", "TABLE", ..] => {
            let i = skip(2, &["IF", "EXISTS", "ONLY"]);
            let table = qualified(&w, i);
            let rest = &w[i..];
            if let Some(at) = rest
                .windows(2)
                .position(|p| p == ["VALIDATE", "CONSTRAINT"])
            {
                return Some(OpKind::ValidateConstraint {
                    table,
                    name: rest.get(at + 2)?.to_string(),
                });
            }
            let using_index = rest.windows(2).any(|p| p == ["USING", "INDEX"]);
            if using_index {
                let name = rest
                    .windows(2)
                    .position(|p| p == ["ADD", "CONSTRAINT"])
                    .and_then(|at| rest.get(at + 2))
                    .map(|n| n.to_string());
                let kind = if rest.contains(&"PRIMARY") {
                    ConstraintKind::PrimaryKey {
                        columns: Vec::new(),
                    }
                } else {
                    ConstraintKind::Unique {
                        columns: Vec::new(),
                    }
                };
                return Some(OpKind::AddConstraint {
                    table,
                    name,
                    kind,
                    not_valid: false,
                    using_index: true,
                });
            }
            None
        }
        ["SET", rest @ ..]
            if rest
                .iter()
                .take(2)
                .any(|t| t.eq_ignore_ascii_case("lock_timeout")) =>
        {
            Some(OpKind::SetLockTimeout)
        }
        _ => None,
    }
}

/// A possibly schema-qualified name starting at `i`: `a`, or `a . b`.
fn qualified(w: &[&str], i: usize) -> String {
    match (w.get(i), w.get(i + 1), w.get(i + 2)) {
        (Some(schema), Some(&"."), Some(name)) => format!("{schema}.{name}"),
        (Some(name), _, _) => name.to_string(),
        _ => String::new(),
    }
}
