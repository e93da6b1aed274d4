//! Liquibase XML changelogs, as Liquibase runs them on PostgreSQL (read in liquibase/liquibase
//! at cdbdec7f: `parser/core/xml/XMLChangeLogSAXParser.java`, `changelog/ChangeSet.java`,
//! `changelog/ChangeLogParameters.java`):
//! - each `<changeSet id author>` is a migration, in document order; it runs in one
//!   transaction unless `runInTransaction="false"`, and `dbms` lists the databases it runs on;
//! - its change elements become SQL (see [`super::changes`]);
//! - `<rollback>` holds SQL, change elements, or names another changeset (`changeSetId`); an
//!   empty one declares that nothing is rolled back; without one, Liquibase generates the
//!   inverse of each change, and a changeset with a change that has none cannot be rolled back
//!   (read as going forward only, as a formatted SQL changeset without `--rollback`);
//! - `${name}` is replaced by the changelog's `<property name value>` (for PostgreSQL or any
//!   database).
//!
//! The operations of a change are placed on its element; the SQL of a `<sql>` element on its
//! own text where that text is written without entities.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use roxmltree::{Document, Node};

use crate::model::{
    Body, BodyState, FileId, Framework, Op, OpKind, Script, ScriptSource, ScriptTransaction, Span,
};

use super::super::super::sql::{self, OffsetMap, Shifted, Wrapping};
use super::super::{SqlFile, Version};
use super::changes::forward;
use super::inverse::inverse;
use super::sql_text::{Quoting, text_of, with_quoting};

/// Elements of a changeSet that are not changes.
const NOT_CHANGES: &[&str] = &[
    "rollback",
    "preConditions",
    "comment",
    "validCheckSum",
    "modifySql",
];

/// Whether `text` is a Liquibase XML changelog with changesets of its own.
pub fn is_xml_changelog(name: &str, text: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".xml")
        && text.contains("databaseChangeLog")
        && text.contains("changeSet")
}

/// The changesets of an XML changelog as migrations; `Err` is the XML error and where.
pub fn parse(
    rank: &str,
    file_name: &str,
    text: &str,
    file: FileId,
    base: &Path,
    contexts: Option<&[String]>,
) -> Result<Vec<SqlFile>, (usize, String)> {
    let document = read(text)?;
    let properties = properties(&document);
    let attribute = attribute_reader(&properties);
    let changelog = Changelog {
        changesets: changesets(&document).collect(),
        base,
    };
    Ok(changelog
        .changesets
        .iter()
        .enumerate()
        .map(|(index, changeset)| {
            let id = format!(
                "{}:{}",
                attribute(*changeset, "author").unwrap_or_default(),
                attribute(*changeset, "id").unwrap_or_default()
            );
            // Liquibase records the changeset under its `logicalFilePath`, the changeset's own
            // or its changelog's, when one is given (`ChangeSet.getFilePath`).
            let logical = attribute(*changeset, "logicalFilePath")
                .or_else(|| attribute(document.root_element(), "logicalFilePath"));
            let file_name = logical
                .as_deref()
                .map(|path| path.rsplit('/').next().unwrap_or(path))
                .filter(|name| !name.is_empty())
                .unwrap_or(file_name);
            let in_transaction = attribute(*changeset, "runInTransaction")
                .is_none_or(|v| !v.eq_ignore_ascii_case("false"));
            let wrapping = if in_transaction {
                Wrapping::EachStatement
            } else {
                Wrapping::None
            };
            let range = changeset.range();
            let up = body(
                changeset_ops(*changeset, &attribute, false, &changelog, file, wrapping),
                range.clone(),
                file,
                in_transaction,
                false,
            );
            let down = match rollback_kind(*changeset) {
                Rollback::Declared | Rollback::None if !has_inverse(*changeset, &attribute) => {
                    Body {
                        state: BodyState::NotApplicable,
                        ..Body::missing(Span::new(file, range.start..range.start))
                    }
                }
                _ => body(
                    changeset_ops(*changeset, &attribute, true, &changelog, file, wrapping),
                    range.clone(),
                    file,
                    in_transaction,
                    true,
                ),
            };
            let mut sql_file = SqlFile::both(
                Framework::Liquibase,
                Version(vec![(0, format!("{rank}\u{0}{index:06}"))]),
                format!("{file_name}::{id}"),
                file,
                Some(up),
                down,
            );
            // A context the service's contexts do not select: Liquibase never runs it.
            sql_file.unlisted = contexts.is_some_and(|contexts| {
                attribute(*changeset, "contextFilter")
                    .or_else(|| attribute(*changeset, "context"))
                    .is_some_and(|expression| {
                        !crate::discover::liquibase_config::selects(&expression, contexts)
                    })
            });
            sql_file.other_database = attribute(*changeset, "dbms")
                .is_some_and(|list| !super::runs_on_postgres(&list))
                || changeset
                    .children()
                    .filter(|c| c.tag_name().name() == "preConditions")
                    .any(|conditions| dbms_allows_postgres(conditions) == Some(false));
            sql_file
        })
        .collect())
}

/// The preconditions of the changeset at byte `at` of `text`, as the round trip tests them.
pub fn changeset_precondition(
    text: &str,
    path: &Path,
    at: usize,
) -> Option<super::preconditions::Precondition> {
    run_plans(text, path.parent().unwrap_or(Path::new(".")))
        .get(&at)
        .and_then(|plan| plan.precondition.clone())
}

/// The SQL the changeset at byte `at` of `text` sends, or its rollback's: what the round trip
/// runs.
pub fn changeset_sql(text: &str, path: &Path, at: usize, rollback: bool) -> String {
    run_plans(text, path.parent().unwrap_or(Path::new(".")))
        .get(&at)
        .map(|plan| {
            if rollback {
                plan.rollback.clone()
            } else {
                plan.upgrade.clone()
            }
        })
        .unwrap_or_default()
}

/// What the round trip sends for one changeset.
struct RunPlan {
    upgrade: String,
    rollback: String,
    precondition: Option<super::preconditions::Precondition>,
}

/// The run plans of every changeset of a changelog, by the changeset's offset. The round trip
/// asks for each changeset's preconditions, SQL and rollback, step after step: the document
/// is read once for all of them, and kept while the steps stay in the same changelog.
fn run_plans(text: &str, base: &Path) -> Arc<HashMap<usize, RunPlan>> {
    type Cached = (String, PathBuf, Arc<HashMap<usize, RunPlan>>);
    static LAST: Mutex<Option<Cached>> = Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((cached_text, cached_base, plans)) = last.as_ref()
        && cached_text == text
        && cached_base == base
    {
        return Arc::clone(plans);
    }
    let plans = Arc::new(read_run_plans(text, base));
    *last = Some((text.to_string(), base.to_path_buf(), Arc::clone(&plans)));
    plans
}

fn read_run_plans(text: &str, base: &Path) -> HashMap<usize, RunPlan> {
    let Ok(document) = read(text) else {
        return HashMap::new();
    };
    let properties = properties(&document);
    let attribute = attribute_reader(&properties);
    let changelog = Changelog {
        changesets: changesets(&document).collect(),
        base,
    };
    let sql = |changeset: Node, rollback: bool| -> String {
        statements(changeset, &attribute, rollback, &changelog)
            .into_iter()
            .filter_map(|(_, sql)| sql.ok())
            .map(|sql| format!("{};\n", sql.trim().trim_end_matches(';')))
            .collect()
    };
    changelog
        .changesets
        .iter()
        .map(|changeset| {
            let plan = RunPlan {
                upgrade: sql(*changeset, false),
                rollback: sql(*changeset, true),
                // Liquibase corrects the names a precondition tests by the changeset's quoting
                // strategy before it tests them (`ChangeSet.execute`).
                precondition: with_quoting(quoting_of(*changeset), || {
                    super::preconditions::of_changeset(*changeset, &attribute)
                }),
            };
            (changeset.range().start, plan)
        })
        .collect()
}

fn read(text: &str) -> Result<Document<'_>, (usize, String)> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    Document::parse_with_options(text, options).map_err(|error| {
        let position = error.pos();
        let at = crate::model::source::line_starts(text)
            .get((position.row as usize).saturating_sub(1))
            .copied()
            .unwrap_or(0);
        (at, format!("Liquibase cannot read this changelog: {error}"))
    })
}

/// A changelog's changesets, and the folder its `sqlFile` paths start from.
struct Changelog<'a, 'input, 'b> {
    changesets: Vec<Node<'a, 'input>>,
    base: &'b Path,
}

fn changesets<'a, 'input>(
    document: &'a Document<'input>,
) -> impl Iterator<Item = Node<'a, 'input>> {
    document
        .root_element()
        .children()
        .filter(|c| c.tag_name().name() == "changeSet")
}

/// What a precondition's `<dbms type>` tests say about PostgreSQL: `Some(false)` when they rule
/// it out (the changeset is marked ran or halts elsewhere, and never runs on PostgreSQL),
/// `None` when other tests decide. The children of `<preConditions>` and `<and>` must all hold,
/// one child of `<or>`.
fn dbms_allows_postgres(condition: Node) -> Option<bool> {
    let children = || {
        condition
            .children()
            .filter(|c| c.is_element())
            .map(dbms_allows_postgres)
    };
    match condition.tag_name().name() {
        "dbms" => condition.attribute("type").map(super::runs_on_postgres),
        "not" => children().next().flatten().map(|allows| !allows),
        "or" => {
            let results: Vec<Option<bool>> = children().collect();
            if results.contains(&Some(true)) {
                Some(true)
            } else if !results.is_empty() && results.iter().all(|r| *r == Some(false)) {
                Some(false)
            } else {
                None
            }
        }
        "preConditions" | "and" => {
            let results: Vec<Option<bool>> = children().collect();
            if results.contains(&Some(false)) {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// `<property name value>` of the changelog that apply on PostgreSQL.
fn properties(document: &Document) -> Vec<(String, String)> {
    document
        .root_element()
        .children()
        .filter(|c| c.tag_name().name() == "property")
        .filter(|c| c.attribute("dbms").is_none_or(super::runs_on_postgres))
        .filter_map(|c| {
            Some((
                c.attribute("name")?.to_string(),
                c.attribute("value")?.to_string(),
            ))
        })
        .collect()
}

/// The changeset's own quoting strategy, else its changelog's.
fn quoting_of(changeset: Node) -> Quoting {
    Quoting::of(changeset.attribute("objectQuotingStrategy"))
        .or_else(|| {
            Quoting::of(
                changeset
                    .document()
                    .root_element()
                    .attribute("objectQuotingStrategy"),
            )
        })
        .unwrap_or_default()
}

/// An element's attribute with the changelog's `${property}` references replaced.
fn attribute_reader(properties: &[(String, String)]) -> impl Fn(Node, &str) -> Option<String> + '_ {
    move |node: Node, key: &str| {
        node.attribute(key)
            .map(|value| substitute(value, properties))
    }
}

fn substitute(value: &str, properties: &[(String, String)]) -> String {
    let mut value = value.to_string();
    for (name, replacement) in properties {
        value = value.replace(&format!("${{{name}}}"), replacement);
    }
    value
}

enum Rollback {
    /// No `<rollback>`: Liquibase generates the inverse of each change.
    None,
    /// An empty `<rollback/>`: nothing to roll back, declared.
    Declared,
    Written,
}

fn rollback_kind(changeset: Node) -> Rollback {
    let rollbacks: Vec<Node> = changeset
        .children()
        .filter(|c| c.tag_name().name() == "rollback")
        .collect();
    if rollbacks.is_empty() {
        return Rollback::None;
    }
    let written = rollbacks.iter().any(|r| {
        r.attribute("changeSetId").is_some()
            || r.children().any(|c| c.is_element())
            || !text_of(*r).trim().is_empty()
    });
    if written {
        Rollback::Written
    } else {
        Rollback::Declared
    }
}

/// Whether Liquibase can generate the changeset's rollback: every change has an inverse.
fn has_inverse(changeset: Node, attribute: &dyn Fn(Node, &str) -> Option<String>) -> bool {
    matches!(rollback_kind(changeset), Rollback::None)
        && changes(changeset).all(|change| inverse(change, attribute).is_some())
}

fn changes<'a, 'input>(changeset: Node<'a, 'input>) -> impl Iterator<Item = Node<'a, 'input>> {
    changeset
        .children()
        .filter(|c| c.is_element() && !NOT_CHANGES.contains(&c.tag_name().name()))
}

/// The changeset's statements, each with the element it comes from; a change type not read is
/// an `Err` naming it.
fn statements<'a, 'input>(
    changeset: Node<'a, 'input>,
    attribute: &dyn Fn(Node, &str) -> Option<String>,
    rollback: bool,
    changelog: &Changelog<'a, 'input, '_>,
) -> Vec<(Node<'a, 'input>, Result<String, String>)> {
    with_quoting(quoting_of(changeset), || {
        written_statements(changeset, attribute, rollback, changelog)
    })
}

fn written_statements<'a, 'input>(
    changeset: Node<'a, 'input>,
    attribute: &dyn Fn(Node, &str) -> Option<String>,
    rollback: bool,
    changelog: &Changelog<'a, 'input, '_>,
) -> Vec<(Node<'a, 'input>, Result<String, String>)> {
    let each = |change: Node<'a, 'input>,
                sql: Result<Vec<String>, String>|
     -> Vec<(Node<'a, 'input>, Result<String, String>)> {
        match sql {
            Ok(statements) => statements.into_iter().map(|s| (change, Ok(s))).collect(),
            Err(reason) => vec![(change, Err(reason))],
        }
    };
    if !rollback {
        return changes(changeset)
            .flat_map(|change| each(change, forward(change, attribute, changelog.base)))
            .collect();
    }
    match rollback_kind(changeset) {
        Rollback::None => changes(changeset)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .flat_map(|change| each(change, inverse(change, attribute).ok_or_else(|| "no inverse".to_string())))
            .collect(),
        Rollback::Declared => Vec::new(),
        Rollback::Written => changeset
            .children()
            .filter(|c| c.tag_name().name() == "rollback")
            .flat_map(|written| {
                let mut found = Vec::new();
                if let Some(id) = attribute(written, "changeSetId") {
                    match changelog.changesets.iter().find(|c| attribute(**c, "id").as_deref() == Some(id.as_str())) {
                        Some(other) => found.extend(changes(*other).flat_map(|change| each(change, forward(change, attribute, changelog.base)))),
                        None => found.push((written, Err(format!("the rollback names changeset `{id}`, which is not in this changelog")))),
                    }
                }
                let own = text_of(written);
                if !own.trim().is_empty() {
                    found.push((written, Ok(own)));
                }
                found.extend(written.children().filter(|c| c.is_element()).flat_map(|change| each(change, forward(change, attribute, changelog.base))));
                found
            })
            .collect(),
    }
}

/// Offsets of generated SQL, all on the element it comes from: its start for the statement's
/// start, its end for anything after.
struct OnElement(std::ops::Range<usize>);

impl OffsetMap for OnElement {
    fn file_offset(&self, sql_offset: usize) -> usize {
        if sql_offset == 0 {
            self.0.start
        } else {
            self.0.end
        }
    }
}

fn changeset_ops<'a, 'input>(
    changeset: Node<'a, 'input>,
    attribute: &dyn Fn(Node, &str) -> Option<String>,
    rollback: bool,
    changelog: &Changelog<'a, 'input, '_>,
    file: FileId,
    wrapping: Wrapping,
) -> (Vec<Op>, bool) {
    let mut ops = Vec::new();
    let mut sends = false;
    for (element, sql) in statements(changeset, attribute, rollback, changelog) {
        let range = element.range();
        sends |= sql.as_ref().map_or(true, |sql| sql::has_statements(sql));
        match sql {
            Ok(sql) => {
                // A `<sql>` element's own text, written without entities, maps offset for offset.
                let text_node = element
                    .children()
                    .find(|c| c.is_text() && c.text().is_some_and(|t| t.trim() == sql.trim()));
                let lowered = match text_node {
                    Some(node) if node.range().len() == sql.len() => {
                        sql::lower_sql(&sql, file, &Shifted(node.range().start), wrapping)
                    }
                    _ => sql::lower_sql(&sql, file, &OnElement(range.clone()), wrapping),
                };
                ops.extend(lowered.into_iter().map(|op| Op { edit: None, ..op }));
            }
            Err(reason) => ops.push(Op {
                kind: OpKind::Unparsed {
                    reason,
                    rejected_by_postgres: false,
                },
                span: Span::new(file, range),
                in_transaction: wrapping != Wrapping::None,
                name_origin: crate::model::op::NameOrigin::AsWritten,
                edit: None,
            }),
        }
    }
    (ops, sends)
}

/// A changeset's body from its operations and whether it sends any SQL: a statement no rule
/// reads (`DROP VIEW`) still runs.
fn body(
    (ops, sends): (Vec<Op>, bool),
    range: std::ops::Range<usize>,
    file: FileId,
    in_transaction: bool,
    rollback: bool,
) -> Body {
    Body {
        state: if sends {
            BodyState::Code
        } else {
            BodyState::Empty
        },
        ops,
        script: Some(Script {
            span: Span::new(file, range.clone()),
            transaction: if in_transaction {
                ScriptTransaction::Wrapped
            } else {
                ScriptTransaction::PerStatement
            },
            source: ScriptSource::LiquibaseChanges { rollback },
        }),
        ..Body::missing(Span::new(file, range.start..range.start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Liquibase records a changeset under its `logicalFilePath` when one is given: the id the
    /// release gate matches against `databasechangelog`.
    #[test]
    fn changesets_are_named_by_their_logical_file_path() {
        let text = r#"<databaseChangeLog logicalFilePath="changelog-4.1"><changeSet id="1" author="ann"><sql>SELECT 1</sql></changeSet><changeSet id="2" author="ann" logicalFilePath="db/other"><sql>SELECT 2</sql></changeSet></databaseChangeLog>"#;
        let files = parse(
            "0",
            "changelog-4.1.xml",
            text,
            FileId(0),
            Path::new("."),
            None,
        )
        .unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.version_text.as_str()).collect();
        assert_eq!(names, ["changelog-4.1::ann:1", "other::ann:2"]);
    }
}
