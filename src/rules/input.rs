//! Findings about the input itself, reported by the engine rather than a lint rule.

use crate::diagnostic::{Origin, RuleMeta, Severity};

pub static SYNTAX_ERROR: RuleMeta = RuleMeta {
    id: "syntax-error",
    severity: Severity::Error,
    summary: "A migration file its framework cannot read: a revision file that is not valid Python, a changeset header Liquibase refuses.",
    doc: include_str!("../../rules/syntax-error.md"),
    origin: Origin::Lint,
};

pub static UNREADABLE_FILE: RuleMeta = RuleMeta {
    id: "unreadable-file",
    severity: Severity::Error,
    summary: "A migration file is binary, not UTF-8, too large or unreadable; it was not checked.",
    doc: include_str!("../../rules/unreadable-file.md"),
    origin: Origin::Lint,
};

pub static SKIPPED_LINK: RuleMeta = RuleMeta {
    id: "skipped-link",
    severity: Severity::Note,
    summary: "A symbolic link leaves the checked folder, loops, or points at nothing; it was not read.",
    doc: include_str!("../../rules/skipped-link.md"),
    origin: Origin::Lint,
};

pub static SKIPPED_FOLDER: RuleMeta = RuleMeta {
    id: "skipped-folder",
    severity: Severity::Note,
    summary: "A folder of .sql files whose names carry no version is no migration history; it was not checked or run.",
    doc: include_str!("../../rules/skipped-folder.md"),
    origin: Origin::Lint,
};

pub static UNUSED_SUPPRESSION: RuleMeta = RuleMeta {
    id: "unused-suppression",
    severity: Severity::Note,
    summary: "A `migration-gate: ignore[...]` comment suppresses nothing.",
    doc: include_str!("../../rules/unused-suppression.md"),
    origin: Origin::Lint,
};
