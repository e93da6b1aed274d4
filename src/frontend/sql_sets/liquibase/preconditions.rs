//! A changeset's `<preConditions>` as one SQL test, run against the database just before the
//! changeset, as Liquibase does (read in liquibase/liquibase at cdbdec7f:
//! `precondition/core/*Precondition.java`, `precondition/core/PreconditionContainer.java`):
//! the children of `<preConditions>` and `<and>` must all hold, one of `<or>`'s; `onFail` says
//! what a failed test does — `HALT` (the default) stops the update, `MARK_RAN` records the
//! changeset as run without running it, `CONTINUE` skips it for now, `WARN` runs it anyway.
//! A test this module cannot write in SQL (`changeSetExecuted`, `customPrecondition`, ...) is
//! taken to hold.

use roxmltree::Node;

use super::sql_text::{literal, name, qualified, text_of};

/// What a failed precondition does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFail {
    Halt,
    MarkRan,
    Continue,
    Warn,
}

impl OnFail {
    pub fn label(self) -> &'static str {
        match self {
            OnFail::Halt => "HALT",
            OnFail::MarkRan => "MARK_RAN",
            OnFail::Continue => "CONTINUE",
            OnFail::Warn => "WARN",
        }
    }
}

/// A changeset's preconditions: the SQL that tests them (a boolean), and what a failure does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precondition {
    pub check: String,
    pub on_fail: OnFail,
}

/// The changeset's preconditions, when it has any this module can test.
pub(super) fn of_changeset(
    changeset: Node,
    attribute: &dyn Fn(Node, &str) -> Option<String>,
) -> Option<Precondition> {
    let conditions = changeset
        .children()
        .find(|c| c.tag_name().name() == "preConditions")?;
    let on_fail = match attribute(conditions, "onFail").as_deref().map(str::trim) {
        Some("MARK_RAN") => OnFail::MarkRan,
        Some("CONTINUE") => OnFail::Continue,
        Some("WARN") => OnFail::Warn,
        _ => OnFail::Halt,
    };
    let check = all(conditions, attribute)?;
    Some(Precondition { check, on_fail })
}

fn all(node: Node, attribute: &dyn Fn(Node, &str) -> Option<String>) -> Option<String> {
    let parts: Vec<String> = node
        .children()
        .filter(|c| c.is_element())
        .filter_map(|c| test(c, attribute))
        .collect();
    (!parts.is_empty()).then(|| format!("({})", parts.join(" AND ")))
}

/// One test as SQL; `None` for one not written here (it is taken to hold).
fn test(node: Node, attribute: &dyn Fn(Node, &str) -> Option<String>) -> Option<String> {
    let at = |key: &str| attribute(node, key);
    // A relation's name as a regclass text: `to_regclass` is NULL where there is none.
    let relation = |schema: Option<String>, object: Option<String>| {
        Some(format!(
            "(to_regclass({}) IS NOT NULL)",
            literal(&qualified(schema, &object?))
        ))
    };
    let constraint = |kind: &str, name_key: &str| {
        Some(format!(
            "EXISTS (SELECT 1 FROM pg_constraint WHERE contype = '{kind}' AND conname = {})",
            literal(name(&at(name_key)?).trim_matches('"'))
        ))
    };
    match node.tag_name().name() {
        "and" => all(node, attribute),
        "or" => {
            let parts: Vec<String> = node
                .children()
                .filter(|c| c.is_element())
                .map(|c| test(c, attribute))
                .collect::<Option<_>>()?;
            (!parts.is_empty()).then(|| format!("({})", parts.join(" OR ")))
        }
        "not" => {
            let inner = node.children().find(|c| c.is_element())?;
            Some(format!("(NOT {})", test(inner, attribute)?))
        }
        "dbms" => Some(
            at("type")
                .is_none_or(|list| super::runs_on_postgres(&list))
                .to_string(),
        ),
        "tableExists" => relation(at("schemaName"), at("tableName")),
        "viewExists" => relation(at("schemaName"), at("viewName")),
        "sequenceExists" => relation(at("schemaName"), at("sequenceName")),
        "indexExists" if at("indexName").is_some() => relation(at("schemaName"), at("indexName")),
        "columnExists" => Some(format!(
            "EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass({}) AND attname = {} AND NOT attisdropped)",
            literal(&qualified(at("schemaName"), &at("tableName")?)),
            literal(name(&at("columnName")?).trim_matches('"'))
        )),
        "foreignKeyConstraintExists" => constraint("f", "foreignKeyName"),
        "primaryKeyExists" if at("primaryKeyName").is_some() => constraint("p", "primaryKeyName"),
        "primaryKeyExists" => Some(format!(
            "EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'p' AND conrelid = to_regclass({}))",
            literal(&qualified(at("schemaName"), &at("tableName")?))
        )),
        "uniqueConstraintExists" => constraint("u", "constraintName"),
        "tableIsEmpty" => Some(format!(
            "NOT EXISTS (SELECT 1 FROM {})",
            qualified(at("schemaName"), &at("tableName")?)
        )),
        // The query's one value, compared as text with `expectedResult`.
        "sqlCheck" => Some(format!(
            "(({})::text = {})",
            text_of(node).trim().trim_end_matches(';'),
            literal(&at("expectedResult").unwrap_or_default())
        )),
        "runningAs" => Some(format!("(current_user = {})", literal(&at("username")?))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(xml: &str) -> Option<Precondition> {
        let document = roxmltree::Document::parse(xml).unwrap();
        let attribute = |node: Node, key: &str| node.attribute(key).map(str::to_string);
        of_changeset(document.root_element(), &attribute)
    }

    #[test]
    fn preconditions_are_one_sql_test_and_what_a_failure_does() {
        let found = of(r#"<changeSet><preConditions onFail="MARK_RAN"><not><foreignKeyConstraintExists foreignKeyName="fk_event_deviceid"/></not><sqlCheck expectedResult="1">SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'</sqlCheck></preConditions></changeSet>"#).unwrap();
        assert_eq!(found.on_fail, OnFail::MarkRan);
        assert_eq!(
            found.check,
            "((NOT EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f' AND conname = 'fk_event_deviceid')) AND ((SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb')::text = '1'))"
        );
        assert_eq!(
            of(r#"<changeSet><preConditions><tableExists tableName="Users"/></preConditions></changeSet>"#).unwrap(),
            Precondition {
                check: r#"((to_regclass('"Users"') IS NOT NULL))"#.to_string(),
                on_fail: OnFail::Halt
            }
        );
        assert_eq!(
            of(
                r#"<changeSet><preConditions><changeSetExecuted id="1" author="a" changeLogFile="x"/></preConditions></changeSet>"#
            ),
            None
        );
    }
}
