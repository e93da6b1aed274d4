use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::op::same_name;
use crate::model::{ConstraintKind, Framework, OpKind, Phase};

use super::{LintContext, OpSite, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "unnamed-constraint",
    severity: Severity::Warning,
    summary: "A constraint created or dropped with name None: the database picks the name, and the drop fails.",
    doc: include_str!("../../rules/unnamed-constraint.md"),
    origin: Origin::Lint,
};

pub struct UnnamedConstraint;

impl Rule for UnnamedConstraint {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        // In SQL an unnamed constraint gets PostgreSQL's predictable name, which the down script
        // spells out; only Alembic's `None` leaves the reverse operation without a name.
        if cx.set.framework != Framework::Alembic {
            return;
        }
        for phase in [Phase::Upgrade, Phase::Downgrade] {
            for site in cx.ops(phase) {
                let (message, help, fix) = match &site.op.kind {
                    OpKind::AddConstraint {
                        table,
                        name: None,
                        kind,
                        ..
                    } if !reverse_names_it(&site, table, kind) => {
                        let fix = kind
                            .postgres_default_name(table)
                            .and_then(|name| crate::fix::constraint_name::alembic(site.op, &name));
                        (
                            format!(
                                "{} on `{table}` is created without a name: PostgreSQL picks one, and the reverse operation has nothing to name",
                                kind.label()
                            ),
                            "name it (`op.f(\"fk_orders_user_id_users\")`, or your MetaData naming convention's name) so the downgrade can drop it",
                            fix,
                        )
                    }
                    OpKind::DropConstraint {
                        table,
                        name: None,
                        kind,
                    } => {
                        let fix = created_name(&site, table, kind.as_ref())
                            .and_then(|name| crate::fix::constraint_name::alembic(site.op, &name));
                        (
                            format!(
                                "`drop_constraint(None, \"{table}\")` fails at run time: Alembic needs the constraint's name"
                            ),
                            "write the name PostgreSQL gave the constraint (`\\d table` in psql shows it), e.g. `orders_user_id_fkey`",
                            fix,
                        )
                    }
                    _ => continue,
                };
                out.push(
                    cx.report_op(&META, &site, message)
                        .with_help(help)
                        .with_fix(fix)
                        .in_phase(phase),
                );
            }
        }
    }
}

/// The name the other direction creates the one constraint of this kind on `table` with (the
/// name PostgreSQL gives it, when it is created unnamed).
fn created_name(site: &OpSite, table: &str, kind: Option<&ConstraintKind>) -> Option<String> {
    let kind = kind?;
    let other = match site.phase {
        Phase::Upgrade => &site.migration.downgrade.ops,
        Phase::Downgrade => &site.migration.upgrade.ops,
    };
    let mut names = other.iter().filter_map(|op| match &op.kind {
        OpKind::AddConstraint {
            table: t,
            name,
            kind: k,
            ..
        } if same_name(t, table) && std::mem::discriminant(k) == std::mem::discriminant(kind) => {
            // Created unnamed: PostgreSQL's own name for it (`view_searchtemplate_id_fkey`).
            Some(name.clone().or_else(|| k.postgres_default_name(t)))
        }
        _ => None,
    });
    match (names.next(), names.next()) {
        (Some(Some(name)), None) => Some(name),
        _ => None,
    }
}

/// The reverse operation needs no name for it: it drops the constraint by the name PostgreSQL
/// gives it (`orders_customer_id_fkey`), or drops a column the constraint is on, or its table,
/// which take the constraint with them.
fn reverse_names_it(site: &OpSite, table: &str, kind: &ConstraintKind) -> bool {
    let default = kind.postgres_default_name(table);
    let reverse = match site.phase {
        Phase::Upgrade => &site.migration.downgrade.ops,
        Phase::Downgrade => &site.migration.upgrade.ops,
    };
    reverse.iter().any(|op| match &op.kind {
        OpKind::DropConstraint {
            table: t,
            name: Some(n),
            ..
        } => same_name(t, table) && default.as_deref().is_some_and(|d| same_name(n, d)),
        OpKind::DropColumn { table: t, column } => {
            same_name(t, table) && kind.involves_column(column)
        }
        OpKind::DropTable { table: t, .. } => same_name(t, table),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }
}
