//! PostgreSQL's own grammar (libpg_query, through the `pg_query` crate): the judge of whether a
//! statement sqlparser rejected is PostgreSQL at all, and the reader of the statements whose
//! meaning later rules depend on (a table created, an index built, a trigger added).
//!
//! sqlparser stays the first reader: it is complete for the statements migrations write most and
//! several times faster. This module sees only what it rejects.

mod alter_table;

use pg_query::NodeEnum;
use pg_query::protobuf::{
    ColumnDef, ConstrType, Constraint, CreateStmt, IndexStmt, Node, ObjectType, RangeVar,
    RenameStmt, TransactionStmtKind, TypeName,
};

use crate::model::op::complete_primary_key;
use crate::model::{Column, ColumnType, ConstraintKind, DefaultExpr, OpKind, RelationKind};

/// What PostgreSQL's grammar makes of one statement.
pub enum Verdict {
    /// Not PostgreSQL: the parser's own message.
    Rejected(String),
    /// Valid PostgreSQL; the operations when this module knows what the statement means for the
    /// schema, `None` when it is left to the keyword classifier (or is of no interest).
    Accepted(Option<Vec<OpKind>>),
}

pub fn read(statement: &str) -> Verdict {
    let parsed = match pg_query::parse(statement, 0) {
        Ok(parsed) => parsed,
        Err(error) => {
            let message = error.to_string();
            let message = message
                .trim_start_matches("Invalid statement: ")
                .to_string();
            return Verdict::Rejected(message);
        }
    };
    let kinds: Vec<OpKind> = parsed
        .protobuf
        .stmts
        .iter()
        .filter_map(|raw| raw.stmt.as_ref()?.node.as_ref())
        .filter_map(lower)
        .flatten()
        .collect();
    Verdict::Accepted((!kinds.is_empty()).then_some(kinds))
}

fn lower(node: &NodeEnum) -> Option<Vec<OpKind>> {
    match node {
        NodeEnum::CreateStmt(create) => Some(vec![create_table(create)?]),
        NodeEnum::CreateTableAsStmt(create) => {
            let into = create.into.as_ref()?.rel.as_ref()?;
            let name = relation_name(into);
            Some(vec![
                if create.objtype == ObjectType::ObjectMatview as i32 {
                    OpKind::CreateRelation {
                        name,
                        kind: RelationKind::MaterializedView,
                    }
                } else if into.relpersistence == "t" {
                    OpKind::CreateRelation {
                        name,
                        kind: RelationKind::TemporaryTable,
                    }
                } else {
                    OpKind::CreateTable {
                        table: name,
                        columns: Vec::new(),
                        constraints: Vec::new(),
                        if_not_exists: create.if_not_exists,
                        // The query's columns: unknown here.
                        shaped_by: vec![String::from("(query)")],
                    }
                },
            ])
        }
        NodeEnum::IndexStmt(index) => Some(vec![create_index(index)?]),
        NodeEnum::VariableSetStmt(set) => Some(vec![search_path(set)?]),
        NodeEnum::AlterDatabaseSetStmt(alter) => Some(vec![search_path(alter.setstmt.as_ref()?)?]),
        NodeEnum::AlterRoleSetStmt(alter) => Some(vec![search_path(alter.setstmt.as_ref()?)?]),
        NodeEnum::AlterTableStmt(alter) => alter_table::alter_table(alter),
        NodeEnum::RenameStmt(rename) => rename_relation(rename).map(|kind| vec![kind]),
        NodeEnum::TransactionStmt(transaction) => {
            use TransactionStmtKind as Kind;
            match Kind::try_from(transaction.kind).ok()? {
                Kind::TransStmtBegin | Kind::TransStmtStart => Some(vec![OpKind::BeginTransaction]),
                // PREPARE TRANSACTION ends the session's transaction too.
                Kind::TransStmtCommit | Kind::TransStmtRollback | Kind::TransStmtPrepare => {
                    Some(vec![OpKind::CommitTransaction])
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// `SET search_path TO app, "B"` (also in ALTER DATABASE / ROLE): the parser has folded the
/// names; a quoted string is one schema's name, as PostgreSQL quotes list elements.
fn search_path(set: &pg_query::protobuf::VariableSetStmt) -> Option<OpKind> {
    if set.name != "search_path" {
        return None;
    }
    let schemas = set
        .args
        .iter()
        .map(|arg| match arg.node.as_ref()? {
            NodeEnum::AConst(constant) => match constant.val.as_ref()? {
                pg_query::protobuf::a_const::Val::Sval(text) => Some(text.sval.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    Some(OpKind::SetSearchPath { schemas })
}

/// `ALTER TABLE ... RENAME [COLUMN]`: the renames of tables and their columns; other objects'
/// renames (indexes, sequences, types...) are left to the keyword classifier.
fn rename_relation(rename: &RenameStmt) -> Option<OpKind> {
    let relation = rename.relation.as_ref()?;
    let table = relation_name(relation);
    match ObjectType::try_from(rename.rename_type).ok()? {
        // The new name stays in the table's schema.
        ObjectType::ObjectTable => Some(OpKind::RenameTable {
            to: relation_name(&RangeVar {
                relname: rename.newname.clone(),
                ..relation.clone()
            }),
            from: table,
        }),
        ObjectType::ObjectColumn
            if ObjectType::try_from(rename.relation_type) == Ok(ObjectType::ObjectTable) =>
        {
            Some(OpKind::RenameColumn {
                table,
                from: rename.subname.clone(),
                to: rename.newname.clone(),
            })
        }
        _ => None,
    }
}

fn create_table(create: &CreateStmt) -> Option<OpKind> {
    let relation = create.relation.as_ref()?;
    let name = relation_name(relation);
    if relation.relpersistence == "t" {
        return Some(OpKind::CreateRelation {
            name,
            kind: RelationKind::TemporaryTable,
        });
    }
    let mut columns = Vec::new();
    let mut constraints = Vec::new();
    let mut not_null_later = Vec::new();
    let mut shaped_by: Vec<String> = create
        .inh_relations
        .iter()
        .filter_map(|n| match n.node.as_ref()? {
            NodeEnum::RangeVar(parent) => Some(relation_name(parent)),
            _ => None,
        })
        .collect();
    if let Some(of_type) = &create.of_typename {
        shaped_by.push(strings(&of_type.names).join("."));
    }
    for element in &create.table_elts {
        match element.node.as_ref() {
            Some(NodeEnum::TableLikeClause(like)) => {
                shaped_by.extend(like.relation.as_ref().map(relation_name))
            }
            Some(NodeEnum::ColumnDef(def)) => columns.push(column(def)),
            Some(NodeEnum::Constraint(constraint)) => {
                // PostgreSQL 18's `CONSTRAINT name NOT NULL column` among the columns.
                if constraint.contype == ConstrType::ConstrNotnull as i32 {
                    not_null_later.extend(strings(&constraint.keys));
                } else if let Some(kind) = table_constraint(constraint) {
                    constraints.push((non_empty(&constraint.conname), kind));
                }
            }
            _ => {}
        }
    }
    complete_primary_key(&mut columns, &mut constraints);
    // A key's columns are NOT NULL, as is a column PostgreSQL 18's `NOT NULL col` names.
    for column in &mut columns {
        if column.primary_key || not_null_later.contains(&column.name) {
            column.nullable = false;
        }
    }
    Some(OpKind::CreateTable {
        table: name,
        columns,
        constraints,
        if_not_exists: create.if_not_exists,
        shaped_by,
    })
}

fn column(def: &ColumnDef) -> Column {
    let mut column = Column::new(
        def.colname.clone(),
        def.type_name
            .as_ref()
            .map(column_type)
            .unwrap_or_else(|| ColumnType::normalized("unknown", Vec::new())),
    );
    column.serial = column.ty.is_serial();
    column.identity = column.serial || !def.identity.is_empty();
    column.nullable = !def.is_not_null;
    for constraint in def.constraints.iter().filter_map(as_constraint) {
        match ConstrType::try_from(constraint.contype).unwrap_or(ConstrType::Undefined) {
            ConstrType::ConstrNotnull => column.nullable = false,
            ConstrType::ConstrPrimary => {
                column.primary_key = true;
                column.nullable = false;
            }
            ConstrType::ConstrUnique => column.unique = true,
            ConstrType::ConstrIdentity => column.identity = true,
            ConstrType::ConstrDefault => {
                column.server_default = constraint
                    .raw_expr
                    .as_deref()
                    .and_then(deparse)
                    .map(|text| DefaultExpr::from_sql(&text));
            }
            ConstrType::ConstrGenerated => column.generated_stored = true,
            ConstrType::ConstrForeign => {
                column.references = constraint.pktable.as_ref().map(relation_name)
            }
            ConstrType::ConstrCheck => column.checks.push((
                non_empty(&constraint.conname),
                constraint
                    .raw_expr
                    .as_deref()
                    .and_then(deparse)
                    .unwrap_or_default(),
            )),
            _ => {}
        }
    }
    column
}

fn table_constraint(constraint: &Constraint) -> Option<ConstraintKind> {
    match ConstrType::try_from(constraint.contype).ok()? {
        ConstrType::ConstrPrimary => Some(ConstraintKind::PrimaryKey {
            columns: strings(&constraint.keys),
        }),
        ConstrType::ConstrUnique => Some(ConstraintKind::Unique {
            columns: strings(&constraint.keys),
        }),
        ConstrType::ConstrForeign => Some(ConstraintKind::ForeignKey {
            columns: strings(&constraint.fk_attrs),
            referenced_table: constraint.pktable.as_ref().map(relation_name)?,
        }),
        ConstrType::ConstrCheck => Some(ConstraintKind::Check {
            expression: constraint
                .raw_expr
                .as_deref()
                .and_then(deparse)
                .unwrap_or_default(),
        }),
        ConstrType::ConstrExclusion => Some(ConstraintKind::Exclusion),
        _ => None,
    }
}

fn create_index(index: &IndexStmt) -> Option<OpKind> {
    let table = relation_name(index.relation.as_ref()?);
    Some(OpKind::CreateIndex {
        // The index lives in its table's schema.
        name: non_empty(&index.idxname)
            .map(|name| crate::model::names::in_schema_of(&table, &name)),
        table,
        columns: index
            .index_params
            .iter()
            .filter_map(|param| match param.node.as_ref()? {
                NodeEnum::IndexElem(element) if !element.name.is_empty() => {
                    Some(element.name.clone())
                }
                NodeEnum::IndexElem(element) => deparse(element.expr.as_deref()?),
                _ => None,
            })
            .collect(),
        unique: index.unique,
        concurrently: index.concurrent,
        if_not_exists: index.if_not_exists,
        predicate: index.where_clause.as_deref().and_then(deparse),
    })
}

/// A relation's name as the rest of the model writes it: PostgreSQL has already folded unquoted
/// names and kept quoted ones; `public.` (the default schema) is left off.
fn relation_name(relation: &RangeVar) -> String {
    if relation.schemaname.is_empty() || relation.schemaname == "public" {
        relation.relname.clone()
    } else {
        format!("{}.{}", relation.schemaname, relation.relname)
    }
}

fn column_type(type_name: &TypeName) -> ColumnType {
    let names = strings(&type_name.names);
    // `pg_catalog.int4`: the catalog's internal name is what `normalized` knows.
    let base = names
        .iter()
        .rfind(|n| *n != "pg_catalog")
        .cloned()
        .unwrap_or_default();
    let modifiers = type_name
        .typmods
        .iter()
        .filter_map(|m| match m.node.as_ref()? {
            NodeEnum::AConst(constant) => match constant.val.as_ref()? {
                pg_query::protobuf::a_const::Val::Ival(i) => u32::try_from(i.ival).ok(),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let mut ty = ColumnType::normalized(&base, modifiers);
    ty.array = !type_name.array_bounds.is_empty();
    ty
}

fn as_constraint(node: &Node) -> Option<&Constraint> {
    match node.node.as_ref()? {
        NodeEnum::Constraint(constraint) => Some(constraint),
        _ => None,
    }
}

fn strings(nodes: &[Node]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(|n| match n.node.as_ref()? {
            NodeEnum::String(s) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

/// An expression as SQL text. The deparser takes statements only, so the expression is put in
/// the place of `1` in the tree PostgreSQL's parser made of `SELECT 1` (a tree built by hand
/// could hold enum values the C deparser asserts on) and `SELECT ` taken off the result.
fn deparse(node: &Node) -> Option<String> {
    let mut select = pg_query::parse("SELECT 1", 0).ok()?.protobuf;
    let statement = select.stmts.first_mut()?.stmt.as_mut()?.node.as_mut()?;
    let NodeEnum::SelectStmt(statement) = statement else {
        return None;
    };
    let NodeEnum::ResTarget(target) = statement.target_list.first_mut()?.node.as_mut()? else {
        return None;
    };
    target.val = Some(Box::new(node.clone()));
    let text = pg_query::deparse(&select, Default::default()).ok()?;
    text.strip_prefix("SELECT ").map(str::to_string)
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TableLock;

    fn accepted(sql: &str) -> Vec<OpKind> {
        match read(sql) {
            Verdict::Accepted(kinds) => kinds.unwrap_or_default(),
            Verdict::Rejected(message) => panic!("rejected `{sql}`: {message}"),
        }
    }

    #[test]
    fn a_create_table_sqlparser_rejects_is_a_table_with_its_columns_and_key() {
        let kinds = accepted(
            "CREATE TABLE \"Docs\" (id bigint GENERATED ALWAYS AS IDENTITY, body text \
             COMPRESSION lz4 NOT NULL DEFAULT '', CONSTRAINT docs_pk PRIMARY KEY (id))",
        );
        let [
            OpKind::CreateTable {
                table,
                columns,
                constraints,
                shaped_by,
                ..
            },
        ] = kinds.as_slice()
        else {
            panic!("{kinds:?}");
        };
        // Quoted names keep their case, as PostgreSQL keeps it.
        assert_eq!(table, "Docs");
        assert_eq!(columns[0].name, "id");
        assert!(columns[0].identity && columns[0].primary_key && !columns[0].nullable);
        assert_eq!(columns[1].ty.name, "text");
        assert!(!columns[1].nullable, "{:?}", columns[1]);
        assert_eq!(
            columns[1].server_default,
            Some(DefaultExpr::from_sql("''")),
            "{:?}",
            columns[1]
        );
        assert_eq!(constraints[0].0.as_deref(), Some("docs_pk"));
        assert!(shaped_by.is_empty());
    }

    #[test]
    fn partitions_and_copies_say_where_their_shape_comes_from() {
        let kinds = accepted(
            "CREATE TABLE events_2026 PARTITION OF app.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
        );
        assert!(
            matches!(kinds.as_slice(), [OpKind::CreateTable { table, shaped_by, .. }] if table == "events_2026" && shaped_by == &["app.events"]),
            "{kinds:?}"
        );
        let kinds = accepted("CREATE TABLE copy (LIKE public.orig INCLUDING ALL, extra int)");
        assert!(
            matches!(kinds.as_slice(), [OpKind::CreateTable { shaped_by, columns, .. }] if shaped_by == &["orig"] && columns.len() == 1),
            "{kinds:?}"
        );
    }

    #[test]
    fn alter_table_actions_become_one_operation_each_with_their_lock() {
        let kinds = accepted(
            "ALTER TABLE ONLY orders ALTER COLUMN note SET DATA TYPE text COLLATE \"C\", \
             SET LOGGED, ALTER COLUMN note SET STATISTICS 500, OWNER TO app",
        );
        assert!(
            matches!(&kinds[0], OpKind::AlterColumnType { table, column, to, .. } if table == "orders" && column == "note" && to.name == "text"),
            "{kinds:?}"
        );
        assert!(matches!(
            &kinds[1],
            OpKind::LocksTable {
                lock: TableLock::AccessExclusive,
                rewrites: true,
                ..
            }
        ));
        assert!(matches!(
            &kinds[2],
            OpKind::LocksTable {
                lock: TableLock::ShareUpdateExclusive,
                rewrites: false,
                ..
            }
        ));
        assert!(
            matches!(&kinds[3], OpKind::LocksTable { form, lock: TableLock::AccessExclusive, .. } if form == "OWNER TO")
        );
    }

    #[test]
    fn renames_and_transaction_control_are_read() {
        assert_eq!(
            accepted("ALTER TABLE IF EXISTS ONLY billing.invoices RENAME TO bills"),
            vec![OpKind::RenameTable {
                from: "billing.invoices".into(),
                to: "billing.bills".into()
            }]
        );
        assert_eq!(
            accepted("COMMIT AND CHAIN"),
            vec![OpKind::CommitTransaction]
        );
        assert_eq!(
            accepted("PREPARE TRANSACTION 'batch-1'"),
            vec![OpKind::CommitTransaction]
        );
    }

    #[test]
    fn statements_of_no_interest_are_accepted_without_operations() {
        for sql in [
            "SECURITY LABEL FOR selinux ON TABLE users IS 'label'",
            "ALTER EXTENSION hstore ADD FUNCTION f(int)",
            "CREATE STATISTICS s (ndistinct) ON a, b FROM t",
        ] {
            assert_eq!(accepted(sql), Vec::new(), "{sql}");
        }
    }

    #[test]
    fn what_postgres_rejects_carries_its_message() {
        let kinds = accepted("CREATE TABLE t (a int CHECK (a > 0) DEFAULT (1 + 2)::int)");
        let [OpKind::CreateTable { columns, .. }] = kinds.as_slice() else {
            panic!("{kinds:?}");
        };
        assert_eq!(columns[0].checks[0].1, "a > 0");
        assert_eq!(
            columns[0].server_default,
            Some(DefaultExpr::from_sql("(1 + 2)::int"))
        );
        let Verdict::Rejected(message) = read("ALTER TABLE users FROBNICATE COLUMN x") else {
            panic!("accepted");
        };
        assert!(message.contains("syntax error"), "{message}");
    }
}
