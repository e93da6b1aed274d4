//! Text → model. The only code that parses.

pub mod alembic;
mod left_out;
pub mod python_models;
pub mod sql;
mod sql_sets;

pub use sql_sets::drizzle::split_at_breakpoints as drizzle_pieces;
pub use sql_sets::liquibase::preconditions::{
    OnFail as LiquibaseOnFail, Precondition as LiquibasePrecondition,
};
pub use sql_sets::liquibase::rollback_only as liquibase_rollback_only;
pub use sql_sets::liquibase::xml::{
    changeset_precondition as liquibase_changeset_precondition,
    changeset_sql as liquibase_changeset_sql,
};
mod suppression;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::discover::{Discovery, SetKind, SkipReason, Skipped, SqlTool, drizzle_journal};
use crate::model::{
    AlembicEnv, BodyState, FileId, Framework, InputProblem, InputProblemKind, Migration,
    MigrationSet, RevisionId, SourceFile, Sources, Span,
};

/// Larger files are reported, not parsed: no migration is that big, and a generated dump
/// would only slow the run.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

pub struct Loaded {
    pub sources: Sources,
    pub sets: Vec<MigrationSet>,
    pub problems: Vec<InputProblem>,
    /// Files named explicitly inside a larger set: only their migrations are linted.
    pub scope: Option<Vec<FileId>>,
}

enum Parsed {
    Revision(Box<Migration>),
    Env(AlembicEnv),
    /// A SQL file's migrations: one, or a Liquibase file's changesets.
    /// What its framework refuses in it is a problem besides.
    Sql(Vec<sql_sets::SqlFile>, Option<InputProblem>),
    Problem(InputProblem),
    /// A helper module beside the revisions: read, but not part of the history.
    NotMigration,
}

/// The path as reports show it: relative to the working directory, `/`-separated.
pub fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let relative = cwd
        .as_deref()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .unwrap_or(path);
    let text = relative.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").map(str::to_string).unwrap_or(text)
}

/// A path discovery did not read, as a finding on it.
fn skip_problem(skipped: &Skipped, file: FileId) -> InputProblem {
    let (kind, message) = match &skipped.reason {
        SkipReason::Unreadable(reason) => (
            InputProblemKind::Unreadable,
            format!(
                "cannot read this folder or file ({reason}); the migrations in it were not checked"
            ),
        ),
        SkipReason::LeavesTree(target) => (
            InputProblemKind::SkippedLink,
            format!(
                "a symbolic link to {}, outside the checked folder: not read",
                target.display()
            ),
        ),
        SkipReason::Loop(target) => (
            InputProblemKind::SkippedLink,
            format!(
                "a symbolic link to {}, a folder that contains it (a loop): not followed",
                target.display()
            ),
        ),
        SkipReason::Dangling => (
            InputProblemKind::SkippedLink,
            "a symbolic link to nothing (its target does not exist): not read".to_string(),
        ),
        SkipReason::NotMigrations(why) | SkipReason::NotRead(why) => {
            (InputProblemKind::SkippedFolder, why.clone())
        }
    };
    InputProblem {
        kind,
        message,
        span: Span::new(file, 0..0),
    }
}

/// Reads a file as text, or says why it cannot be a migration.
pub(crate) fn read_text(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let too_large = |size: u64| {
        format!(
            "the file is {:.1} MiB, over the {} MiB limit for a migration file",
            size as f64 / 1048576.0,
            MAX_FILE_BYTES / 1048576
        )
    };
    let cannot_read = |e: std::io::Error| format!("cannot read the file: {e}");
    let file = std::fs::File::open(path).map_err(cannot_read)?;
    // The size is checked before reading, and the read is capped: a file that grows, or
    // reports no size (a device, /proc), cannot make the check read gigabytes.
    let size = file.metadata().map_err(cannot_read)?.len();
    if size > MAX_FILE_BYTES as u64 {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot_read)?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    if bytes.iter().take(8192).any(|&b| b == 0) {
        return Err("the file is binary (it contains NUL bytes), not a migration".into());
    }
    // A UTF-8 byte-order mark is no text: editors and the tools that run the file (Liquibase,
    // psql, Python) drop it, and PostgreSQL would refuse it as the first statement's start.
    let text_start = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    String::from_utf8(bytes[text_start..].to_vec()).map_err(|e| {
        format!(
            "the file is not valid UTF-8 (first bad byte at offset {}); save it as UTF-8",
            e.utf8_error().valid_up_to() + text_start
        )
    })
}

pub fn load(discovery: &Discovery) -> Loaded {
    load_with(discovery, &Overrides::new())
}

/// Texts that stand for files' contents, by the path reports show: `check --fix` reads the
/// history again with its fixes made, before (or without) writing them.
pub type Overrides = std::collections::BTreeMap<String, String>;

pub fn load_with(discovery: &Discovery, overrides: &Overrides) -> Loaded {
    let discovered = &discovery.sets;
    // Every file once, in a stable order: its index is its FileId.
    let mut jobs: Vec<(PathBuf, usize, bool)> = Vec::new();
    for (set_index, set) in discovered.iter().enumerate() {
        if let SetKind::Alembic { env_py: Some(env) } = &set.kind {
            jobs.push((env.clone(), set_index, true));
        }
        for file in &set.files {
            jobs.push((file.clone(), set_index, false));
        }
    }
    let parsed: Vec<(SourceFile, Parsed)> = jobs
        .par_iter()
        .enumerate()
        .map(|(index, (path, set_index, is_env))| {
            parse_one(
                path,
                FileId(index as u32),
                &discovered[*set_index].kind,
                *is_env,
                overrides,
            )
        })
        .collect();

    let mut sources = Sources::default();
    let mut problems = Vec::new();
    // Folders of `.sql` files nothing orders: (folder, files, first file), said together.
    let mut unordered_folders: Vec<(String, usize, FileId)> = Vec::new();
    let mut per_set: Vec<(AlembicEnv, Vec<Migration>, Vec<sql_sets::SqlFile>)> =
        discovered.iter().map(|_| Default::default()).collect();
    for ((source, result), (_, set_index, _)) in parsed.into_iter().zip(&jobs) {
        sources.push(source);
        let slot = &mut per_set[*set_index];
        match result {
            Parsed::Revision(migration) => slot.1.push(*migration),
            Parsed::Env(env) => slot.0 = env,
            Parsed::Sql(files, problem) => {
                slot.2.extend(files);
                problems.extend(problem);
            }
            Parsed::Problem(problem) => problems.push(problem),
            Parsed::NotMigration => {}
        }
    }
    for skipped in &discovery.skipped {
        let file = FileId(sources.len() as u32);
        sources.push(SourceFile::new(display_path(&skipped.path), String::new()));
        problems.push(skip_problem(skipped, file));
    }

    let mut sets = Vec::new();
    for (set, (env, migrations, sql_files)) in discovered.iter().zip(per_set) {
        let root = display_path(&set.root);
        match set.kind {
            // Python modules beside the checked folder's revisions that turned out to be none
            // (an application's app.py, a helper): no history at all.
            SetKind::Alembic { .. } if migrations.is_empty() && env.file.is_none() => {}
            // Only empty modules (a licence header, a docstring) and no env.py: an empty
            // revision is reported where revisions are, not in any folder of Python files.
            SetKind::Alembic { .. }
                if env.file.is_none()
                    && migrations.iter().all(|m| {
                        m.revision == RevisionId::Absent && m.upgrade.state == BodyState::Missing
                    }) => {}
            SetKind::Alembic { .. } => {
                let mut migrations = migrations;
                if let Some(convention) = &env.naming_convention {
                    for migration in &mut migrations {
                        convention.apply(&mut migration.upgrade.ops);
                        convention.apply(&mut migration.downgrade.ops);
                    }
                }
                let path_of = |m: &Migration| jobs[m.file.0 as usize].0.clone();
                let histories = alembic::histories::split(&set.root, migrations, path_of);
                let several = histories.len() > 1;
                for (folder, migrations) in histories {
                    sets.push(MigrationSet {
                        framework: Framework::Alembic,
                        root: if several {
                            display_path(&folder)
                        } else {
                            root.clone()
                        },
                        env: env.clone(),
                        migrations,
                        configured_search_path: Vec::new(),
                        joined: Vec::new(),
                        not_read: None,
                    });
                }
            }
            SetKind::SqlFolder { .. } => {
                let built = sql_sets::build(root.clone(), sql_files, set.named);
                let postgres_configured = discovery.postgres_configured.contains(&set.root);
                let not_read = match &set.kind {
                    SetKind::SqlFolder {
                        tool: Some(SqlTool::Liquibase(changelog)),
                    } if !changelog.unread.is_empty() => Some(format!(
                        "{} changesets in {} written in YAML or JSON",
                        changelog.unread.iter().map(|(_, n)| n).sum::<usize>(),
                        display_path(&changelog.unread[0].0)
                    )),
                    _ => None,
                };
                sets.extend(
                    left_out::sql_folder_sets(
                        &root,
                        &set.root,
                        built,
                        postgres_configured,
                        &mut problems,
                        &mut unordered_folders,
                    )
                    .into_iter()
                    .map(|mut built| {
                        built.not_read = not_read.clone().or_else(|| unread_changes(&built));
                        built
                    }),
                );
            }
        }
    }

    problems.extend(left_out::unordered_notes(unordered_folders));
    set_scripts_aside(&mut sets, &mut problems, discovered);
    // Folders whose revisions name each other's are one script directory to Alembic.
    alembic::version_locations::join(&mut sets);
    // A history found in the current folder is named by it, not by an empty path.
    for set in &mut sets {
        if set.root.is_empty() {
            set.root = ".".into();
        }
    }

    let scope = discovered.iter().any(|s| s.scope.is_some()).then(|| {
        let wanted: Vec<&PathBuf> = discovered
            .iter()
            .flat_map(|s| {
                s.scope.as_ref().map_or_else(
                    || s.files.iter().collect::<Vec<_>>(),
                    |f| f.iter().collect(),
                )
            })
            .collect();
        jobs.iter()
            .enumerate()
            .filter(|(_, (path, _, _))| wanted.contains(&path))
            .map(|(i, _)| FileId(i as u32))
            .collect()
    });
    Loaded {
        sources,
        sets,
        problems,
        scope,
    }
}

/// The Liquibase change types of an XML changeset this tool does not make SQL of, counted and
/// the first named: the round trip would run the changesets without them.
fn unread_changes(set: &MigrationSet) -> Option<String> {
    let reasons: Vec<&str> = set
        .migrations
        .iter()
        .flat_map(|m| m.upgrade.ops.iter().chain(&m.downgrade.ops))
        .filter_map(|op| match &op.kind {
            crate::model::OpKind::Unparsed { reason, .. }
                if reason.starts_with(sql_sets::liquibase::UNREAD_CHANGE) =>
            {
                Some(reason.as_str())
            }
            _ => None,
        })
        .collect();
    let first = reasons.first()?.split('`').nth(1).unwrap_or_default();
    Some(match reasons.len() {
        1 => format!("a change of Liquibase's type `{first}`"),
        n => format!("{n} changes of Liquibase's types such as `{first}`"),
    })
}

/// A Liquibase SQL file's changesets, ranked by the master changelog's order when one names
/// the file, else by the file's path (`includeAll`'s order), after those it names: a formatted
/// file's changesets, or a file the changelog includes without the header as one raw
/// changeset. `None` for any other SQL file. A changeset header Liquibase refuses is a syntax
/// error: Liquibase runs nothing of such a file, and the lines after the header are read as the
/// changeset before it.
fn liquibase_changesets(
    tool: Option<&SqlTool>,
    path: &Path,
    name: &str,
    file: FileId,
    text: &str,
) -> Option<Parsed> {
    let position = match tool {
        Some(SqlTool::Liquibase(changelog)) => changelog.position(path),
        _ => None,
    };
    let rank = position.map_or_else(
        || format!("1{}", path.to_string_lossy()),
        |position| format!("0{position:06}"),
    );
    if position.is_some() && sql_sets::liquibase::xml::is_xml_changelog(name, text) {
        return Some(
            match sql_sets::liquibase::xml::parse(
                &rank,
                name,
                text,
                file,
                path.parent().unwrap_or(Path::new(".")),
                match tool {
                    Some(SqlTool::Liquibase(changelog)) => changelog.contexts.as_deref(),
                    _ => None,
                },
            ) {
                Ok(changesets) => Parsed::Sql(changesets, None),
                Err((at, message)) => Parsed::Problem(InputProblem {
                    kind: InputProblemKind::SyntaxError,
                    message,
                    span: Span::new(file, at..at),
                }),
            },
        );
    }
    if sql_sets::liquibase::is_formatted(text) {
        let refused = sql_sets::liquibase::refused_header(text).map(|(range, line)| InputProblem {
            kind: InputProblemKind::SyntaxError,
            message: format!(
                "Liquibase refuses this changelog: `{}` is no `--changeset author:id` line, so \
                 Liquibase 4 stops with \"Unexpected formatting\" and runs none of the file \
                 (the lines after it are read here as part of the changeset before it)",
                line.trim()
            ),
            span: Span::new(file, range),
        });
        return Some(Parsed::Sql(
            sql_sets::liquibase::parse(&rank, name, text, file),
            refused,
        ));
    }
    position.map(|_| {
        Parsed::Sql(
            vec![sql_sets::liquibase::parse_raw(&rank, name, text, file)],
            None,
        )
    })
}

/// What the tool found beside a SQL folder says about its file `path` (named `name`).
fn tool_facts(tool: Option<&SqlTool>, path: &Path, name: &str) -> sql_sets::ToolFacts {
    use sql_sets::ToolFacts;
    match tool {
        // drizzle-kit's folder-per-migration layout (`<timestamp>_<name>/migration.sql` beside
        // its `snapshot.json`, no journal), which Prisma's names alone would claim.
        None if name == "migration.sql" => match drizzle_journal::folder_migration(path) {
            Some(folder) => ToolFacts::Drizzle {
                when: Some(folder.when),
                postgres: folder.postgres,
            },
            None => ToolFacts::Unknown,
        },
        None => ToolFacts::Unknown,
        Some(SqlTool::Sqlx(krate)) => ToolFacts::Sqlx {
            other_database: krate.other_database,
        },
        Some(SqlTool::Drizzle(journal)) => ToolFacts::Drizzle {
            when: journal.when(name),
            postgres: journal.postgres,
        },
        Some(SqlTool::Supabase) => ToolFacts::Supabase,
        Some(SqlTool::GolangMigrate) => ToolFacts::GolangMigrate,
        Some(SqlTool::Named(runner)) => ToolFacts::Named(*runner),
        Some(SqlTool::FlywayPrefix(prefix)) => ToolFacts::FlywayPrefix(prefix.clone()),
        // Its formatted SQL files are read apart; any other file there by its name.
        Some(SqlTool::Liquibase(_)) => ToolFacts::Unknown,
        Some(SqlTool::Atlas) => ToolFacts::Atlas,
        Some(SqlTool::Sqitch(plan)) => match plan.script_of(path) {
            Some((kind, change)) => ToolFacts::Sqitch {
                revert: kind == crate::discover::sqitch_plan::ScriptKind::Revert,
                position: plan.position(&change),
                change,
                other_database: plan.other_database,
            },
            None => ToolFacts::Unknown,
        },
    }
}

fn parse_one(
    path: &Path,
    file: FileId,
    kind: &SetKind,
    is_env: bool,
    overrides: &Overrides,
) -> (SourceFile, Parsed) {
    let display = display_path(path);
    let read = match overrides.get(&display) {
        Some(text) => Ok(text.clone()),
        None => read_text(path),
    };
    let text = match read {
        Ok(text) => text,
        Err(message) => {
            let problem = InputProblem {
                kind: InputProblemKind::Unreadable,
                message,
                span: Span::new(file, 0..0),
            };
            return (
                SourceFile::new(display, String::new()),
                Parsed::Problem(problem),
            );
        }
    };
    let mut source = SourceFile::new(display, text);
    let parsed = if is_env {
        Parsed::Env(alembic::read_env(&source.text, file, path))
    } else {
        match kind {
            SetKind::Alembic { .. } => match alembic::parse_revision(&source.text, file) {
                Ok(Some(revision)) => {
                    source.suppressions = revision.suppressions;
                    Parsed::Revision(Box::new(revision.migration))
                }
                Ok(None) => Parsed::NotMigration,
                Err(problem) => Parsed::Problem(problem),
            },
            SetKind::SqlFolder { tool } => {
                source.suppressions = sql::suppressions(&source.text, file);
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                // A folder per migration: its name is the version, and `metadata.toml` beside
                // the scripts its settings (Diesel); otherwise Flyway's `<file>.conf`.
                let migration_folder = crate::discover::is_migration_folder_file(path)
                    .then(|| path.parent().and_then(|f| f.file_name()))
                    .flatten()
                    .map(|f| f.to_string_lossy().to_string());
                let config = match migration_folder {
                    // Prisma's provider is in the migrations folder's migration_lock.toml.
                    Some(_) if name == "migration.sql" => path
                        .parent()
                        .and_then(Path::parent)
                        .map(|migrations| migrations.join("migration_lock.toml")),
                    Some(_) => Some(path.with_file_name("metadata.toml")),
                    None => Some(path.with_file_name(format!("{name}.conf"))),
                };
                let script_config = config.and_then(|c| read_text(&c).ok());
                // A script in a folder per release is ordered by the release, then its name.
                let name = match crate::discover::release_folder(path) {
                    Some(release) => format!("{release}/{name}"),
                    None => name,
                };
                if let Some(changesets) =
                    liquibase_changesets(tool.as_ref(), path, &name, file, &source.text)
                {
                    return (source, changesets);
                }
                Parsed::Sql(
                    vec![sql_sets::parse_file(
                        &name,
                        migration_folder.as_deref(),
                        &source.text,
                        file,
                        script_config.as_deref(),
                        &tool_facts(tool.as_ref(), path, &name),
                    )],
                    None,
                )
            }
        }
    };
    (source, parsed)
}

/// Folders of numbered `.sql` files beside a history that a known framework runs (report
/// rebuilds, data tasks, manual rollback scripts) are scripts, not a second history: their
/// numbers order steps, not deployed versions. Unless the user named the folder, or its path
/// says migrations, they are left out with one note that names them and how to check them.
fn set_scripts_aside(
    sets: &mut Vec<MigrationSet>,
    problems: &mut Vec<InputProblem>,
    discovered: &[crate::discover::DiscoveredSet],
) {
    // Flyway reads its locations with their subfolders, and only files named with its
    // prefixes: a folder of other `.sql` files inside one (`rollback/`) is never run.
    let flyway_roots: Vec<String> = sets
        .iter()
        .filter(|s| s.framework == Framework::Flyway)
        .map(|s| s.root.clone())
        .collect();
    let (ignored, rest): (Vec<MigrationSet>, Vec<MigrationSet>) =
        std::mem::take(sets).into_iter().partition(|set| {
            set.framework == Framework::PlainSql
                && flyway_roots
                    .iter()
                    .any(|root| set.root.starts_with(&format!("{root}/")))
        });
    *sets = rest;
    for set in ignored {
        if let Some(first) = set.migrations.first() {
            problems.push(InputProblem {
                kind: InputProblemKind::SkippedFolder,
                message: format!(
                    "{}: inside Flyway's location, but its files are not named with Flyway's prefixes (`V`, `U`, `R`): Flyway never runs them, so they are not checked or run",
                    set.root
                ),
                span: Span::new(first.file, 0..0),
            });
        }
    }
    let Some(history) = sets
        .iter()
        .find(|s| s.framework != Framework::PlainSql)
        .map(|s| (s.framework.label(), s.root.clone()))
    else {
        return;
    };
    let named: Vec<String> = discovered
        .iter()
        .filter(|s| s.named)
        .map(|s| display_path(&s.root))
        .collect();
    let (scripts, kept): (Vec<MigrationSet>, Vec<MigrationSet>) =
        std::mem::take(sets).into_iter().partition(|set| {
            set.framework == Framework::PlainSql
                && !named
                    .iter()
                    .any(|n| *n == set.root || set.root.starts_with(&format!("{n}/")))
                && !says_migrations(&set.root)
        });
    *sets = kept;
    let Some(first) = scripts.first().and_then(|s| s.migrations.first()) else {
        return;
    };
    let folders = match scripts.len() {
        1 => format!("1 folder of numbered `.sql` files ({})", scripts[0].root),
        n => format!(
            "{n} folders of numbered `.sql` files ({}, …)",
            scripts[0].root
        ),
    };
    problems.push(InputProblem {
        kind: InputProblemKind::SkippedFolder,
        message: format!(
            "{folders} beside the {} history in {}: read as scripts, not migration histories, so not checked or run; to check one as plain SQL migrations, name it in the config's `paths` (or pass it on the command line)",
            history.0, history.1
        ),
        span: Span::new(first.file, 0..0),
    });
}

/// A path one of whose folders is named for migrations or schema changes.
fn says_migrations(path: &str) -> bool {
    path.split('/').any(|part| {
        let part = part.to_ascii_lowercase();
        part.contains("migrat")
            || part.contains("schema")
            || part.contains("changelog")
            || part.contains("changeset")
            || matches!(
                part.as_str(),
                "db" | "database"
                    | "sql"
                    | "ddl"
                    | "versions"
                    | "patches"
                    | "evolutions"
                    | "upgrades"
            )
    })
}

/// Where a statement starting at `at` can have lines put before it: the start of its line and
/// its indentation, when nothing but indentation comes before it on that line.
pub(crate) fn line_start_before(
    text: &str,
    at: usize,
) -> Option<crate::model::edit_site::BodyStart> {
    let line_start = text[..at].rfind('\n').map_or(0, |newline| newline + 1);
    let indent = &text[line_start..at];
    indent
        .chars()
        .all(|c| c == ' ' || c == '\t')
        .then(|| crate::model::edit_site::BodyStart {
            line_start,
            indent: indent.to_string(),
        })
}
