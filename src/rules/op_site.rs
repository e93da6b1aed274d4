//! One operation in its context (its migration, its body, what came before and after it in
//! the same body), and what rules ask of that context.

use crate::model::{Migration, Op, OpKind, Phase};

/// One operation in its context.
pub struct OpSite<'a> {
    pub migration: &'a Migration,
    /// Its place in the set's migrations.
    pub migration_index: usize,
    pub ops: &'a [Op],
    pub index: usize,
    pub op: &'a Op,
    pub phase: Phase,
}

impl<'a> OpSite<'a> {
    /// The table was created earlier in the same body (empty and unused), or TRUNCATEd earlier
    /// in the same open transaction (empty, and its lock already held), or by an earlier
    /// migration of the same deploy batch (unused).
    pub fn table_is_new(&self, table: &str) -> bool {
        crate::model::table_state::is_new_table(self.ops, self.index, table)
            || self.made_by_unread_statement(table)
            || self.made_in_batch(table)
    }

    /// An earlier migration of this one's deploy batch made the table, and this body has not
    /// dropped or renamed it since.
    pub fn made_in_batch(&self, table: &str) -> bool {
        use crate::model::op::same_name;
        self.phase == crate::model::Phase::Upgrade
            && self
                .migration
                .batch_tables
                .iter()
                .any(|t| same_name(t, table))
            && !self.earlier().iter().any(|op| match &op.kind {
                OpKind::DropTable { table: t, .. } => same_name(t, table),
                OpKind::RenameTable { to, .. } => same_name(to, table),
                _ => false,
            })
    }

    /// A table that cannot exist here unless an earlier statement of the body the model could
    /// not read made it: a downgrade re-creating what its upgrade dropped with SQL built at run
    /// time, or a root revision's `metadata.create_all()`.
    fn made_by_unread_statement(&self, table: &str) -> bool {
        use crate::model::op::same_name;
        let earlier = self.earlier();
        let unread = |op: &Op| {
            matches!(
                op.kind,
                OpKind::DynamicSql | OpKind::DynamicOp { .. } | OpKind::CreateModelTables
            )
        };
        if !earlier.iter().any(unread) {
            return false;
        }
        match self.phase {
            // Gone at the downgrade's start: its own upgrade dropped it, last.
            crate::model::Phase::Downgrade => self
                .migration
                .upgrade
                .ops
                .iter()
                .rev()
                .find_map(|op| match &op.kind {
                    OpKind::DropTable { table: t, .. } if same_name(t, table) => Some(true),
                    OpKind::CreateTable { table: t, .. } if same_name(t, table) => Some(false),
                    _ => None,
                })
                .unwrap_or(false),
            // Nothing exists before a history's first revision but what create_all makes.
            crate::model::Phase::Upgrade => {
                self.migration.parents.is_empty()
                    && earlier
                        .iter()
                        .any(|op| matches!(op.kind, OpKind::CreateModelTables))
            }
        }
    }

    /// The statement later in the same body that makes a table under `table`'s name again
    /// (`CREATE TABLE t`, or `ALTER TABLE t_new RENAME TO t`), if any: the name goes on.
    pub fn made_again_later(&self, table: &str) -> Option<&'a Op> {
        use crate::model::op::same_name;
        self.ops[self.index + 1..].iter().find(|op| match &op.kind {
            OpKind::CreateTable { table: t, .. } => same_name(t, table),
            OpKind::RenameTable { to, .. } => same_name(to, table),
            _ => false,
        })
    }

    /// The table holds no rows here: created, or emptied (TRUNCATE, DELETE without WHERE)
    /// earlier in the same body with nothing written back.
    pub fn table_holds_no_rows(&self, table: &str) -> bool {
        crate::model::table_state::holds_no_rows(self.ops, self.index, table)
    }

    /// `column` of `table` was added earlier in the same body (and not dropped since): no
    /// running code knows it yet.
    pub fn column_is_new(&self, table: &str, column: &str) -> bool {
        let mut new = false;
        for op in self.earlier() {
            match &op.kind {
                OpKind::AddColumn {
                    table: t,
                    column: c,
                } if crate::model::op::same_name(t, table)
                    && crate::model::op::same_name(&c.name, column) =>
                {
                    new = true
                }
                OpKind::DropColumn {
                    table: t,
                    column: c,
                    ..
                } if crate::model::op::same_name(t, table)
                    && crate::model::op::same_name(c, column) =>
                {
                    new = false
                }
                _ => {}
            }
        }
        new
    }

    /// `column` of `table` got its name earlier in the same body from a column that was then
    /// replaced under its own name (a swap: `status` → `old_status`, `new_status` → `status`):
    /// no running code knows the name.
    pub fn column_swapped_out(&self, table: &str, column: &str) -> bool {
        use crate::model::op::same_name;
        self.earlier()
            .iter()
            .enumerate()
            .any(|(i, op)| match &op.kind {
                OpKind::RenameColumn { table: t, from, to }
                    if same_name(t, table) && same_name(to, column) =>
                {
                    self.ops[i + 1..]
                        .iter()
                        .any(|later| reoccupies(later, table, from))
                }
                _ => false,
            })
    }

    /// `column` of `table`, renamed or dropped here, gets a column under its name again later
    /// in the same transaction: when it commits, running code still finds it.
    pub fn name_reoccupied_in_transaction(&self, table: &str, column: &str) -> bool {
        self.op.in_transaction
            && self.ops[self.index + 1..]
                .iter()
                .take_while(|later| later.in_transaction)
                .any(|later| reoccupies(later, table, column))
    }

    /// The copy-and-swap way of changing a column: a new column added earlier in the body,
    /// filled by an UPDATE of the table before this drop of `column`, and renamed to `column`
    /// after it in the same transaction. The values live on under the old name.
    pub fn column_copied_into_replacement(&self, table: &str, column: &str) -> bool {
        use crate::model::op::same_name;
        let replacements = self.ops[self.index + 1..]
            .iter()
            .take_while(|later| later.in_transaction)
            .filter_map(|later| match &later.kind {
                OpKind::RenameColumn { table: t, from, to }
                    if same_name(t, table) && same_name(to, column) =>
                {
                    Some(from.as_str())
                }
                _ => None,
            });
        let earlier = self.earlier();
        replacements.into_iter().any(|new| {
            let added = earlier.iter().position(|op| {
                matches!(&op.kind, OpKind::AddColumn { table: t, column: c }
                    if same_name(t, table) && same_name(&c.name, new))
            });
            added.is_some_and(|added| {
                earlier[added + 1..].iter().any(|op| {
                    matches!(&op.kind, OpKind::DataChange { table: t, statement: "UPDATE", .. }
                        if same_name(t, table))
                })
            })
        })
    }

    /// Operations of the same body before this one.
    pub fn earlier(&self) -> &'a [Op] {
        &self.ops[..self.index]
    }
}

/// Whether `op` puts a column named `column` on `table` (adds it, or renames one to it).
fn reoccupies(op: &Op, table: &str, column: &str) -> bool {
    use crate::model::op::same_name;
    match &op.kind {
        OpKind::AddColumn {
            table: t,
            column: c,
        } => same_name(t, table) && same_name(&c.name, column),
        OpKind::RenameColumn { table: t, to, .. } => same_name(t, table) && same_name(to, column),
        _ => false,
    }
}

/// How to run a statement outside a transaction block in the migration's framework: in Alembic
/// `alembic` inside an autocommit block, elsewhere `sql` the framework's way.
pub fn outside_transaction_help(
    framework: crate::model::Framework,
    alembic: &str,
    sql: &str,
) -> String {
    match framework {
        crate::model::Framework::Alembic => {
            format!("{alembic} inside `op.get_context().autocommit_block()`")
        }
        other => format!(
            "{sql}, outside a transaction block: {}",
            other.outside_transaction_way()
        ),
    }
}

/// How to add a constraint without validating it, then validate it apart, in the migration's
/// framework's words.
pub fn not_valid_help(framework: crate::model::Framework) -> String {
    let (how, unit) = match framework {
        crate::model::Framework::Alembic => (
            "with `postgresql_not_valid=True` (SQL: `NOT VALID`)",
            "revision",
        ),
        _ => ("`NOT VALID`", "migration"),
    };
    format!(
        "add it {how}, then `VALIDATE CONSTRAINT` in a later {unit}: validation allows reads and writes"
    )
}
