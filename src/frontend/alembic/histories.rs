//! One Alembic script directory can hold several histories: `versions/core/` and
//! `versions/tenant/`, or one sub-folder per component, each with its own base, of which env.py
//! picks one at run time. Such a sub-folder is a history of its own. Sub-folders whose revisions
//! continue each other (one folder per release or per expand/contract branch) stay one history.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::model::Migration;

/// The revisions grouped by history: `(folder, revisions)`. A single group keeps `root`.
pub fn split(
    root: &Path,
    migrations: Vec<Migration>,
    path_of: impl Fn(&Migration) -> PathBuf,
) -> Vec<(PathBuf, Vec<Migration>)> {
    let versions = root.join("versions");
    let mut by_folder: BTreeMap<PathBuf, Vec<Migration>> = BTreeMap::new();
    for migration in migrations {
        let path = path_of(&migration);
        // The first folder below versions/; files directly in it group under versions/.
        let folder = path
            .strip_prefix(&versions)
            .ok()
            .and_then(|rest| {
                let mut parts = rest.components();
                let first = parts.next()?;
                parts.next().map(|_| versions.join(first))
            })
            .unwrap_or_else(|| versions.clone());
        by_folder.entry(folder).or_default().push(migration);
    }
    let self_contained = |group: &[Migration]| {
        let ids: BTreeSet<&str> = group.iter().filter_map(Migration::revision_id).collect();
        group
            .iter()
            .any(|m| m.parents.is_empty() && !m.parents_unreadable)
            && group
                .iter()
                .all(|m| m.parents.iter().all(|p| ids.contains(p.as_str())))
    };
    let separate = by_folder.len() > 1 && by_folder.values().all(|g| self_contained(g));
    if separate {
        by_folder.into_iter().collect()
    } else {
        let mut all: Vec<Migration> = by_folder.into_values().flatten().collect();
        all.sort_by_key(|m| path_of(m));
        vec![(root.to_path_buf(), all)]
    }
}
