//! Sqitch's PostgreSQL engine, as it deploys and reverts a change (read in sqitchers/sqitch at
//! 0ab857e3, `lib/App/Sqitch/Engine/pg.pm`, `Engine.pm`, `etc/templates/deploy/pg.tmpl`):
//! - changes deploy in the order of `sqitch.plan` (see `discover::sqitch_plan`), each by its
//!   `deploy/<change>.sql`, and revert by `revert/<change>.sql`;
//! - a script runs through `psql --file` with `ON_ERROR_STOP=1` and without
//!   `--single-transaction`: its statements run as written, each on its own unless the script
//!   opens a transaction itself (Sqitch's templates write `BEGIN; ... COMMIT;`);
//! - Sqitch records the change in its registry (`sqitch.changes`) on a connection of its own,
//!   after the script.

use crate::model::{FileId, Framework};

use super::super::sql::Wrapping;
use super::{Role, SqlFile, Version, body, one_direction};

/// The deploy (or, with `revert`, revert) script of the plan's `position`-th change.
pub(super) fn parse(
    revert: bool,
    position: usize,
    change: &str,
    text: &str,
    file: FileId,
) -> SqlFile {
    // psql sends each statement on its own; the script's BEGIN / COMMIT are statements too.
    let parsed = body(text, 0..text.len(), file, Wrapping::None);
    let role = if revert { Role::Down } else { Role::Up };
    let mut sql_file = one_direction(Framework::Sqitch, role, change.to_string(), file, parsed);
    // Plan order, not the name's digits.
    sql_file.version = Version(vec![(0, format!("{position:010}"))]);
    sql_file
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_run_as_the_script_writes_them() {
        let deploy = parse(
            false,
            0,
            "users",
            "BEGIN;\nCREATE TABLE users (id int);\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON users (id);",
            FileId(0),
        );
        let ops = deploy.up.unwrap().ops;
        assert!(ops.iter().any(|op| op.in_transaction));
        assert!(!ops.last().unwrap().in_transaction);
        let revert = parse(true, 0, "users", "DROP TABLE users;", FileId(1));
        assert_eq!(revert.role, Role::Down);
        assert_eq!(revert.version, deploy.version);
    }

    #[test]
    fn changes_are_ordered_by_the_plan_not_by_name() {
        let files = vec![
            parse(
                false,
                1,
                "add_index",
                "CREATE INDEX i ON users (id);",
                FileId(0),
            ),
            parse(false, 0, "users", "CREATE TABLE users (id int);", FileId(1)),
            parse(true, 0, "users", "DROP TABLE users;", FileId(2)),
        ];
        let built = super::super::build("db".into(), files, false);
        let order: Vec<_> = built.sets[0]
            .migrations
            .iter()
            .map(|m| m.revision_id().unwrap().to_string())
            .collect();
        assert_eq!(order, ["users", "add_index"]);
        assert_eq!(built.sets[0].migrations[0].downgrade.ops.len(), 1);
    }
}
