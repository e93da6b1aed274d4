//! Round-trip findings placed on the revision's own lines, in the database's own words.

use std::path::Path;

use crate::diagnostic::{Diagnostic, RuleMeta};
use crate::model::{Framework, Migration, Phase, Span};

use super::judge::Judge;
use super::runner::StepFailure;

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
        diagnostic.revision = migration.revision_id().map(str::to_string);
        diagnostic.origin = crate::diagnostic::Origin::Roundtrip;
        if let Some(failure) = failure {
            let mut help = Vec::new();
            if let Some(statement) = &failure.statement {
                let short: String = statement.split_whitespace().collect::<Vec<_>>().join(" ");
                let short = if short.chars().count() > 300 {
                    format!("{}…", short.chars().take(300).collect::<String>())
                } else {
                    short
                };
                help.push(format!("statement: {short}"));
            }
            if failure
                .file
                .as_ref()
                .is_some_and(|f| f.file_name().is_some_and(|n| n == "env.py"))
            {
                help.push("env.py cannot run outside the application: pass --standalone to run the revisions with a generated env.py".into());
            }
            if failure.timed_out {
                help.push(
                    "raise `timeout_s` in [roundtrip] if the step is slow rather than stuck".into(),
                );
            }
            if !help.is_empty() {
                diagnostic = diagnostic.with_help(help.join("; "));
            }
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
}
