use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::op::{Using, same_name};
use crate::model::{ColumnType, OpKind, Phase};

use super::{LintContext, OpSite, Rule, declared_columns};

pub static META: RuleMeta = RuleMeta {
    id: "change-column-type",
    severity: Severity::Error,
    summary: "Changing a column's type rewrites the table under ACCESS EXCLUSIVE, except a few safe changes.",
    doc: include_str!("../../rules/change-column-type.md"),
    origin: Origin::Lint,
};

pub struct ChangeColumnType;

impl Rule for ChangeColumnType {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.all_ops() {
            let OpKind::AlterColumnType {
                table,
                column,
                from,
                to,
                using,
            } = &site.op.kind
            else {
                continue;
            };
            if site.table_is_new(table) {
                continue;
            }
            let target = format!("`{table}.{column}`");
            let help = "add a new column, backfill it in batches, switch the application over, then drop the old column; or accept the downtime knowingly and suppress this finding";
            // The column already has the new type (an earlier statement, raw SQL beside an
            // out-of-date `existing_type=`, changed it): PostgreSQL has nothing to convert.
            let declared = declared_type(cx, &site, table, column);
            // `USING col` or `USING col::new_type` converts as no USING would, but explicitly.
            let explicit = using == &Some(Using::ColumnCast);
            let expression = matches!(using, Some(Using::Expression(_)));
            if !expression && declared.as_ref() == Some(to) {
                continue;
            }
            let from = from.clone().or(declared);
            let fails = using.is_none()
                && from.as_ref().is_some_and(|from| {
                    matches!(
                        rewrite_cost(from, to, cx.postgres_version),
                        Cost::NoAutomaticCast
                    )
                });
            let cost = |from: &ColumnType| match rewrite_cost(from, to, cx.postgres_version) {
                // An explicit cast exists where an automatic one does not: the rows are
                // converted, which rewrites the table.
                Cost::NoAutomaticCast if explicit => Cost::Rewrite,
                cost => cost,
            };
            let diagnostic = match (&from, expression) {
                _ if to.is_unknown() => cx.report_op(&META, &site, format!("changing the type of {target} to a type the revision computes may rewrite the whole table under ACCESS EXCLUSIVE; the types are not known before it runs, so it cannot be told whether this is one of the changes PostgreSQL makes without a rewrite")),
                (_, true) => cx.report_op(&META, &site, format!("changing the type of {target} to {to} with USING rewrites the whole table under ACCESS EXCLUSIVE: no reads or writes until it is done")),
                (None, false) => cx.report_op(&META, &site, format!("changing the type of {target} to {to} may rewrite the whole table under ACCESS EXCLUSIVE; the current type is neither stated nor declared earlier in the history, so it cannot be told whether this is one of the changes PostgreSQL makes without a rewrite"))
                    .with_help(cx.help_for(
                        "pass `existing_type=` to `alter_column` so the change can be judged; only widening varchar, numeric or a time type's precision, varchar → text and cidr → inet are free",
                        "only widening varchar, numeric or a time type's precision, varchar → text and cidr → inet are free; anything else needs the expand/contract way",
                    )),
                (Some(from), false) => match cost(from) {
                    Cost::Free => continue,
                    // The revision set the session's time zone to UTC before: no rewrite.
                    Cost::FreeIfSessionIsUtc if session_is_utc(&site) => continue,
                    Cost::FreeIfSessionIsUtc => cx.report_op(&META, &site, format!("{from} → {to} on {target} is done without a rewrite only when the session's TimeZone is UTC (PostgreSQL ≥ 12); in any other time zone the whole table is rewritten under ACCESS EXCLUSIVE"))
                        .with_severity(Severity::Warning)
                        .with_help("run the migration with `SET TimeZone = 'UTC'` (in the revision or in env.py's connection options) and keep this finding suppressed with that reason"),
                    Cost::RebuildsIndexes => cx.report_op(&META, &site, format!("{from} → {to} on {target} keeps the table's rows (the cast is binary-coercible) but builds every index on the column again under ACCESS EXCLUSIVE (its comparison changes): reads and writes wait until the builds are done"))
                        .with_severity(Severity::Warning)
                        .with_help("on a large table with an index on the column: add a column of the new type, backfill it, index it CONCURRENTLY, switch the application, then drop the old column"),
                    Cost::Rewrite => cx.report_op(&META, &site, format!("{from} → {to} on {target} rewrites the whole table (and rebuilds its indexes) under ACCESS EXCLUSIVE: no reads or writes until it is done")),
                    Cost::NoAutomaticCast => cx.report_op(&META, &site, format!("{from} → {to} on {target} fails: PostgreSQL casts {from} to {to} only when told how (\"cannot be cast automatically\"); with USING it rewrites the whole table under ACCESS EXCLUSIVE"))
                        .with_help(cx.help_for(
                            "pass `postgresql_using=\"column::type\"` to `alter_column` (or change the type the expand/contract way: a new column, a backfill, a switch)",
                            "add `USING column::type` (or change the type the expand/contract way: a new column, a backfill, a switch)",
                        )),
                },
            };
            // A rollback must narrow what the upgrade widened; that is a real rewrite, but one
            // the author cannot avoid, so it warns instead of failing every widening revision.
            // A change that fails outright fails a rollback too.
            let diagnostic = if site.phase == Phase::Downgrade
                && diagnostic.severity == Severity::Error
                && !fails
            {
                diagnostic.with_severity(Severity::Warning)
            } else {
                diagnostic
            };
            // The way out that fits the case, else the general one.
            let diagnostic = if diagnostic.help.is_some() {
                diagnostic
            } else {
                diagnostic.with_help(help)
            };
            out.push(diagnostic);
        }
    }
}

/// The column's type as the history declares it before this operation: SQL never states the old
/// type, and Alembic only with `existing_type=`.
fn declared_type(cx: &LintContext, site: &OpSite, table: &str, column: &str) -> Option<ColumnType> {
    // The latest declaration wins.
    let history = cx.history_before(site, table);
    history.iter().rev().find_map(|op| {
        declared_columns(&op.kind)
            .into_iter()
            .rev()
            .find(|(t, c, _)| history.names(t) && same_name(c, column))
            .map(|(_, _, ty)| ty.clone())
    })
}

enum Cost {
    Free,
    /// Binary-coercible to a type compared differently (citext's case-insensitive operator
    /// class): the rows stay, each index on the column is built again.
    RebuildsIndexes,
    FreeIfSessionIsUtc,
    Rewrite,
    /// No cast PostgreSQL applies on its own: the statement fails without USING.
    NoAutomaticCast,
}

/// What PostgreSQL does for a type change without USING: the binary-coercible changes keep the
/// table as it is; the rest rewrite it.
fn rewrite_cost(from: &ColumnType, to: &ColumnType, postgres_version: u32) -> Cost {
    let (from, to) = (&from.stored(), &to.stored());
    if from.array != to.array {
        return Cost::Rewrite;
    }
    // From a string type only to another string type is a cast ALTER ... TYPE applies by itself
    // (an assignment cast); to a number, a date, a uuid or a boolean the text must be parsed,
    // which PostgreSQL does only when asked (`USING col::integer`).
    const STRINGS: [&str; 3] = ["character varying", "text", "character"];
    let known_target = matches!(
        to.name.as_str(),
        "integer"
            | "bigint"
            | "smallint"
            | "numeric"
            | "real"
            | "double precision"
            | "boolean"
            | "date"
            | "timestamp without time zone"
            | "timestamp with time zone"
            | "time without time zone"
            | "interval"
            | "uuid"
            | "json"
            | "jsonb"
            | "bytea"
            | "inet"
    );
    if STRINGS.contains(&from.name.as_str()) && known_target {
        return Cost::NoAutomaticCast;
    }
    // The citext extension's casts from and to text and unlimited varchar are `WITHOUT
    // FUNCTION` (binary-coercible): checked on PostgreSQL 15 by relfilenode, the table keeps its
    // file and the column's indexes get new ones; to varchar(n) the length is checked: a rewrite.
    let citext = |t: &ColumnType| crate::model::op::bare_name(&t.name) == "citext";
    match (from.name.as_str(), to.name.as_str()) {
        ("character varying" | "text", _) if citext(to) => return Cost::RebuildsIndexes,
        (_, "text") if citext(from) => return Cost::RebuildsIndexes,
        (_, "character varying") if citext(from) && to.modifiers.is_empty() => {
            return Cost::RebuildsIndexes;
        }
        _ => {}
    }
    let widens = |from: &[u32], to: &[u32]| {
        to.is_empty() || (!from.is_empty() && to.first() >= from.first())
    };
    let free = match (from.name.as_str(), to.name.as_str()) {
        _ if from == to => true,
        ("character varying", "character varying") => widens(&from.modifiers, &to.modifiers),
        ("character varying", "text") => true,
        ("text", "character varying") => to.modifiers.is_empty(),
        // Precision may grow; the scale must stay, or every value is recomputed.
        ("numeric", "numeric") => {
            to.modifiers.is_empty()
                || (!from.modifiers.is_empty()
                    && to.modifiers.first() >= from.modifiers.first()
                    && to.modifiers.get(1).unwrap_or(&0) == from.modifiers.get(1).unwrap_or(&0))
        }
        // Binary-coercible: every cidr value is an inet value.
        ("cidr", "inet") => true,
        // Fractional-second precision may grow (unconstrained is 6): existing values fit.
        (
            "timestamp without time zone"
            | "timestamp with time zone"
            | "time without time zone"
            | "time with time zone"
            | "interval",
            _,
        ) if from.name == to.name => {
            let precision = |t: &ColumnType| t.modifiers.first().copied().unwrap_or(6);
            precision(to) >= precision(from)
        }
        ("timestamp without time zone", "timestamp with time zone")
        | ("timestamp with time zone", "timestamp without time zone") => {
            return if postgres_version >= 12 {
                Cost::FreeIfSessionIsUtc
            } else {
                Cost::Rewrite
            };
        }
        _ => false,
    };
    if free { Cost::Free } else { Cost::Rewrite }
}

/// Whether the last time zone the body set before `site` is UTC.
fn session_is_utc(site: &super::OpSite) -> bool {
    site.ops[..site.index]
        .iter()
        .rev()
        .find_map(|op| match op.kind {
            OpKind::SetTimeZone { utc } => Some(utc),
            _ => None,
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }

    /// The project's own type (a TypeDecorator) stores what its `impl` says, which is not
    /// read: the change may rewrite, it is not said to.
    #[test]
    fn a_project_type_is_an_unknown_type() {
        let messages = super::super::testing::fixture_messages(&super::META, "bad_project_type");
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].starts_with("changing the type of `users.avatar` to text may rewrite"),
            "{messages:?}"
        );
    }

    /// A column's declared type follows its table through `SET SCHEMA` and `RENAME TO`.
    #[test]
    fn a_declared_type_follows_its_table_through_renames() {
        let messages = super::super::testing::fixture_messages(
            &super::META,
            "bad_table_renamed_then_narrowed",
        );
        assert_eq!(
            messages,
            [
                "character varying(40) → character varying(20) on `billing.customers.handle` rewrites the whole table (and rebuilds its indexes) under ACCESS EXCLUSIVE: no reads or writes until it is done"
            ]
        );
    }

    /// `USING col::new_type` where no automatic cast exists converts explicitly: the statement
    /// runs and rewrites the table; it does not fail.
    #[test]
    fn an_explicit_cast_of_the_column_rewrites_where_no_automatic_cast_exists() {
        let messages =
            super::super::testing::fixture_messages(&super::META, "bad_using_expression");
        assert!(
            messages.contains(&"text → integer on `notes.views` rewrites the whole table (and rebuilds its indexes) under ACCESS EXCLUSIVE: no reads or writes until it is done".to_string()),
            "{messages:?}"
        );
        assert!(
            !messages.iter().any(|m| m.contains("fails")),
            "{messages:?}"
        );
    }

    /// citext's casts from and to text are binary-coercible: no rewrite, the indexes rebuilt.
    #[test]
    fn citext_keeps_the_rows_and_rebuilds_the_indexes() {
        let messages = super::super::testing::fixture_messages(&super::META, "bad_citext");
        assert_eq!(
            messages
                .iter()
                .filter(|m| m.contains("keeps the table's rows (the cast is binary-coercible)"))
                .count(),
            3,
            "{messages:?}"
        );
        assert!(
            messages.contains(&"citext → character varying(255) on `handles.username` rewrites the whole table (and rebuilds its indexes) under ACCESS EXCLUSIVE: no reads or writes until it is done".to_string()),
            "{messages:?}"
        );
    }

    /// Types a helper receives as parameters are unknown, not type names: the change may
    /// rewrite; it is not said to.
    #[test]
    fn types_passed_to_a_helper_are_unknown() {
        let messages =
            super::super::testing::fixture_messages(&super::META, "bad_types_from_parameters.py");
        assert!(
            messages[0].starts_with(
                "changing the type of `orders.code` to a type the revision computes may rewrite"
            ),
            "{messages:?}"
        );
    }
}
