//! Liquibase's change types as the SQL Liquibase sends PostgreSQL for them, and the inverse it
//! generates for a rollback (read in liquibase/liquibase at cdbdec7f:
//! `change/core/*Change.java` for attributes and `createInverses`,
//! `sqlgenerator/core/*Generator.java` for the SQL, `datatype/core/*Type.java` for types):
//! - names are folded to lower case unless they mix cases, which are quoted
//!   (`AbstractPostgresDatabase.correctObjectName` / `escapeObjectName`);
//! - `autoIncrement` is an identity on PostgreSQL 10 and later (`useSerialDatatypes`);
//! - `modifyDataType` converts with `USING (column::type)`;
//! - `addNotNullConstraint` with `defaultNullValue` first updates the NULL rows;
//! - `addForeignKeyConstraint validate="false"` adds it `NOT VALID`;
//! - changes without an inverse (`dropTable`, `sql`, `modifyDataType`, ...) leave a changeset
//!   without a generated rollback.

use roxmltree::Node;

use super::columns::{
    column_definition, columns, create_table, default_value, primary_key_name, sequence_options,
    value, where_clause,
};
use super::sql_text::{data_type, flag, literal, name, names, qualified, text_of};

/// How the reason of a change not read starts.
pub const UNREAD_CHANGE: &str = "the Liquibase change type";

/// A change element as SQL statements; `Err` names a change type whose SQL is not made here.
pub(super) fn forward(
    change: Node,
    attribute: &dyn Fn(Node, &str) -> Option<String>,
    base: &std::path::Path,
) -> Result<Vec<String>, String> {
    let at = |name: &str| attribute(change, name);
    let table = || qualified(at("schemaName"), &at("tableName").unwrap_or_default());
    let statements = match change.tag_name().name() {
        "createTable" => vec![create_table(change, attribute, &table())],
        "addColumn" => columns(change)
            .map(|column| {
                format!(
                    "ALTER TABLE {} ADD {}",
                    table(),
                    column_definition(column, attribute)
                )
            })
            .collect(),
        "dropColumn" => {
            let mut names: Vec<String> = columns(change)
                .filter_map(|c| attribute(c, "name"))
                .collect();
            names.extend(at("columnName"));
            names
                .iter()
                .map(|c| format!("ALTER TABLE {} DROP COLUMN {}", table(), name(c)))
                .collect()
        }
        "renameColumn" => vec![format!(
            "ALTER TABLE {} RENAME COLUMN {} TO {}",
            table(),
            name(&at("oldColumnName").unwrap_or_default()),
            name(&at("newColumnName").unwrap_or_default())
        )],
        "renameTable" => vec![format!(
            "ALTER TABLE {} RENAME TO {}",
            qualified(at("schemaName"), &at("oldTableName").unwrap_or_default()),
            name(&at("newTableName").unwrap_or_default())
        )],
        "dropTable" => vec![format!(
            "DROP TABLE {}{}",
            table(),
            if flag(at("cascadeConstraints")) {
                " CASCADE"
            } else {
                ""
            }
        )],
        "modifyDataType" => {
            let column = name(&at("columnName").unwrap_or_default());
            let ty = data_type(&at("newDataType").unwrap_or_default());
            vec![format!(
                "ALTER TABLE {} ALTER COLUMN {column} TYPE {ty} USING ({column}::{ty})",
                table()
            )]
        }
        "addNotNullConstraint" => {
            let column = name(&at("columnName").unwrap_or_default());
            let mut statements = Vec::new();
            if let Some(value) = at("defaultNullValue").filter(|v| !v.eq_ignore_ascii_case("null"))
            {
                statements.push(format!(
                    "UPDATE {} SET {column} = {} WHERE {column} IS NULL",
                    table(),
                    literal(&value)
                ));
            }
            statements.push(format!(
                "ALTER TABLE {} ALTER COLUMN {column} SET NOT NULL",
                table()
            ));
            statements
        }
        "dropNotNullConstraint" => vec![format!(
            "ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL",
            table(),
            name(&at("columnName").unwrap_or_default())
        )],
        "addDefaultValue" => vec![format!(
            "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}",
            table(),
            name(&at("columnName").unwrap_or_default()),
            default_value(change, attribute).unwrap_or_else(|| "NULL".into())
        )],
        "dropDefaultValue" => vec![format!(
            "ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT",
            table(),
            name(&at("columnName").unwrap_or_default())
        )],
        "createIndex" => vec![format!(
            "CREATE {}INDEX {} ON {} ({})",
            if flag(at("unique")) { "UNIQUE " } else { "" },
            name(&at("indexName").unwrap_or_default()),
            table(),
            columns(change)
                .filter_map(
                    // An expression (`lower(email)`) is written as is, as `computed` says.
                    |c| attribute(c, "name").map(|n| {
                        if flag(attribute(c, "computed")) || n.contains('(') {
                            n
                        } else {
                            name(&n)
                        }
                    })
                )
                .collect::<Vec<_>>()
                .join(", ")
        )],
        "dropIndex" => vec![format!(
            "DROP INDEX {}",
            qualified(at("schemaName"), &at("indexName").unwrap_or_default())
        )],
        "addForeignKeyConstraint" => vec![format!(
            "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}){}{}{}",
            qualified(
                at("baseTableSchemaName"),
                &at("baseTableName").unwrap_or_default()
            ),
            name(&at("constraintName").unwrap_or_default()),
            names(&at("baseColumnNames").unwrap_or_default()),
            qualified(
                at("referencedTableSchemaName"),
                &at("referencedTableName").unwrap_or_default()
            ),
            names(&at("referencedColumnNames").unwrap_or_default()),
            at("onDelete")
                .map(|a| format!(" ON DELETE {a}"))
                .unwrap_or_default(),
            at("onUpdate")
                .map(|a| format!(" ON UPDATE {a}"))
                .unwrap_or_default(),
            if at("validate").is_some_and(|v| v.eq_ignore_ascii_case("false")) {
                " NOT VALID"
            } else {
                ""
            }
        )],
        "addUniqueConstraint" => vec![format!(
            "ALTER TABLE {} ADD {}UNIQUE ({})",
            table(),
            at("constraintName")
                .map(|n| format!("CONSTRAINT {} ", name(&n)))
                .unwrap_or_default(),
            names(&at("columnNames").unwrap_or_default())
        )],
        "addPrimaryKey" => vec![format!(
            "ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({})",
            table(),
            name(&primary_key_name(change, attribute)),
            names(&at("columnNames").unwrap_or_default())
        )],
        "dropForeignKeyConstraint" => vec![format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            qualified(
                at("baseTableSchemaName"),
                &at("baseTableName").unwrap_or_default()
            ),
            name(&at("constraintName").unwrap_or_default())
        )],
        "dropUniqueConstraint" => vec![format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            table(),
            name(&at("constraintName").unwrap_or_default())
        )],
        // Without a name, Liquibase looks the key up when it runs (`DropPrimaryKeyGenerator`).
        "dropPrimaryKey" if at("constraintName").is_none() => vec![format!(
            "DO $$ DECLARE key_name name; BEGIN SELECT conname INTO STRICT key_name FROM pg_constraint WHERE contype = 'p' AND conrelid = {}::regclass; EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', {}, key_name); END $$",
            literal(&table()),
            literal(&table())
        )],
        "dropPrimaryKey" => vec![format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            table(),
            name(&primary_key_name(change, attribute))
        )],
        "createSequence" => vec![format!(
            "CREATE SEQUENCE {}{}",
            qualified(at("schemaName"), &at("sequenceName").unwrap_or_default()),
            sequence_options(change, attribute)
        )],
        "alterSequence" => vec![format!(
            "ALTER SEQUENCE {}{}",
            qualified(at("schemaName"), &at("sequenceName").unwrap_or_default()),
            sequence_options(change, attribute)
        )],
        "setTableRemarks" => vec![format!(
            "COMMENT ON TABLE {} IS {}",
            table(),
            literal(&at("remarks").unwrap_or_default())
        )],
        "setColumnRemarks" => vec![format!(
            "COMMENT ON COLUMN {}.{} IS {}",
            table(),
            name(&at("columnName").unwrap_or_default()),
            literal(&at("remarks").unwrap_or_default())
        )],
        "createProcedure" => vec![text_of(change)],
        "dropSequence" => vec![format!(
            "DROP SEQUENCE {}",
            qualified(at("schemaName"), &at("sequenceName").unwrap_or_default())
        )],
        "createView" => vec![format!(
            "CREATE {}VIEW {} AS {}",
            if flag(at("replaceIfExists")) {
                "OR REPLACE "
            } else {
                ""
            },
            qualified(at("schemaName"), &at("viewName").unwrap_or_default()),
            text_of(change).trim().trim_end_matches(';')
        )],
        "dropView" => vec![format!(
            "DROP VIEW {}",
            qualified(at("schemaName"), &at("viewName").unwrap_or_default())
        )],
        "renameView" => vec![format!(
            "ALTER VIEW {} RENAME TO {}",
            qualified(at("schemaName"), &at("oldViewName").unwrap_or_default()),
            name(&at("newViewName").unwrap_or_default())
        )],
        "renameSequence" => vec![format!(
            "ALTER SEQUENCE {} RENAME TO {}",
            qualified(at("schemaName"), &at("oldSequenceName").unwrap_or_default()),
            name(&at("newSequenceName").unwrap_or_default())
        )],
        "sql" => vec![text_of(change)],
        // `relativeToChangelogFile="true"` or a classpath path, found the same way.
        "sqlFile" => {
            let path = at("path").unwrap_or_default();
            let text = crate::discover::liquibase_changelog::resolve(base, &path)
                .and_then(|file| std::fs::read_to_string(file).ok())
                .ok_or_else(|| format!("the file of this `sqlFile`, `{path}`, cannot be read"))?;
            vec![text]
        }
        // Rows from a CSV file: no schema change, and none on the round trip's empty database.
        "loadData" | "loadUpdateData" => Vec::new(),
        "insert" => {
            let (columns, values): (Vec<String>, Vec<String>) = columns(change)
                .filter_map(|c| Some((name(&attribute(c, "name")?), value(c, attribute)?)))
                .unzip();
            vec![format!(
                "INSERT INTO {} ({}) VALUES ({})",
                table(),
                columns.join(", "),
                values.join(", ")
            )]
        }
        "update" => {
            let sets: Vec<String> = columns(change)
                .filter_map(|c| {
                    Some(format!(
                        "{} = {}",
                        name(&attribute(c, "name")?),
                        value(c, attribute)?
                    ))
                })
                .collect();
            vec![format!(
                "UPDATE {} SET {}{}",
                table(),
                sets.join(", "),
                where_clause(change)
            )]
        }
        "delete" => vec![format!("DELETE FROM {}{}", table(), where_clause(change))],
        // Bookkeeping and messages: no SQL.
        "tagDatabase" | "empty" | "output" | "comment" => Vec::new(),
        other => return Err(format!("{UNREAD_CHANGE} `{other}` is not read")),
    };
    Ok(statements)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql_of(change: &str) -> Vec<String> {
        let document = roxmltree::Document::parse(change).unwrap();
        let attribute = |node: Node, key: &str| node.attribute(key).map(str::to_string);
        forward(
            document.root_element(),
            &attribute,
            std::path::Path::new("."),
        )
        .unwrap()
    }

    #[test]
    fn changes_are_the_sql_liquibase_sends_postgres() {
        assert_eq!(
            sql_of(
                r#"<createTable tableName="Orders" schemaName="SHOP"><column name="ID" type="BIGINT" autoIncrement="true"><constraints primaryKey="true"/></column><column name="placed" type="datetime"><constraints nullable="false"/></column><column name="user" type="clob"/></createTable>"#
            ),
            [
                r#"CREATE TABLE shop."Orders" (id BIGINT GENERATED BY DEFAULT AS IDENTITY, placed TIMESTAMP WITHOUT TIME ZONE NOT NULL, "user" TEXT, PRIMARY KEY (id))"#
            ]
        );
        assert_eq!(
            sql_of(
                r#"<addNotNullConstraint tableName="orders" columnName="state" defaultNullValue="new"/>"#
            ),
            [
                "UPDATE orders SET state = 'new' WHERE state IS NULL",
                "ALTER TABLE orders ALTER COLUMN state SET NOT NULL"
            ]
        );
        assert_eq!(
            sql_of(
                r#"<addForeignKeyConstraint baseTableName="orders" baseColumnNames="user_id" constraintName="orders_user_fk" referencedTableName="users" referencedColumnNames="id" onDelete="CASCADE" validate="false"/>"#
            ),
            [
                "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE NOT VALID"
            ]
        );
        assert_eq!(
            sql_of(
                r#"<modifyDataType tableName="orders" columnName="total" newDataType="number(12,2)"/>"#
            ),
            [
                "ALTER TABLE orders ALTER COLUMN total TYPE NUMERIC(12,2) USING (total::NUMERIC(12,2))"
            ]
        );
        // Liquibase's types for PostgreSQL: a serial is an integer, its sequence only the
        // identity `autoIncrement` asks for; MySQL's blobs are bytea; a column's
        // `checkConstraint` is sent by no open-source generator.
        assert_eq!(
            sql_of(
                r#"<createTable tableName="files"><column name="id" type="SERIAL" autoIncrement="true"/><column name="body" type="MEDIUMBLOB"/><column name="size" type="int"><constraints checkConstraint="CHECK (size > 0)"/></column></createTable>"#
            ),
            [
                "CREATE TABLE files (id INTEGER GENERATED BY DEFAULT AS IDENTITY, body BYTEA, size INTEGER)"
            ]
        );
        assert_eq!(
            super::super::sql_text::with_quoting(
                super::super::sql_text::Quoting::OnlyReservedWords,
                || sql_of(r#"<dropTable tableName="ContainerTypes"/>"#)
            ),
            ["DROP TABLE containertypes"]
        );
        assert!(sql_of(r#"<dropPrimaryKey tableName="task_key"/>"#)[0].starts_with("DO $$"));
        // `null` is NULL; a unique constraint without a name gets PostgreSQL's; an expression
        // column is written as is; a sequence's next value is `nextval`.
        assert_eq!(
            sql_of(
                r#"<addColumn tableName="users"><column name="note" type="text" defaultValue="NULL"/></addColumn>"#
            ),
            ["ALTER TABLE users ADD note TEXT DEFAULT NULL"]
        );
        assert_eq!(
            sql_of(r#"<addUniqueConstraint tableName="users" columnNames="email"/>"#),
            ["ALTER TABLE users ADD UNIQUE (email)"]
        );
        assert_eq!(
            sql_of(
                r#"<createIndex tableName="users" indexName="users_lower_email"><column name="lower(email)"/></createIndex>"#
            ),
            ["CREATE INDEX users_lower_email ON users (lower(email))"]
        );
        assert_eq!(
            sql_of(
                r#"<insert tableName="users"><column name="id" valueSequenceNext="users_seq"/><column name="note" value="null"/></insert>"#
            ),
            ["INSERT INTO users (id, note) VALUES (nextval('users_seq'), NULL)"]
        );
        // A date Liquibase cannot parse is a function: JHipster's `${now}`.
        assert_eq!(
            sql_of(
                r#"<addColumn tableName="users"><column name="created" type="timestamp" defaultValueDate="current_timestamp"/><column name="since" type="date" defaultValueDate="2020-01-31"/></addColumn>"#
            ),
            [
                "ALTER TABLE users ADD created timestamp DEFAULT current_timestamp",
                "ALTER TABLE users ADD since date DEFAULT '2020-01-31'"
            ]
        );
        assert_eq!(
            sql_of(
                r#"<alterSequence sequenceName="hibernate_sequence" incrementBy="50" cycle="false"/>"#
            ),
            ["ALTER SEQUENCE hibernate_sequence INCREMENT BY 50 NO CYCLE"]
        );
        assert!(
            forward(
                roxmltree::Document::parse("<addLookupTable/>")
                    .unwrap()
                    .root_element(),
                &|_, _| None,
                std::path::Path::new(".")
            )
            .unwrap_err()
            .starts_with(UNREAD_CHANGE)
        );
    }
}
