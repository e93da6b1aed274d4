//! Finds migration sets under the given paths: Alembic script directories and SQL folders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

pub mod alembic_ini;
pub mod drizzle_journal;
mod filters;
pub mod flyway_config;
pub mod jdbc_url;
pub mod liquibase_changelog;
pub mod liquibase_config;
pub mod prisma_folders;
pub mod project_tool;
pub mod sqitch_plan;
mod sql_tool;

pub use filters::{PathFilters, names_postgres};
pub use sql_tool::SqlTool;
use sql_tool::{add_liquibase_masters, add_sqitch_project, tool_tests};

use alembic_ini::AlembicIni;

/// Folders that never hold a project's migrations.
const SKIPPED_DIRS: &[&str] = &[
    "node_modules",
    "target",
    "__pycache__",
    "venv",
    "site-packages",
    "dist",
    "build",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetKind {
    /// An Alembic script directory: `env.py` (when found) and its revision files.
    Alembic { env_py: Option<PathBuf> },
    /// A folder of `.sql` files; the framework is told by what is beside them (`tool`), else
    /// from names and contents when read.
    SqlFolder { tool: Option<SqlTool> },
}

#[derive(Debug, Clone)]
pub struct DiscoveredSet {
    pub kind: SetKind,
    pub root: PathBuf,
    pub files: Vec<PathBuf>,
    /// When only some files were named on the command line: lint those, but read the whole
    /// set so the revision graph stays complete.
    pub scope: Option<Vec<PathBuf>>,
    /// A file named on the command line, judged for what it is whatever its name.
    pub named: bool,
}

/// A path under a checked folder that was not read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: SkipReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// A folder or file that cannot be listed or opened (permissions, I/O).
    Unreadable(String),
    /// A symbolic link to somewhere outside the checked folder: following it would read (and
    /// echo) any file on the machine.
    LeavesTree(PathBuf),
    /// A symbolic link to a folder that contains it.
    Loop(PathBuf),
    /// A symbolic link to nothing.
    Dangling,
    /// SQL files a migration tool runs for another purpose (its database tests); why.
    NotMigrations(String),
    /// Migrations written in a form migration-gate does not read (Liquibase's XML, YAML and
    /// JSON change types); what and where.
    NotRead(String),
}

/// What discovery found: the sets, and what it did not read.
#[derive(Debug, Default)]
pub struct Discovery {
    pub sets: Vec<DiscoveredSet>,
    pub skipped: Vec<Skipped>,
    /// Roots of the sets the config's `[dialect]` names PostgreSQL's: judged whatever their
    /// SQL looks like.
    pub postgres_configured: Vec<PathBuf>,
}

/// What the walk collects as it goes.
#[derive(Default)]
struct Found {
    sets: BTreeMap<PathBuf, DiscoveredSet>,
    skipped: Vec<Skipped>,
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("{0}: no such file or directory")]
    Missing(String),
    #[error(
        "{0}: not a migration file (expected an Alembic revision `.py` or a `.sql` migration, or a folder holding them)"
    )]
    NotMigration(String),
}

/// A file that belongs to a migration layout without being a migration: env.py, the revision
/// template, alembic.ini, a package's `__init__.py`. Named on its own (a pre-commit hook passes
/// every changed file), it is not checked and not an error.
pub fn is_support_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    match name {
        "__init__.py" => true,
        "alembic.ini" => true,
        "env.py" => dir.join("versions").is_dir(),
        _ => {
            name.ends_with(".mako")
                || (dir.join("env.py").is_file() && dir.join("versions").is_dir())
        }
    }
}

pub fn discover(paths: &[PathBuf], filters: &PathFilters) -> Result<Discovery, DiscoverError> {
    let mut found = Found::default();
    for path in paths {
        // A dangling link exists as a name only: say so rather than "no such file".
        if !path.exists() && path.symlink_metadata().is_err() {
            return Err(DiscoverError::Missing(path.display().to_string()));
        }
        if path.is_dir() {
            add_directory(path, &mut found, filters);
            continue;
        }
        if is_support_file(path) {
            continue;
        }
        if !is_revision_file(path) && !is_sql_file(path) {
            return Err(DiscoverError::NotMigration(path.display().to_string()));
        }
        if !path.exists() {
            found.skipped.push(Skipped {
                path: path.clone(),
                reason: SkipReason::Dangling,
            });
            continue;
        }
        add_single_file(path, &mut found, filters);
    }
    // An Alembic folder is walked both as part of its parent and as a script directory.
    found.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    found.skipped.dedup();
    let sets: Vec<DiscoveredSet> = found
        .sets
        .into_values()
        .filter(|s| !s.files.is_empty())
        .collect();
    let postgres_configured = sets
        .iter()
        .filter(|s| filters.names_postgres_folder(&s.root))
        .map(|s| s.root.clone())
        .collect();
    Ok(Discovery {
        sets,
        skipped: found.skipped,
        postgres_configured,
    })
}

/// A file found by [`walk`], with its depth below the walked folder.
struct Walked {
    path: PathBuf,
    depth: usize,
}

/// The files under `dir` (down to `max_depth`), in name order, leaving out hidden, build and
/// other databases' folders. Symbolic links are read only when they stay inside `dir`;
/// unreadable folders, links leaving it, loops and dangling links go to `skipped`.
fn walk(
    dir: &Path,
    max_depth: usize,
    filters: &PathFilters,
    skipped: &mut Vec<Skipped>,
) -> Vec<Walked> {
    let tree = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let mut build_outputs: Vec<PathBuf> = Vec::new();
    let walker = WalkDir::new(dir)
        .max_depth(max_depth)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let pruned = e.depth() > 0
                && (is_hidden_or_skipped(e.path()) || filters.is_other_database_dir(e.path()));
            if pruned && e.file_type().is_dir() && is_build_output_name(e.path()) {
                build_outputs.push(e.path().to_path_buf());
            }
            !pruned
        });
    let mut files = Vec::new();
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let path = error.path().unwrap_or(dir).to_path_buf();
                let reason = error
                    .io_error()
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| error.to_string());
                skipped.push(Skipped {
                    path,
                    reason: SkipReason::Unreadable(reason),
                });
                continue;
            }
        };
        let path = entry.path();
        if entry.file_type().is_file() {
            files.push(Walked {
                path: path.to_path_buf(),
                depth: entry.depth(),
            });
            continue;
        }
        if !entry.path_is_symlink() {
            continue;
        }
        let reason = match path.canonicalize() {
            Err(_) => SkipReason::Dangling,
            Ok(target) if !target.starts_with(&tree) => SkipReason::LeavesTree(target),
            Ok(target) if target.is_file() => {
                if is_revision_file(path) || is_sql_file(path) {
                    files.push(Walked {
                        path: path.to_path_buf(),
                        depth: entry.depth(),
                    });
                }
                continue;
            }
            // A link to a folder inside the tree: that folder is walked where it is.
            Ok(target) => {
                let parent = path.parent().and_then(|p| p.canonicalize().ok());
                if parent.is_some_and(|parent| parent.starts_with(&target)) {
                    SkipReason::Loop(target)
                } else {
                    continue;
                }
            }
        };
        skipped.push(Skipped {
            path: path.to_path_buf(),
            reason,
        });
    }
    for folder in build_outputs {
        if let Some(note) = build_output_note(&folder) {
            skipped.push(Skipped {
                path: folder,
                reason: SkipReason::NotRead(note),
            });
        }
    }
    files
}

/// `dist` and `build` are where build tools write their output, left out unread; some projects
/// keep sources there all the same.
fn is_build_output_name(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|name| name == "dist" || name == "build")
}

/// What a left-out `dist` or `build` folder holds that looks like migrations (`.sql` files,
/// Liquibase changelogs), said so that leaving it out is not silent.
fn build_output_note(folder: &Path) -> Option<String> {
    let looks_like_migrations = |path: &Path| {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        name.ends_with(".sql") || (name.contains("changelog") && name.ends_with(".xml"))
    };
    let count = WalkDir::new(folder)
        .max_depth(8)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden_or_skipped(e.path()))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && looks_like_migrations(e.path()))
        .count();
    (count > 0).then(|| {
        format!(
            "{}: a `{}` folder, where build tools write their output, holds {count} `.sql` or changelog {}: not read; name the folder on the command line or in the config's `paths` to check it",
            crate::frontend::display_path(folder),
            folder.file_name().unwrap_or_default().to_string_lossy(),
            if count == 1 { "file" } else { "files" },
        )
    })
}

fn is_revision_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "py")
        && path.file_name().is_some_and(|n| n != "__init__.py")
}

/// Folders under `paths` that discovery leaves out as another database's (`migrations/sqlite`,
/// `versions_mysql`), with how many `.sql` and `.py` files each holds: what to say when they
/// are all that was found.
pub fn other_database_folders(paths: &[PathBuf], filters: &PathFilters) -> Vec<(PathBuf, usize)> {
    let mut found = Vec::new();
    for path in paths.iter().filter(|p| p.is_dir()) {
        let mut walker = WalkDir::new(path).max_depth(6).into_iter();
        while let Some(Ok(entry)) = walker.next() {
            if entry.depth() > 0 && filters.is_other_database_dir(entry.path()) {
                let files = WalkDir::new(entry.path())
                    .into_iter()
                    .filter_map(Result::ok)
                    .filter(|e| is_sql_file(e.path()) || is_revision_file(e.path()))
                    .count();
                if files > 0 {
                    found.push((entry.path().to_path_buf(), files));
                }
                walker.skip_current_dir();
            }
        }
    }
    found
}

/// A script of a folder-per-migration layout, in a folder whose name starts with a version:
/// Diesel's `up.sql` / `down.sql` (`2024-01-31-120000_create_users/up.sql`,
/// `00000000000000_diesel_initial_setup`), Prisma's `migration.sql`
/// (`20240131120000_create_users/migration.sql`).
pub fn is_migration_folder_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let folder = path
        .parent()
        .and_then(|f| f.file_name())
        .and_then(|f| f.to_str())
        .unwrap_or_default();
    matches!(name, "up.sql" | "down.sql" | "migration.sql")
        && folder.starts_with(|c: char| c.is_ascii_digit())
}

/// The release a SQL script's folder is named after (`0.19`, `v1.2.3`), when it is: a history
/// kept as a folder per release, each holding that release's scripts, applied in release order
/// and, within one, in file name order (usememos/memos' `store/migration/postgres/0.19/`).
pub fn release_folder(path: &Path) -> Option<&str> {
    let folder = path.parent()?.file_name()?.to_str()?;
    let version = folder.strip_prefix(['v', 'V']).unwrap_or(folder);
    let mut parts = version.split('.');
    let dotted = version.contains('.')
        && parts.all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    (dotted && is_sql_file(path)).then_some(folder)
}

fn is_sql_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("sql"))
}

/// The Alembic script directory holding a revision file: `<root>/versions/<file>.py` with
/// `<root>/env.py` beside `versions/`.
fn enclosing_alembic_root(file: &Path) -> Option<PathBuf> {
    file.ancestors()
        .skip(1)
        .take(4)
        .find(|dir| dir.file_name().is_some_and(|n| n == "versions"))
        .and_then(Path::parent)
        .filter(|root| root.join("env.py").is_file())
        .map(Path::to_path_buf)
}

fn add_single_file(path: &Path, found: &mut Found, filters: &PathFilters) {
    if let Some(target) = link_leaving(path) {
        found.skipped.push(Skipped {
            path: path.to_path_buf(),
            reason: SkipReason::LeavesTree(target),
        });
        return;
    }
    if is_revision_file(path) {
        if let Some(root) = enclosing_alembic_root(path) {
            add_alembic_root(&root, None, found, filters);
            if let Some(set) = found.sets.get_mut(&root) {
                set.scope
                    .get_or_insert_with(Vec::new)
                    .push(path.to_path_buf());
            }
            return;
        }
        let root = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let key = path.to_path_buf();
        found.sets.insert(
            key,
            DiscoveredSet {
                kind: SetKind::Alembic { env_py: None },
                root,
                files: vec![path.to_path_buf()],
                scope: None,
                named: false,
            },
        );
    } else {
        let key = path.to_path_buf();
        let root = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        found.sets.insert(
            key,
            DiscoveredSet {
                kind: SetKind::SqlFolder {
                    // A Sqitch script named alone (a pre-commit hook) is still its plan's.
                    tool: root
                        .parent()
                        .map(|top| top.join("sqitch.plan"))
                        .and_then(|plan| sqitch_plan::read(&plan))
                        .filter(|plan| plan.script_of(path).is_some())
                        .map(SqlTool::Sqitch)
                        .or_else(|| SqlTool::of_folder(&root, filters)),
                },
                root,
                files: vec![path.to_path_buf()],
                scope: None,
                named: true,
            },
        );
    }
}

/// A file named on the command line that is a link to outside its own folder: where the
/// target is cannot be known to be part of the project.
fn link_leaving(path: &Path) -> Option<PathBuf> {
    if !path
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        return None;
    }
    let target = path.canonicalize().ok()?;
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let folder = folder.canonicalize().ok()?;
    (!target.starts_with(folder)).then_some(target)
}

fn add_alembic_root(
    root: &Path,
    ini: Option<&AlembicIni>,
    found: &mut Found,
    filters: &PathFilters,
) {
    if found.sets.contains_key(root) {
        return;
    }
    // Without `version_locations` in the ini, sub-folders of versions/ are read too: env.py
    // often sets the locations itself (one folder per release or branch), and sub-folders that
    // form histories of their own are told apart once their revisions are read.
    let (locations, recursive) = match ini.and_then(|i| i.version_locations.clone()) {
        Some(locations) => (locations, ini.is_some_and(|i| i.recursive)),
        None => (vec![root.join("versions")], true),
    };
    let mut files: Vec<PathBuf> = Vec::new();
    for location in &locations {
        // `versions/postgresql/` beside `versions/sqlite/` (env.py picks one at run time):
        // only the PostgreSQL history is read.
        let depth = if recursive { usize::MAX } else { 1 };
        files.extend(
            walk(location, depth, filters, &mut found.skipped)
                .into_iter()
                .map(|walked| walked.path)
                .filter(|p| is_revision_file(p) && !filters.excludes(p)),
        );
    }
    files.sort();
    files.dedup();
    let env_py = Some(root.join("env.py")).filter(|p| p.is_file());
    found.sets.insert(
        root.to_path_buf(),
        DiscoveredSet {
            kind: SetKind::Alembic { env_py },
            root: root.to_path_buf(),
            files,
            scope: None,
            named: false,
        },
    );
}

fn is_hidden_or_skipped(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|name| {
            (name.starts_with('.') && name != "." && name != "..") || SKIPPED_DIRS.contains(&name)
        })
}

/// Folder names that hold revision files of a history without its own env.py (a plugin's or
/// component's migrations, run through the application's env.py).
const REVISION_FOLDERS: &[&str] = &["versions", "migrations", "alembic", "revisions"];

fn add_directory(dir: &Path, found: &mut Found, filters: &PathFilters) {
    let mut alembic_roots: BTreeMap<PathBuf, Option<AlembicIni>> = BTreeMap::new();
    let mut sql_by_dir: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    let mut python_by_dir: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    let mut sqitch_plans: Vec<(PathBuf, sqitch_plan::SqitchPlan)> = Vec::new();
    let mut liquibase_masters: Vec<liquibase_changelog::LiquibaseChangelog> = Vec::new();
    for entry in walk(dir, usize::MAX, filters, &mut found.skipped) {
        let path = entry.path.as_path();
        if entry.depth > 0 && filters.excludes(path) {
            continue;
        }
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let folder = path.parent().unwrap_or(dir);
        if name == "env.py" && folder.join("versions").is_dir() {
            alembic_roots.entry(normalize(folder)).or_insert(None);
        } else if name == "alembic.ini" {
            if let Some(ini) = alembic_ini::read(path)
                && let Some(location) = ini.script_location.clone()
                && (location.join("versions").is_dir() || ini.version_locations.is_some())
            {
                alembic_roots.insert(normalize(&location), Some(ini));
            }
        } else if let Some(changelog) = liquibase_changelog::read(path) {
            liquibase_masters.push(changelog);
        } else if name == "sqitch.plan" {
            if let Some(plan) = sqitch_plan::read(path) {
                sqitch_plans.push((folder.to_path_buf(), plan));
            }
        } else if is_sql_file(path) {
            // A folder per migration (Diesel's `<version>_<name>/up.sql`): the set is the
            // folder holding the migration folders.
            // A folder per release (`0.19/00__x.sql`, memos' layout): likewise.
            let set_folder = match folder.parent() {
                Some(parent)
                    if is_migration_folder_file(path) || release_folder(path).is_some() =>
                {
                    parent
                }
                _ => folder,
            };
            sql_by_dir
                .entry(set_folder.to_path_buf())
                .or_default()
                .push(path.to_path_buf());
        } else if is_revision_file(path)
            && (entry.depth == 1
                || folder
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| REVISION_FOLDERS.contains(&n)))
        {
            python_by_dir
                .entry(folder.to_path_buf())
                .or_default()
                .push(path.to_path_buf());
        }
    }
    let mut claimed: Vec<PathBuf> = Vec::new();
    for (root, ini) in &alembic_roots {
        claimed.push(root.clone());
        add_alembic_root(root, ini.as_ref(), found, filters);
        if let Some(locations) = ini.as_ref().and_then(|i| i.version_locations.as_ref()) {
            claimed.extend(locations.iter().map(|l| normalize(l)));
        }
    }
    let inside_claimed = |folder: &Path| {
        let folder = normalize(folder);
        claimed.iter().any(|root| within(&folder, root))
    };
    for (folder, files) in python_by_dir {
        // Revision files without an env.py of their own (`check migrations/versions`, a
        // plugin's migrations folder): a history of their own. Modules that are not revisions
        // drop out when read.
        if inside_claimed(&folder) {
            continue;
        }
        // env.py beside `versions/`, or above a per-dialect folder inside it.
        let env_py = folder
            .ancestors()
            .skip(1)
            .take(2)
            .map(|p| p.join("env.py"))
            .find(|p| p.is_file());
        found.sets.entry(folder.clone()).or_insert(DiscoveredSet {
            kind: SetKind::Alembic { env_py },
            root: folder,
            files,
            scope: None,
            named: false,
        });
    }
    for (top, plan) in sqitch_plans {
        add_sqitch_project(top, plan, &mut sql_by_dir, found);
    }
    add_liquibase_masters(liquibase_masters, &mut sql_by_dir, found);
    // Test folders, each said once with what it holds: (folders, files) by test folder.
    let mut tests: BTreeMap<(PathBuf, &'static str), (usize, usize)> = BTreeMap::new();
    for (folder, files) in sql_by_dir {
        if let Some((test_folder, why)) = tool_tests(&folder, dir) {
            let held = tests.entry((test_folder, why)).or_default();
            held.0 += 1;
            held.1 += files.len();
            continue;
        }
        // Inside an Alembic project (or holding one) a loose .sql file is a helper script, not
        // a migration set of its own.
        let folder_normal = normalize(&folder);
        if claimed
            .iter()
            .any(|root| within(&folder_normal, root) || within(root, &folder_normal))
        {
            continue;
        }
        found.sets.entry(folder.clone()).or_insert(DiscoveredSet {
            kind: SetKind::SqlFolder {
                tool: SqlTool::of_folder(&folder, filters),
            },
            root: folder,
            files,
            scope: None,
            named: false,
        });
    }
    for ((test_folder, why), (folders, files)) in tests {
        let reason = SkipReason::NotMigrations(format!(
            "{}: {files} `.sql` {}{}: {why}",
            test_folder
                .strip_prefix("./")
                .unwrap_or(&test_folder)
                .display(),
            if files == 1 { "file" } else { "files" },
            if folders == 1 {
                String::new()
            } else {
                format!(" in {folders} folders")
            },
        ));
        found.skipped.push(Skipped {
            path: test_folder,
            reason,
        });
    }
}

/// Whether `path` is `folder` or inside it, both normalized. The current folder is `.`, which
/// `Path::starts_with` sees as a component of its own that relative paths below it lack.
fn within(path: &Path, folder: &Path) -> bool {
    if folder == Path::new(".") {
        path.is_relative() && !path.starts_with("..")
    } else {
        path.starts_with(folder)
    }
}

/// Removes `.` and `x/..` components so the same folder reached two ways is one key.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}
