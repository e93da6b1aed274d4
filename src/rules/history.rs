//! What ran before an operation, answered without walking the whole history for each one: the
//! upgrades' operations indexed by table, and which migrations run before which.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::model::graph::RevisionGraph;
use crate::model::op::same_name;
use crate::model::{Framework, MigrationSet, Op, OpKind};

pub struct History<'a> {
    /// Upgrade operations by bare table name (no schema, lower case), in apply order, each
    /// with the index of its migration and its own index there. A table's rename is listed
    /// under both names.
    by_table: HashMap<String, Vec<(usize, usize, &'a Op)>>,
    /// Apply-order position of each migration; `None` for one outside the graph (a duplicate
    /// id, a cycle).
    position: Vec<Option<usize>>,
    /// One line of revisions (or a SQL folder): running earlier means being an ancestor.
    linear: bool,
    /// Alembic's `down_revision` and `depends_on` as migration indices.
    requires: Vec<Vec<usize>>,
    ancestors: RefCell<HashMap<usize, Rc<HashSet<usize>>>>,
}

/// The keys an operation is found under: its table's, and for a rename the new name's too.
pub fn keys_of(op: &Op) -> Vec<String> {
    let mut keys: Vec<String> = op.kind.table().map(table_key).into_iter().collect();
    if let OpKind::RenameTable { to, .. } = &op.kind {
        let new_key = table_key(to);
        if !keys.contains(&new_key) {
            keys.push(new_key);
        }
    }
    keys
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
        let mut by_table: HashMap<String, Vec<(usize, usize, &'a Op)>> = HashMap::new();
        for i in order {
            for (k, op) in set.migrations[i].upgrade.ops.iter().enumerate() {
                for key in keys_of(op) {
                    by_table.entry(key).or_default().push((i, k, op));
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

    /// The upgrade operations of the migrations that run before migration `index` on a table
    /// under any of `keys` ([`table_key`]), in apply order.
    pub fn upgrades_before(&self, index: usize, keys: &[String]) -> Vec<&'a Op> {
        let Some(own) = self.position[index] else {
            return Vec::new();
        };
        let ancestors = (!self.linear).then(|| self.ancestors_of(index));
        let runs_before = |i: usize| match &ancestors {
            None => self.position[i].is_some_and(|p| p < own),
            Some(ancestors) => ancestors.contains(&i),
        };
        let mut found: Vec<(usize, usize, &'a Op)> = Vec::new();
        for key in keys {
            let Some(candidates) = self.by_table.get(key) else {
                continue;
            };
            if ancestors.is_none() {
                found.extend(candidates.iter().take_while(|(i, _, _)| runs_before(*i)));
            } else {
                found.extend(candidates.iter().filter(|(i, _, _)| runs_before(*i)));
            }
        }
        if keys.len() > 1 {
            found.sort_by_key(|(i, k, _)| (self.position[*i], *k));
            found.dedup_by_key(|(i, k, _)| (*i, *k));
        }
        found.into_iter().map(|(_, _, op)| op).collect()
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

/// The operations on one table before some point, oldest first, under every name the table had
/// then: a rename (`RENAME TO`, `SET SCHEMA`, `op.rename_table`) carries its columns,
/// constraints and indexes to the new name.
pub struct TableHistory<'a> {
    ops: Vec<&'a Op>,
    /// The table's names, newest first.
    names: Vec<String>,
}

impl<'a> TableHistory<'a> {
    /// From `candidates` (every operation naming one of the table's names, oldest first), the
    /// table's own: walking back from `table`, a rename to its name switches to the old name,
    /// and a rename away from its name ends the walk (before it, the name was another table's).
    pub fn follow(candidates: &[&'a Op], table: &str) -> TableHistory<'a> {
        let mut names = vec![table.to_string()];
        let mut ops = Vec::new();
        for op in candidates.iter().rev() {
            let current = names.last().expect("the table's name");
            match &op.kind {
                OpKind::RenameTable { from, to } if same_name(to, current) => {
                    ops.push(*op);
                    names.push(from.clone());
                }
                OpKind::RenameTable { from, .. } if same_name(from, current) => break,
                kind if kind.table().is_some_and(|t| same_name(t, current)) => ops.push(*op),
                _ => {}
            }
        }
        ops.reverse();
        TableHistory { ops, names }
    }

    /// Whether `name` is one of the table's names in this history.
    pub fn names(&self, name: &str) -> bool {
        self.names.iter().any(|n| same_name(n, name))
    }

    /// The [`table_key`]s of the table's names.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.names.iter().map(|n| table_key(n)).collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

impl<'a> std::ops::Deref for TableHistory<'a> {
    type Target = [&'a Op];

    fn deref(&self) -> &Self::Target {
        &self.ops
    }
}

impl<'a> IntoIterator for TableHistory<'a> {
    type Item = &'a Op;
    type IntoIter = std::vec::IntoIter<&'a Op>;

    fn into_iter(self) -> Self::IntoIter {
        self.ops.into_iter()
    }
}
