use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::{OpKind, Phase};

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "drop-cascade",
    severity: Severity::Error,
    summary: "DROP ... CASCADE of a constraint, type, domain, sequence, schema or extension silently drops what depends on it.",
    doc: include_str!("../../rules/drop-cascade.md"),
    origin: Origin::Lint,
};

pub struct DropCascade;

impl Rule for DropCascade {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        // A downgrade drops what its upgrade made, dependents included: that is its job.
        for site in cx.ops(Phase::Upgrade) {
            let OpKind::CascadeDrop {
                object,
                name,
                table,
            } = &site.op.kind
            else {
                continue;
            };
            // A serial's sequence (`<table>_<column>_seq`) whose table this migration drops too:
            // the defaults the cascade takes go with that table anyway.
            if *object == "sequence" && serial_of_a_dropped_table(&site, name) {
                continue;
            }
            // A type this history made, whose columns were all converted or dropped before: the
            // cascade takes no column.
            if *object == "type" && no_column_left_of_type(cx, &site, name) {
                continue;
            }
            let (what, takes) = match *object {
                "constraint" => (
                    format!(
                        "constraint `{name}` on `{}`",
                        table.as_deref().unwrap_or("?")
                    ),
                    "the foreign keys of other tables that reference it",
                ),
                "type" | "domain" => (
                    format!("{object} `{name}`"),
                    "every column of that type in every table, with its data, and the functions and views that use it",
                ),
                "sequence" => (
                    format!("sequence `{name}`"),
                    "the defaults of the columns that draw from it (`nextval(...)`): new rows get NULL or fail NOT NULL",
                ),
                "schema" => (
                    format!("schema `{name}`"),
                    "every table, view, function and type in it, with their data",
                ),
                _ => (
                    format!("extension `{name}`"),
                    "every column, index and function built on its types and operators, with their data",
                ),
            };
            out.push(
                cx.report_op(&META, &site, format!("dropping {what} with CASCADE also drops {takes}, without listing them: the migration succeeds and what went is only noticed when it is missed"))
                    .with_help("drop the dependent objects explicitly first (each one in the migration, where review sees it), then drop this one without CASCADE: PostgreSQL then refuses if anything still depends on it"),
            );
        }
    }
}

/// `sequence` is named as PostgreSQL names a serial column's sequence of a table the same
/// body drops, before or after.
fn serial_of_a_dropped_table(site: &super::OpSite, sequence: &str) -> bool {
    let bare = sequence.rsplit('.').next().unwrap_or(sequence);
    let Some(stem) = bare.strip_suffix("_seq") else {
        return false;
    };
    site.ops.iter().any(|op| match &op.kind {
        crate::model::OpKind::DropTable { table, .. } => {
            let table = table.rsplit('.').next().unwrap_or(table);
            stem.strip_prefix(table)
                .is_some_and(|column| column.starts_with('_') && column.len() > 1)
        }
        _ => false,
    })
}

/// The history made the type `name` (CREATE TYPE ... AS ENUM) and, by the drop, no column
/// declared with it is still of that type.
fn no_column_left_of_type(cx: &LintContext, site: &super::OpSite, name: &str) -> bool {
    use crate::model::OpKind;
    use crate::model::op::same_name;
    let earlier_migrations = cx.set.migrations[..site.migration_index]
        .iter()
        .flat_map(|m| m.upgrade.ops.iter());
    let mut made = false;
    let mut of_type: Vec<(String, String)> = Vec::new();
    for op in earlier_migrations.chain(site.earlier()) {
        match &op.kind {
            OpKind::CreateEnum { name: created, .. } | OpKind::CreateType { name: created }
                if same_name(created, name) =>
            {
                made = true
            }
            OpKind::DropColumn { table, column } => {
                of_type.retain(|(t, c)| !(same_name(t, table) && same_name(c, column)))
            }
            OpKind::DropTable { table, .. } => of_type.retain(|(t, _)| !same_name(t, table)),
            kind => {
                for (table, column, ty) in super::declared_columns(kind) {
                    of_type.retain(|(t, c)| !(same_name(t, table) && same_name(c, column)));
                    if same_name(ty.name.trim_matches('"'), name.trim_matches('"')) {
                        of_type.push((table.to_string(), column.to_string()));
                    }
                }
            }
        }
    }
    made && of_type.is_empty()
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }
}
