//! `check --fix` / `--diff`: fixes applied pass by pass, the history read again after each pass
//! with its fixed texts (fixes change what later rules see), until no fix is left to apply.

use std::collections::BTreeMap;

use crate::fix::{self, Applicability};
use crate::lint::{self, LintOptions, Outcome};
use crate::rules;

use super::AppError;

/// More passes than any chain of fixes needs: a fix that keeps re-appearing stops here.
const MAX_PASSES: usize = 10;

pub struct Fixed {
    /// The findings of the history as fixed.
    pub outcome: Outcome,
    /// Each changed file: (path as reports show it, text before, text after).
    pub files: Vec<(String, String, String)>,
    pub applied: usize,
    /// Fixes left that `--unsafe-fixes` would apply.
    pub unsafe_left: usize,
    /// Files whose fixes were undone because they left the file unreadable.
    pub undone: Vec<String>,
    /// Files whose fixes kept finding more to fix pass after pass: left as they were.
    pub unsettled: Vec<String>,
}

pub fn fix(options: &LintOptions, allowed: Applicability) -> Result<Fixed, AppError> {
    let mut options = options.clone();
    let mut originals: BTreeMap<String, String> = BTreeMap::new();
    // Files whose fixes left them unreadable: undone, and fixed no further.
    let mut undone: Vec<String> = Vec::new();
    // Fixes applied, by file: a file whose fixes are undone counts none.
    let mut applied: BTreeMap<String, usize> = BTreeMap::new();
    let relint = |options: &LintOptions| -> Result<Outcome, AppError> {
        lint::lint(options).map_err(|e| AppError::new(e.to_string()))
    };
    let mut outcome = relint(&options)?;
    let unreadable = |outcome: &Outcome, path: &str| {
        outcome.diagnostics.iter().any(|d| {
            rules::is_input_problem(d.rule)
                && d.span
                    .is_some_and(|s| outcome.sources.get(s.file).path == path)
        })
    };
    let mut settled = false;
    let mut last_changed: Vec<String> = Vec::new();
    for _ in 0..MAX_PASSES {
        let chosen = fix::apply::choose(
            outcome.diagnostics.iter().filter_map(|d| d.fix.as_ref()),
            allowed,
        );
        let mut changed = Vec::new();
        for (file, fixes) in &chosen {
            let source = outcome.sources.get(*file);
            if undone.contains(&source.path) {
                continue;
            }
            originals
                .entry(source.path.clone())
                .or_insert_with(|| source.text.clone());
            let fixed = fix::apply::apply(&source.text, fixes);
            if fixed != source.text {
                changed.push((source.path.clone(), source.text.clone(), fixes.len()));
                options.overrides.insert(source.path.clone(), fixed);
            }
        }
        if changed.is_empty() {
            settled = true;
            break;
        }
        last_changed = changed.iter().map(|(path, _, _)| path.clone()).collect();
        let next = relint(&options)?;
        let mut redo = false;
        for (path, before, count) in changed {
            // A fix must leave a file its frontend reads: one that does not is undone, and the
            // file is fixed no further.
            if unreadable(&next, &path) && !unreadable(&outcome, &path) {
                options.overrides.insert(path.clone(), before);
                applied.remove(&path);
                undone.push(path);
                redo = true;
            } else {
                *applied.entry(path).or_default() += count;
            }
        }
        outcome = if redo { relint(&options)? } else { next };
    }
    // A fix that is still found after every pass does not recognise its own result (a bug):
    // the files it keeps changing are not written at all.
    let mut unsettled = Vec::new();
    if !settled {
        for path in last_changed {
            if let Some(original) = originals.get(&path) {
                options.overrides.insert(path.clone(), original.clone());
                applied.remove(&path);
                unsettled.push(path);
            }
        }
        outcome = relint(&options)?;
    }
    let unsafe_left = outcome
        .diagnostics
        .iter()
        .filter_map(|d| d.fix.as_ref())
        .filter(|f| f.applicability > allowed)
        .count();
    let files = originals
        .into_iter()
        .filter_map(|(path, before)| {
            let after = options.overrides.get(&path)?.clone();
            (after != before).then_some((path, before, after))
        })
        .collect();
    Ok(Fixed {
        outcome,
        files,
        applied: applied.values().sum(),
        unsafe_left,
        undone,
        unsettled,
    })
}

/// What `--fix` and `--diff` say on stderr about what they did.
pub fn summary(fixed: &Fixed, written: bool) -> String {
    let mut lines = Vec::new();
    for path in &fixed.undone {
        lines.push(format!(
            "warning: the fixes for {path} left it unreadable, so it was left as it was (a bug in migration-gate: please report it)"
        ));
    }
    for path in &fixed.unsettled {
        lines.push(format!(
            "warning: the fixes for {path} did not settle after {MAX_PASSES} passes (each pass found more to fix), so it was left as it was (a bug in migration-gate: please report it)"
        ));
    }
    let files = fixed.files.len();
    let verb = if written { "Fixed" } else { "Would fix" };
    lines.push(format!(
        "{verb} {} finding{} in {files} file{}.",
        fixed.applied,
        if fixed.applied == 1 { "" } else { "s" },
        if files == 1 { "" } else { "s" },
    ));
    if fixed.unsafe_left > 0 {
        lines.push(format!(
            "{} more fix{} available with --unsafe-fixes (they change what the migration does: read them with --diff --unsafe-fixes first).",
            fixed.unsafe_left,
            if fixed.unsafe_left == 1 { " is" } else { "es are" }
        ));
    }
    lines.join("\n")
}
