//! `--base REF`: which files a pull request touches, and each Alembic history as it is on REF.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::discover::PathFilters;

use super::git::{BaseRef, GitError};
use crate::discover;
use crate::frontend::{self, Loaded};
use crate::model::{BaseHistory, FileId, Framework};

pub struct Baseline {
    /// Files added or changed since the merge base with REF.
    pub scope: Vec<FileId>,
    /// Per set of `loaded.sets` (by position): its history on REF, when it is an Alembic set.
    pub histories: Vec<Option<BaseHistory>>,
}

/// `inside` is a path in the repository (the first path checked).
pub fn prepare(
    reference: &str,
    inside: &Path,
    loaded: &Loaded,
    filters: &PathFilters,
) -> Result<Baseline, GitError> {
    let folder = if inside.is_dir() {
        inside.to_path_buf()
    } else {
        inside
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    let base = BaseRef::resolve(reference, &folder)?;
    let changed: BTreeSet<PathBuf> = base
        .changed_files()?
        .into_iter()
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    let scope = loaded
        .sources
        .iter()
        .filter(|(_, file)| {
            Path::new(&file.path)
                .canonicalize()
                .is_ok_and(|p| changed.contains(&p))
        })
        .map(|(id, _)| id)
        .collect();

    let export = tempfile::tempdir().map_err(|e| GitError::Base {
        reference: reference.to_string(),
        message: format!("cannot create a temporary folder: {e}"),
    })?;
    let mut histories = Vec::new();
    for set in &loaded.sets {
        if set.framework != Framework::Alembic {
            histories.push(None);
            continue;
        }
        let Ok(root) = Path::new(&set.root).canonicalize() else {
            histories.push(None);
            continue;
        };
        let copy = base.export_folder(&root, export.path())?;
        // A folder that does not exist on REF is new in this branch: no history to be behind.
        let history = if copy.exists() {
            discover::discover(&[copy], filters)
                .ok()
                .map(|found| frontend::load(&found))
                .and_then(|at_base| {
                    at_base
                        .sets
                        .iter()
                        .find(|s| s.framework == Framework::Alembic)
                        .map(|s| BaseHistory::from_set(reference, s))
                })
                .unwrap_or_else(|| BaseHistory {
                    reference: reference.to_string(),
                    ..BaseHistory::default()
                })
        } else {
            BaseHistory {
                reference: reference.to_string(),
                ..BaseHistory::default()
            }
        };
        histories.push(Some(history));
    }
    // What the version running now maps, for the findings that break it (a dropped or renamed
    // column or table): read once, for every Alembic history.
    if histories.iter().any(Option::is_some) {
        const MODEL_FILES: usize = 400;
        let tables: Vec<crate::model::base_models::MappedTable> = base
            .model_files(MODEL_FILES)
            .iter()
            .flat_map(|(path, text)| frontend::python_models::mapped_tables(path, text))
            .collect();
        for history in histories.iter_mut().flatten() {
            history.models.tables = tables.clone();
        }
    }
    Ok(Baseline { scope, histories })
}
