//! Deploy compatibility (`roundtrip --base REF --compat`): the models of the version running
//! now (env.py's `target_metadata` in a checkout of REF) run their statements against the
//! schema REF's revisions build, then against the schema each new revision leaves. A statement
//! that worked before and fails after a revision is that revision's `deploy-incompatible`.
//!
//! REF's models are imported by a driver of their own, started in the checkout for each probe:
//! a project's packages have the same names in both versions, and one interpreter can hold only
//! one of them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use crate::diagnostic::{Diagnostic, Severity, Status};
use crate::lint::git::{BaseRef, Worktree};
use crate::model::{Migration, Phase, Span};
use crate::rules::roundtrip as findings;

use std::time::Duration;

use super::judge::Judge;
use super::runner::{AlembicDriver, AlembicOptions};
use super::session::{Applier, Session};

/// One statement of the probe, as the driver reports it.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Probe {
    table: String,
    /// `select`, `insert`, `insert again`, `update` or `delete`.
    action: String,
    /// The columns the statement named.
    #[serde(default)]
    columns: Vec<String>,
    error: Option<String>,
    sqlstate: Option<String>,
    /// Why the statement was not tried (no value can be made for a column's type).
    skipped: Option<String>,
}

impl Probe {
    fn key(&self) -> (String, String) {
        (self.table.clone(), self.action.clone())
    }

    fn worked(&self) -> bool {
        self.error.is_none() && self.skipped.is_none()
    }
}

/// Which version's code meets which schema during a deploy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeployOrder {
    /// The migrations run, then the new code rolls out: the running (old) code meets the new
    /// schema.
    #[default]
    MigrateFirst,
    /// The new code rolls out, then the migrations run: the new code meets the old schema.
    CodeFirst,
}

/// Whose models are probed: REF's, imported from a checkout (migrate-first), or this tree's,
/// through the session's own driver (code-first).
enum Models {
    Base {
        options: Box<AlembicOptions>,
        /// Kept for as long as REF's models are imported from it.
        _worktree: Worktree,
    },
    Current,
}

/// The models a deploy order puts against another version's schema, and what their statements
/// got on REF's schema.
pub(super) struct Compat {
    reference: String,
    order: DeployOrder,
    models: Models,
    /// REF's schema's answers, by table and action; `None` before the first probe, and for
    /// good once REF's models cannot be probed (a note said why).
    baseline: Option<BTreeMap<(String, String), Probe>>,
    reported: BTreeSet<(String, String)>,
    /// The revisions REF has, whatever their files look like now: the schema the deploy starts
    /// from is REF's head, and only the others are new.
    pub(super) on_base: BTreeSet<String>,
    /// What REF's schema accepts, read at the first probe: every later row is made to meet it.
    facts: Option<serde_json::Value>,
}

impl Compat {
    /// A checkout of REF and the driver options that import its models; `Err` with a note's
    /// text when REF's models cannot be loaded from it.
    pub(super) fn prepare(
        reference: &str,
        order: DeployOrder,
        current: AlembicOptions,
        project: &Path,
        filters: &crate::discover::PathFilters,
    ) -> Result<Compat, String> {
        let base = BaseRef::resolve(reference, project).map_err(|e| e.to_string())?;
        let worktree = base.worktree().map_err(|e| e.to_string())?;
        let toplevel = base
            .toplevel
            .canonicalize()
            .unwrap_or(base.toplevel.clone());
        let map = |path: &Path| {
            let path = path.canonicalize().unwrap_or(path.to_path_buf());
            worktree.map(&toplevel, &path)
        };
        let script_location = map(&current.script_location);
        let on_base = revisions_in(&script_location, filters);
        let models = match order {
            // This tree's models, through the session's own driver: the checkout gave REF's
            // revisions, and is removed again.
            DeployOrder::CodeFirst => Models::Current,
            DeployOrder::MigrateFirst => {
                if !script_location.join("env.py").is_file() {
                    return Err(format!(
                        "`{reference}` has no {} to import its models from",
                        script_location
                            .strip_prefix(&worktree.toplevel)
                            .unwrap_or(&script_location)
                            .join("env.py")
                            .display()
                    ));
                }
                let mut env = current.env.clone();
                env.push((
                    "MIGRATION_GATE_CHECKOUT_OF".to_string(),
                    toplevel.to_string_lossy().to_string(),
                ));
                env.push((
                    "MIGRATION_GATE_CHECKOUT".to_string(),
                    worktree.toplevel.to_string_lossy().to_string(),
                ));
                let options = AlembicOptions {
                    env,
                    working_dir: map(&current.working_dir),
                    ini: current.ini.as_deref().map(map),
                    versions: current.versions.iter().map(|v| map(v)).collect(),
                    script_location,
                    ..current
                };
                Models::Base {
                    options: Box::new(options),
                    _worktree: worktree,
                }
            }
        };
        Ok(Compat {
            reference: reference.to_string(),
            order,
            models,
            baseline: None,
            reported: BTreeSet::new(),
            on_base,
            facts: None,
        })
    }

    /// Whose models, for messages.
    fn whose(&self) -> String {
        match self.order {
            DeployOrder::MigrateFirst => {
                format!("the version running now (models of `{}`)", self.reference)
            }
            DeployOrder::CodeFirst => "the new version (this tree's models)".to_string(),
        }
    }

    /// What REF's models' statements get on the database now; `Err` with a note's text when
    /// they cannot be run (env.py fails, no `target_metadata`).
    async fn probe(
        &mut self,
        session: &mut Session,
        limit: Duration,
    ) -> Result<Vec<Probe>, String> {
        let request = match &self.facts {
            Some(facts) => serde_json::json!({"cmd": "probe", "facts": facts}),
            None => serde_json::json!({"cmd": "probe"}),
        };
        let (answer, env) = match &self.models {
            Models::Base { options, .. } => {
                let database = session.scratch.conninfo.clone();
                let mut driver = AlembicDriver::start(options.as_ref().clone(), &database, None)
                    .await
                    .map_err(|e| e.to_string())?;
                let answer = driver.request(request, limit).await;
                driver.stop().await;
                (answer, format!("env.py on `{}`", self.reference))
            }
            Models::Current => {
                let Applier::Alembic(driver) = &mut session.applier else {
                    return Err("no Alembic driver runs this set".into());
                };
                (driver.request(request, limit).await, "env.py".to_string())
            }
        };
        let answer = answer.map_err(|failure| format!("{env} failed: {}", failure.message))?;
        if answer.no_metadata {
            return Err(format!(
                "{env} hands Alembic no `target_metadata`: there are no models to run"
            ));
        }
        if let Some(file) = answer.imported_elsewhere.first() {
            return Err(format!(
                "{env} imported this tree's files, not REF's (`{file}`{}): an import path names the working tree in a way REF's checkout cannot stand in for; make the models importable relative to the project (a relative PYTHONPATH, alembic.ini's prepend_sys_path)",
                if answer.imported_elsewhere.len() > 1 {
                    " and more"
                } else {
                    ""
                }
            ));
        }
        if self.facts.is_none() {
            self.facts = answer.facts;
        }
        Ok(answer.probes.unwrap_or_default())
    }
}

impl Judge<'_> {
    /// With `--compat`, REF's checkout and the options that import its models; `None` (with a
    /// note saying why, when it was asked for) otherwise.
    pub(super) fn prepare_compat(&mut self) -> Option<Compat> {
        if !self.options.compat {
            return None;
        }
        let reference = self.options.lint.base.clone()?;
        let span = self.set.env.file.map(|file| Span::new(file, 0..0));
        let prepared = match self.alembic_options() {
            Some(options) => {
                let project = options.script_location.clone();
                Compat::prepare(
                    &reference,
                    self.options.deploy_order,
                    options,
                    &project,
                    &self.options.lint.filters,
                )
            }
            None => Err(format!(
                "{} migrations have no models to run (deploy compatibility is proven for Alembic histories)",
                self.set.framework.label()
            )),
        };
        match prepared {
            Ok(compat) => Some(compat),
            Err(why) => {
                if let Some(span) =
                    span.or_else(|| self.set.migrations.first().map(|m| m.revision_span))
                {
                    let mut note = Diagnostic::new(
                        &findings::DEPLOY_INCOMPATIBLE,
                        span,
                        format!("deploy compatibility was not checked: {why}"),
                    );
                    note.severity = Severity::Note;
                    self.push_found(note, None);
                }
                None
            }
        }
    }

    /// REF's models on REF's schema, before the first new revision: what works there is what
    /// the new revisions must keep working.
    pub(super) async fn compat_baseline(&mut self, compat: &mut Compat, session: &mut Session) {
        let note_span = self
            .set
            .env
            .file
            .map(|file| Span::new(file, 0..0))
            .or_else(|| self.set.migrations.first().map(|m| m.revision_span));
        match compat.probe(session, self.options.step_timeout).await {
            Ok(probes) => {
                let failing: Vec<String> = probes
                    .iter()
                    .filter(|p| !p.worked())
                    .map(|p| {
                        format!(
                            "{} `{}` ({})",
                            p.action,
                            p.table,
                            p.skipped.as_deref().or(p.error.as_deref()).unwrap_or("")
                        )
                    })
                    .collect();
                let tables: BTreeSet<&str> = probes.iter().map(|p| p.table.as_str()).collect();
                // What was judged, so that a clean run says it ran and what it covered.
                let coverage = match compat.order {
                    DeployOrder::MigrateFirst => {
                        let mut text = format!(
                            "deploy compatibility: the models of `{}` map {} tables; {} of their {} statements work on its schema and were run again after each new revision",
                            compat.reference,
                            tables.len(),
                            probes.len() - failing.len(),
                            probes.len()
                        );
                        if !failing.is_empty() {
                            text.push_str(&format!(
                                "; these fail there already and are not judged: {}",
                                failing.join("; ")
                            ));
                        }
                        text
                    }
                    // Code-first, what fails on REF's schema is what the new revisions must fix.
                    DeployOrder::CodeFirst => format!(
                        "deploy compatibility (code-first): this tree's models map {} tables; {} of their {} statements fail on `{}`'s schema, and each new revision was checked for the ones it makes work",
                        tables.len(),
                        failing.len(),
                        probes.len(),
                        compat.reference
                    ),
                };
                if let Some(span) = note_span {
                    let mut note = Diagnostic::new(&findings::DEPLOY_INCOMPATIBLE, span, coverage);
                    note.severity = Severity::Note;
                    self.push_found(note, None);
                }
                compat.baseline = Some(probes.into_iter().map(|p| (p.key(), p)).collect());
            }
            Err(why) => {
                if let Some(span) = note_span {
                    let mut note = Diagnostic::new(
                        &findings::DEPLOY_INCOMPATIBLE,
                        span,
                        format!("deploy compatibility was not checked: {why}"),
                    );
                    note.severity = Severity::Note;
                    self.push_found(note, None);
                }
            }
        }
    }

    /// REF's models against the schema `migration`'s upgrade left: each statement that worked
    /// before and fails now is this revision's doing.
    pub(super) async fn compat_after(
        &mut self,
        compat: &mut Compat,
        session: &mut Session,
        migration: &Migration,
    ) -> Option<Status> {
        compat.baseline.as_ref()?;
        let probes = match compat.probe(session, self.options.step_timeout).await {
            Ok(probes) => probes,
            Err(why) => {
                let mut note = Diagnostic::new(
                    &findings::DEPLOY_INCOMPATIBLE,
                    migration.revision_span,
                    format!("deploy compatibility was not checked after this revision: {why}"),
                );
                note.severity = Severity::Note;
                self.push_found(note.in_phase(Phase::Upgrade), Some(migration));
                return Some(Status::Skipped);
            }
        };
        let baseline = compat.baseline.as_ref()?;
        let mut broken: Vec<Probe> = Vec::new();
        for probe in probes {
            let key = probe.key();
            if compat.reported.contains(&key) {
                continue;
            }
            let before = baseline.get(&key);
            match compat.order {
                // What worked on REF's schema and fails now: this revision broke it.
                DeployOrder::MigrateFirst => {
                    if before.is_some_and(Probe::worked) && probe.error.is_some() {
                        compat.reported.insert(key);
                        broken.push(probe);
                    }
                }
                // What failed on REF's schema and works now: the new code needs this revision,
                // and fails until it runs, with the error REF's schema gave.
                DeployOrder::CodeFirst => {
                    if let Some(before) = before.filter(|b| b.error.is_some())
                        && probe.worked()
                    {
                        compat.reported.insert(key);
                        broken.push(before.clone());
                    }
                }
            }
        }
        // One finding per table: its first failing statement says why, the others are named.
        let mut by_table: BTreeMap<String, Vec<Probe>> = BTreeMap::new();
        for probe in broken {
            by_table.entry(probe.table.clone()).or_default().push(probe);
        }
        for probes in by_table.values() {
            let first = &probes[0];
            let mut text = message(&compat.whose(), compat.order, first);
            if probes.len() > 1 {
                let others: Vec<&str> = probes[1..].iter().map(|p| p.action.as_str()).collect();
                text.push_str(&format!(" (also failing: {})", others.join(", ")));
            }
            let diagnostic = Diagnostic::new(
                &findings::DEPLOY_INCOMPATIBLE,
                migration.revision_span,
                text,
            )
            .in_phase(Phase::Upgrade)
            .with_help(match compat.order {
                DeployOrder::MigrateFirst => expand_contract(first),
                DeployOrder::CodeFirst => {
                    "deployed code-first, the new code runs before this revision: ship the revision in an earlier release than the code that needs it, or deploy migrate-first"
                }
            });
            self.push_found(diagnostic, Some(migration));
        }
        Some(if by_table.is_empty() {
            Status::Passed
        } else {
            Status::Failed
        })
    }
}

/// The revision ids of the Alembic histories in `folder` (REF's checkout).
fn revisions_in(folder: &Path, filters: &crate::discover::PathFilters) -> BTreeSet<String> {
    let Ok(found) = crate::discover::discover(&[folder.to_path_buf()], filters) else {
        return BTreeSet::new();
    };
    crate::frontend::load(&found)
        .sets
        .iter()
        .filter(|set| set.framework == crate::model::Framework::Alembic)
        .flat_map(|set| &set.migrations)
        .filter_map(|m| m.revision_id().map(str::to_string))
        .collect()
}

fn message(whose: &str, order: DeployOrder, probe: &Probe) -> String {
    let what = match probe.action.as_str() {
        "select" => format!("select from `{}`", probe.table),
        "insert" => format!("insert into `{}`", probe.table),
        "insert again" => format!(
            "insert a second row with the same values into `{}`",
            probe.table
        ),
        "insert without nullable columns" => format!(
            "insert into `{}` a row without the columns its model declares nullable",
            probe.table
        ),
        "update" => format!("update `{}`", probe.table),
        _ => format!("delete from `{}`", probe.table),
    };
    let columns = match probe.action.as_str() {
        _ if probe.columns.is_empty() => String::new(),
        "select" => format!(" (its model reads {})", probe.columns.join(", ")),
        "delete" => String::new(),
        _ => format!(" (its model writes {})", probe.columns.join(", ")),
    };
    let code = probe
        .sqlstate
        .as_deref()
        .map(|code| format!(" ({code})"))
        .unwrap_or_default();
    let when = match order {
        DeployOrder::MigrateFirst => "once this revision is applied",
        DeployOrder::CodeFirst => "until this revision is applied (code-first deploy)",
    };
    format!(
        "{whose} cannot {what} {when}{columns}: {}{code}",
        probe.error.as_deref().unwrap_or_default()
    )
}

/// The two-release way to make the change, by what PostgreSQL refused.
fn expand_contract(probe: &Probe) -> &'static str {
    if probe.action == "insert without nullable columns" {
        return "the running code may leave the column out (its model declares it nullable): deploy code that always writes it and backfill, then SET NOT NULL in the next release";
    }
    match probe.sqlstate.as_deref() {
        // not_null_violation
        Some("23502") => {
            "add the column nullable or with a server default, deploy code that writes it, backfill, then SET NOT NULL in the next release"
        }
        // undefined_column, undefined_table
        Some("42703") | Some("42P01") => {
            "a column or table the running models map is gone or renamed: deploy models that no longer use it first and drop it in the next release; for a rename, add the new name, write both, backfill, switch reads, then drop the old one later"
        }
        // string_data_right_truncation, numeric_value_out_of_range
        Some("22001") | Some("22003") => {
            "the type was narrowed below what the running code writes: deploy code that writes only values that fit first, then narrow the type in the next release"
        }
        // unique_violation
        Some("23505") => {
            "the running code may write values the new unique constraint refuses (its model has no such constraint): deploy code that keeps them unique first, then add the constraint (a unique index CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX)"
        }
        // check_violation, foreign_key_violation
        Some("23514") | Some("23503") => {
            "the running code writes rows the new constraint refuses: deploy code that writes valid rows first, then add the constraint NOT VALID and VALIDATE it in the next release"
        }
        _ => {
            "make the change in two releases: first what the running code can live with (expand), then, once no running code needs the old shape, the rest (contract)"
        }
    }
}
