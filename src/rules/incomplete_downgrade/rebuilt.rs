//! Objects an upgrade takes down and builds again under their names, which the history had
//! before it: replaced, not created, so the downgrade need not remove them.

use crate::model::op::same_name;
use crate::model::{Migration, OpKind, Phase};

use super::super::LintContext;

/// An index `migration`'s upgrade drops and then builds again under `name` (`DROP INDEX ix`,
/// `CREATE INDEX ix`), which an earlier migration made: it exists before the upgrade and after
/// the downgrade alike.
pub(super) fn existing_index_rebuilt(cx: &LintContext, migration: &Migration, name: &str) -> bool {
    let dropped = cx.ops(Phase::Upgrade).find(|site| {
        std::ptr::eq(site.migration, migration)
            && matches!(&site.op.kind, OpKind::DropIndex { name: Some(n), .. } if same_name(n, name))
    });
    dropped.is_some_and(|site| cx.index_definition(&site, name).is_some())
}
