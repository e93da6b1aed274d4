//! The revision graph of one Alembic set, as Alembic builds it from `down_revision`.

use std::collections::{BTreeMap, BTreeSet};

use super::{Migration, MigrationSet};

#[derive(Debug, Default)]
pub struct RevisionGraph {
    /// Revision id → index of the first migration declaring it.
    pub index: BTreeMap<String, usize>,
    /// Revision id → ids whose `down_revision` names it.
    pub children: BTreeMap<String, Vec<String>>,
    pub heads: Vec<String>,
    pub bases: Vec<String>,
}

impl RevisionGraph {
    pub fn build(set: &MigrationSet) -> Self {
        let mut graph = RevisionGraph::default();
        for (i, migration) in set.migrations.iter().enumerate() {
            if let Some(id) = migration.revision_id() {
                graph.index.entry(id.to_string()).or_insert(i);
            }
        }
        for (id, &i) in &graph.index {
            for parent in &set.migrations[i].parents {
                graph
                    .children
                    .entry(parent.clone())
                    .or_default()
                    .push(id.clone());
            }
        }
        for (id, &i) in &graph.index {
            if !graph.children.contains_key(id) {
                graph.heads.push(id.clone());
            }
            if set.migrations[i].parents.is_empty() {
                graph.bases.push(id.clone());
            }
        }
        graph
    }

    /// Revisions with more than one child: where history forks.
    pub fn branch_points(&self) -> Vec<String> {
        self.children
            .iter()
            .filter(|(id, children)| children.len() > 1 && self.index.contains_key(*id))
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Revisions with more than one parent: where history joins.
    pub fn merge_points(&self, set: &MigrationSet) -> Vec<String> {
        self.index
            .iter()
            .filter(|(_, i)| set.migrations[**i].parents.len() > 1)
            .map(|(id, _)| id.clone())
            .collect()
    }

    pub fn migration<'a>(&self, set: &'a MigrationSet, id: &str) -> Option<&'a Migration> {
        self.index.get(id).map(|&i| &set.migrations[i])
    }

    /// Every revision reachable from `id` through parents (and `depends_on` when asked),
    /// `id` included.
    pub fn ancestors(
        &self,
        set: &MigrationSet,
        id: &str,
        with_dependencies: bool,
    ) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![id.to_string()];
        while let Some(current) = stack.pop() {
            if !seen.insert(current.clone()) {
                continue;
            }
            if let Some(migration) = self.migration(set, &current) {
                stack.extend(migration.parents.iter().cloned());
                if with_dependencies {
                    stack.extend(migration.depends_on.iter().cloned());
                }
            }
        }
        seen
    }

    /// Branch labels that apply to each revision: its own and those of its ancestors, carried
    /// down the graph in one pass in apply order.
    pub fn labels(&self, set: &MigrationSet) -> BTreeMap<String, BTreeSet<String>> {
        let mut labels: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        if set.migrations.iter().all(|m| m.branch_labels.is_empty()) {
            return labels;
        }
        for migration in self.apply_order(set) {
            let Some(id) = migration.revision_id() else {
                continue;
            };
            let mut own: BTreeSet<String> = migration.branch_labels.iter().cloned().collect();
            for parent in &migration.parents {
                if let Some(inherited) = labels.get(parent) {
                    own.extend(inherited.iter().cloned());
                }
            }
            labels.insert(id.to_string(), own);
        }
        labels
    }

    /// Cycles through `down_revision` and `depends_on`, each as the list of ids on it.
    pub fn cycles(&self, set: &MigrationSet) -> Vec<Vec<String>> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Unvisited,
            OnStack,
            Done,
        }
        let ids: Vec<&String> = self.index.keys().collect();
        let position: BTreeMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let edges: Vec<Vec<usize>> = ids
            .iter()
            .map(|id| {
                let m = &set.migrations[self.index[id.as_str()]];
                m.parents
                    .iter()
                    .chain(&m.depends_on)
                    .filter_map(|p| position.get(p.as_str()).copied())
                    .collect()
            })
            .collect();
        let mut marks = vec![Mark::Unvisited; ids.len()];
        let mut cycles = Vec::new();
        // Iterative depth-first search: histories have thousands of revisions in a line.
        for root in 0..ids.len() {
            if marks[root] != Mark::Unvisited {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
            marks[root] = Mark::OnStack;
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                if let Some(&target) = edges[node].get(*next) {
                    *next += 1;
                    match marks[target] {
                        Mark::Unvisited => {
                            marks[target] = Mark::OnStack;
                            stack.push((target, 0));
                        }
                        Mark::OnStack => {
                            let from = stack.iter().position(|&(n, _)| n == target).unwrap_or(0);
                            cycles
                                .push(stack[from..].iter().map(|&(n, _)| ids[n].clone()).collect());
                        }
                        Mark::Done => {}
                    }
                } else {
                    marks[node] = Mark::Done;
                    stack.pop();
                }
            }
        }
        cycles
    }

    /// The set's migrations in the order they are applied: oldest first along the graph for
    /// Alembic, file order for SQL frameworks (already sorted by version).
    pub fn apply_order<'a>(&self, set: &'a MigrationSet) -> Vec<&'a Migration> {
        if set.framework != super::Framework::Alembic {
            return set.migrations.iter().collect();
        }
        let mut order = self.newest_first(set);
        order.reverse();
        order
            .iter()
            .filter_map(|id| self.migration(set, id))
            .collect()
    }

    /// Heads first, each revision after all its children and all the revisions that name it
    /// in `depends_on` (Alembic applies a dependency first); ties in id order so output is
    /// stable. Revisions on a loop are left out.
    pub fn newest_first(&self, set: &MigrationSet) -> Vec<String> {
        let mut waiting: BTreeMap<&String, usize> = self
            .index
            .keys()
            .map(|id| {
                let children = self.children.get(id).map_or(0, |c| {
                    c.iter().filter(|c| self.index.contains_key(*c)).count()
                });
                (id, children)
            })
            .collect();
        for &i in self.index.values() {
            for dependency in &set.migrations[i].depends_on {
                if let Some(count) = waiting.get_mut(dependency) {
                    *count += 1;
                }
            }
        }
        let mut ready: BTreeSet<&String> = waiting
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(id, _)| *id)
            .collect();
        let mut order = Vec::with_capacity(self.index.len());
        while let Some(id) = ready.pop_last() {
            order.push(id.clone());
            let Some(migration) = self.migration(set, id) else {
                continue;
            };
            for parent in migration.parents.iter().chain(&migration.depends_on) {
                if let Some((key, count)) = waiting.get_key_value(parent).map(|(k, c)| (*k, *c)) {
                    let left = count.saturating_sub(1);
                    waiting.insert(key, left);
                    if left == 0 {
                        ready.insert(key);
                    }
                }
            }
        }
        order
    }
}
