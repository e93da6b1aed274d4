//! Liquibase formatted SQL, as Liquibase runs it on PostgreSQL (read in liquibase/liquibase at
//! cdbdec7f: `liquibase-standard/.../parser/AbstractFormattedChangeLogParser.java`,
//! `changelog/ChangeSet.java`, `util/StringUtil.java`):
//! - a file is formatted SQL when its first non-blank line is `--liquibase formatted sql`;
//! - each `--changeset author:id attr:value ...` line starts a changeset that runs to the next
//!   one; changesets run in file order, files in the master changelog's order;
//! - a changeset runs in one transaction (`runInTransaction` defaults to true; `false` runs its
//!   statements with autocommit), split on `;` (`splitStatements`);
//! - `--rollback <sql>` lines (and `/* liquibase rollback ... */` blocks) are its rollback;
//!   `--rollback not required` / `empty` declares none (read as a changeset with no rollback to
//!   run); raw SQL gets no generated rollback;
//! - `dbms:` lists the databases it runs on (`postgresql`, `!h2`, `all`, `none`);
//! - Liquibase records each changeset in `databasechangelog`;
//! - a line that starts like a changeset header (`--changeset`, `-changeset`) but is not
//!   `--changeset author:id` (`--changeset:ann:1`, `--changeset ann: 1`, `-- changeset notes`)
//!   stops the parse with "Unexpected formatting": Liquibase runs nothing of that changelog.

use crate::model::{Body, BodyState, FileId, Framework, ScriptSource, Span};

use super::super::sql::Wrapping;
use super::{SqlFile, Version, body};

mod changes;
mod columns;
mod inverse;
pub mod preconditions;
mod sql_text;
pub mod xml;

pub use changes::UNREAD_CHANGE;

/// Whether the text is a Liquibase formatted SQL changelog.
pub fn is_formatted(text: &str) -> bool {
    text.lines()
        .find(|line| !line.trim().is_empty())
        .and_then(|line| line.trim().strip_prefix("--"))
        .is_some_and(|rest| {
            let words: Vec<String> = rest
                .split_whitespace()
                .map(str::to_ascii_lowercase)
                .collect();
            words.first().map(String::as_str) == Some("liquibase")
                && words.get(1).map(String::as_str) == Some("formatted")
        })
}

/// The first line Liquibase refuses as a changeset header (its byte range, the line): a line
/// `ALT_CHANGE_SET_NO_OTHER_INFO_PATTERN` or `ALT_CHANGE_SET_ONE_CHARACTER_PATTERN` matches and
/// `CHANGE_SET_PATTERN` with its author-and-id check does not.
pub fn refused_header(text: &str) -> Option<(std::ops::Range<usize>, &str)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim_end_matches(['\n', '\r']);
        if looks_like_header(trimmed) && changeset_line(trimmed).is_none() {
            return Some((start..start + trimmed.len(), trimmed));
        }
    }
    None
}

/// `--changeset...` after optional blanks, or `-changeset` and a blank: what Liquibase takes
/// for a changeset header, well formed or not.
fn looks_like_header(line: &str) -> bool {
    let starts_with_word = |rest: &str| {
        rest.get(..9)
            .is_some_and(|word| word.eq_ignore_ascii_case("changeset"))
    };
    let trimmed = line.trim_start();
    if let Some(rest) = trimmed.strip_prefix("--") {
        return starts_with_word(rest.trim_start());
    }
    // The one-dash form is matched from the line's first character, without blanks before.
    line.strip_prefix('-').is_some_and(|rest| {
        let rest = rest.trim_start();
        starts_with_word(rest) && rest[9..].starts_with(char::is_whitespace)
    })
}

/// One changeset's header.
struct Changeset {
    id: String,
    /// Byte range of its body: after its `--changeset` line, up to the next one.
    range: std::ops::Range<usize>,
    in_transaction: bool,
    on_postgres: bool,
}

/// The changesets of the formatted SQL file `text`, as migrations; `rank` orders the file
/// among the changelog's files.
/// `file_name` qualifies the changesets' ids: Liquibase tells changesets apart by author, id
/// and file, and several files reuse `author:1`.
pub fn parse(rank: &str, file_name: &str, text: &str, file: FileId) -> Vec<SqlFile> {
    let changesets = changesets(text);
    let rollback_text = rollback_only(text);
    changesets
        .iter()
        .enumerate()
        .map(|(index, changeset)| {
            // Liquibase splits a changeset at its semicolons and sends the statements one by
            // one in the changeset's transaction.
            let wrapping = if changeset.in_transaction {
                Wrapping::EachStatement
            } else {
                Wrapping::None
            };
            let up = body(text, changeset.range.clone(), file, wrapping);
            // A rollback is optional for each changeset: one declared empty (`not required`)
            // or left out is proven upgrade only.
            let down = if writes_rollback(&text[changeset.range.clone()]) {
                let mut down = body(&rollback_text, changeset.range.clone(), file, wrapping);
                if let Some(script) = &mut down.script {
                    script.source = ScriptSource::LiquibaseRollback;
                }
                down
            } else {
                Body {
                    state: BodyState::NotApplicable,
                    ..Body::missing(Span::new(
                        file,
                        changeset.range.start..changeset.range.start,
                    ))
                }
            };
            let mut sql_file = SqlFile::both(
                Framework::Liquibase,
                Version(vec![(0, format!("{rank}\u{0}{index:06}"))]),
                format!("{file_name}::{}", changeset.id),
                file,
                Some(up),
                down,
            );
            sql_file.other_database = !changeset.on_postgres;
            sql_file
        })
        .collect()
}

/// The changeset's section writes rollback SQL: `--rollback` lines other than `not required` /
/// `empty`, or a `/* liquibase rollback */` block.
fn writes_rollback(section: &str) -> bool {
    let mut any = false;
    for line in section.lines() {
        if let Some(rollback) = rollback_line(line) {
            any = true;
            let rollback = rollback.trim().to_ascii_lowercase();
            if rollback.starts_with("not required") || rollback.starts_with("empty") {
                return false;
            }
        }
    }
    any || section
        .to_ascii_lowercase()
        .contains("/* liquibase rollback")
}

/// The SQL of a `--rollback <sql>` line.
fn rollback_line(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix("--")?.trim_start();
    let keyword = rest.get(..8)?;
    if !keyword.eq_ignore_ascii_case("rollback") {
        return None;
    }
    let sql = &rest[8..];
    sql.starts_with(' ').then_some(sql)
}

/// The text with only the rollback SQL left (every other byte a space, newlines kept), so
/// spans into it are spans into the file: what the round trip sends to roll a changeset back.
pub fn rollback_only(text: &str) -> String {
    let mut kept = vec![b' '; text.len()];
    let mut offset = 0;
    let mut in_block = false;
    for line in text.split_inclusive('\n') {
        let end = offset + line.len();
        if line.ends_with('\n') {
            kept[end - 1] = b'\n';
        }
        let trimmed = line.trim_start();
        if in_block {
            if let Some(close) = line.find("*/") {
                kept[offset..offset + close].copy_from_slice(&line.as_bytes()[..close]);
                in_block = false;
            } else {
                let content = line.trim_end_matches('\n').len();
                kept[offset..offset + content].copy_from_slice(&line.as_bytes()[..content]);
            }
        } else if trimmed
            .to_ascii_lowercase()
            .starts_with("/* liquibase rollback")
        {
            in_block = !line.contains("*/");
        } else if let Some(sql) = rollback_line(line) {
            let at = end - line.len() + (line.len() - sql.len());
            let content = sql.trim_end_matches('\n').len();
            kept[at..at + content].copy_from_slice(&sql.as_bytes()[..content]);
        }
        offset = end;
    }
    String::from_utf8(kept).unwrap_or_default()
}

/// A SQL file a changelog includes without the formatted-SQL header: Liquibase runs it whole
/// as one changeset (`SqlChangeLogParser`: id `raw`, author `includeAll`, no splitting), in a
/// transaction, without a rollback.
pub fn parse_raw(rank: &str, file_name: &str, text: &str, file: FileId) -> SqlFile {
    let up = body(text, 0..text.len(), file, Wrapping::Always);
    SqlFile::both(
        Framework::Liquibase,
        Version(vec![(0, format!("{rank}\u{0}{:06}", 0))]),
        format!("{file_name}::includeAll:raw"),
        file,
        Some(up),
        Body {
            state: BodyState::NotApplicable,
            ..Body::missing(Span::new(file, 0..0))
        },
    )
}

fn changesets(text: &str) -> Vec<Changeset> {
    let mut found: Vec<Changeset> = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let end = offset + line.len();
        if let Some((id, attributes)) = changeset_line(line) {
            if let Some(previous) = found.last_mut() {
                previous.range.end = offset;
            }
            let attribute = |name: &str| {
                attributes.split_whitespace().find_map(|word| {
                    let (key, value) = word.split_once(':')?;
                    key.eq_ignore_ascii_case(name).then(|| value.to_string())
                })
            };
            found.push(Changeset {
                id,
                range: end..text.len(),
                in_transaction: attribute("runInTransaction")
                    .is_none_or(|v| !v.eq_ignore_ascii_case("false")),
                on_postgres: attribute("dbms").is_none_or(|v| runs_on_postgres(&v)),
            });
        }
        offset = end;
    }
    found
}

/// `author:id` and the rest of a `--changeset author:id attr:value ...` line.
fn changeset_line(line: &str) -> Option<(String, &str)> {
    let rest = line.trim_start().strip_prefix("--")?.trim_start();
    let keyword = rest.get(..9)?;
    if !keyword.eq_ignore_ascii_case("changeset") {
        return None;
    }
    let rest = rest[9..].strip_prefix(char::is_whitespace)?.trim_start();
    let (author, rest) = match rest.strip_prefix('"') {
        Some(quoted) => {
            let close = quoted.find('"')?;
            (&quoted[..close], &quoted[close + 1..])
        }
        None => rest.split_at(rest.find(':')?),
    };
    let rest = rest.strip_prefix(':')?;
    let (id, attributes) = match rest.strip_prefix('"') {
        Some(quoted) => {
            let close = quoted.find('"')?;
            (&quoted[..close], &quoted[close + 1..])
        }
        None => rest.split_at(rest.find(char::is_whitespace).unwrap_or(rest.len())),
    };
    if author.is_empty() || id.is_empty() {
        return None;
    }
    Some((format!("{}:{id}", author.trim()), attributes.trim_end()))
}

/// Whether a `dbms:` list includes PostgreSQL (`DatabaseList.definitionMatches`).
pub(super) fn runs_on_postgres(list: &str) -> bool {
    let names: Vec<String> = list
        .split(',')
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    if names.iter().any(|n| n == "none") || names.iter().any(|n| n == "!postgresql") {
        return false;
    }
    let positive: Vec<&String> = names.iter().filter(|n| !n.starts_with('!')).collect();
    positive.is_empty() || positive.iter().any(|n| *n == "all" || *n == "postgresql")
}

/// The batch a changeset's id puts it in: Liquibase's `diffChangeLog` / `generateChangeLog`
/// number the changesets of one run `<idRoot>-<n>`, where `idRoot` is the run's time in
/// milliseconds (`DiffToChangeLog.generateId`); JHipster numbers an entity's table and its
/// constraints, in two files, `<yyyyMMddHHmmss>-1` and `-2`. Either way one generator run,
/// applied together.
fn generated_batch(version_text: &str) -> Option<&str> {
    let (_, changeset) = version_text.split_once("::")?;
    let (_, id) = changeset.rsplit_once(':')?;
    let (root, number) = id.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let number = number.split(|c: char| !c.is_ascii_digit()).next()?;
    (root.len() >= 10 && digits(root) && digits(number)).then_some(root)
}

/// Each changeset of a generated batch knows the tables the batch's earlier changesets made:
/// an index or foreign key on them is built on an empty table nothing uses yet.
pub fn assign_generated_batches(migrations: &mut [crate::model::Migration]) {
    use crate::model::OpKind;
    use crate::model::op::same_name;
    let mut made: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for migration in migrations.iter_mut() {
        let Some(version) = migration.revision_id().map(str::to_string) else {
            continue;
        };
        let Some(root) = generated_batch(&version) else {
            continue;
        };
        let tables = made.entry(root.to_string()).or_default();
        migration.batch_tables = tables.clone();
        for op in &migration.upgrade.ops {
            match &op.kind {
                OpKind::CreateTable { table, .. } => tables.push(table.clone()),
                OpKind::DropTable { table, .. } => tables.retain(|t| !same_name(t, table)),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "-- liquibase formatted sql\n\n--changeset ann:1\nCREATE TABLE users (id bigint PRIMARY KEY);\n--rollback DROP TABLE users;\n\n--changeset ann:2 runInTransaction:false\nCREATE INDEX CONCURRENTLY users_id ON users (id);\n--rollback not required\n\n--changeset \"Ann B\":3 dbms:h2\nCREATE ALIAS x FOR y;\n\n--changeset ann:4\nALTER TABLE users ADD COLUMN name text;\n";

    #[test]
    fn changesets_are_migrations_with_their_rollbacks_and_transactions() {
        assert!(is_formatted(FILE));
        assert!(!is_formatted(
            "CREATE TABLE t ();\n-- liquibase formatted sql\n"
        ));
        let files = parse("a", "001.sql", FILE, FileId(0));
        let ids: Vec<&str> = files.iter().map(|f| f.version_text.as_str()).collect();
        assert_eq!(
            ids,
            [
                "001.sql::ann:1",
                "001.sql::ann:2",
                "001.sql::Ann B:3",
                "001.sql::ann:4"
            ]
        );
        let first = &files[0];
        assert!(
            first
                .up
                .as_ref()
                .unwrap()
                .ops
                .iter()
                .all(|op| op.in_transaction)
        );
        let down = first.down.as_ref().unwrap();
        assert_eq!(down.ops.len(), 1, "{down:?}");
        assert!(
            files[1]
                .up
                .as_ref()
                .unwrap()
                .ops
                .iter()
                .all(|op| !op.in_transaction)
        );
        assert_eq!(
            files[1].down.as_ref().unwrap().state,
            BodyState::NotApplicable
        );
        assert!(files[2].other_database);
        assert_eq!(
            files[3].down.as_ref().unwrap().state,
            BodyState::NotApplicable
        );
        assert!(files[1].down.as_ref().unwrap().ops.is_empty());
        assert!(files[0].version < files[1].version);
    }

    #[test]
    fn the_rollback_text_keeps_every_offset() {
        let text = rollback_only(FILE);
        assert_eq!(text.len(), FILE.len());
        let at = FILE.find("DROP TABLE users;").unwrap();
        assert_eq!(&text[at..at + 17], "DROP TABLE users;");
        assert!(!text.contains("CREATE TABLE"));
    }

    #[test]
    fn generated_changesets_are_batches_by_their_id_root() {
        assert_eq!(
            generated_batch("schema.xml::jenik (generated):1585252533730-3"),
            Some("1585252533730")
        );
        assert_eq!(generated_batch("schema.xml::ann:create-users"), None);
        assert_eq!(generated_batch("schema.xml::ann:12-3"), None);
    }

    #[test]
    fn dbms_lists() {
        assert!(runs_on_postgres("postgresql,h2"));
        assert!(runs_on_postgres("!h2"));
        assert!(runs_on_postgres("all"));
        assert!(!runs_on_postgres("h2,oracle"));
        assert!(!runs_on_postgres("!postgresql"));
    }
}
