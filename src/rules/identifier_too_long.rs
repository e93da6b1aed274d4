use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::OpKind;
use crate::model::op::NameOrigin;

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "identifier-too-long",
    severity: Severity::Warning,
    summary: "A name over 63 bytes is cut short by PostgreSQL without an error.",
    doc: include_str!("../../rules/identifier-too-long.md"),
    origin: Origin::Lint,
};

/// PostgreSQL's NAMEDATALEN - 1.
const MAX_BYTES: usize = 63;

pub struct IdentifierTooLong;

/// The names an operation gives to what it creates or renames, with what each one names.
fn new_names(kind: &OpKind) -> Vec<(&'static str, &str)> {
    match kind {
        OpKind::CreateTable {
            table,
            columns,
            constraints,
            ..
        } => std::iter::once(("table", table.as_str()))
            .chain(columns.iter().map(|c| ("column", c.name.as_str())))
            .chain(
                constraints
                    .iter()
                    .filter_map(|(name, _)| name.as_deref().map(|n| ("constraint", n))),
            )
            .collect(),
        OpKind::RenameTable { to, .. } => vec![("table", to)],
        OpKind::AddColumn { column, .. } => vec![("column", &column.name)],
        OpKind::RenameColumn { to, .. } => vec![("column", to)],
        OpKind::CreateIndex { name: Some(n), .. } => vec![("index", n)],
        OpKind::AddConstraint { name: Some(n), .. } => vec![("constraint", n)],
        OpKind::CreateEnum { name, .. } | OpKind::CreateType { name } => vec![("type", name)],
        OpKind::CreateSequence { name } => vec![("sequence", name)],
        _ => Vec::new(),
    }
}

/// The index or constraint an operation names, created or dropped.
fn index_or_constraint_name(kind: &OpKind) -> Option<(&'static str, &str)> {
    match kind {
        OpKind::CreateIndex { name: Some(n), .. } | OpKind::DropIndex { name: Some(n), .. } => {
            Some(("index", n))
        }
        OpKind::AddConstraint { name: Some(n), .. }
        | OpKind::DropConstraint { name: Some(n), .. } => Some(("constraint", n)),
        _ => None,
    }
}

impl Rule for IdentifierTooLong {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.all_ops() {
            // A plain string naming an index or constraint in an Alembic call: SQLAlchemy
            // checks its length before anything is sent (verified with SQLAlchemy 1.4 and 2.1).
            if site.op.name_origin == NameOrigin::AlembicString
                && let Some((what, name)) = index_or_constraint_name(&site.op.kind)
                && name.len() > MAX_BYTES
            {
                out.push(
                    cx.report_op(&META, &site, format!(
                        "the {what} name `{name}` is {} bytes: SQLAlchemy raises `IdentifierError` (\"exceeds maximum length of 63 characters\") before PostgreSQL sees it, so the migration fails",
                        name.len()
                    ))
                    .with_severity(Severity::Error)
                    .with_help("choose a name of at most 63 bytes, or wrap it in `op.f()`, which SQLAlchemy shortens to 55 bytes and 4 hex digits of its hash the same way every time"),
                );
                continue;
            }
            for (what, qualified) in new_names(&site.op.kind) {
                // `schema.table`: each part is a name of its own.
                for name in qualified.split('.').filter(|n| n.len() > MAX_BYTES) {
                    let mut cut = MAX_BYTES;
                    while !name.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    out.push(
                        cx.report_op(
                            &META,
                            &site,
                            format!(
                                "the {what} name `{name}` is {} bytes: PostgreSQL keeps the first {MAX_BYTES} (`{}`) without an error, so the database and the migrations name it differently",
                                name.len(),
                                &name[..cut]
                            ),
                        )
                        .with_help("choose a name of at most 63 bytes; for generated names, shorten the naming convention's parts"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }
}
