//! The static check: discover → frontends → rules → suppressions → diagnostics.

mod baseline;
pub mod git;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::discover::PathFilters;
use rayon::prelude::*;

use crate::config::Preset;
use crate::diagnostic::{Diagnostic, Severity};
use crate::discover;
use crate::frontend;
use crate::model::{FileId, InputProblemKind, MigrationSet, Sources};
use crate::rules::{self, LintContext};

#[derive(Debug, Clone)]
pub struct LintOptions {
    pub paths: Vec<PathBuf>,
    pub postgres_version: u32,
    /// The rules that run when `select` is `None`.
    pub preset: Preset,
    /// Only these rules (the preset's when `None`).
    pub select: Option<Vec<String>>,
    pub ignore: Vec<String>,
    pub severity: BTreeMap<String, Severity>,
    /// `exclude` globs and the folders `[dialect]` assigns to a database.
    pub filters: PathFilters,
    /// `--base REF`: lint only what changed since the merge base with REF.
    pub base: Option<String>,
    /// Where lock_timeout is set when the migrations do not set it (`lock-timeout-set-by`:
    /// the migration role, the database, the application's engine options).
    pub lock_timeout_set_by: Option<String>,
    /// Texts read in place of files' contents (`check --fix` reading its fixes back).
    pub overrides: frontend::Overrides,
}

impl Default for LintOptions {
    fn default() -> Self {
        LintOptions {
            paths: vec![PathBuf::from(".")],
            postgres_version: crate::config::DEFAULT_POSTGRES_VERSION,
            preset: Preset::Recommended,
            select: None,
            ignore: Vec::new(),
            severity: BTreeMap::new(),
            filters: PathFilters::default(),
            base: None,
            lock_timeout_set_by: None,
            overrides: frontend::Overrides::new(),
        }
    }
}

impl LintOptions {
    /// Whether `rule` runs: named by `select` (or `all`), else in the preset; never when
    /// ignored.
    pub fn enabled(&self, rule: &str) -> bool {
        let chosen = match &self.select {
            Some(select) => select.iter().any(|r| r == rule || r == "all"),
            None => rules::in_preset(rule, self.preset),
        };
        chosen && !self.ignore.iter().any(|r| r == rule)
    }

    /// The severity the config gives the finding's rule, if it gives one.
    pub fn apply_severity(&self, diagnostic: &mut Diagnostic) {
        if let Some(&severity) = self.severity.get(diagnostic.rule) {
            diagnostic.severity = severity;
        }
    }
}

/// The findings of `active` rules on one set.
pub fn check_set(
    set: &MigrationSet,
    sources: &Sources,
    options: &LintOptions,
    scope: Option<&[FileId]>,
    base: Option<&crate::model::BaseHistory>,
    active: &[&dyn rules::Rule],
) -> Vec<Diagnostic> {
    use crate::model::names::{SearchPath, with_search_path};
    with_search_path(SearchPath::of_set(set), || {
        check_set_resolved(set, sources, options, scope, base, active)
    })
}

/// [`check_set`] with the set's names resolved as its `search_path` makes them.
fn check_set_resolved(
    set: &MigrationSet,
    sources: &Sources,
    options: &LintOptions,
    scope: Option<&[FileId]>,
    base: Option<&crate::model::BaseHistory>,
    active: &[&dyn rules::Rule],
) -> Vec<Diagnostic> {
    let graph = crate::model::graph::RevisionGraph::build(set);
    let history = rules::history::History::build(set, &graph);
    let cx = LintContext {
        graph: &graph,
        history: &history,
        set,
        sources,
        postgres_version: options.postgres_version,
        scope,
        base,
        lock_timeout_set_elsewhere: options.lock_timeout_set_by.is_some(),
    };
    let mut out = Vec::new();
    for rule in active {
        rule.check(&cx, &mut out);
    }
    out
}

pub struct Outcome {
    pub sources: Sources,
    pub sets: Vec<MigrationSet>,
    pub diagnostics: Vec<Diagnostic>,
    /// Some input could not be read or parsed: the run is incomplete (exit code 2).
    pub input_errors: usize,
    pub revisions: usize,
    /// Files whose migrations were checked, when not all of them (named files, `--base`).
    pub scope: Option<Vec<FileId>>,
}

#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error(transparent)]
    Discover(#[from] discover::DiscoverError),
    #[error(transparent)]
    Git(#[from] git::GitError),
}

pub fn lint(options: &LintOptions) -> Result<Outcome, LintError> {
    let discovered = discover::discover(&options.paths, &options.filters)?;
    let loaded = frontend::load_with(&discovered, &options.overrides);
    let baseline = options
        .base
        .as_deref()
        .map(|reference| {
            let inside = options.paths.first().cloned().unwrap_or_default();
            baseline::prepare(reference, &inside, &loaded, &options.filters)
        })
        .transpose()?;
    let scope: Option<Vec<FileId>> = match (&loaded.scope, &baseline) {
        (Some(named), Some(baseline)) => Some(
            named
                .iter()
                .filter(|f| baseline.scope.contains(f))
                .copied()
                .collect(),
        ),
        (None, Some(baseline)) => Some(baseline.scope.clone()),
        (named, None) => named.clone(),
    };
    let mut diagnostics: Vec<Diagnostic> = loaded
        .problems
        .iter()
        .map(|problem| {
            let meta = match problem.kind {
                InputProblemKind::SyntaxError => &rules::SYNTAX_ERROR,
                InputProblemKind::Unreadable => &rules::UNREADABLE_FILE,
                InputProblemKind::SkippedLink => &rules::SKIPPED_LINK,
                InputProblemKind::SkippedFolder => &rules::SKIPPED_FOLDER,
            };
            Diagnostic::new(meta, problem.span, problem.message.clone())
        })
        .collect();
    let input_errors = loaded
        .problems
        .iter()
        .filter(|p| {
            !matches!(
                p.kind,
                InputProblemKind::SkippedLink | InputProblemKind::SkippedFolder
            )
        })
        .count();

    let active: Vec<&dyn rules::Rule> = rules::registry()
        .iter()
        .copied()
        .filter(|rule| options.enabled(rule.meta().id))
        .collect();
    let found: Vec<Diagnostic> = loaded
        .sets
        .par_iter()
        .enumerate()
        .flat_map_iter(|(position, set)| {
            let base = baseline
                .as_ref()
                .and_then(|b| b.histories.get(position))
                .and_then(Option::as_ref);
            check_set(
                set,
                &loaded.sources,
                options,
                scope.as_deref(),
                base,
                &active,
            )
        })
        .collect();
    diagnostics.extend(found);
    for diagnostic in &mut diagnostics {
        options.apply_severity(diagnostic);
    }
    let mut diagnostics = apply_suppressions(diagnostics, &loaded.sources, options);
    sort(&mut diagnostics, &loaded.sources, &loaded.sets);
    let revisions = loaded.sets.iter().map(|s| s.migrations.len()).sum();
    Ok(Outcome {
        sources: loaded.sources,
        sets: loaded.sets,
        diagnostics,
        input_errors,
        revisions,
        scope,
    })
}

/// Drops findings silenced by an inline comment on their line or the line above, or by a
/// file-level comment, and reports each comment that silenced nothing.
fn apply_suppressions(
    diagnostics: Vec<Diagnostic>,
    sources: &Sources,
    options: &LintOptions,
) -> Vec<Diagnostic> {
    let mut used: BTreeSet<(u32, usize)> = BTreeSet::new();
    let mut kept = Vec::with_capacity(diagnostics.len());
    for diagnostic in diagnostics {
        let silenced_by = diagnostic.span.and_then(|span| {
            let file = sources.get(span.file);
            let (line, _) = file.line_col(span.start);
            file.suppressions
                .iter()
                .position(|s| {
                    s.rules.iter().any(|r| r == diagnostic.rule || r == "all")
                        && (s.whole_file || s.line == line || s.line + 1 == line)
                })
                .map(|index| (span.file.0, index))
        });
        match silenced_by {
            Some(key) => {
                used.insert(key);
            }
            None => kept.push(diagnostic),
        }
    }
    if options.enabled(rules::UNUSED_SUPPRESSION.id) {
        for (id, file) in sources.iter() {
            for (index, suppression) in file.suppressions.iter().enumerate() {
                let relevant = suppression
                    .rules
                    .iter()
                    .any(|r| r == "all" || options.enabled(r));
                if relevant && !used.contains(&(id.0, index)) {
                    kept.push(Diagnostic::new(
                        &rules::UNUSED_SUPPRESSION,
                        suppression.span,
                        format!("this suppression of `{}` matches no finding", suppression.rules.join(", ")),
                    ).with_help("remove the comment, or move it onto the flagged line or the line above it"));
                }
            }
        }
    }
    kept
}

/// Findings in the order the history runs: set by set, revision by revision as they are
/// applied (not by file name, which for Alembic is a random hash), then by place in the file.
/// Findings on files outside any history (unreadable input, env.py) come first.
fn sort(diagnostics: &mut [Diagnostic], sources: &Sources, sets: &[MigrationSet]) {
    let mut applied_at: std::collections::HashMap<FileId, (usize, usize)> =
        std::collections::HashMap::new();
    for (set_index, set) in sets.iter().enumerate() {
        let order = crate::model::graph::RevisionGraph::build(set).apply_order(set);
        for (position, migration) in order.iter().enumerate() {
            applied_at
                .entry(migration.file)
                .or_insert((set_index, position + 1));
        }
    }
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            d.span
                .map(|s| {
                    (
                        applied_at.get(&s.file).copied().unwrap_or((0, 0)),
                        sources.get(s.file).path.clone(),
                        s.start,
                    )
                })
                .unwrap_or_default()
        };
        key(a).cmp(&key(b)).then_with(|| a.rule.cmp(b.rule))
    });
}
