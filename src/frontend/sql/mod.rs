//! SQL text → operations: statements split with sqlparser's tokenizer, each parsed on its own.

mod fallback;
mod lower;

pub use lower::using_of;
mod offsets;
mod plpgsql;
mod psql;

pub use psql::mask_psql;
mod postgres_grammar;
mod split;
mod templates;
mod tokens;

use tokens::{with_continued_strings, without_newer_syntax};

use offsets::{ByteOffsets, byte_offset, token_offsets};
use split::{RawStatement, is_trivia, scanned_statements, split_statements};

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Whitespace};

use crate::model::op::NameOrigin;
use crate::model::{FileId, Op, OpKind, Span, Suppression};

use super::suppression;

/// How the framework running the SQL wraps it in a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrapping {
    /// Statements run as written; only an explicit BEGIN opens a transaction.
    None,
    /// The whole text runs in one transaction, sent as one query (dbmate, Diesel, Alembic's
    /// transactional DDL): a COMMIT in it leaves what follows in the query's implicit one.
    Always,
    /// The runner's transaction around statements it sends one by one (sql-migrate, goose,
    /// Atlas, Liquibase, Drizzle's pieces): a COMMIT in the script ends it, and what follows
    /// runs on its own until a BEGIN.
    EachStatement,
    /// Sent as one multi-statement query: PostgreSQL makes that an implicit transaction when it
    /// holds more than one statement (golang-migrate).
    WhenSeveralStatements,
}

/// A `lock_timeout` value that turns the timeout off (`0`, `'0s'`): PostgreSQL then waits for
/// a lock for ever, as if nothing were set.
pub(super) fn lock_timeout_disabled(value: &str) -> bool {
    let value = value.trim().trim_matches(['\'', '"']).trim();
    let number: String = value
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    !number.is_empty() && number.parse::<f64>().is_ok_and(|n| n == 0.0)
}

/// Where the SQL text sits in its file: a whole `.sql` file, or the inside of a Python string.
pub trait OffsetMap {
    fn file_offset(&self, sql_offset: usize) -> usize;
}

/// SQL that is the file's own text, starting at `base`.
pub struct Shifted(pub usize);

impl OffsetMap for Shifted {
    fn file_offset(&self, sql_offset: usize) -> usize {
        self.0 + sql_offset
    }
}

/// SQL inside other SQL (a `DO` block's body) starting at `base` of the outer text.
struct Nested<'m> {
    outer: &'m dyn OffsetMap,
    base: usize,
}

impl OffsetMap for Nested<'_> {
    fn file_offset(&self, sql_offset: usize) -> usize {
        self.outer.file_offset(self.base + sql_offset)
    }
}

/// Where an index statement can be edited: after its `INDEX` keyword, `CONCURRENTLY` goes.
fn index_edit_site(
    sql: &str,
    statement: &RawStatement,
    span_of: &dyn Fn(std::ops::Range<usize>) -> Span,
) -> Option<crate::model::edit_site::EditSite> {
    use sqlparser::keywords::Keyword;
    use sqlparser::tokenizer::Token;
    let index = statement
        .tokens
        .iter()
        .find(|t| matches!(&t.token, Token::Word(w) if w.keyword == Keyword::INDEX))?;
    let end = byte_offset(sql, index.span.end.line, index.span.end.column);
    let at = span_of(end..end).start;
    let range = span_of(statement.range.clone()).range();
    Some(crate::model::edit_site::EditSite {
        statement: range.clone(),
        line_end: range.end,
        indent: String::new(),
        continuation_lines: Vec::new(),
        call: None,
        index_keyword_end: Some(at),
        batch_block: None,
    })
}

/// Recursion limit for the parser: deep nesting becomes an `unparsed-sql` note, not a crash.
const PARSER_RECURSION_LIMIT: usize = 64;

pub fn lower_sql(sql: &str, file: FileId, map: &dyn OffsetMap, wrapping: Wrapping) -> Vec<Op> {
    lower_nested(sql, file, map, wrapping, 0)
}

/// DO blocks inside DO blocks (through nested dollar quotes) are read this deep, no deeper.
const DO_BLOCK_DEPTH_LIMIT: usize = 4;

fn lower_nested(
    sql: &str,
    file: FileId,
    map: &dyn OffsetMap,
    wrapping: Wrapping,
    depth: usize,
) -> Vec<Op> {
    let without_psql = psql::mask_psql(sql);
    let masked = templates::mask_placeholders(&without_psql);
    let sql: &str = &masked;
    let dialect = PostgreSqlDialect {};
    let span_of = |range: std::ops::Range<usize>| {
        Span::new(
            file,
            map.file_offset(range.start)..map.file_offset(range.end),
        )
    };
    let whole = Tokenizer::new(&dialect, sql).tokenize_with_location();
    // Text sqlparser's tokenizer refuses (an operator it does not know, `U&` escapes) is split
    // into statements by PostgreSQL's own scanner instead, so that one statement it cannot
    // tokenize does not hide the others; that statement goes to PostgreSQL's grammar alone.
    let pieces = match &whole {
        Ok(_) => Vec::new(),
        Err(_) => scanned_statements(sql),
    };
    let statements = match &whole {
        Ok(tokens) => split_statements(sql, tokens, &token_offsets(sql, tokens)),
        Err(error) if pieces.is_empty() => {
            let at = byte_offset(sql, error.location.line, error.location.column);
            return vec![Op {
                kind: OpKind::Unparsed {
                    rejected_by_postgres: true,
                    reason: format!("the SQL cannot be tokenized: {}", error.message),
                },
                span: span_of(at..sql.len()),
                in_transaction: false,
                name_origin: NameOrigin::AsWritten,
                edit: None,
            }];
        }
        Err(_) => pieces
            .iter()
            .map(|(tokens, range)| RawStatement {
                tokens,
                range: range.clone(),
            })
            .collect(),
    };
    let mut implicit = match wrapping {
        Wrapping::None => false,
        Wrapping::Always | Wrapping::EachStatement => true,
        Wrapping::WhenSeveralStatements => statements.len() > 1,
    };
    let mut explicit = false;
    let mut ops = Vec::new();
    // PL/pgSQL routines the script defines, not yet called: (name, body's start, body).
    let mut routines: Vec<(String, usize, &str)> = Vec::new();
    // The statements of a PL/pgSQL body starting at `base` of this text, as they run: in the
    // calling statement's transaction, `EXECUTE` of built SQL unread.
    let block = |base: usize, body: &str| -> Option<Vec<Op>> {
        let (statements_only, dynamic) = plpgsql::sql_statements(body)?;
        let nested = Nested { outer: map, base };
        let mut inner = lower_nested(&statements_only, file, &nested, Wrapping::Always, depth + 1);
        inner.extend(dynamic.into_iter().map(|range| Op {
            kind: OpKind::DynamicSql,
            span: span_of(base + range.start..base + range.end),
            in_transaction: true,
            name_origin: NameOrigin::AsWritten,
            edit: None,
        }));
        inner.sort_by_key(|op| op.span.range().start);
        Some(inner)
    };
    for statement in statements {
        let text = &sql[statement.range.clone()];
        // A DO block's statements are read where they stand; they run as one.
        if depth < DO_BLOCK_DEPTH_LIMIT
            && let Some((at, body)) = plpgsql::do_body(statement.tokens, text)
            && let Some(inner) = block(statement.range.start + at, body)
        {
            ops.extend(inner);
            continue;
        }
        // A routine the script defines runs when the script calls it: its statements are
        // read at its first call (where they are written, in its body).
        if depth < DO_BLOCK_DEPTH_LIMIT {
            if let Some((name, at, body)) = plpgsql::routine_body(statement.tokens, text) {
                routines.retain(|(known, _, _)| *known != name);
                routines.push((name, statement.range.start + at, body));
            } else if let Some(called) = routines
                .iter()
                .position(|(name, _, _)| plpgsql::calls(statement.tokens, name))
            {
                let (_, base, body) = routines.remove(called);
                ops.extend(block(base, body).unwrap_or_default());
            }
        }
        for kind in lower_statement(statement.tokens, text) {
            let edit = matches!(kind, OpKind::CreateIndex { .. } | OpKind::DropIndex { .. })
                .then(|| index_edit_site(sql, &statement, &span_of))
                .flatten();
            ops.push(Op {
                in_transaction: implicit || explicit,
                name_origin: NameOrigin::AsWritten,
                edit,
                kind: kind.clone(),
                span: span_of(statement.range.clone()),
            });
            // A COMMIT runs inside the transaction it ends; what follows it does not.
            match kind {
                OpKind::BeginTransaction => explicit = true,
                OpKind::CommitTransaction => {
                    explicit = false;
                    implicit = implicit && wrapping != Wrapping::EachStatement;
                }
                _ => {}
            }
        }
    }
    ops
}

fn parse_one(
    tokens: &[TokenWithSpan],
) -> Result<sqlparser::ast::Statement, sqlparser::parser::ParserError> {
    let mut parser = Parser::new(&PostgreSqlDialect {})
        .with_recursion_limit(PARSER_RECURSION_LIMIT)
        .with_tokens_with_locations(with_continued_strings(tokens));
    parser.parse_statement().and_then(|statement| {
        // The parser stops after one statement; anything left means it misread this one.
        match parser.peek_token().token {
            Token::EOF | Token::SemiColon => Ok(statement),
            extra => Err(sqlparser::parser::ParserError::ParserError(format!(
                "unexpected `{extra}` after the statement"
            ))),
        }
    })
}

/// An unquoted word, case aside.
fn is_word(token: &Token, word: &str) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

fn lower_statement(tokens: &[TokenWithSpan], text: &str) -> Vec<OpKind> {
    // Only Unicode spaces (a no-break space after the last `;`): PostgreSQL's scanner would take
    // them for a name, but no runner sends them (they would fail every run of a history that
    // has shipped); they are layout.
    if text.trim().is_empty() {
        return Vec::new();
    }
    // Only PostgreSQL's grammar can read a statement sqlparser cannot tokenize.
    if tokens.is_empty() {
        return by_postgres_grammar(text, &[]);
    }
    // Backquoted names are MySQL's: PostgreSQL quotes with `"`.
    if tokens.iter().any(|t| t.token.to_string() == "`") {
        return vec![OpKind::OtherDialect {
            construct: "backquoted names (`name`) are MySQL's".into(),
        }];
    }
    let mut parsed = parse_one(tokens);
    let mut virtual_columns = false;
    if parsed.is_err()
        && let Some((rewritten, declares_virtual)) = without_newer_syntax(tokens)
        && let Ok(statement) = parse_one(&rewritten)
    {
        virtual_columns = declares_virtual;
        parsed = Ok(statement);
    }
    let words = fallback::words(tokens);
    match parsed {
        // sqlparser reads a superset of PostgreSQL's CREATE TABLE: another database's table
        // options (MySQL's and ClickHouse's ENGINE, ORDER BY, ON CLUSTER, a table COMMENT) are
        // for PostgreSQL's own grammar to judge.
        Ok(statement) if has_foreign_table_options(&statement) => by_postgres_grammar(text, &words),
        Ok(statement) => {
            let mut kinds = lower::lower(&statement);
            // Virtual generated columns are computed on read: nothing is stored or rewritten.
            if virtual_columns {
                for kind in &mut kinds {
                    match kind {
                        OpKind::CreateTable { columns, .. } => {
                            columns.iter_mut().for_each(|c| c.generated_stored = false)
                        }
                        OpKind::AddColumn { column, .. } => column.generated_stored = false,
                        _ => {}
                    }
                }
            }
            // sqlparser accepts DROP INDEX CONCURRENTLY but does not keep the keyword.
            if words.get(2).is_some_and(|w| w == "CONCURRENTLY") {
                for kind in &mut kinds {
                    if let OpKind::DropIndex { concurrently, .. } = kind {
                        *concurrently = true;
                    }
                }
            }
            // Statements sqlparser reads but the lowering has no operation for (ALTER TABLE
            // storage forms, triggers, policies, REFRESH): the keyword classifier may know them.
            if (kinds.is_empty() || kinds == [OpKind::Other])
                && let Some(kind) =
                    fallback::table_lock(&words).or_else(|| fallback::classify(&words))
            {
                kinds = vec![kind];
            }
            kinds
        }
        // Nesting past the limit is not read by words either: PostgreSQL rejects it too.
        Err(sqlparser::parser::ParserError::RecursionLimitExceeded) => {
            vec![unparsed(
                "the statement nests deeper than is read",
                false,
                text,
            )]
        }
        Err(_) => by_postgres_grammar(text, &words),
    }
}

/// A CREATE TABLE with options PostgreSQL's grammar has no place for.
fn has_foreign_table_options(statement: &sqlparser::ast::Statement) -> bool {
    use sqlparser::ast::{CreateTableOptions, Statement};
    let Statement::CreateTable(create) = statement else {
        return false;
    };
    !matches!(
        create.table_options,
        CreateTableOptions::None | CreateTableOptions::With(_)
    ) || create.order_by.is_some()
        || create.on_cluster.is_some()
        || create.primary_key.is_some()
        || create.comment.is_some()
        || create.cluster_by.is_some()
        || create.clustered_by.is_some()
        || create.file_format.is_some()
        || create.location.is_some()
}

/// What sqlparser does not read, PostgreSQL's own grammar judges: what it rejects is not
/// PostgreSQL (reported, and read as nothing); what it accepts is read from its tree where the
/// meaning matters to later statements, else by the keyword classifier (from `words`), else it
/// is of no interest.
fn by_postgres_grammar(text: &str, words: &[String]) -> Vec<OpKind> {
    match postgres_grammar::read(text) {
        postgres_grammar::Verdict::Accepted(Some(kinds)) => kinds,
        postgres_grammar::Verdict::Accepted(None) => vec![
            fallback::table_lock(words)
                .or_else(|| fallback::classify(words))
                .unwrap_or(OpKind::Other),
        ],
        // Rejected by PostgreSQL, the statement fails where it runs: what its words seem to
        // say is never taken for what it does.
        postgres_grammar::Verdict::Rejected(message) => vec![unparsed(
            &format!("PostgreSQL's own parser rejects it: {message}"),
            true,
            text,
        )],
    }
}

fn unparsed(reason: &str, rejected_by_postgres: bool, text: &str) -> OpKind {
    let first_line = text.lines().next().unwrap_or_default();
    OpKind::Unparsed {
        rejected_by_postgres,
        reason: format!("{reason} (in `{}`)", shorten(first_line)),
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    }
}

/// Suppression comments (`-- migration-gate: ignore[...]`) in a SQL file, read from the
/// tokenizer's comments so that text inside strings never counts.
pub fn suppressions(sql: &str, file: FileId) -> Vec<Suppression> {
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize_with_location() else {
        return Vec::new();
    };
    let mut offsets = ByteOffsets::new(sql);
    tokens
        .iter()
        .filter_map(|t| {
            let comment = match &t.token {
                Token::Whitespace(Whitespace::SingleLineComment { comment, .. }) => comment,
                Token::Whitespace(Whitespace::MultiLineComment(comment)) => comment,
                _ => return None,
            };
            let start = offsets.at(t.span.start.line, t.span.start.column);
            let span = Span::new(file, start..start + comment.len() + 2);
            suppression::parse(comment, t.span.start.line as usize, span)
        })
        .collect()
}

/// The `-- migrate:up` / `-- migrate:down` sections of a dbmate file.
pub struct DbmateSections {
    pub up: Option<DbmateSection>,
    pub down: Option<DbmateSection>,
}

pub struct DbmateSection {
    /// Where the `-- migrate:...` line starts.
    pub marker: usize,
    pub body: std::ops::Range<usize>,
    pub transactional: bool,
}

/// Finds dbmate's section markers; the bool says whether the section runs in a transaction
/// (`transaction:false` turns it off). A marker is what dbmate's `upRegExp` / `downRegExp`
/// match (`pkg/dbmate/migration.go`): `--` at the start of a line, any spaces, `migrate:up`
/// or `migrate:down` as a word (`--migrate:up` is one too).
pub fn dbmate_sections(sql: &str) -> DbmateSections {
    let mut markers: Vec<(usize, usize, bool, bool)> = Vec::new();
    let mut offset = 0;
    for line in sql.split_inclusive('\n') {
        let directive = line
            .strip_prefix("--")
            .and_then(|rest| rest.trim_start().strip_prefix("migrate:"));
        if let Some(rest) = directive {
            let mut words = rest.split_whitespace();
            let direction = words.next().unwrap_or_default();
            let transactional = !words.any(|w| w == "transaction:false");
            if direction == "up" || direction == "down" {
                markers.push((
                    offset,
                    offset + line.len(),
                    direction == "up",
                    transactional,
                ));
            }
        }
        offset += line.len();
    }
    let mut sections = DbmateSections {
        up: None,
        down: None,
    };
    for (i, &(marker, body_start, is_up, transactional)) in markers.iter().enumerate() {
        let body_end = markers.get(i + 1).map_or(sql.len(), |m| m.0);
        let slot = if is_up {
            &mut sections.up
        } else {
            &mut sections.down
        };
        if slot.is_none() {
            *slot = Some(DbmateSection {
                marker,
                body: body_start..body_end,
                transactional,
            });
        }
    }
    sections
}

/// Whether SQL text holds any statement at all (comments and whitespace do not count).
/// Byte ranges of the statements in `sql`, split with the tokenizer (comments, strings and
/// dollar quotes respected). Text that cannot be tokenized is one range.
pub fn statement_ranges(sql: &str) -> Vec<std::ops::Range<usize>> {
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize_with_location() else {
        return std::iter::once(0..sql.len()).collect();
    };
    let offsets = token_offsets(sql, &tokens);
    split_statements(sql, &tokens, &offsets)
        .into_iter()
        .map(|statement| statement.range)
        .collect()
}

pub fn has_statements(sql: &str) -> bool {
    match Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize() {
        Ok(tokens) => tokens
            .iter()
            .any(|t| !is_trivia(t) && *t != Token::SemiColon),
        Err(_) => !sql.trim().is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str) -> Vec<OpKind> {
        lower_sql(sql, FileId(0), &Shifted(0), Wrapping::None)
            .into_iter()
            .map(|op| op.kind)
            .collect()
    }

    #[test]
    fn dollar_quoted_bodies_do_not_split_statements() {
        let sql = "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\nCREATE INDEX i ON t (a);";
        let ops = kinds(sql);
        assert_eq!(ops.len(), 2);
        assert!(matches!(
            ops[1],
            OpKind::CreateIndex {
                concurrently: false,
                ..
            }
        ));
    }

    #[test]
    fn an_unparsable_statement_does_not_hide_the_next() {
        let ops = kinds("CREATE FOO BAR BAZ;\nCREATE INDEX i ON t (a);");
        assert!(matches!(ops[0], OpKind::Unparsed { .. }));
        assert!(matches!(ops[1], OpKind::CreateIndex { .. }));
    }

    #[test]
    fn text_sqlparser_cannot_tokenize_is_split_by_postgres_scanner() {
        // `|>` is an operator sqlparser's tokenizer refuses; PostgreSQL lets users define it.
        let sql = "CREATE OPERATOR |> (FUNCTION = int8gt, LEFTARG = bigint, RIGHTARG = bigint);\n\
                   CREATE INDEX i ON t (a);\nALTER TABLE t ADD COLUMN b int;";
        let ops = lower_sql(sql, FileId(0), &Shifted(0), Wrapping::None);
        assert_eq!(ops.len(), 3, "{ops:?}");
        assert_eq!(ops[0].kind, OpKind::Other);
        assert!(matches!(ops[1].kind, OpKind::CreateIndex { .. }));
        assert!(matches!(ops[2].kind, OpKind::AddColumn { .. }));
        // Each operation points at its own statement.
        assert_eq!(&sql[ops[1].span.range()], "CREATE INDEX i ON t (a)");
    }

    #[test]
    fn semicolons_inside_parentheses_and_atomic_bodies_do_not_end_the_statement() {
        let ops = kinds(
            "CREATE RULE r AS ON DELETE TO t DO INSTEAD (UPDATE t SET gone = true; DELETE FROM u);\n\
             CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END;\n\
             CREATE INDEX i ON t (a);",
        );
        assert_eq!(ops.len(), 3, "{ops:?}");
        assert!(!ops.iter().any(|op| matches!(op, OpKind::Unparsed { .. })));
        assert!(matches!(ops[2], OpKind::CreateIndex { .. }));
    }

    #[test]
    fn statements_inside_begin_commit_are_in_a_transaction() {
        let ops = lower_sql(
            "BEGIN;\nCREATE INDEX CONCURRENTLY i ON t (a);\nCOMMIT;\nCREATE INDEX CONCURRENTLY j ON t (b);",
            FileId(0),
            &Shifted(0),
            Wrapping::None,
        );
        assert!(ops[1].in_transaction);
        assert!(!ops[3].in_transaction);
    }

    /// As PostgreSQL 15's pg_locks shows them.
    #[test]
    fn only_creating_a_trigger_leaves_reads_going() {
        use crate::model::TableLock;
        let lock = |sql: &str| match &kinds(sql)[0] {
            OpKind::LocksTable { lock, .. } => *lock,
            other => panic!("{sql}: {other:?}"),
        };
        assert_eq!(
            lock(
                "CREATE OR REPLACE TRIGGER t BEFORE INSERT ON p FOR EACH ROW EXECUTE FUNCTION f()"
            ),
            TableLock::ShareRowExclusive
        );
        for sql in [
            "DROP TRIGGER t ON p",
            "ALTER TRIGGER t ON p RENAME TO t2",
            "CREATE RULE r AS ON INSERT TO p DO ALSO NOTIFY x",
            "DROP RULE r ON p",
            "CREATE POLICY pol ON p USING (true)",
        ] {
            assert_eq!(lock(sql), TableLock::AccessExclusive, "{sql}");
        }
    }

    #[test]
    fn keyword_fallback_classifies_what_the_parser_rejects() {
        assert!(matches!(
            kinds("REINDEX TABLE users")[0],
            OpKind::Maintenance {
                kind: crate::model::MaintenanceKind::Reindex {
                    concurrently: false,
                    ..
                },
                ..
            }
        ));
        assert!(matches!(
            kinds("DROP INDEX CONCURRENTLY IF EXISTS ix_a")[0],
            OpKind::DropIndex {
                concurrently: true,
                ..
            }
        ));
    }

    #[test]
    fn locations_become_byte_offsets_in_any_order() {
        let sql = "SELECT 'é', 1;\nSELECT 2;";
        let mut offsets = ByteOffsets::new(sql);
        assert_eq!(offsets.at(1, 13), sql.find('1').unwrap());
        assert_eq!(offsets.at(2, 8), sql.find('2').unwrap());
        assert_eq!(offsets.at(1, 8), sql.find('\'').unwrap());
        assert_eq!(offsets.at(9, 1), sql.len());
    }

    #[test]
    fn dbmate_sections_are_found() {
        let sql = "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t(a);\n-- migrate:down\nDROP INDEX i;\n";
        let sections = dbmate_sections(sql);
        let up = sections.up.unwrap();
        assert!(!up.transactional);
        assert!(sql[up.body].contains("CONCURRENTLY"));
        assert!(sections.down.unwrap().transactional);
        // dbmate's own pattern: spaces after `--` are optional, the marker starts the line.
        let sql = "--migrate:up\nCREATE TABLE t (a int);\n--migrate:down\nDROP TABLE t;\n";
        let sections = dbmate_sections(sql);
        assert!(sql[sections.up.unwrap().body].contains("CREATE TABLE"));
        assert!(sql[sections.down.unwrap().body].contains("DROP TABLE"));
        let indented = "  -- migrate:up\nCREATE TABLE t (a int);\n";
        assert!(dbmate_sections(indented).up.is_none());
    }
}
