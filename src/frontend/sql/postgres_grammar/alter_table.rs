//! ALTER TABLE as PostgreSQL's grammar reads it: one operation per action, each with the lock
//! PostgreSQL takes for it (the same operations sqlparser's lowering gives, for the forms it
//! rejects: `ONLY`, `*`, several actions with forms it lacks, `SET DATA TYPE ... COLLATE`).

use pg_query::NodeEnum;
use pg_query::protobuf::{AlterTableCmd, AlterTableStmt, AlterTableType, ObjectType};

use crate::model::{DefaultExpr, OpKind, TableLock};

use super::{column, column_type, deparse, relation_name, table_constraint};

pub(super) fn alter_table(alter: &AlterTableStmt) -> Option<Vec<OpKind>> {
    // ALTER INDEX / VIEW / MATERIALIZED VIEW / FOREIGN TABLE / TYPE share the node: left to
    // the keyword classifier, which knows the index and materialized view forms that rewrite.
    if alter.objtype != ObjectType::ObjectTable as i32 {
        return None;
    }
    let table = relation_name(alter.relation.as_ref()?);
    Some(
        alter
            .cmds
            .iter()
            .filter_map(|cmd| match cmd.node.as_ref()? {
                NodeEnum::AlterTableCmd(cmd) => Some(action(&table, cmd)),
                _ => None,
            })
            .collect(),
    )
}

fn action(table: &str, cmd: &AlterTableCmd) -> OpKind {
    use AlterTableType as At;
    let table = table.to_string();
    let named = cmd.name.clone();
    let locks = |form: &str, lock: TableLock, rewrites: bool| OpKind::LocksTable {
        table: table.clone(),
        form: form.to_string(),
        lock,
        rewrites,
    };
    let def = cmd.def.as_deref().and_then(|d| d.node.as_ref());
    match At::try_from(cmd.subtype).unwrap_or(At::Undefined) {
        At::AtAddColumn => match def {
            Some(NodeEnum::ColumnDef(def)) => OpKind::AddColumn {
                table,
                column: column(def),
            },
            _ => OpKind::Other,
        },
        At::AtDropColumn => OpKind::DropColumn {
            table,
            column: named,
        },
        At::AtColumnDefault => OpKind::SetDefault {
            table,
            column: named,
            default: cmd
                .def
                .as_deref()
                .and_then(deparse)
                .map(|text| DefaultExpr::from_sql(&text)),
        },
        At::AtSetNotNull => OpKind::SetNotNull {
            table,
            column: named,
        },
        At::AtDropNotNull => OpKind::DropNotNull {
            table,
            column: named,
        },
        At::AtAlterColumnType => match def {
            Some(NodeEnum::ColumnDef(def)) => {
                let to = def
                    .type_name
                    .as_ref()
                    .map(column_type)
                    .unwrap_or_else(|| column(def).ty);
                let using = def
                    .raw_default
                    .as_deref()
                    .and_then(deparse)
                    .map(|text| crate::frontend::sql::using_of(&text, &named, &to));
                OpKind::AlterColumnType {
                    table,
                    column: named,
                    from: None,
                    to,
                    using,
                }
            }
            _ => OpKind::Other,
        },
        At::AtAddConstraint => match def {
            Some(NodeEnum::Constraint(constraint)) => match table_constraint(constraint) {
                Some(kind) => OpKind::AddConstraint {
                    table,
                    name: (!constraint.conname.is_empty()).then(|| constraint.conname.clone()),
                    kind,
                    not_valid: constraint.skip_validation,
                    using_index: (!constraint.indexname.is_empty())
                        .then(|| constraint.indexname.clone()),
                },
                None => locks("ADD CONSTRAINT", TableLock::AccessExclusive, false),
            },
            _ => OpKind::Other,
        },
        At::AtValidateConstraint => OpKind::ValidateConstraint { table, name: named },
        At::AtDropConstraint => OpKind::DropConstraint {
            table,
            name: Some(named),
            kind: None,
        },
        At::AtAttachPartition | At::AtDetachPartition | At::AtDetachPartitionFinalize => {
            let partition = match def {
                Some(NodeEnum::PartitionCmd(cmd)) => cmd.name.as_ref().map(relation_name),
                _ => None,
            }
            .unwrap_or_default();
            match At::try_from(cmd.subtype) {
                Ok(At::AtAttachPartition) => OpKind::AttachPartition { table, partition },
                Ok(At::AtDetachPartitionFinalize) => OpKind::DetachPartition {
                    table,
                    partition,
                    concurrently: true,
                },
                _ => OpKind::DetachPartition {
                    table,
                    partition,
                    concurrently: matches!(def, Some(NodeEnum::PartitionCmd(c)) if c.concurrent),
                },
            }
        }
        // Rewrites of the table and its indexes.
        At::AtSetLogged => locks("SET LOGGED", TableLock::AccessExclusive, true),
        At::AtSetUnLogged => locks("SET UNLOGGED", TableLock::AccessExclusive, true),
        At::AtSetTableSpace => locks("SET TABLESPACE", TableLock::AccessExclusive, true),
        At::AtSetAccessMethod => locks("SET ACCESS METHOD", TableLock::AccessExclusive, true),
        // Statistics, per-column options, storage parameters and CLUSTER ON take SHARE UPDATE
        // EXCLUSIVE: reads and writes go on.
        At::AtSetStatistics => locks("SET STATISTICS", TableLock::ShareUpdateExclusive, false),
        At::AtSetOptions | At::AtResetOptions => {
            locks("column options", TableLock::ShareUpdateExclusive, false)
        }
        At::AtSetRelOptions | At::AtResetRelOptions | At::AtReplaceRelOptions => {
            locks("storage parameters", TableLock::ShareUpdateExclusive, false)
        }
        At::AtClusterOn | At::AtDropCluster => {
            locks("CLUSTER ON", TableLock::ShareUpdateExclusive, false)
        }
        // Triggers and rules: SHARE ROW EXCLUSIVE, writes stop.
        At::AtEnableTrig
        | At::AtEnableAlwaysTrig
        | At::AtEnableReplicaTrig
        | At::AtDisableTrig
        | At::AtEnableTrigAll
        | At::AtDisableTrigAll
        | At::AtEnableTrigUser
        | At::AtDisableTrigUser => locks(
            "ENABLE / DISABLE TRIGGER",
            TableLock::ShareRowExclusive,
            false,
        ),
        // Everything else ALTER TABLE does takes ACCESS EXCLUSIVE: reads and writes stop.
        other => locks(written_form(other), TableLock::AccessExclusive, false),
    }
}

/// The action as a user writes it, for messages.
fn written_form(action: AlterTableType) -> &'static str {
    use AlterTableType as At;
    match action {
        At::AtChangeOwner => "OWNER TO",
        At::AtSetStorage => "SET STORAGE",
        At::AtSetCompression => "SET COMPRESSION",
        At::AtAddIdentity | At::AtSetIdentity | At::AtDropIdentity => "an identity change",
        At::AtSetExpression | At::AtDropExpression => "a generation expression change",
        At::AtAlterConstraint => "ALTER CONSTRAINT",
        At::AtAddInherit => "INHERIT",
        At::AtDropInherit => "NO INHERIT",
        At::AtAddOf => "OF",
        At::AtDropOf => "NOT OF",
        At::AtReplicaIdentity => "REPLICA IDENTITY",
        At::AtEnableRowSecurity
        | At::AtDisableRowSecurity
        | At::AtForceRowSecurity
        | At::AtNoForceRowSecurity => "ROW LEVEL SECURITY",
        At::AtEnableRule | At::AtEnableAlwaysRule | At::AtEnableReplicaRule | At::AtDisableRule => {
            "ENABLE / DISABLE RULE"
        }
        At::AtDropOids => "SET WITHOUT OIDS",
        _ => "ALTER TABLE",
    }
}
