use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::OpKind;

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
        OpKind::CreateEnum { name, .. } => vec![("type", name)],
        OpKind::CreateSequence { name } => vec![("sequence", name)],
        _ => Vec::new(),
    }
}

impl Rule for IdentifierTooLong {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.all_ops() {
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
