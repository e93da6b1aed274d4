//! Fixes: edits of a migration's source text that make a finding go away, each with how safe it
//! is to apply without a person reading it (ruff's applicability). A rule builds its fix from the
//! model's edit sites with the builders of one file per fix kind here; `apply` puts fixes into
//! text and `diff` shows them.

pub mod apply;
pub mod autocommit_block;
pub mod concurrent_index;
pub mod constraint_name;
pub mod diff;
pub mod inverse_downgrade;
pub mod lock_timeout;
pub mod not_null_check;
pub mod not_valid;
mod python;
pub mod unique_using_index;

use std::ops::Range;

use serde::Serialize;

use crate::model::FileId;

/// What the project allows a fix to write, from env.py.
#[derive(Debug, Clone, Copy, Default)]
pub struct Allowed {
    /// `op.get_context().autocommit_block()` works: Alembic opened the transaction.
    pub autocommit_block: bool,
    /// env.py's naming convention was read, and applied to the model's names: a CHECK's plain
    /// name is the one SQLAlchemy sends. Where none was read, the application may still have
    /// one that takes the given name (`ck_%(table_name)s_%(constraint_name)s`, as SQLAlchemy's
    /// documentation suggests for CHECKs), somewhere no reading finds it for sure.
    pub convention_known: bool,
    /// Alembic runs each revision in a transaction of its own (`transaction_per_migration`):
    /// an autocommit block commits only this revision's statements before it, not the earlier
    /// revisions of the run too.
    pub transaction_per_revision: bool,
}

impl Allowed {
    /// How safe a fix of an operation is when it opens an autocommit block only if the
    /// operation runs in Alembic's transaction (`in_transaction`).
    pub fn applicability(self, in_transaction: bool) -> Applicability {
        if in_transaction {
            self.autocommit_applicability()
        } else {
            Applicability::Safe
        }
    }

    /// How safe a fix that opens an autocommit block is: it commits what ran before it, which
    /// is the whole run so far when env.py runs every revision in one transaction.
    pub fn autocommit_applicability(self) -> Applicability {
        if self.transaction_per_revision {
            Applicability::Safe
        } else {
            Applicability::Unsafe
        }
    }

    pub fn of(env: &crate::model::AlembicEnv) -> Self {
        Allowed {
            autocommit_block: !env.begins_own_transaction,
            convention_known: env.naming_convention.is_some(),
            transaction_per_revision: env.transaction_per_migration,
        }
    }
}

/// Whether a fix may be applied without a person deciding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// The same schema in the end, reached with less locking: `check --fix` applies it.
    Safe,
    /// Changes what the migration does, or needs a second release: only with `--unsafe-fixes`.
    Unsafe,
}

impl Applicability {
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
        }
    }
}

/// One change of the text: `range` replaced by `content` (an insertion when `range` is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub content: String,
}

impl Edit {
    /// Text order: by start, then end, then content.
    pub fn key(&self) -> (usize, usize, &str) {
        (self.range.start, self.range.end, &self.content)
    }

    pub fn insert(at: usize, content: impl Into<String>) -> Self {
        Edit {
            range: at..at,
            content: content.into(),
        }
    }

    pub fn replace(range: Range<usize>, content: impl Into<String>) -> Self {
        Edit {
            range,
            content: content.into(),
        }
    }
}

/// The edits of one file that fix one finding, applied together or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// What the fix does, as a reader of a diff or a code action sees it.
    pub title: String,
    pub applicability: Applicability,
    pub file: FileId,
    /// Sorted by position, none overlapping.
    pub edits: Vec<Edit>,
}

impl Fix {
    pub fn new(
        title: impl Into<String>,
        applicability: Applicability,
        file: FileId,
        mut edits: Vec<Edit>,
    ) -> Option<Self> {
        if edits.is_empty() {
            return None;
        }
        edits.sort_by(|a, b| a.key().cmp(&b.key()));
        Some(Fix {
            title: title.into(),
            applicability,
            file,
            edits,
        })
    }

    /// The text range the fix touches, from its first edit to its last.
    pub fn extent(&self) -> Range<usize> {
        let start = self.edits.first().map_or(0, |e| e.range.start);
        let end = self.edits.last().map_or(0, |e| e.range.end);
        start..end
    }
}

/// How many operations of `body` the statement that made `op` made: more than one for a call
/// in a loop over several values, or an `op.execute` of several statements.
pub fn made_by_one_call(op: &crate::model::Op, body: &[crate::model::Op]) -> Option<usize> {
    let site = op.edit.as_ref()?;
    Some(
        body.iter()
            .filter(|other| {
                other
                    .edit
                    .as_ref()
                    .is_some_and(|s| s.statement == site.statement)
            })
            .count(),
    )
}

pub use crate::model::names::{quote_identifier, quote_qualified};
