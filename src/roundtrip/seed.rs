//! `--seed-rows N`: before each revision's upgrade, every empty table gets N generated rows, so
//! the round trip meets what fails only on tables with rows (a NOT NULL column without a
//! default) and the lock trace shows real rewrite costs.

use std::collections::{BTreeMap, BTreeSet};

use super::postgres::db_error;
use crate::model::names::quote_identifier as quote;

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
    let all = client
        .query(
            "SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
               AND n.nspname NOT LIKE 'pg\\_%'
               AND c.relname NOT IN ('alembic_version', 'schema_migrations', 'flyway_schema_history')",
            &[],
        )
        .await?;
    if all.is_empty() {
        return Ok(Vec::new());
    }
    // Which tables are empty, in one round trip however many tables the history has made.
    let probe = all
        .iter()
        .map(|row| {
            let oid: u32 = row.get(0);
            let qualified: String = row.get(1);
            format!("SELECT {oid}::oid WHERE NOT EXISTS (SELECT 1 FROM {qualified})")
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let empty: BTreeSet<u32> = client
        .query(&probe, &[])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let oids: Vec<u32> = empty.iter().copied().collect();
    let mut columns: BTreeMap<u32, Vec<Column>> = BTreeMap::new();
    for r in client
        .query(
            "SELECT a.attrelid, a.attname::text, format_type(a.atttypid, a.atttypmod), t.typcategory::text,
                    a.attnotnull, a.atthasdef, a.attidentity <> '' OR a.attgenerated <> '',
                    t.typtype = 'e'
             FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
             WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attrelid, a.attnum",
            &[&oids],
        )
        .await?
    {
        columns.entry(r.get(0)).or_default().push(Column {
            name: r.get(1),
            ty: r.get(2),
            category: r.get(3),
            not_null: r.get(4),
            has_default: r.get(5),
            generated: r.get(6),
            is_enum: r.get(7),
        });
    }
    let mut references: BTreeMap<u32, BTreeMap<String, (u32, String, String)>> = BTreeMap::new();
    for r in client
        .query(
            "SELECT k.conrelid, a.attname::text, k.confrelid,
                    quote_ident(n.nspname) || '.' || quote_ident(rc.relname), ra.attname::text
             FROM pg_constraint k
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
             JOIN pg_class rc ON rc.oid = k.confrelid
             JOIN pg_namespace n ON n.oid = rc.relnamespace
             JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = k.confkey[1]
             WHERE k.contype = 'f' AND k.conrelid = ANY($1) AND array_length(k.conkey, 1) = 1",
            &[&oids],
        )
        .await?
    {
        references
            .entry(r.get(0))
            .or_default()
            .insert(r.get(1), (r.get(2), r.get(3), r.get(4)));
    }
    Ok(all
        .iter()
        .filter_map(|row| {
            let oid: u32 = row.get(0);
            empty.contains(&oid).then(|| Table {
                oid,
                qualified: row.get(1),
                columns: columns.remove(&oid).unwrap_or_default(),
                references: references.remove(&oid).unwrap_or_default(),
            })
        })
        .collect())
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
    let mut seeded: Vec<&str> = Vec::new();
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
            // Each referenced table's keys, read once per statement, not once per row.
            let mut parents = Vec::new();
            for column in &table.columns {
                if column.generated {
                    continue;
                }
                let value = match table.references.get(&column.name) {
                    Some((parent, _, _)) if *parent == table.oid => None,
                    Some((_, parent, key)) => {
                        let alias = format!("parent_{}", parents.len());
                        parents.push(format!(
                            "(SELECT array_agg({key} ORDER BY {key}) AS keys FROM {parent}) AS {alias}",
                            key = quote(key)
                        ));
                        Some(format!(
                            "{alias}.keys[1 + (g - 1) % GREATEST(cardinality({alias}.keys), 1)]"
                        ))
                    }
                    None if column.has_default && !column.not_null => None,
                    None => generator(column),
                };
                if let Some(value) = value {
                    names.push(quote(&column.name));
                    values.push(value);
                }
            }
            let source = std::iter::once(format!("generate_series(1, {rows}) g"))
                .chain(parents)
                .collect::<Vec<_>>()
                .join(", ");
            let statement = if names.is_empty() {
                format!("INSERT INTO {} SELECT FROM {source}", table.qualified)
            } else {
                format!(
                    "INSERT INTO {} ({}) SELECT {} FROM {source}",
                    table.qualified,
                    names.join(", "),
                    values.join(", ")
                )
            };
            match client.batch_execute(&statement).await {
                Ok(()) => seeded.push(table.qualified.as_str()),
                Err(error) => problems.push(format!(
                    "{} not seeded: {}",
                    table.qualified,
                    db_error(&error)
                )),
            }
            done.insert(table.oid);
        }
        waiting.retain(|t| !done.contains(&t.oid));
    }
    // Statistics for the tables just filled (the planner of a data migration sees rows), not
    // for the whole database again before every revision.
    if !seeded.is_empty() {
        let _ = client
            .batch_execute(&format!("ANALYZE {}", seeded.join(", ")))
            .await;
    }
    problems
}
