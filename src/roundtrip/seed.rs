//! `--seed-rows N`: before each revision's upgrade, every empty table gets N generated rows, so
//! the round trip meets what fails only on tables with rows (a NOT NULL column without a
//! default) and the lock trace shows real rewrite costs.

use std::collections::{BTreeMap, BTreeSet};

use super::postgres::db_error;

struct Column {
    name: String,
    ty: String,
    category: String,
    not_null: bool,
    has_default: bool,
    generated: bool,
    is_enum: bool,
}

struct Table {
    oid: u32,
    qualified: String,
    columns: Vec<Column>,
    /// Column → (referenced table oid, its qualified name, referenced column).
    references: BTreeMap<String, (u32, String, String)>,
}

fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// A SQL expression producing the `g`-th value of a column, or None when no value can be made
/// (the column is then left to its default or NULL).
fn generator(column: &Column) -> Option<String> {
    let ty = &column.ty;
    if column.is_enum {
        return Some(format!(
            "(enum_range(NULL::{ty}))[1 + (g % array_length(enum_range(NULL::{ty}), 1))]"
        ));
    }
    let lower = ty.to_ascii_lowercase();
    Some(match column.category.as_str() {
        "N" if lower == "smallint" => "(g % 32000)::smallint".to_string(),
        "N" => format!("g::{ty}"),
        "S" => format!("('v' || g)::{ty}"),
        "B" => "(g % 2 = 0)".to_string(),
        "D" => format!("(now() - make_interval(mins => g))::{ty}"),
        "T" => format!("make_interval(mins => g)::{ty}"),
        "A" => format!("'{{}}'::{ty}"),
        "U" if lower == "uuid" => "gen_random_uuid()".to_string(),
        "U" if lower == "json" || lower == "jsonb" => format!("json_build_object('n', g)::{ty}"),
        "I" => format!("('10.0.0.' || (g % 250))::{ty}"),
        _ => return None,
    })
}

async fn empty_tables(
    client: &tokio_postgres::Client,
) -> Result<Vec<Table>, tokio_postgres::Error> {
    let rows = client
        .query(
            "SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
               AND n.nspname NOT LIKE 'pg\\_%'
               AND c.relname NOT IN ('alembic_version', 'schema_migrations', 'flyway_schema_history')",
            &[],
        )
        .await?;
    let mut tables = Vec::new();
    for row in rows {
        let oid: u32 = row.get(0);
        let qualified: String = row.get(1);
        let has_rows: bool = client
            .query_one(&format!("SELECT EXISTS (SELECT 1 FROM {qualified})"), &[])
            .await?
            .get(0);
        if has_rows {
            continue;
        }
        let columns = client
            .query(
                "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), t.typcategory::text,
                        a.attnotnull, a.atthasdef, a.attidentity <> '' OR a.attgenerated <> '',
                        t.typtype = 'e'
                 FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                 WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
                 ORDER BY a.attnum",
                &[&oid],
            )
            .await?
            .iter()
            .map(|r| Column {
                name: r.get(0),
                ty: r.get(1),
                category: r.get(2),
                not_null: r.get(3),
                has_default: r.get(4),
                generated: r.get(5),
                is_enum: r.get(6),
            })
            .collect();
        let references = client
            .query(
                "SELECT a.attname::text, k.confrelid,
                        quote_ident(n.nspname) || '.' || quote_ident(rc.relname), ra.attname::text
                 FROM pg_constraint k
                 JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
                 JOIN pg_class rc ON rc.oid = k.confrelid
                 JOIN pg_namespace n ON n.oid = rc.relnamespace
                 JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = k.confkey[1]
                 WHERE k.contype = 'f' AND k.conrelid = $1 AND array_length(k.conkey, 1) = 1",
                &[&oid],
            )
            .await?
            .iter()
            .map(|r| (r.get::<_, String>(0), (r.get(1), r.get(2), r.get(3))))
            .collect();
        tables.push(Table {
            oid,
            qualified,
            columns,
            references,
        });
    }
    Ok(tables)
}

/// Fills every empty table with `rows` rows, parents before children; returns what could not
/// be seeded and why.
pub async fn fill(client: &tokio_postgres::Client, rows: u32) -> Vec<String> {
    let tables = match empty_tables(client).await {
        Ok(tables) => tables,
        Err(error) => return vec![format!("cannot list tables to seed: {}", db_error(&error))],
    };
    let empty: BTreeSet<u32> = tables.iter().map(|t| t.oid).collect();
    let mut done: BTreeSet<u32> = BTreeSet::new();
    let mut problems = Vec::new();
    // Parents first: a table waits while it references an empty table not yet filled.
    let mut waiting: Vec<&Table> = tables.iter().collect();
    while !waiting.is_empty() {
        let ready: Vec<&Table> = waiting
            .iter()
            .copied()
            .filter(|t| {
                t.references.values().all(|(parent, _, _)| {
                    *parent == t.oid || !empty.contains(parent) || done.contains(parent)
                })
            })
            .collect();
        // A cycle of references: fill the rest anyway, nullable references left NULL.
        let batch = if ready.is_empty() {
            waiting.clone()
        } else {
            ready
        };
        for table in &batch {
            let mut names = Vec::new();
            let mut values = Vec::new();
            for column in &table.columns {
                if column.generated {
                    continue;
                }
                let value = match table.references.get(&column.name) {
                    Some((parent, _, _)) if *parent == table.oid => None,
                    Some((_, parent, key)) => Some(format!(
                        "(SELECT {key} FROM {parent} ORDER BY 1 OFFSET ((g - 1) % GREATEST((SELECT count(*) FROM {parent}), 1)) LIMIT 1)",
                        key = quote(key)
                    )),
                    None if column.has_default && !column.not_null => None,
                    None => generator(column),
                };
                if let Some(value) = value {
                    names.push(quote(&column.name));
                    values.push(value);
                }
            }
            let statement = if names.is_empty() {
                format!(
                    "INSERT INTO {} SELECT FROM generate_series(1, {rows}) g",
                    table.qualified
                )
            } else {
                format!(
                    "INSERT INTO {} ({}) SELECT {} FROM generate_series(1, {rows}) g",
                    table.qualified,
                    names.join(", "),
                    values.join(", ")
                )
            };
            if let Err(error) = client.batch_execute(&statement).await {
                problems.push(format!(
                    "{} not seeded: {}",
                    table.qualified,
                    db_error(&error)
                ));
            }
            done.insert(table.oid);
        }
        waiting.retain(|t| !done.contains(&t.oid));
    }
    let _ = client.batch_execute("ANALYZE").await;
    problems
}
