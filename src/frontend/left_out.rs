//! What a folder of `.sql` files leaves out of its sets, and why, said as notes: scripts a
//! plan or journal does not list, Flyway baselines, another database's files and folders,
//! folders nothing orders, Prisma folders with no SQL.

use std::path::Path;

use crate::model::{FileId, Framework, InputProblem, InputProblemKind, MigrationSet, OpKind, Span};

use super::sql_sets;

/// The sets of one folder of `.sql` files (`root` as shown, `set_root` as discovered), with a
/// note for each thing left out; folders nothing orders are gathered in `unordered_folders`,
/// said together at the end.
pub(super) fn sql_folder_sets(
    root: &str,
    set_root: &Path,
    built: sql_sets::Built,
    postgres_configured: bool,
    problems: &mut Vec<InputProblem>,
    unordered_folders: &mut Vec<(String, usize, FileId)>,
) -> Vec<MigrationSet> {
    let sql_sets::Built {
        sets: built,
        unordered,
        unlisted,
        unlisted_by,
        other_database,
        baselines,
    } = built;
    if let Some(first) = baselines.first() {
        let (files, they) = match baselines.len() {
            1 => ("1 Flyway baseline migration".to_string(), "it stands"),
            n => (format!("{n} Flyway baseline migrations"), "they stand"),
        };
        problems.push(InputProblem {
            kind: InputProblemKind::SkippedFolder,
            message: format!(
                "{root}: {files} (`B<version>__`): Flyway runs one only on an empty database, in place of the versioned migrations {they} for, which are checked and run instead"
            ),
            span: Span::new(*first, 0..0),
        });
    }
    if let Some(first) = unlisted.first() {
        // Only golang-migrate's module leaves out files read as plain SQL.
        let left_out = match unlisted_by {
            Some(Framework::Drizzle) => "that meta/_journal.json does not list: Drizzle never runs",
            Some(Framework::Liquibase) => {
                "of a context the service's `spring.liquibase.contexts` does not select: Liquibase never runs"
            }
            Some(Framework::PlainSql) => {
                "not named `<version>_<name>.up.sql` / `.down.sql`: golang-migrate, which the project's go.mod requires, never runs"
            }
            _ => "that sqitch.plan does not list: Sqitch never runs",
        };
        problems.push(InputProblem {
            kind: InputProblemKind::SkippedFolder,
            message: format!(
                "{root}: {} {left_out} {}, so {} not checked or run",
                match (unlisted.len(), unlisted_by == Some(Framework::Liquibase)) {
                    (1, true) => "1 changeset".to_string(),
                    (n, true) => format!("{n} changesets"),
                    (1, false) => "1 script".to_string(),
                    (n, false) => format!("{n} scripts"),
                },
                if unlisted.len() == 1 { "it" } else { "them" },
                if unlisted.len() == 1 {
                    "it is"
                } else {
                    "they are"
                },
            ),
            span: Span::new(*first, 0..0),
        });
    }
    // A folder whose every migration is another database's is said, not dropped.
    if built.is_empty()
        && let Some(first) = other_database.first()
    {
        problems.push(InputProblem {
            kind: InputProblemKind::SkippedFolder,
            message: format!(
                "{root}: {} for another database than PostgreSQL (its file names, Prisma's `provider`, drizzle-kit's journal or the sqlx features of its crate say so): not checked or run",
                match other_database.len() {
                    1 => "1 migration file".to_string(),
                    n => format!("{n} migration files"),
                }
            ),
            span: Span::new(*first, 0..0),
        });
    }
    // SQL that PostgreSQL's own parser mostly rejects is another database's (a
    // ClickHouse or MySQL history in a layout PostgreSQL tools share).
    // A JVM service whose own configuration connects only to another database keeps
    // that database's migrations.
    let connects_to = (!postgres_configured)
        .then(|| crate::discover::jdbc_url::other_database(Path::new(&root)))
        .flatten();
    if let Some((database, config)) = &connects_to
        && let Some(first) = built.iter().find_map(|b| b.migrations.first())
    {
        problems.push(InputProblem {
            kind: InputProblemKind::SkippedFolder,
            message: format!(
                "{root}: the service's configuration ({}) connects to {database} (`jdbc:{database}:`): another database's migrations, not checked or run; if they are PostgreSQL's, say so in the config: [dialect] \"{root}\" = \"postgresql\"",
                std::env::current_dir()
                    .ok()
                    .and_then(|cwd| config.strip_prefix(cwd).ok())
                    .unwrap_or(config)
                    .display()
            ),
            span: Span::new(first.file, 0..0),
        });
    }
    let built = if connects_to.is_some() {
        Vec::new()
    } else {
        built
    };
    let (built, foreign): (Vec<MigrationSet>, Vec<MigrationSet>) = built
        .into_iter()
        .partition(|built| postgres_configured || !mostly_rejected_by_postgres(built));
    for other in foreign {
        let (rejected, statements) = rejected_statements(&other);
        if let Some(first) = other.migrations.first() {
            problems.push(InputProblem {
                kind: InputProblemKind::SkippedFolder,
                message: format!(
                    "{}: PostgreSQL's own parser rejects {rejected} of its {statements} statements: another database's migrations, not checked or run; if they are PostgreSQL's, say so in the config: [dialect] \"{}\" = \"postgresql\"",
                    other.root,
                    other.root
                ),
                span: Span::new(first.file, 0..0),
            });
        }
    }
    for prisma in built.iter().filter(|b| b.framework == Framework::Prisma) {
        if let Some(problem) = prisma_folders_without_script(prisma) {
            problems.push(problem);
        }
    }
    // Flyway runs the scripts with the search path its configuration names.
    let configured = crate::discover::flyway_config::default_schemas(set_root);
    let sets = built
        .into_iter()
        .map(|mut built| {
            if matches!(built.framework, Framework::Flyway | Framework::PlainSql) {
                built.configured_search_path = configured.clone();
            }
            built
        })
        .collect();
    if let Some(first) = unordered.first() {
        unordered_folders.push((root.to_string(), unordered.len(), *first));
    }
    sets
}

/// Statements of a set PostgreSQL's parser rejects, and all its statements.
fn rejected_statements(set: &MigrationSet) -> (usize, usize) {
    let ops = set
        .migrations
        .iter()
        .flat_map(|m| m.upgrade.ops.iter().chain(&m.downgrade.ops))
        .filter(|op| {
            !matches!(
                op.kind,
                OpKind::BeginTransaction | OpKind::CommitTransaction
            )
        });
    let mut rejected = 0;
    let mut statements = 0;
    for op in ops {
        statements += 1;
        if matches!(
            op.kind,
            OpKind::Unparsed {
                rejected_by_postgres: true,
                ..
            }
        ) {
            rejected += 1;
        }
    }
    (rejected, statements)
}

/// Whether a set's SQL is not PostgreSQL's: its own parser rejects at least half of the
/// statements, or more statements than the set creates tables with (another database's
/// CREATE TABLEs, with their ENGINE clauses, are rejected while its ALTERs and DROPs read).
fn mostly_rejected_by_postgres(set: &MigrationSet) -> bool {
    let (rejected, statements) = rejected_statements(set);
    let created = set
        .migrations
        .iter()
        .flat_map(|m| &m.upgrade.ops)
        .filter(|op| matches!(op.kind, OpKind::CreateTable { .. }))
        .count();
    rejected >= 2 && (rejected * 2 >= statements || rejected > created)
}

/// A note for the migration folders of a Prisma history that hold no `migration.sql` (a
/// project's own `migration.ts` data migrations): nothing there is read, and the user is told.
fn prisma_folders_without_script(set: &MigrationSet) -> Option<InputProblem> {
    let first = set.migrations.first()?;
    let (count, example) = crate::discover::prisma_folders::without_script(Path::new(&set.root));
    let example = example?;
    let folders = match count {
        1 => "1 migration folder holds".to_string(),
        n => format!("{n} migration folders hold"),
    };
    Some(InputProblem {
        kind: InputProblemKind::SkippedFolder,
        message: format!(
            "{}: {folders} no `migration.sql` but `{example}` (a project's own migration, no SQL to read): not checked or run",
            set.root
        ),
        span: Span::new(first.file, 0..0),
    })
}

/// How many folders of unordered `.sql` files get a note each; more are said in one note (a
/// project keeping a query file beside each package's code would get dozens).
const UNORDERED_NOTES_APART: usize = 3;

/// Notes for folders of `.sql` files whose names carry no version: a schema dump, seeds or
/// scripts, never run as a history.
pub(super) fn unordered_notes(folders: Vec<(String, usize, FileId)>) -> Vec<InputProblem> {
    const ENDING: &str = "(a schema dump, seeds or scripts, not a migration history): not checked or run; if it is a history, name it in the config's `paths`";
    if folders.len() > UNORDERED_NOTES_APART {
        let files: usize = folders.iter().map(|(_, files, _)| files).sum();
        let named: Vec<&str> = folders
            .iter()
            .take(3)
            .map(|(root, ..)| root.as_str())
            .collect();
        return vec![InputProblem {
            kind: InputProblemKind::SkippedFolder,
            message: format!(
                "{} folders ({}, …) hold {files} `.sql` files whose names carry no version to order them by {ENDING}",
                folders.len(),
                named.join(", ")
            ),
            span: Span::new(folders[0].2, 0..0),
        }];
    }
    folders
        .into_iter()
        .map(|(root, count, first)| {
            let (files, names, them) = match count {
                1 => ("1 `.sql` file".to_string(), "name carries", "it"),
                n => (format!("{n} `.sql` files"), "names carry", "them"),
            };
            InputProblem {
                kind: InputProblemKind::SkippedFolder,
                message: format!(
                    "{root}: {files} whose {names} no version to order {them} by {ENDING}"
                ),
                span: Span::new(first, 0..0),
            }
        })
        .collect()
}
