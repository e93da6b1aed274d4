//! Classifies a statement the parser rejected from its leading keywords, so that PostgreSQL
//! statements sqlparser does not know still reach the rules.

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::model::{ConstraintKind, MaintenanceKind, OpKind, ReindexScope, TableLock};

/// The statement's words and punctuation, in order: keywords upper-cased (to match them),
/// quoted identifiers in their quotes (to read them as names, see [`folded`]), other words as
/// written.
pub fn words(tokens: &[TokenWithSpan]) -> Vec<String> {
    tokens
        .iter()
        .filter_map(|t| match &t.token {
            Token::Word(word)
                if word.quote_style.is_none() && word.keyword != Keyword::NoKeyword =>
            {
                Some(word.value.to_ascii_uppercase())
            }
            Token::Word(word) if word.quote_style == Some('"') => {
                Some(format!("\"{}\"", word.value))
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
            rejected_by_postgres: false,
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
            let table = last_name(rest, &["CONCURRENTLY", "TABLE", "INDEX", ")", "("]);
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
                .position(|t| *t != "VERBOSE")
                .map(|at| qualified(rest, at)),
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
                    .and_then(|_| last_name(rest, &[])),
            })
        }
        // Plain VACUUM and ANALYZE take no lock that blocks reads or writes.
        ["VACUUM" | "ANALYZE" | "ANALYSE", ..] => Some(OpKind::Other),
        ["LOCK", rest @ ..] => Some(OpKind::Maintenance {
            kind: MaintenanceKind::LockTable {
                lock: match rest.iter().position(|t| *t == "IN") {
                    Some(at) if rest.last() == Some(&"MODE") => {
                        TableLock::of_lock_mode(&rest[at + 1..rest.len() - 1].join(" ")).flatten()
                    }
                    _ => Some(TableLock::AccessExclusive),
                },
            },
            table: rest
                .iter()
                .position(|t| !matches!(*t, "TABLE" | "ONLY"))
                .map(|at| qualified(rest, at)),
        }),
        ["DROP", "INDEX", ..] => {
            let i = skip(2, &["CONCURRENTLY", "IF", "EXISTS"]);
            Some(OpKind::DropIndex {
                name: w.get(i).map(|_| qualified(&w, i)),
                table: None,
                concurrently: w[2..i].contains(&"CONCURRENTLY"),
                if_exists: w[2..i].contains(&"EXISTS"),
            })
        }
        ["CREATE", ..] if w.iter().take(4).any(|t| *t == "INDEX") => {
            let unique = w.get(1) == Some(&"UNIQUE");
            let after_index = w.iter().position(|t| *t == "INDEX")? + 1;
            let i = skip(after_index, &["CONCURRENTLY", "IF", "NOT", "EXISTS"]);
            let on = w.iter().position(|t| *t == "ON")?;
            let table_at = skip(on + 1, &["ONLY"]);
            let table = qualified(&w, table_at);
            Some(OpKind::CreateIndex {
                // The index lives in its table's schema.
                name: (i < on)
                    .then(|| crate::model::names::in_schema_of(&table, &qualified(&w, i))),
                table,
                columns: Vec::new(),
                unique,
                concurrently: w[after_index..i].contains(&"CONCURRENTLY"),
                if_not_exists: w[after_index..i].contains(&"EXISTS"),
                predicate: None,
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
            let after_name = if w.get(i + 1) == Some(&".") {
                i + 3
            } else {
                i + 1
            };
            if let Some(at) = rest
                .windows(2)
                .position(|p| p == ["VALIDATE", "CONSTRAINT"])
            {
                return Some(OpKind::ValidateConstraint {
                    table,
                    name: folded(rest.get(at + 2)?),
                });
            }
            let using_index = rest
                .windows(2)
                .position(|p| p == ["USING", "INDEX"])
                .and_then(|at| rest.get(at + 2))
                .map(|index| crate::model::names::in_schema_of(&table, &folded(index)));
            // `ADD [CONSTRAINT x] PRIMARY KEY / UNIQUE USING INDEX idx`, not `REPLICA IDENTITY
            // USING INDEX idx` (which adds nothing).
            if using_index.is_some() && !rest.contains(&"REPLICA") {
                let name = rest
                    .windows(2)
                    .position(|p| p == ["ADD", "CONSTRAINT"])
                    .and_then(|at| rest.get(at + 2))
                    .map(|n| folded(n));
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
                    using_index,
                });
            }
            alter_table_form(&table, w.get(after_name..).unwrap_or_default())
        }
        // Session settings and objects no rule looks at: no table lock, no rewrite.
        ["SET", "CONSTRAINTS", ..] | ["SELECT" | "WITH" | "VALUES" | "SHOW" | "COPY", ..] => {
            Some(OpKind::RowsOnly {
                copied_from: Vec::new(),
            })
        }
        ["UPDATE", ..] => {
            let table_at = skip(1, &["ONLY"]);
            Some(OpKind::DataChange {
                table: qualified(&w, table_at),
                statement: "UPDATE",
                filtered: w.contains(&"WHERE"),
                null_test: None,
            })
        }
        ["CREATE", "DOMAIN", rest @ ..] => Some(OpKind::CreateDomain {
            name: qualified(&w, 2),
            constrained: rest.contains(&"CHECK") || rest.windows(2).any(|p| p == ["NOT", "NULL"]),
        }),
        ["ALTER", "DOMAIN", rest @ ..]
            if rest.contains(&"CHECK")
                || rest.windows(2).any(|p| p == ["VALIDATE", "CONSTRAINT"])
                || (rest
                    .windows(2)
                    .any(|p| p == ["NOT", "NULL"] || p == ["ADD", "CONSTRAINT"])
                    && !rest.windows(2).any(|p| p == ["DROP", "NOT"])) =>
        {
            let not_valid = rest.windows(2).any(|p| p == ["NOT", "VALID"]);
            Some(OpKind::ConstrainDomain {
                domain: qualified(&w, 2),
                checks_existing: !not_valid,
            })
        }
        ["REFRESH", "MATERIALIZED", "VIEW", rest @ ..] if !rest.contains(&"CONCURRENTLY") => {
            Some(OpKind::Maintenance {
                kind: MaintenanceKind::RefreshMaterializedView,
                table: Some(qualified(&w, 3)),
            })
        }
        ["REFRESH", "MATERIALIZED", "VIEW", ..] => Some(OpKind::Other),
        // Moving an index copies it into new files under ACCESS EXCLUSIVE on the index: queries
        // that plan on its table wait.
        ["ALTER", "INDEX", rest @ ..] if rest.windows(2).any(|p| p == ["SET", "TABLESPACE"]) => {
            let at = 2 + usize::from(rest.first() == Some(&"IF")) * 2;
            Some(OpKind::LocksTable {
                table: qualified(&w, at),
                form: "ALTER INDEX SET TABLESPACE".into(),
                lock: TableLock::AccessExclusive,
                rewrites: true,
            })
        }
        ["COMMENT", "ON", ..]
        | ["REASSIGN", "OWNED", ..]
        | ["DROP", "OWNED", ..]
        | [
            "CREATE" | "ALTER" | "DROP",
            "DOMAIN" | "PUBLICATION" | "SUBSCRIPTION",
            ..,
        ]
        | ["CREATE" | "ALTER" | "DROP", "EVENT", "TRIGGER", ..]
        | ["ALTER", "INDEX", ..] => Some(OpKind::Other),
        // `ALTER SEQUENCE s RENAME TO t`.
        ["ALTER", "SEQUENCE", rest @ ..] if rest.windows(2).any(|p| p == ["RENAME", "TO"]) => {
            let at = rest.windows(2).position(|p| p == ["RENAME", "TO"])?;
            Some(OpKind::RenameSequence {
                from: qualified(&w, 2),
                to: qualified(rest, at + 2),
            })
        }
        // `ALTER SEQUENCE s OWNED BY [schema.]table.column`: dropped with the table.
        ["ALTER", "SEQUENCE", rest @ ..] => {
            let by = rest.windows(2).position(|p| p == ["OWNED", "BY"]);
            let owner = by
                .map(|at| {
                    let words: Vec<String> = rest[at + 2..].iter().map(|w| folded(w)).collect();
                    words.concat().trim_end_matches(';').to_string()
                })
                .filter(|o| o != "none");
            Some(match owner.as_deref().and_then(|o| o.rsplit_once('.')) {
                Some((table, _)) => OpKind::SequenceOwnedBy {
                    sequence: qualified(&w, 2),
                    table: table.to_string(),
                },
                None => OpKind::Other,
            })
        }
        ["SET", rest @ ..]
            if rest
                .iter()
                .take(2)
                .any(|t| t.eq_ignore_ascii_case("lock_timeout"))
                && !rest.last().is_some_and(|v| super::lock_timeout_disabled(v)) =>
        {
            Some(OpKind::SetLockTimeout)
        }
        _ => None,
    }
}

/// The ALTER TABLE forms sqlparser does not turn into an operation of their own, from the words
/// after the table's name. `None` when the words name no form known here.
pub fn alter_table_form(table: &str, rest: &[&str]) -> Option<OpKind> {
    let upper: Vec<String> = rest.iter().map(|t| t.to_ascii_uppercase()).collect();
    let u: Vec<&str> = upper.iter().map(String::as_str).collect();
    let has = |phrase: &[&str]| u.windows(phrase.len()).any(|p| p == phrase);
    let at = |phrase: &[&str]| u.windows(phrase.len()).position(|p| p == phrase);
    let constraint_name = || {
        at(&["ADD", "CONSTRAINT"])
            .and_then(|i| rest.get(i + 2))
            .map(|n| folded(n))
    };
    let form = |lock: TableLock, rewrites: bool| {
        let words = u
            .iter()
            .take_while(|t| !matches!(**t, "(" | ";"))
            .take(3)
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        Some(OpKind::LocksTable {
            table: table.to_string(),
            form: words,
            lock,
            rewrites,
        })
    };
    if let Some(i) = at(&["DETACH", "PARTITION"]) {
        return Some(OpKind::DetachPartition {
            table: table.to_string(),
            partition: qualified(rest, i + 2),
            concurrently: has(&["CONCURRENTLY"]) || has(&["FINALIZE"]),
        });
    }
    if let Some(i) = at(&["ATTACH", "PARTITION"]) {
        return Some(OpKind::AttachPartition {
            table: table.to_string(),
            partition: qualified(rest, i + 2),
        });
    }
    if let Some(i) = at(&["SET", "SCHEMA"]) {
        let schema = folded(rest.get(i + 2)?);
        let bare = crate::model::op::bare_name(table);
        return Some(OpKind::RenameTable {
            from: table.to_string(),
            to: format!("{schema}.{bare}"),
        });
    }
    let rewriting = [
        &["SET", "LOGGED"][..],
        &["SET", "UNLOGGED"],
        &["SET", "TABLESPACE"],
        &["SET", "ACCESS", "METHOD"],
    ];
    if let Some(phrase) = rewriting.iter().find(|phrase| has(phrase)) {
        return Some(OpKind::LocksTable {
            table: table.to_string(),
            form: phrase.join(" "),
            lock: TableLock::AccessExclusive,
            rewrites: true,
        });
    }
    if u.first() == Some(&"ADD") && has(&["EXCLUDE"]) {
        return Some(OpKind::AddConstraint {
            table: table.to_string(),
            name: constraint_name(),
            kind: ConstraintKind::Exclusion,
            not_valid: false,
            using_index: None,
        });
    }
    if has(&["ADD"]) && has(&["FOREIGN", "KEY"]) {
        let name = constraint_name();
        let key = at(&["FOREIGN", "KEY"])?;
        let columns = rest[key + 2..]
            .iter()
            .take_while(|t| **t != ")")
            .filter(|t| **t != "," && **t != "(")
            .map(|t| folded(t))
            .collect();
        let referenced_table = at(&["REFERENCES"]).map(|i| qualified(rest, i + 1))?;
        return Some(OpKind::AddConstraint {
            table: table.to_string(),
            name,
            kind: ConstraintKind::ForeignKey {
                columns,
                referenced_table,
            },
            not_valid: has(&["NOT", "VALID"]),
            using_index: None,
        });
    }
    // PostgreSQL's ALTER TABLE actions begin with these words; anything else it rejects.
    let known = [
        "ADD", "DROP", "ALTER", "VALIDATE", "RENAME", "SET", "RESET", "CLUSTER", "ENABLE",
        "DISABLE", "FORCE", "NO", "INHERIT", "OF", "NOT", "OWNER", "REPLICA", "ATTACH", "DETACH",
    ];
    if !u.first().is_some_and(|w| known.contains(w)) {
        return None;
    }
    if u.first() == Some(&"ALTER") && u.get(1) != Some(&"CONSTRAINT") {
        let column_at = if u.get(1) == Some(&"COLUMN") { 2 } else { 1 };
        let column = folded(rest.get(column_at)?);
        let after = &u[column_at + 1..];
        let starts = |phrase: &[&str]| after.starts_with(phrase);
        if starts(&["SET", "DATA", "TYPE"]) || starts(&["TYPE"]) {
            let from = if starts(&["TYPE"]) { 1 } else { 3 };
            let type_words: Vec<&str> = rest[column_at + 1 + from..]
                .iter()
                .take_while(|t| !matches!(t.to_ascii_uppercase().as_str(), "COLLATE" | "USING"))
                .copied()
                .collect();
            let using_at = at(&["USING"]);
            let to = super::lower::column_type_from_text(&type_words.join(" "));
            let using = using_at.map(|i| super::using_of(&rest[i + 1..].join(" "), &column, &to));
            return Some(OpKind::AlterColumnType {
                table: table.to_string(),
                column,
                from: None,
                to,
                using,
            });
        }
        if !after
            .first()
            .is_some_and(|w| ["SET", "DROP", "ADD", "RESET", "RESTART", "TYPE"].contains(w))
        {
            return None;
        }
        // Statistics and per-column options take SHARE UPDATE EXCLUSIVE; the rest of the
        // column forms (storage, compression, identity, generation) ACCESS EXCLUSIVE.
        let light =
            starts(&["SET", "STATISTICS"]) || starts(&["SET", "("]) || starts(&["RESET", "("]);
        return form(
            if light {
                TableLock::ShareUpdateExclusive
            } else {
                TableLock::AccessExclusive
            },
            false,
        );
    }
    // CLUSTER ON, SET WITHOUT CLUSTER and storage parameters take SHARE UPDATE EXCLUSIVE.
    let light = has(&["CLUSTER", "ON"])
        || has(&["SET", "WITHOUT", "CLUSTER"])
        || u.starts_with(&["SET", "("])
        || u.starts_with(&["RESET", "("]);
    // ENABLE / DISABLE TRIGGER take SHARE ROW EXCLUSIVE.
    let lock = if light {
        TableLock::ShareUpdateExclusive
    } else if has(&["TRIGGER"]) && matches!(u.first(), Some(&"ENABLE" | &"DISABLE")) {
        TableLock::ShareRowExclusive
    } else {
        TableLock::AccessExclusive
    };
    form(lock, false)
}

/// Statements sqlparser reads without an operation of their own that lock a table: CREATE
/// TRIGGER takes SHARE ROW EXCLUSIVE (writes stop); dropping or altering a trigger, rules and
/// policies take ACCESS EXCLUSIVE (verified on PostgreSQL 15).
pub fn table_lock(words: &[String]) -> Option<OpKind> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    if !matches!(w.first(), Some(&"CREATE" | &"DROP" | &"ALTER")) {
        return None;
    }
    let (form, table) = on_table(&w, &["TRIGGER", "RULE", "POLICY"])?;
    let lock = if form == "CREATE TRIGGER" {
        TableLock::ShareRowExclusive
    } else {
        TableLock::AccessExclusive
    };
    Some(OpKind::LocksTable {
        table,
        form,
        lock,
        rewrites: false,
    })
}

/// `CREATE [OR REPLACE] [CONSTRAINT] TRIGGER name ... ON table`, `DROP POLICY [IF EXISTS] name ON
/// table` and the like: the statement's form (`CREATE TRIGGER`) and its table. Event triggers
/// have no table.
fn on_table(w: &[&str], objects: &[&str]) -> Option<(String, String)> {
    let object_at = w.iter().take(5).position(|t| objects.contains(t))?;
    if w[..object_at].contains(&"EVENT") {
        return None;
    }
    let on = object_at + w[object_at..].iter().position(|t| *t == "ON")?;
    let table_at = on + 1 + usize::from(w.get(on + 1) == Some(&"ONLY"));
    Some((format!("{} {}", w[0], w[object_at]), qualified(w, table_at)))
}

/// A possibly schema-qualified name starting at `i`: `a`, or `a . b`; `public.` left off.
fn qualified(w: &[&str], i: usize) -> String {
    match (w.get(i), w.get(i + 1), w.get(i + 2)) {
        (Some(schema), Some(&"."), Some(name)) => {
            let schema = folded(schema);
            if schema == crate::model::names::DEFAULT_SCHEMA {
                folded(name)
            } else {
                format!("{schema}.{}", folded(name))
            }
        }
        (Some(name), _, _) => folded(name),
        _ => String::new(),
    }
}

/// The last possibly schema-qualified name of `w`, skipping trailing `noise` words.
fn last_name(w: &[&str], noise: &[&str]) -> Option<String> {
    let end = w.iter().rposition(|t| !noise.contains(t))?;
    let start = if end >= 2 && w[end - 1] == "." {
        end - 2
    } else {
        end
    };
    Some(qualified(w, start))
}

/// A word of [`words`] read as a name, as PostgreSQL reads it: quoted as written, unquoted
/// folded to lower case (keywords come upper-cased, other words as written).
fn folded(word: &str) -> String {
    match word.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
        Some(quoted) => quoted.to_string(),
        None => word.to_lowercase(),
    }
}
