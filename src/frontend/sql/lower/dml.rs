//! UPDATE, DELETE and INSERT: which rows they touch, and whether they write the system
//! catalogs.

use sqlparser::ast::{Expr, FromTable, Statement};

use crate::model::OpKind;

use super::relation;

/// The operation of a data statement; `None` for any other statement (a non-catalog INSERT
/// is the caller's: it writes rows, and names no table the model tracks). `common` names the
/// common tables of the `WITH` the statement follows.
pub(super) fn lower_dml(statement: &Statement, common: &[String]) -> Option<Vec<OpKind>> {
    let (verb, table) = match statement {
        Statement::Update(update) => ("UPDATE", relation(&update.table)),
        Statement::Delete(delete) => ("DELETE", delete_target(delete).unwrap_or_default()),
        Statement::Insert(insert) => (
            "INSERT",
            match &insert.table {
                sqlparser::ast::TableObject::TableName(table) => super::name(table),
                other => other.to_string(),
            },
        ),
        _ => return None,
    };
    if is_system_catalog(&table) {
        return Some(vec![OpKind::CatalogWrite {
            catalog: table,
            statement: verb,
        }]);
    }
    let (filtered, null_test) = match statement {
        Statement::Update(update) => row_filter(
            update.selection.as_ref(),
            update.from.is_some(),
            update
                .from
                .as_ref()
                .is_some_and(|from| joins_only_tables(from, common)),
        ),
        Statement::Delete(delete) => (delete.selection.is_some(), None),
        _ => return None,
    };
    Some(vec![OpKind::DataChange {
        table,
        statement: verb,
        filtered,
        null_test,
    }])
}

/// The table a DELETE removes rows from.
fn delete_target(delete: &sqlparser::ast::Delete) -> Option<String> {
    let from = match &delete.from {
        FromTable::WithFromKeyword(tables) | FromTable::WithoutKeyword(tables) => tables,
    };
    from.first().map(relation)
}

/// PostgreSQL's system catalogs a migration may be tempted to edit by hand.
const SYSTEM_CATALOGS: &[&str] = &[
    "pg_attrdef",
    "pg_attribute",
    "pg_class",
    "pg_constraint",
    "pg_database",
    "pg_depend",
    "pg_description",
    "pg_enum",
    "pg_extension",
    "pg_index",
    "pg_inherits",
    "pg_namespace",
    "pg_proc",
    "pg_rewrite",
    "pg_sequence",
    "pg_statistic",
    "pg_trigger",
    "pg_type",
    "pg_authid",
    "pg_auth_members",
    "pg_shdepend",
    "pg_cast",
    "pg_opclass",
    "pg_am",
];

/// Whether a table name names a system catalog: anything in `pg_catalog`, or a system
/// catalog's bare name (found first on every search_path).
fn is_system_catalog(table: &str) -> bool {
    let name = table.trim_matches('"');
    match name.split_once('.') {
        Some((schema, _)) => schema.trim_matches('"').eq_ignore_ascii_case("pg_catalog"),
        None => SYSTEM_CATALOGS.iter().any(|c| c.eq_ignore_ascii_case(name)),
    }
}

/// What an UPDATE's WHERE says about the rows it touches: whether it limits them at all (an
/// `UPDATE ... FROM` of tables whose WHERE only joins them touches every row with a partner;
/// joined to a subquery or a common table, the rows are what that query chose), and the column
/// of a WHERE that is only `column IS NULL`.
fn row_filter(
    selection: Option<&Expr>,
    joined: bool,
    joined_tables_only: bool,
) -> (bool, Option<String>) {
    let Some(selection) = selection else {
        return (false, None);
    };
    if joined && joined_tables_only && only_joins(selection) {
        return (false, None);
    }
    let null_test = match unnested(selection) {
        Expr::IsNull(inner) => match unnested(inner) {
            Expr::Identifier(column) => Some(column.value.clone()),
            Expr::CompoundIdentifier(parts) => parts.last().map(|p| p.value.clone()),
            _ => None,
        },
        _ => None,
    };
    (true, null_test)
}

/// Whether an UPDATE's FROM names only tables: no subquery, function or common table.
fn joins_only_tables(from: &sqlparser::ast::UpdateTableFromKind, common: &[String]) -> bool {
    use sqlparser::ast::{TableFactor, UpdateTableFromKind};
    let (UpdateTableFromKind::BeforeSet(tables) | UpdateTableFromKind::AfterSet(tables)) = from;
    let plain = |factor: &TableFactor| match factor {
        TableFactor::Table { name, args, .. } => {
            args.is_none()
                && !common.iter().any(|c| {
                    name.0.len() == 1 && name.to_string().trim_matches('"').eq_ignore_ascii_case(c)
                })
        }
        _ => false,
    };
    tables
        .iter()
        .all(|t| plain(&t.relation) && t.joins.iter().all(|j| plain(&j.relation)))
}

/// A WHERE made only of `a.x = b.y` conditions between columns, joined by AND.
fn only_joins(expr: &Expr) -> bool {
    let is_column = |e: &Expr| {
        matches!(
            unnested(e),
            Expr::Identifier(_) | Expr::CompoundIdentifier(_)
        )
    };
    match unnested(expr) {
        Expr::BinaryOp { left, op, right } => match op {
            sqlparser::ast::BinaryOperator::And => only_joins(left) && only_joins(right),
            sqlparser::ast::BinaryOperator::Eq => is_column(left) && is_column(right),
            _ => false,
        },
        _ => false,
    }
}

/// An expression without the parentheses around it.
pub(super) fn unnested(expr: &Expr) -> &Expr {
    match expr {
        Expr::Nested(inner) => unnested(inner),
        other => other,
    }
}

/// The tables a query reads rows from: every table named in its FROM clauses, joins,
/// subqueries, set operations and common tables (the common tables' own names left out).
pub(super) fn tables_read(query: &sqlparser::ast::Query) -> Vec<String> {
    let mut common = Vec::new();
    let mut tables = Vec::new();
    read_query(query, &mut common, &mut tables);
    tables.retain(|t| {
        !common
            .iter()
            .any(|c: &String| crate::model::op::same_name(c, t))
    });
    tables.dedup();
    tables
}

fn read_query(query: &sqlparser::ast::Query, common: &mut Vec<String>, tables: &mut Vec<String>) {
    if let Some(with) = &query.with {
        for cte in &with.cte_tables {
            common.push(cte.alias.name.value.clone());
            read_query(&cte.query, common, tables);
        }
    }
    read_set(&query.body, common, tables);
}

fn read_set(body: &sqlparser::ast::SetExpr, common: &mut Vec<String>, tables: &mut Vec<String>) {
    use sqlparser::ast::SetExpr;
    match body {
        SetExpr::Select(select) => {
            for from in &select.from {
                read_factor(&from.relation, common, tables);
                for join in &from.joins {
                    read_factor(&join.relation, common, tables);
                }
            }
        }
        SetExpr::Query(query) => read_query(query, common, tables),
        SetExpr::SetOperation { left, right, .. } => {
            read_set(left, common, tables);
            read_set(right, common, tables);
        }
        // `TABLE t`, `TABLE s.t`.
        SetExpr::Table(table) => {
            if let Some(name) = &table.table_name {
                let bare = super::identifier(name);
                tables.push(match &table.schema_name {
                    Some(schema) => format!("{}.{bare}", super::identifier(schema)),
                    None => bare,
                });
            }
        }
        _ => {}
    }
}

fn read_factor(
    factor: &sqlparser::ast::TableFactor,
    common: &mut Vec<String>,
    tables: &mut Vec<String>,
) {
    use sqlparser::ast::TableFactor;
    match factor {
        TableFactor::Table {
            name, args: None, ..
        } => tables.push(super::name(name)),
        TableFactor::Derived { subquery, .. } => read_query(subquery, common, tables),
        TableFactor::NestedJoin {
            table_with_joins, ..
        } => {
            read_factor(&table_with_joins.relation, common, tables);
            for join in &table_with_joins.joins {
                read_factor(&join.relation, common, tables);
            }
        }
        _ => {}
    }
}
