//! The rollback Liquibase generates for a change without a `<rollback>` (`createInverses` of
//! `change/core/*Change.java` at cdbdec7f): the inverse of each change, in reverse order; a
//! change type without one leaves the changeset without a generated rollback.

use roxmltree::Node;

use super::columns::{columns, primary_key_name};
use super::sql_text::{name, qualified};

pub(super) fn inverse(
    change: Node,
    attribute: &dyn Fn(Node, &str) -> Option<String>,
) -> Option<Vec<String>> {
    let at = |name: &str| attribute(change, name);
    let table = || qualified(at("schemaName"), &at("tableName").unwrap_or_default());
    let drop_constraint = |table: String, constraint: String| {
        format!("ALTER TABLE {table} DROP CONSTRAINT {}", name(&constraint))
    };
    Some(match change.tag_name().name() {
        "createTable" => vec![format!("DROP TABLE {}", table())],
        "addColumn" => {
            let mut drops: Vec<String> = columns(change)
                .filter_map(|c| attribute(c, "name"))
                .map(|c| format!("ALTER TABLE {} DROP COLUMN {}", table(), name(&c)))
                .collect();
            drops.reverse();
            drops
        }
        "renameColumn" => vec![format!(
            "ALTER TABLE {} RENAME COLUMN {} TO {}",
            table(),
            name(&at("newColumnName")?),
            name(&at("oldColumnName")?)
        )],
        "renameTable" => vec![format!(
            "ALTER TABLE {} RENAME TO {}",
            qualified(at("schemaName"), &at("newTableName")?),
            name(&at("oldTableName")?)
        )],
        "renameView" => vec![format!(
            "ALTER VIEW {} RENAME TO {}",
            qualified(at("schemaName"), &at("newViewName")?),
            name(&at("oldViewName")?)
        )],
        "renameSequence" => vec![format!(
            "ALTER SEQUENCE {} RENAME TO {}",
            qualified(at("schemaName"), &at("newSequenceName")?),
            name(&at("oldSequenceName")?)
        )],
        "addNotNullConstraint" => vec![format!(
            "ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL",
            table(),
            name(&at("columnName")?)
        )],
        "dropNotNullConstraint" => vec![format!(
            "ALTER TABLE {} ALTER COLUMN {} SET NOT NULL",
            table(),
            name(&at("columnName")?)
        )],
        "addDefaultValue" => vec![format!(
            "ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT",
            table(),
            name(&at("columnName")?)
        )],
        "createIndex" => vec![format!(
            "DROP INDEX {}",
            qualified(at("schemaName"), &at("indexName")?)
        )],
        "addForeignKeyConstraint" => vec![drop_constraint(
            qualified(at("baseTableSchemaName"), &at("baseTableName")?),
            at("constraintName")?,
        )],
        "addUniqueConstraint" => vec![drop_constraint(table(), at("constraintName")?)],
        "addPrimaryKey" => vec![drop_constraint(
            table(),
            primary_key_name(change, attribute),
        )],
        "createSequence" => vec![format!(
            "DROP SEQUENCE {}",
            qualified(at("schemaName"), &at("sequenceName")?)
        )],
        "createView" => vec![format!(
            "DROP VIEW {}",
            qualified(at("schemaName"), &at("viewName")?)
        )],
        "tagDatabase" | "empty" | "output" | "comment" => Vec::new(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inverse_of(change: &str) -> Option<Vec<String>> {
        let document = roxmltree::Document::parse(change).unwrap();
        let attribute = |node: Node, key: &str| node.attribute(key).map(str::to_string);
        inverse(document.root_element(), &attribute)
    }

    #[test]
    fn inverses_are_liquibases_and_some_changes_have_none() {
        assert_eq!(
            inverse_of(
                r#"<addColumn tableName="orders"><column name="a" type="int"/><column name="b" type="int"/></addColumn>"#
            ),
            Some(vec![
                "ALTER TABLE orders DROP COLUMN b".to_string(),
                "ALTER TABLE orders DROP COLUMN a".to_string()
            ])
        );
        assert_eq!(
            inverse_of(r#"<renameColumn tableName="orders" oldColumnName="a" newColumnName="b"/>"#),
            Some(vec!["ALTER TABLE orders RENAME COLUMN b TO a".to_string()])
        );
        assert_eq!(inverse_of(r#"<dropTable tableName="orders"/>"#), None);
        assert_eq!(inverse_of(r#"<sql>DELETE FROM orders</sql>"#), None);
    }
}
