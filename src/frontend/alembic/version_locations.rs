//! Alembic folders that are one script directory. A project can give Alembic several folders
//! (`version_locations`, often built in code from plugins' entry points, where no file shows
//! it); Alembic then reads them as one graph, and a revision in one folder may name a revision
//! or a branch label of another as its `down_revision` or `depends_on`. Found as separate sets,
//! those references look missing. A set whose every reference it cannot resolve itself
//! resolves in exactly one other set is joined to it: only one script directory can run them.

use crate::model::{Framework, MigrationSet};

/// Joins such sets, into the one with an env.py when one has it (which lists the others in
/// `joined`).
pub fn join(sets: &mut Vec<MigrationSet>) {
    while let Some((from, into)) = next_join(sets) {
        let (keep, gone) = if sets[from].env.file.is_some() && sets[into].env.file.is_none() {
            (from, into)
        } else {
            (into, from)
        };
        let moved = std::mem::take(&mut sets[gone].migrations);
        let mut folders = std::mem::take(&mut sets[gone].joined);
        folders.push(sets[gone].root.clone());
        sets[keep].migrations.extend(moved);
        sets[keep].joined.extend(folders);
        sets.remove(gone);
    }
}

/// A set whose unresolved references all resolve in one other Alembic set: `(set, other)`.
fn next_join(sets: &[MigrationSet]) -> Option<(usize, usize)> {
    let alembic = |set: &MigrationSet| set.framework == Framework::Alembic;
    for (index, set) in sets.iter().enumerate().filter(|(_, s)| alembic(s)) {
        let unresolved: Vec<&str> = references(set)
            .filter(|reference| !resolves(set, reference))
            .collect();
        if unresolved.is_empty() {
            continue;
        }
        let mut others = sets.iter().enumerate().filter(|(other, candidate)| {
            *other != index
                && alembic(candidate)
                // Two env.py files are two projects, whatever the revisions say.
                && (set.env.file.is_none() || candidate.env.file.is_none())
                && unresolved.iter().all(|r| resolves(candidate, r))
        });
        if let (Some((other, _)), None) = (others.next(), others.next()) {
            return Some((index, other));
        }
    }
    None
}

/// Every revision a set's revisions name as a parent or a dependency.
fn references(set: &MigrationSet) -> impl Iterator<Item = &str> {
    set.migrations
        .iter()
        .flat_map(|m| m.parents.iter().chain(&m.depends_on))
        .map(String::as_str)
}

/// Whether `reference` names a revision of the set (its id, or a prefix of it as Alembic
/// accepts) or one of its branch labels.
fn resolves(set: &MigrationSet, reference: &str) -> bool {
    set.migrations.iter().any(|m| {
        m.revision_id().is_some_and(|id| {
            id == reference || (reference.len() >= 4 && id.starts_with(reference))
        }) || m.branch_labels.iter().any(|label| label == reference)
    })
}
