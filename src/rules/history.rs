//! What ran before an operation, answered without walking the whole history for each one: the
//! upgrades' operations indexed by table, and which migrations run before which.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::model::graph::RevisionGraph;
use crate::model::{Framework, MigrationSet, Op};

pub struct History<'a> {
    /// Upgrade operations by bare table name (no schema, lower case), in apply order, each
    /// with the index of its migration.
    by_table: HashMap<String, Vec<(usize, &'a Op)>>,
    /// Apply-order position of each migration; `None` for one outside the graph (a duplicate
    /// id, a cycle).
    position: Vec<Option<usize>>,
    /// One line of revisions (or a SQL folder): running earlier means being an ancestor.
    linear: bool,
    /// Alembic's `down_revision` and `depends_on` as migration indices.
    requires: Vec<Vec<usize>>,
    ancestors: RefCell<HashMap<usize, Rc<HashSet<usize>>>>,
}

/// The key tables are indexed under: their last part, case-insensitively, a coarse bucket that
/// callers narrow with [`crate::model::op::same_name`].
pub fn table_key(table: &str) -> String {
    crate::model::op::bare_name(table).to_ascii_lowercase()
}

impl<'a> History<'a> {
    pub fn build(set: &'a MigrationSet, graph: &RevisionGraph) -> Self {
        let count = set.migrations.len();
        let mut position = vec![None; count];
        let mut requires = vec![Vec::new(); count];
        let linear = if set.framework == Framework::Alembic {
            for (at, id) in graph.newest_first(set).iter().rev().enumerate() {
                position[graph.index[id.as_str()]] = Some(at);
            }
            for (i, migration) in set.migrations.iter().enumerate() {
                requires[i] = migration
                    .parents
                    .iter()
                    .chain(&migration.depends_on)
                    .filter_map(|id| graph.index.get(id).copied())
                    .collect();
            }
            graph.branch_points().is_empty()
                && graph.merge_points(set).is_empty()
                && set.migrations.iter().all(|m| m.depends_on.is_empty())
        } else {
            for (i, slot) in position.iter_mut().enumerate() {
                *slot = Some(i);
            }
            true
        };
        let mut order: Vec<usize> = (0..count).filter(|&i| position[i].is_some()).collect();
        order.sort_by_key(|&i| position[i]);
        let mut by_table: HashMap<String, Vec<(usize, &'a Op)>> = HashMap::new();
        for i in order {
            for op in &set.migrations[i].upgrade.ops {
                if let Some(table) = op.kind.table() {
                    by_table.entry(table_key(table)).or_default().push((i, op));
                }
            }
        }
        History {
            by_table,
            position,
            linear,
            requires,
            ancestors: RefCell::new(HashMap::new()),
        }
    }

    /// The upgrade operations on `table` of the migrations that run before migration `index`.
    pub fn upgrades_before(&self, index: usize, table: &str) -> Vec<&'a Op> {
        let Some(candidates) = self.by_table.get(&table_key(table)) else {
            return Vec::new();
        };
        let Some(own) = self.position[index] else {
            return Vec::new();
        };
        if self.linear {
            return candidates
                .iter()
                .take_while(|(i, _)| self.position[*i].is_some_and(|p| p < own))
                .map(|(_, op)| *op)
                .collect();
        }
        let ancestors = self.ancestors_of(index);
        candidates
            .iter()
            .filter(|(i, _)| ancestors.contains(i))
            .map(|(_, op)| *op)
            .collect()
    }

    /// Everything migration `index` requires, directly or not (itself excluded); computed once
    /// per migration asked about.
    fn ancestors_of(&self, index: usize) -> Rc<HashSet<usize>> {
        if let Some(known) = self.ancestors.borrow().get(&index) {
            return known.clone();
        }
        let mut seen = HashSet::new();
        let mut stack: Vec<usize> = self.requires[index].clone();
        while let Some(current) = stack.pop() {
            if current != index && seen.insert(current) {
                stack.extend(&self.requires[current]);
            }
        }
        let seen = Rc::new(seen);
        self.ancestors.borrow_mut().insert(index, seen.clone());
        seen
    }
}
