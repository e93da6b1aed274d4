//! Round-trip findings placed on the revision's own lines, in the database's own words.

use std::path::Path;

use std::time::Instant;

use crate::diagnostic::{Diagnostic, RuleMeta, Status, StepResult, TracedStatement};
use crate::model::{Framework, Migration, Phase, Span};
use crate::rules::roundtrip as findings;

use super::judge::{Judge, record};
use super::runner::{FailureCause, StepFailure};
use super::version_table::POINT_ENV_PY_AT_SCRATCH;
use super::{RoundtripError, fail};

impl Judge<'_> {
    pub(super) fn report(
        &mut self,
        meta: &RuleMeta,
        migration: &Migration,
        phase: Phase,
        failure: Option<&StepFailure>,
        message: String,
    ) {
        let span = failure
            .and_then(|f| self.span_of(f))
            .unwrap_or_else(|| self.default_span(migration, phase));
        let mut diagnostic = Diagnostic::new(meta, span, message).in_phase(phase);
        if let Some(failure) = failure {
            // The fix first, then the statement the database refused.
            let mut help: Vec<String> = Vec::new();
            if failure
                .file
                .as_ref()
                .is_some_and(|f| f.file_name().is_some_and(|n| n == "env.py"))
            {
                help.push(env_py_hint(&failure.message).into());
            } else if self.options.standalone && is_import_error(&failure.message) {
                help.push("the revision imports a module this Python lacks; under --standalone only the revision files run, so the application's own modules must be importable: install the project into --python's environment (`pip install -e .`), or run without --standalone".into());
            }
            if failure.timed_out {
                help.push(
                    "if the step is slow rather than stuck (a lock wait, a large backfill), raise the limit with `--timeout SECONDS` or `timeout_s` in [roundtrip]".into(),
                );
            } else if failure.sqlstate.as_deref() == Some(ACTIVE_SQL_TRANSACTION) {
                help.push(format!(
                    "run the statement outside the migration's transaction: {}",
                    self.set.framework.outside_transaction_way()
                ));
            } else if let Some(hint) = missing_from_server(self.set.framework, failure) {
                help.push(hint);
            } else if let Some(fix) = failure
                .sqlstate
                .as_deref()
                .and_then(|code| fix_for(code, self.set.framework))
            {
                help.push(fix.into());
            }
            if let Some(statement) = &failure.statement {
                let short = super::runner::one_line(statement, 300);
                help.push(format!("failing statement: `{}`", short.replace('`', "'")));
            }
            if !help.is_empty() {
                diagnostic = diagnostic.with_help(help.join(". "));
            }
        }
        self.push_found(diagnostic, Some(migration));
    }

    /// A finding of the round trip's, on `migration` when it is about one.
    pub(super) fn push_found(&mut self, mut diagnostic: Diagnostic, migration: Option<&Migration>) {
        diagnostic.revision = migration
            .and_then(Migration::revision_id)
            .map(str::to_string);
        // Rules of the static check run on captured SQL are the round trip's findings here;
        // a deploy-compatibility finding keeps its own section.
        if diagnostic.origin != crate::diagnostic::Origin::Deploy {
            diagnostic.origin = crate::diagnostic::Origin::Roundtrip;
        }
        self.diagnostics.push(diagnostic);
    }

    /// The failing line in the revision's own files, when the failure names one.
    fn span_of(&self, failure: &StepFailure) -> Option<Span> {
        let file = failure.file.as_ref()?;
        let line = failure.line?;
        let wanted = file.canonicalize().ok()?;
        let (id, source) = self
            .sources
            .iter()
            .find(|(_, s)| Path::new(&s.path).canonicalize().is_ok_and(|p| p == wanted))?;
        let start = source.line_start(line)?;
        let end = source.text[start..]
            .find('\n')
            .map_or(source.text.len(), |n| start + n);
        let indent = source.text[start..end].len() - source.text[start..end].trim_start().len();
        Some(Span::new(id, start + indent..end))
    }

    fn default_span(&self, migration: &Migration, phase: Phase) -> Span {
        match self.set.framework {
            Framework::Alembic => migration.body(phase).span,
            _ => migration
                .body(phase)
                .script
                .map(|s| Span::new(s.span.file, s.span.start..s.span.start))
                .unwrap_or(migration.revision_span),
        }
    }

    pub(super) fn describe(failure: &StepFailure) -> String {
        match &failure.sqlstate {
            Some(code) if !failure.message.contains(code.as_str()) => {
                format!("{} (SQLSTATE {code})", failure.message)
            }
            _ => failure.message.clone(),
        }
    }

    /// Records a failed step and reports it with the database's own words.
    pub(super) fn failed_step(
        &mut self,
        steps: &mut Vec<StepResult>,
        step: &'static str,
        since: Instant,
        migration: &Migration,
        failure: &StepFailure,
    ) {
        record(steps, step, Status::Failed, since);
        let id = Self::id(migration);
        let (meta, phase, what) = match step {
            "upgrade" => (
                &findings::UPGRADE_FAILED,
                Phase::Upgrade,
                format!("the upgrade of `{id}` fails"),
            ),
            "downgrade" => (
                &findings::DOWNGRADE_FAILED,
                Phase::Downgrade,
                format!("the downgrade of `{id}` fails right after its upgrade"),
            ),
            _ => (
                &findings::REUPGRADE_FAILED,
                Phase::Upgrade,
                format!("the upgrade of `{id}` fails when run again after its downgrade"),
            ),
        };
        // Alembic imports every revision file before running any: one that cannot be imported
        // stops them all, whichever revision was asked for.
        let elsewhere = failure.file.as_ref().filter(|file| {
            let own = Path::new(&self.sources.get(migration.file).path)
                .canonicalize()
                .ok();
            file.canonicalize().ok() != own
                && file.extension().is_some_and(|e| e == "py")
                && file.file_name().is_some_and(|n| n != "env.py")
                && file.components().any(|c| c.as_os_str() == "versions")
        });
        let what = if failure.cause == FailureCause::EnvPy {
            format!("env.py fails while running the {step} of `{id}`")
        } else {
            what
        };
        let message = match elsewhere {
            Some(file) => format!(
                "{what}: Alembic cannot load the revision files ({} fails to import, and Alembic imports every revision before running any): {}",
                file.file_name().unwrap_or_default().to_string_lossy(),
                Self::describe(failure)
            ),
            None => format!("{what}: {}", Self::describe(failure)),
        };
        self.report(meta, migration, phase, Some(failure), message);
    }

    /// Findings for what the trace observed on tables that existed before the revision.
    pub(super) fn report_trace(&mut self, migration: &Migration, trace: &[TracedStatement]) {
        const BOOKKEEPING: [&str; 3] = [
            "alembic_version",
            "schema_migrations",
            "flyway_schema_history",
        ];
        let id = Self::id(migration);
        for statement in trace {
            let short: String = statement.statement.chars().take(200).collect();
            for lock in &statement.locks {
                if lock.existed
                    && lock.mode == "AccessExclusiveLock"
                    && !BOOKKEEPING.contains(&lock.table.as_str())
                {
                    self.report(
                        &findings::TRACED_ACCESS_EXCLUSIVE,
                        migration,
                        Phase::Upgrade,
                        None,
                        format!(
                            "the upgrade of `{id}` took ACCESS EXCLUSIVE on `{}`: `{short}`",
                            lock.table
                        ),
                    );
                }
            }
            for table in &statement.rewritten {
                if !BOOKKEEPING.contains(&table.as_str()) {
                    self.report(
                        &findings::TRACED_REWRITE,
                        migration,
                        Phase::Upgrade,
                        None,
                        format!("the upgrade of `{id}` rewrote `{table}`: `{short}`"),
                    );
                }
            }
        }
    }
}

/// A failure after which no revision can be judged, as the error that ends the run (exit 2):
/// a connection the guard refused, or env.py failing before any step ever ran (every step
/// would fail the same way, and no revision is to blame).
pub(super) fn fatal(failure: &StepFailure) -> Option<RoundtripError> {
    let location = match (&failure.file, failure.line) {
        (Some(file), Some(line)) => format!(" ({}:{line})", file.display()),
        _ => String::new(),
    };
    match failure.cause {
        FailureCause::ForeignDatabase => {
            let from_env_py = failure
                .file
                .as_ref()
                .is_none_or(|f| f.file_name().is_some_and(|n| n == "env.py"));
            let fix = if from_env_py {
                POINT_ENV_PY_AT_SCRATCH
            } else {
                "a revision works on the database Alembic runs it on through `op.get_bind()` (or `op.execute`); a connection of its own reaches whatever its settings name, in production too"
            };
            Some(fail(format!(
                "{}{location}. {fix}. Nothing ran on any other database.",
                failure.message
            )))
        }
        FailureCause::Setup => Some(fail(format!(
            "env.py fails before any revision runs{location}: {}. {}",
            failure.message,
            env_py_hint(&failure.message)
        ))),
        FailureCause::Revision | FailureCause::EnvPy => None,
    }
}

fn is_import_error(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.starts_with("importerror") || lower.starts_with("modulenotfounderror")
}

/// What to do when env.py itself fails, before any revision runs, by what it says.
fn env_py_hint(message: &str) -> &'static str {
    let lower = message.to_ascii_lowercase();
    if is_import_error(message) {
        "env.py imports something this Python lacks: pass --python naming the project's virtualenv (or install it there); if it is the application itself, --standalone runs the revisions without it"
    } else if lower.contains("application context")
        || lower.contains("current_app")
        || lower.contains("flask")
    {
        "env.py needs the running application (Flask's `current_app`): pass --standalone to run the revisions with a generated env.py"
    } else if lower.contains("keyerror") || lower.contains("environ") {
        "env.py reads a setting that is not there: give it through `[roundtrip] env` or the environment, name the variable it reads its URL from in `[roundtrip] url_env`, or pass --standalone"
    } else {
        "env.py itself failed, outside the revision's code: fix the line shown, or pass --standalone to run the revisions with a generated env.py"
    }
}

/// active_sql_transaction: CONCURRENTLY, ALTER TYPE ... ADD VALUE (< 12), VACUUM refused in a
/// transaction block; the fix depends on the framework.
const ACTIVE_SQL_TRANSACTION: &str = "25001";

/// The usual fix for the database errors migrations meet most, by SQLSTATE.
/// A failure on something the production server has and the scratch one lacks (an
/// extension's package, a role, a schema a platform makes): how to give the round trip a
/// server like production.
fn missing_from_server(framework: Framework, failure: &StepFailure) -> Option<String> {
    let message = failure.message.as_str();
    let missing = match failure.sqlstate.as_deref()? {
        "0A000" if message.contains("extension") && message.contains("is not available") => true,
        "42704" if message.starts_with("role ") => true,
        "3F000" => true,
        _ => false,
    };
    if !missing {
        return None;
    }
    Some(match framework {
        Framework::Supabase => "Supabase migrations build on what the Supabase platform provides (the roles anon, authenticated and service_role, the auth and storage schemas, its extensions): run the round trip on Supabase's own image (`--postgres docker --postgres-image supabase/postgres:<version>`), or create what they need in a `--baseline` SQL file (`supabase db dump` of those schemas)".into(),
        _ => "the migration needs something the production server has and this scratch server lacks (an extension's package, a role, a schema made outside the migrations): run the round trip on an image that has it (`--postgres docker --postgres-image ...`), or create it in a `--baseline` SQL file".into(),
    })
}

/// The usual fix for a failure PostgreSQL reports with `sqlstate`, in the framework's words.
fn fix_for(sqlstate: &str, framework: Framework) -> Option<&'static str> {
    Some(match sqlstate {
        "23502" => {
            "existing rows have no value for the column: add it nullable, backfill, then set NOT NULL (or give it a `server_default`)"
        }
        "42P07" | "42701" | "42710" => {
            "the object already exists: the downgrade before did not remove it, or the upgrade creates it twice; drop it in the downgrade (or use IF NOT EXISTS)"
        }
        "42P01" | "42703" | "42704" if framework == Framework::Alembic => {
            "the object does not exist at this point: check the revision's order (`down_revision`) and that the downgrade drops objects in reverse order of creation"
        }
        "42P01" | "42703" | "42704" => {
            "the object does not exist at this point: check the migrations' order and that the downgrade drops objects in reverse order of creation"
        }
        "2BP01" => {
            "other objects depend on it: drop the dependent objects first (in the downgrade, reverse the upgrade's order)"
        }
        "23505" => {
            "existing rows violate the new unique constraint or index: deduplicate in a data step first"
        }
        "23503" => {
            "existing rows violate the foreign key: clean them up first, or add it NOT VALID and validate later"
        }
        "42601" => "the SQL does not parse: check the statement as PostgreSQL sees it",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::env_py_hint;

    #[test]
    fn what_the_scratch_server_lacks_is_said_so() {
        use super::{Framework, StepFailure, missing_from_server};
        let failure = |sqlstate: &str, message: &str| StepFailure {
            sqlstate: Some(sqlstate.into()),
            message: message.into(),
            ..StepFailure::default()
        };
        let role = failure("42704", "role \"anon\" does not exist");
        assert!(
            missing_from_server(Framework::Supabase, &role)
                .unwrap()
                .contains("supabase/postgres")
        );
        let extension = failure("0A000", "extension \"vector\" is not available");
        assert!(
            missing_from_server(Framework::Atlas, &extension)
                .unwrap()
                .contains("--baseline")
        );
        // A missing table is the history's business, not the server's.
        let table = failure("42704", "type \"mood\" does not exist");
        assert_eq!(missing_from_server(Framework::Supabase, &table), None);
    }

    #[test]
    fn env_py_failures_get_the_hint_that_fits_their_cause() {
        assert!(
            env_py_hint("RuntimeError: Working outside of application context.")
                .contains("--standalone")
        );
        assert!(env_py_hint("ImportError: No module named 'greenlet'").contains("--python"));
        assert!(env_py_hint("KeyError: 'APP_DATABASE_URL'").contains("url_env"));
    }
}
