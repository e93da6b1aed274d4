//! Liquibase XML changelogs: each changeset a migration, its change elements read as the SQL
//! Liquibase sends PostgreSQL, rolled back by its `<rollback>` or by the inverses Liquibase
//! generates, and run that way by the round trip. A project written by us, modelled on Spring
//! Boot services that keep their changelogs under `src/main/resources/db/changelog`.

mod common;

use std::path::Path;

use common::project::{errors_and_warnings, json, run, write};
use common::roundtrip::{pairs, roundtrip, statuses};
use common::{postgres_binaries, scratch_dir};

const CHANGELOG: &str = "src/main/resources/db/changelog";

fn xml_project(root: &Path) {
    write(
        root,
        &format!("{CHANGELOG}/db.changelog-master.xml"),
        r#"<?xml version="1.0" encoding="UTF-8"?>
<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">
  <include file="changes/001-users.sql" relativeToChangelogFile="true"/>
  <include file="changes/002-orders.xml" relativeToChangelogFile="true"/>
</databaseChangeLog>
"#,
    );
    write(
        root,
        &format!("{CHANGELOG}/changes/001-users.sql"),
        "--liquibase formatted sql\n\n--changeset ann:1\nCREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);\n--rollback DROP TABLE users;\n",
    );
    write(
        root,
        &format!("{CHANGELOG}/changes/002-orders.xml"),
        r#"<?xml version="1.0" encoding="UTF-8"?>
<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">
  <property name="money" value="numeric(12,2)" dbms="postgresql"/>
  <property name="money" value="decimal(12,2)" dbms="h2"/>

  <changeSet id="2" author="ann">
    <createTable tableName="orders">
      <column name="id" type="bigint" autoIncrement="true">
        <constraints primaryKey="true"/>
      </column>
      <column name="user_id" type="bigint">
        <constraints nullable="false" foreignKeyName="orders_user_id_fkey" referencedTableName="users" referencedColumnNames="id"/>
      </column>
      <column name="total" type="${money}" defaultValueNumeric="0"/>
      <column name="placed_at" type="datetime"/>
    </createTable>
  </changeSet>

  <changeSet id="3" author="ann">
    <createIndex tableName="orders" indexName="orders_user_id_idx">
      <column name="user_id"/>
    </createIndex>
  </changeSet>

  <changeSet id="4" author="ann" runInTransaction="false">
    <sql>SET lock_timeout = '3s'; CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_placed_at_idx ON orders (placed_at)</sql>
    <rollback>
      <sql>DROP INDEX CONCURRENTLY IF EXISTS orders_placed_at_idx</sql>
    </rollback>
  </changeSet>

  <changeSet id="5" author="ann">
    <addColumn tableName="orders">
      <column name="note" type="varchar(200)"/>
    </addColumn>
    <rollback>
      <sql>SELECT 1</sql>
    </rollback>
  </changeSet>

  <changeSet id="7" author="ann">
    <sqlFile path="sql/order_totals.sql" relativeToChangelogFile="true"/>
    <rollback>
      <dropView viewName="order_totals"/>
    </rollback>
  </changeSet>

  <changeSet id="8" author="ann">
    <loadData tableName="users" file="users.csv"/>
  </changeSet>

  <changeSet id="9" author="ann">
    <preConditions onFail="MARK_RAN"><dbms type="mssql"/></preConditions>
    <sql>IF EXISTS (SELECT * FROM sysobjects WHERE name = 'orders_tmp') DROP TABLE orders_tmp</sql>
  </changeSet>

  <changeSet id="10" author="ann">
    <preConditions onFail="MARK_RAN">
      <sqlCheck expectedResult="1">SELECT count(*) FROM pg_available_extensions WHERE name = 'no_such_extension'</sqlCheck>
    </preConditions>
    <sql>SELECT no_such_extension_function('orders')</sql>
  </changeSet>

  <changeSet id="11" author="ann">
    <preConditions onFail="MARK_RAN"><tableExists tableName="users"/></preConditions>
    <addColumn tableName="users"><column name="nickname" type="text"/></addColumn>
  </changeSet>

  <changeSet id="6" author="ann" dbms="h2">
    <sql>CREATE ALIAS now_h2 FOR "java.time.Instant.now"</sql>
  </changeSet>
</databaseChangeLog>
"#,
    );
    // Run by changeset 7's `<sqlFile>`, not a migration of its own.
    write(
        root,
        &format!("{CHANGELOG}/changes/sql/order_totals.sql"),
        "CREATE VIEW order_totals AS SELECT user_id, sum(total) AS total FROM orders GROUP BY user_id;\n",
    );
}

/// The changesets are read where the master changelog includes them, as PostgreSQL gets them:
/// the index built inside the changeset's transaction is an error on its element, the
/// concurrent one outside any is not, the `dbms="h2"` changeset is another database's, and a
/// rollback that leaves the added column is incomplete.
#[test]
fn xml_changesets_are_migrations_read_as_the_sql_liquibase_sends() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    xml_project(root);
    let output = run(&["check", "--format", "json", "--show-sets"], root);
    let document = json(&output);
    let found = errors_and_warnings(&document);
    let xml = format!("{CHANGELOG}/changes/002-orders.xml");
    assert!(
        found.contains(&("create-index-non-concurrently".to_string(), xml.clone())),
        "{found:?}"
    );
    assert!(
        found.contains(&("incomplete-downgrade".to_string(), xml.clone())),
        "{found:?}"
    );
    assert!(
        !found
            .iter()
            .any(|(rule, _)| rule == "concurrent-index-in-transaction"
                || rule == "unparsed-sql"
                // A rollback of only `<dropView>` runs a statement no rule reads.
                || rule == "missing-downgrade"),
        "{found:?}"
    );
    let index = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "create-index-non-concurrently")
        .unwrap();
    assert_eq!(index["line"], 20, "{index:#?}");
    let sets = String::from_utf8_lossy(&output.stderr);
    assert!(sets.contains("liquibase, 9 migrations"), "{sets}");
    assert_eq!(
        sets.lines().filter(|l| l.starts_with("set ")).count(),
        1,
        "{sets}"
    );
}

/// The round trip sends each changeset's SQL and its rollback — written, or the inverse
/// Liquibase generates — and finds the rollback that leaves a column behind.
#[test]
fn xml_changesets_round_trip_the_way_liquibase_runs_them() {
    let Some(_) = postgres_binaries() else {
        return;
    };
    let tmp = scratch_dir();
    let dir = scratch_dir();
    xml_project(dir.path());
    let folder = dir.path().display().to_string();
    let output = roundtrip(
        &[&folder, "--postgres", "local", "--format", "json"],
        tmp.path(),
    )
    .output()
    .unwrap();
    assert_eq!(
        statuses(&output),
        pairs(&[
            ("001-users.sql::ann:1", "passed"),
            ("002-orders.xml::ann:2", "passed"),
            ("002-orders.xml::ann:3", "passed"),
            ("002-orders.xml::ann:4", "passed"),
            ("002-orders.xml::ann:5", "failed"),
            ("002-orders.xml::ann:7", "passed"),
            // Rows from a CSV file are no schema change: not loaded.
            ("002-orders.xml::ann:8", "ran-nothing"),
            // Its precondition does not hold on a database without the extension: marked ran.
            ("002-orders.xml::ann:10", "ran-nothing"),
            ("002-orders.xml::ann:11", "passed"),
        ]),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `includeAll` runs a folder's changelogs and SQL files in the order of their paths, an XML
/// changelog's changesets among them.
#[test]
fn include_all_runs_xml_changelogs_and_sql_files_in_path_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        &format!("{CHANGELOG}/db.changelog-master.xml"),
        r#"<databaseChangeLog><includeAll path="changes/" relativeToChangelogFile="true"/></databaseChangeLog>"#,
    );
    write(
        root,
        &format!("{CHANGELOG}/changes/001-users.xml"),
        r#"<databaseChangeLog><changeSet id="1" author="ann"><createTable tableName="users"><column name="id" type="bigint"><constraints primaryKey="true"/></column></createTable></changeSet></databaseChangeLog>"#,
    );
    write(
        root,
        &format!("{CHANGELOG}/changes/002-email.sql"),
        "--liquibase formatted sql\n\n--changeset ann:2\nALTER TABLE users ADD COLUMN email text;\n--rollback ALTER TABLE users DROP COLUMN email;\n",
    );
    let output = run(&["check", "--format", "json", "--show-sets"], root);
    let sets = String::from_utf8_lossy(&output.stderr);
    assert!(sets.contains("liquibase, 2 migrations"), "{sets}");
    // The column is added to the table the XML changeset made: nothing to say about either.
    let document = json(&output);
    assert!(
        errors_and_warnings(&document)
            .iter()
            .all(|(rule, _)| rule == "missing-lock-timeout"),
        "{document:#?}"
    );
}

/// The changesets one `diffChangeLog` run writes (ids `<idRoot>-<n>`) are applied together: an
/// index or foreign key on a table an earlier changeset of the run made is built on a new,
/// unused table; one added later by hand is not.
#[test]
fn a_generated_batch_builds_on_its_own_new_tables() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        &format!("{CHANGELOG}/db.changelog-master.xml"),
        r#"<databaseChangeLog><include file="changes/001-init.xml" relativeToChangelogFile="true"/><include file="changes/20180419083624_added_entity_Team.xml" relativeToChangelogFile="true"/><include file="changes/20180419083624_added_entity_constraints_Team.xml" relativeToChangelogFile="true"/></databaseChangeLog>"#,
    );
    // JHipster writes an entity's table and its constraints to two files, `<timestamp>-1` and
    // `-2` of one generator run.
    write(
        root,
        &format!("{CHANGELOG}/changes/20180419083624_added_entity_Team.xml"),
        r#"<databaseChangeLog><changeSet id="20180419083624-1" author="jhipster"><createTable tableName="team"><column name="id" type="bigint"><constraints primaryKey="true"/></column><column name="batch_id" type="bigint"/></createTable></changeSet></databaseChangeLog>"#,
    );
    write(
        root,
        &format!("{CHANGELOG}/changes/20180419083624_added_entity_constraints_Team.xml"),
        r#"<databaseChangeLog><changeSet id="20180419083624-2" author="jhipster"><addForeignKeyConstraint baseTableName="team" baseColumnNames="batch_id" constraintName="fk_team_batch_id" referencedTableName="batches" referencedColumnNames="id"/></changeSet></databaseChangeLog>"#,
    );
    write(
        root,
        &format!("{CHANGELOG}/changes/001-init.xml"),
        r#"<databaseChangeLog>
  <changeSet author="ann (generated)" id="1596744623461-1">
    <createTable tableName="samples"><column name="id" type="bigint"><constraints primaryKey="true"/></column><column name="batch_id" type="bigint"/></createTable>
  </changeSet>
  <changeSet author="ann (generated)" id="1596744623461-2">
    <createTable tableName="batches"><column name="id" type="bigint"><constraints primaryKey="true"/></column></createTable>
  </changeSet>
  <changeSet author="ann (generated)" id="1596744623461-3">
    <createIndex tableName="samples" indexName="samples_batch_id_idx"><column name="batch_id"/></createIndex>
  </changeSet>
  <changeSet author="ann (generated)" id="1596744623461-4">
    <addForeignKeyConstraint baseTableName="samples" baseColumnNames="batch_id" constraintName="samples_batch_fk" referencedTableName="batches" referencedColumnNames="id"/>
  </changeSet>
  <changeSet author="ann" id="add-samples-name-index">
    <addColumn tableName="samples"><column name="name" type="text"/></addColumn>
    <createIndex tableName="samples" indexName="samples_name_idx"><column name="name"/></createIndex>
  </changeSet>
</databaseChangeLog>
"#,
    );
    let document = json(&run(&["check", "--format", "json"], root));
    let errors: Vec<(String, u64)> = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [("create-index-non-concurrently".to_string(), 16)],
        "{document:#?}"
    );
}

/// A service that runs Liquibase with `spring.liquibase.contexts` never runs a changeset of
/// another context (sample data): it is left out with a note, and one without a context runs.
#[test]
fn changesets_of_contexts_the_service_does_not_run_are_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "src/main/resources/application.yml",
        "spring:\n  liquibase:\n    change-log: classpath:db/changelog/db.changelog-master.xml\n    contexts: schema-change\n",
    );
    write(
        root,
        &format!("{CHANGELOG}/db.changelog-master.xml"),
        r#"<databaseChangeLog>
  <changeSet id="1" author="ann" context="schema-change">
    <createTable tableName="samples"><column name="id" type="bigint"><constraints primaryKey="true"/></column></createTable>
  </changeSet>
  <changeSet id="2" author="ann" context="sample-data">
    <sql>DELETE FROM samples</sql>
  </changeSet>
  <changeSet id="3" author="ann">
    <addColumn tableName="samples"><column name="name" type="text"/></addColumn>
  </changeSet>
</databaseChangeLog>
"#,
    );
    let output = run(&["check", "--format", "json", "--show-sets"], root);
    let sets = String::from_utf8_lossy(&output.stderr);
    assert!(sets.contains("liquibase, 2 migrations"), "{sets}");
    let document = json(&output);
    let notes: Vec<&str> = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "skipped-folder")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert!(
        notes.iter().any(|m| m.contains(
            "1 changeset of a context the service's `spring.liquibase.contexts` does not select"
        )),
        "{notes:?}"
    );
}
