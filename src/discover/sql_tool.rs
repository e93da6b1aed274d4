//! Which tool runs a folder of `.sql` files, told by what sits beside the files: a journal, a
//! sum file, a plan, a crate's manifest, the folder's place in a tool's layout, or the config.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{
    DiscoveredSet, Found, PathFilters, SetKind, SkipReason, Skipped, drizzle_journal,
    liquibase_changelog, normalize, project_tool, sqitch_plan, within,
};

/// The tool that runs a folder of `.sql` files, when something beside the files says which:
/// names alone are shared by several tools (`<version>_<name>.sql` is sqlx's, Supabase's,
/// Atlas's and loose SQL's), and each runs them differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlTool {
    /// The folder belongs to a Rust crate that depends on sqlx, which runs its migrations.
    Sqlx(project_tool::SqlxCrate),
    /// The Go module the folder belongs to requires golang-migrate, and the folder holds its
    /// `.up.sql` / `.down.sql` files.
    GolangMigrate,
    /// drizzle-kit's journal beside the files: a Drizzle migrations folder.
    Drizzle(drizzle_journal::DrizzleJournal),
    /// `<project>/supabase/migrations`, the folder the Supabase CLI applies.
    Supabase,
    /// `atlas.sum` beside the files: an Atlas migration directory.
    Atlas,
    /// The scripts of a Sqitch project's plan.
    Sqitch(sqitch_plan::SqitchPlan),
    /// A Liquibase master changelog above the folder includes its files.
    Liquibase(liquibase_changelog::LiquibaseChangelog),
    /// The config's `[[sets]]` names the framework.
    Named(crate::model::NamedRunner),
    /// Flyway's configuration beside the project sets the prefix of versioned migrations.
    FlywayPrefix(String),
}

impl SqlTool {
    /// What says which tool runs `folder`'s files, if anything does: the config first.
    pub(super) fn of_folder(folder: &Path, filters: &PathFilters) -> Option<SqlTool> {
        if let Some(framework) = filters.named_framework(folder) {
            return Some(SqlTool::Named(framework));
        }
        if let Some(journal) = drizzle_journal::read(folder) {
            return Some(SqlTool::Drizzle(journal));
        }
        // supabase/cli apps/cli-go/internal/utils/misc.go: MigrationsDir = "supabase/migrations".
        // The CLI applies that folder whatever wrote its files (Atlas's `migrate diff` leaves
        // an `atlas.sum` there).
        let named = |path: Option<&Path>, name: &str| {
            path.and_then(Path::file_name)
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        };
        if named(Some(folder), "migrations") && named(folder.parent(), "supabase") {
            return Some(SqlTool::Supabase);
        }
        if folder.join("atlas.sum").is_file() {
            return Some(SqlTool::Atlas);
        }
        if let Some(changelog) = liquibase_changelog::find(folder) {
            return Some(SqlTool::Liquibase(changelog));
        }
        if let Some(krate) = project_tool::sqlx_crate(folder) {
            return Some(SqlTool::Sqlx(krate));
        }
        if project_tool::golang_migrate_module(folder) {
            return Some(SqlTool::GolangMigrate);
        }
        super::flyway_config::migration_prefix(folder).map(SqlTool::FlywayPrefix)
    }
}

/// How every test-folder note ends: what happens to it, and how to check it anyway.
macro_rules! left_out_unless_named {
    () => {
        ": not checked or run; name the folder on the command line or in the config's `paths` to check it"
    };
}

/// Why a folder's SQL files are a tool's tests, not migrations:
/// - `supabase test db` runs the pgTAP files under `supabase/tests` (supabase/cli
///   `internal/db/test`), each in a transaction it rolls back;
/// - Go's tools ignore every folder named `testdata` (`go help packages`): it holds a test's
///   inputs, such as the histories a migration runner's own tests apply;
/// - Maven's and Gradle's `src/test` holds the tests and their resources (the standard
///   directory layout), such as the data a Flyway test loads on top of the real history;
/// - any other `test` or `tests` folder holds a test suite's files (pgTAP tests, the scripts an
///   extension's tests run, the histories a library's tests apply), and a `fixtures` folder
///   the data and histories its tests load.
///
/// Only folders below `root`, the folder the walk started at, count: a folder named on the
/// command line is checked whatever its name.
/// Returns the test folder that decides it (`schema/test`), with the reason.
pub(super) fn tool_tests(folder: &Path, root: &Path) -> Option<(PathBuf, &'static str)> {
    let named = |path: Option<&Path>, name: &str| {
        path.and_then(Path::file_name)
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    };
    let below_root = folder.strip_prefix(root).ok()?;
    let mut ancestors = below_root
        .ancestors()
        .filter(|dir| !dir.as_os_str().is_empty());
    ancestors.find_map(|relative| {
        let dir = root.join(relative);
        let why = if named(Some(&dir), "tests") && named(dir.parent(), "supabase") {
            Some(
                "the Supabase CLI's database tests (`supabase test db` runs them and rolls them back), not migrations: not checked or run",
            )
        } else if named(Some(&dir), "test") && named(dir.parent(), "src") {
            Some(concat!(
                "a test's resources (Maven's and Gradle's `src/test`), not the application's migrations",
                left_out_unless_named!()
            ))
        } else if named(Some(&dir), "test") || named(Some(&dir), "tests") {
            Some(concat!(
                "a test's files (a `test` or `tests` folder: pgTAP or unit tests, fixtures a test suite applies), not the application's migrations",
                left_out_unless_named!()
            ))
        } else if named(Some(&dir), "fixtures") {
            Some(concat!(
                "a test suite's fixtures (a `fixtures` folder: the data and histories tests apply), not the application's migrations",
                left_out_unless_named!()
            ))
        } else if named(Some(&dir), "testdata") {
            Some(concat!(
                "a test's data (a `testdata` folder, which Go's tools also leave out of the build), not a migration history",
                left_out_unless_named!()
            ))
        } else {
            None
        };
        why.map(|why| (dir, why))
    })
}

/// A Sqitch project's deploy and revert scripts as one set rooted at its plan's folder; its
/// verify scripts (checks run after a deploy, then rolled back) are not migrations.
pub(super) fn add_sqitch_project(
    top: PathBuf,
    plan: sqitch_plan::SqitchPlan,
    sql_by_dir: &mut BTreeMap<PathBuf, Vec<PathBuf>>,
    found: &mut Found,
) {
    let script_folders = [&plan.deploy_dir, &plan.revert_dir, &plan.verify_dir];
    let claimed: Vec<PathBuf> = sql_by_dir
        .keys()
        .filter(|folder| {
            let folder = normalize(folder);
            script_folders
                .iter()
                .any(|dir| within(&folder, &normalize(dir)))
        })
        .cloned()
        .collect();
    let mut files: Vec<PathBuf> = claimed
        .iter()
        .flat_map(|folder| sql_by_dir.remove(folder).unwrap_or_default())
        .filter(|path| {
            !matches!(
                plan.script_of(path),
                Some((sqitch_plan::ScriptKind::Verify, _))
            )
        })
        .collect();
    files.sort();
    found.sets.entry(top.clone()).or_insert(DiscoveredSet {
        kind: SetKind::SqlFolder {
            tool: Some(SqlTool::Sqitch(plan)),
        },
        root: top,
        files,
        scope: None,
        named: false,
    });
}

/// Each master changelog's SQL files as one set rooted at the master's folder, wherever the
/// files are: Liquibase runs them as one history in the master's order. A changelog another
/// one includes claims nothing the including one already did (the larger goes first).
pub(super) fn add_liquibase_masters(
    mut masters: Vec<liquibase_changelog::LiquibaseChangelog>,
    sql_by_dir: &mut BTreeMap<PathBuf, Vec<PathBuf>>,
    found: &mut Found,
) {
    masters.sort_by_key(|m| std::cmp::Reverse((m.files.len(), m.unread.len())));
    let mut noted: Vec<PathBuf> = Vec::new();
    let mut claimed_xml: Vec<PathBuf> = Vec::new();
    for changelog in masters {
        let unread: Vec<&(PathBuf, usize)> = changelog
            .unread
            .iter()
            .filter(|(path, _)| !noted.contains(path))
            .collect();
        if !unread.is_empty() {
            noted.extend(unread.iter().map(|(path, _)| path.clone()));
            found.skipped.push(Skipped {
                path: changelog.master.clone(),
                reason: SkipReason::NotRead(unread_changesets(&changelog.master, &unread)),
            });
        }
        let mut files: Vec<PathBuf> = Vec::new();
        for folder_files in sql_by_dir.values_mut() {
            let (claimed, rest): (Vec<PathBuf>, Vec<PathBuf>) =
                std::mem::take(folder_files).into_iter().partition(|path| {
                    path.canonicalize()
                        .is_ok_and(|p| changelog.files.contains(&p))
                });
            files.extend(claimed);
            // Run by a changeset's `<sqlFile>`: read with that changeset.
            *folder_files = rest
                .into_iter()
                .filter(|path| {
                    !path
                        .canonicalize()
                        .is_ok_and(|p| changelog.change_files.contains(&p))
                })
                .collect();
        }
        sql_by_dir.retain(|_, files| !files.is_empty());
        // Its XML changelogs with changesets of their own, as the walk names them.
        let master_dir = changelog.master.parent().unwrap_or(Path::new("."));
        let canonical_dir = master_dir.canonicalize().unwrap_or_default();
        for xml in changelog
            .files
            .iter()
            .filter(|f| liquibase_changelog::is_xml(f))
        {
            if claimed_xml.contains(xml) {
                continue;
            }
            claimed_xml.push(xml.clone());
            files.push(match xml.strip_prefix(&canonical_dir) {
                Ok(below) => master_dir.join(below),
                Err(_) => xml.clone(),
            });
        }
        if files.is_empty() {
            continue;
        }
        files.sort();
        let root = changelog
            .master
            .parent()
            .unwrap_or(Path::new("."))
            .to_path_buf();
        found.sets.insert(
            changelog.master.clone(),
            DiscoveredSet {
                kind: SetKind::SqlFolder {
                    tool: Some(SqlTool::Liquibase(changelog)),
                },
                root,
                files,
                scope: None,
                named: false,
            },
        );
    }
}

/// What a master changelog runs that is not read: its changesets written as change types.
fn unread_changesets(master: &Path, unread: &[&(PathBuf, usize)]) -> String {
    let changesets: usize = unread.iter().map(|(_, count)| count).sum();
    let shown = |path: &Path| crate::frontend::display_path(path);
    let files = match unread {
        [(only, _)] if master.canonicalize().is_ok_and(|m| m == *only) => String::new(),
        [(only, _)] => format!(" in {}", shown(only)),
        [(first, _), ..] => format!(" in {} changelogs ({}, …)", unread.len(), shown(first)),
        [] => String::new(),
    };
    format!(
        "{}: {changesets} {}{files} {} written in YAML or JSON, which migration-gate does not read yet (only formatted SQL and XML changelogs): not checked or run, and the tables they make are unknown to the rules",
        shown(master),
        if changesets == 1 {
            "changeset"
        } else {
            "changesets"
        },
        if changesets == 1 { "is" } else { "are" },
    )
}
