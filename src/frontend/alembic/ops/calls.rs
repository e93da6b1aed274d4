//! One `op.*` / `batch_op.*` call turned into the operations it performs.

use ruff_python_ast::ExprCall;

use crate::model::op::NameOrigin;
use crate::model::op::implied_by_column;
use crate::model::{Column, ColumnType, ConstraintKind, OpKind, RelationKind};

use super::super::exprs::{Reader, as_call, callee_name, is_false, is_non_native_enum, is_true};
use super::Walker;

impl Walker<'_, '_> {
    /// One `op.*` or `batch_op.*` call. `batch_table` is the batch's table: batch methods take
    /// the same arguments as `op.*` without the table.
    pub(super) fn op_call(
        &mut self,
        method: &str,
        call: &ExprCall,
        batch_table: Option<&str>,
    ) -> Vec<OpKind> {
        let r = self.reader;
        let args = &call.arguments;
        let kw = |key: &str| args.find_keyword(key).map(|k| &k.value);
        // Position of an argument after the table: batch calls shift everything left by one.
        let shift = usize::from(batch_table.is_none());
        let table_at = |position: usize| -> Option<String> {
            match batch_table {
                Some(table) => Some(table.to_string()),
                None => args
                    .find_argument_value("table_name", position)
                    .and_then(|e| r.string(e)),
            }
        };
        // How the index or constraint is named: a plain string is SQLAlchemy's to rename or
        // refuse, `op.f()` is final.
        let name_argument = match method {
            "create_foreign_key"
            | "create_unique_constraint"
            | "create_primary_key"
            | "create_check_constraint"
            | "drop_constraint" => args.find_argument_value("constraint_name", 0),
            "create_index" | "drop_index" => args.find_argument_value("index_name", 0),
            _ => None,
        };
        self.name_origin = match name_argument {
            Some(name) if is_conv_call(name) => NameOrigin::Final,
            // A string, or None for SQLAlchemy (and its naming convention) to name.
            Some(_) => NameOrigin::AlembicString,
            None => NameOrigin::AsWritten,
        };
        let result: Option<Vec<OpKind>> = (|| {
            Some(match method {
                "execute" => {
                    self.execute(call);
                    return Some(Vec::new());
                }
                "create_table" => {
                    let positional = self.positional(call);
                    let table = r.string(positional.first()?)?;
                    // `prefixes=["TEMPORARY"]`: a session's table, no part of the schema.
                    let temporary = kw("prefixes").and_then(|p| r.strings(p)).is_some_and(|p| {
                        p.iter().any(|w| {
                            w.eq_ignore_ascii_case("temporary") || w.eq_ignore_ascii_case("temp")
                        })
                    });
                    if temporary {
                        return Some(vec![OpKind::CreateRelation {
                            name: table,
                            kind: RelationKind::TemporaryTable,
                        }]);
                    }
                    let mut columns: Vec<Column> = Vec::new();
                    let mut constraints = Vec::new();
                    let mut enums = Vec::new();
                    for arg in positional.iter().skip(1) {
                        let Some(item) = as_call(arg) else { continue };
                        if let Some(column) = r.column(item) {
                            if let Some(created) = enum_created_by(r, item) {
                                enums.push(created);
                            }
                            columns.push(column);
                        } else if let Some(constraint) = r.table_constraint(item) {
                            constraints.push(constraint);
                        }
                    }
                    let pk_columns: Vec<String> = constraints
                        .iter()
                        .filter_map(|(_, k)| match k {
                            ConstraintKind::PrimaryKey { columns } => Some(columns.clone()),
                            _ => None,
                        })
                        .flatten()
                        .collect();
                    for column in columns.iter_mut().filter(|c| pk_columns.contains(&c.name)) {
                        column.primary_key = true;
                        column.nullable = false;
                    }
                    if pk_columns.is_empty() {
                        let inline: Vec<String> = columns
                            .iter()
                            .filter(|c| c.primary_key)
                            .map(|c| c.name.clone())
                            .collect();
                        if !inline.is_empty() {
                            constraints
                                .push((None, ConstraintKind::PrimaryKey { columns: inline }));
                        }
                    }
                    let mut kinds = enums;
                    kinds.push(OpKind::CreateTable {
                        table,
                        columns,
                        constraints,
                        if_not_exists: kw("if_not_exists").is_some_and(is_true),
                        shaped_by: Vec::new(),
                    });
                    kinds
                }
                "drop_table" => vec![OpKind::DropTable {
                    table: r.string(args.find_argument_value("table_name", 0)?)?,
                    if_exists: kw("if_exists").is_some_and(is_true),
                }],
                "rename_table" => vec![OpKind::RenameTable {
                    from: r.string(args.find_argument_value("old_table_name", 0)?)?,
                    to: r.string(args.find_argument_value("new_table_name", 1)?)?,
                }],
                "add_column" => {
                    let column_call = as_call(args.find_argument_value("column", shift)?)?;
                    let column = r.column(column_call)?;
                    // Unlike create_table, add_column creates no enum type for the column:
                    // it must exist already (verified with Alembic 1.13 and 1.20 on a real
                    // PostgreSQL: "type ... does not exist").
                    let mut kinds: Vec<OpKind> = Vec::new();
                    let table = table_at(0)?;
                    let implied = implied_by_column(&table, &column);
                    kinds.push(OpKind::AddColumn { table, column });
                    kinds.extend(implied);
                    kinds
                }
                "drop_column" => vec![OpKind::DropColumn {
                    table: table_at(0)?,
                    column: r.string(args.find_argument_value("column_name", shift)?)?,
                }],
                "alter_column" => {
                    let table = table_at(0)?;
                    let column = r.string(args.find_argument_value("column_name", shift)?)?;
                    let mut kinds = Vec::new();
                    // A type the revision computes (a helper's parameter) is still a type change.
                    if let Some(to) =
                        kw("type_").map(|e| r.column_type(e).unwrap_or_else(ColumnType::unknown))
                    {
                        let using = kw("postgresql_using")
                            .and_then(|e| r.string(e))
                            .map(|u| crate::frontend::sql::using_of(&u, &column, &to));
                        kinds.push(OpKind::AlterColumnType {
                            table: table.clone(),
                            column: column.clone(),
                            from: kw("existing_type").and_then(|e| r.column_type(e)),
                            to,
                            using,
                        });
                    }
                    match kw("nullable") {
                        Some(value) if is_false(value) => kinds.push(OpKind::SetNotNull {
                            table: table.clone(),
                            column: column.clone(),
                        }),
                        Some(value) if is_true(value) => kinds.push(OpKind::DropNotNull {
                            table: table.clone(),
                            column: column.clone(),
                        }),
                        _ => {}
                    }
                    if let Some(value) = kw("server_default").filter(|v| !is_false(v)) {
                        kinds.push(OpKind::SetDefault {
                            table: table.clone(),
                            column: column.clone(),
                            default: r.server_default(value),
                        });
                    }
                    if let Some(to) = kw("new_column_name").and_then(|e| r.string(e)) {
                        kinds.push(OpKind::RenameColumn {
                            table,
                            from: column,
                            to,
                        });
                    }
                    kinds
                }
                "create_index" => {
                    let name = r.optional_name(args.find_argument_value("index_name", 0))?;
                    let table = match batch_table {
                        Some(t) => t.to_string(),
                        None => r.string(args.find_argument_value("table_name", 1)?)?,
                    };
                    let columns = args
                        .find_argument_value("columns", 1 + shift)
                        .map(|e| r.strings(e).unwrap_or_else(|| vec![r.text(e).to_string()]))
                        .unwrap_or_default();
                    vec![OpKind::CreateIndex {
                        name,
                        table,
                        columns,
                        unique: kw("unique").is_some_and(is_true),
                        concurrently: kw("postgresql_concurrently").is_some_and(is_true),
                        if_not_exists: kw("if_not_exists").is_some_and(is_true),
                        predicate: kw("postgresql_where")
                            .map(|e| r.string(e).unwrap_or_else(|| r.text(e).to_string())),
                    }]
                }
                "drop_index" => vec![OpKind::DropIndex {
                    name: r.optional_name(args.find_argument_value("index_name", 0))?,
                    table: match batch_table {
                        Some(t) => Some(t.to_string()),
                        None => args
                            .find_argument_value("table_name", 1)
                            .and_then(|t| r.string(t)),
                    },
                    concurrently: kw("postgresql_concurrently").is_some_and(is_true),
                    if_exists: kw("if_exists").is_some_and(is_true),
                }],
                "create_foreign_key" => {
                    let name = r.optional_name(args.find_argument_value("constraint_name", 0))?;
                    let table = match batch_table {
                        Some(t) => t.to_string(),
                        None => r.string(args.find_argument_value("source_table", 1)?)?,
                    };
                    let referenced_table =
                        r.string(args.find_argument_value("referent_table", 1 + shift)?)?;
                    let columns = args
                        .find_argument_value("local_cols", 2 + shift)
                        .and_then(|e| r.strings(e))
                        .unwrap_or_default();
                    vec![OpKind::AddConstraint {
                        table,
                        name,
                        kind: ConstraintKind::ForeignKey {
                            columns,
                            referenced_table,
                        },
                        not_valid: kw("postgresql_not_valid").is_some_and(is_true),
                        using_index: None,
                    }]
                }
                "create_unique_constraint"
                | "create_primary_key"
                | "create_check_constraint"
                | "create_exclude_constraint" => {
                    let name = r.optional_name(args.find_argument_value("constraint_name", 0))?;
                    let table = match batch_table {
                        Some(t) => t.to_string(),
                        None => r.string(args.find_argument_value("table_name", 1)?)?,
                    };
                    let third = args
                        .find_argument_value("columns", 1 + shift)
                        .or_else(|| args.find_argument_value("condition", 1 + shift));
                    let kind = match method {
                        "create_unique_constraint" => ConstraintKind::Unique {
                            columns: third.and_then(|e| r.strings(e)).unwrap_or_default(),
                        },
                        "create_primary_key" => ConstraintKind::PrimaryKey {
                            columns: third.and_then(|e| r.strings(e)).unwrap_or_default(),
                        },
                        "create_check_constraint" => ConstraintKind::Check {
                            expression: third
                                .map(|e| {
                                    r.string(e)
                                        .or_else(|| r.sql_condition(e))
                                        .unwrap_or_else(|| r.text(e).to_string())
                                })
                                .unwrap_or_default(),
                        },
                        _ => ConstraintKind::Exclusion,
                    };
                    vec![OpKind::AddConstraint {
                        table,
                        name,
                        kind,
                        not_valid: kw("postgresql_not_valid").is_some_and(is_true),
                        using_index: None,
                    }]
                }
                "drop_constraint" => vec![OpKind::DropConstraint {
                    name: r.optional_name(args.find_argument_value("constraint_name", 0))?,
                    table: match batch_table {
                        Some(t) => t.to_string(),
                        None => r.string(args.find_argument_value("table_name", 1)?)?,
                    },
                    kind: kw("type_")
                        .and_then(|e| r.string(e))
                        .and_then(|t| constraint_of_type(&t)),
                }],
                "bulk_insert" => vec![OpKind::RowsOnly {
                    copied_from: Vec::new(),
                }],
                // Not a schema operation (`op.get_bind()`, `op.f(...)`, `op.inline_literal(...)`).
                _ => Vec::new(),
            })
        })();
        // A schema operation whose table or names could not be read is reported, not passed
        // over in silence.
        let Some(mut kinds) = result else {
            return vec![OpKind::DynamicOp {
                call: method.to_string(),
            }];
        };
        let schema_of = |key: &str| kw(key).and_then(|e| r.string(e));
        // A batch's table carries the batch's schema already. `create_foreign_key` names its
        // table's schema `source_schema`.
        let schema = batch_table
            .is_none()
            .then(|| schema_of("schema").or_else(|| schema_of("source_schema")))
            .flatten();
        for kind in &mut kinds {
            in_schema(kind, schema.clone(), schema_of("referent_schema"));
        }
        kinds
    }
}

/// The names of an operation called with `schema=` (and `referent_schema=`), as SQLAlchemy
/// emits them: the table qualified, and its indexes in the same schema.
fn in_schema(kind: &mut OpKind, schema: Option<String>, referent_schema: Option<String>) {
    use crate::model::names::{DEFAULT_SCHEMA, in_schema_of};
    let qualify = |name: &mut String, schema: &Option<String>| {
        if let Some(schema) = schema.as_deref().filter(|s| *s != DEFAULT_SCHEMA)
            && !name.contains('.')
        {
            *name = format!("{schema}.{name}");
        }
    };
    match kind {
        OpKind::RenameTable { from, to } => {
            qualify(from, &schema);
            qualify(to, &schema);
        }
        OpKind::CreateRelation { name, .. } => qualify(name, &schema),
        OpKind::DropIndex { name, table, .. } => {
            if let Some(table) = table {
                qualify(table, &schema);
            }
            if let Some(name) = name {
                qualify(name, &schema);
                if let Some(table) = table {
                    *name = in_schema_of(table, name);
                }
            }
        }
        _ => {}
    }
    if let OpKind::AddConstraint {
        kind: ConstraintKind::ForeignKey {
            referenced_table, ..
        },
        ..
    } = kind
    {
        qualify(referenced_table, &referent_schema);
    }
    if let Some(table) = kind.table_mut() {
        qualify(table, &schema);
    }
    if let OpKind::CreateIndex {
        name: Some(name),
        table,
        ..
    } = kind
    {
        *name = in_schema_of(table, name);
    }
}

/// `sa.Enum("a", "b", name="status")` as a column type of `op.create_table` creates the type
/// with the table, unless `create_type=False` or `native_enum=False` (a VARCHAR, no type).
fn enum_created_by(r: &Reader, column: &ExprCall) -> Option<OpKind> {
    let enum_call = column
        .arguments
        .args
        .iter()
        .filter_map(as_call)
        .find(|c| matches!(callee_name(c), Some("Enum" | "ENUM")))?;
    if enum_call
        .arguments
        .find_keyword("create_type")
        .is_some_and(|k| is_false(&k.value))
        || is_non_native_enum(enum_call)
    {
        return None;
    }
    let name = enum_call
        .arguments
        .find_keyword("name")
        .and_then(|k| r.string(&k.value))?;
    let values = enum_call
        .arguments
        .args
        .iter()
        .filter_map(|e| r.string(e))
        .collect();
    Some(OpKind::CreateEnum { name, values })
}

/// The constraint `drop_constraint(type_=...)` names, without the details a drop does not give.
fn constraint_of_type(type_: &str) -> Option<ConstraintKind> {
    Some(match type_ {
        "foreignkey" => ConstraintKind::ForeignKey {
            columns: Vec::new(),
            referenced_table: String::new(),
        },
        "unique" => ConstraintKind::Unique {
            columns: Vec::new(),
        },
        "primary" => ConstraintKind::PrimaryKey {
            columns: Vec::new(),
        },
        "check" => ConstraintKind::Check {
            expression: String::new(),
        },
        _ => return None,
    })
}

/// `op.f("...")` / `conv("...")`: a name SQLAlchemy takes as final, whatever the convention.
fn is_conv_call(expr: &ruff_python_ast::Expr) -> bool {
    matches!(expr, ruff_python_ast::Expr::Call(call) if matches!(callee_name(call), Some("f" | "conv")))
}
