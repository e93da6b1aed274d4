//! SQL migration files → migrations, following each framework's naming and transaction rules.

use std::collections::BTreeMap;

use crate::model::{
    AlembicEnv, Body, BodyState, FileId, Framework, Migration, MigrationSet, RevisionId, Script,
    ScriptTransaction, Span,
};

use super::sql::{self, Shifted, Wrapping};

mod atlas;
mod dbmate;
mod diesel;
pub mod drizzle;
mod flyway;
mod golang_migrate;
mod goose;
pub mod liquibase;
mod plain;
mod prisma;
mod sqitch;
mod sql_migrate;
mod sqlx;
mod supabase;

/// What the tool that runs a file's folder (found beside the files) says about the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolFacts {
    /// Nothing beside the files names a tool: names and contents decide.
    Unknown,
    /// A crate that depends on sqlx runs the folder; whether its features name another database.
    Sqlx {
        other_database: bool,
    },
    /// A file of a folder drizzle-kit's journal describes: its `when` (None when the journal
    /// does not list it, and Drizzle never runs it); whether the journal names PostgreSQL.
    Drizzle {
        when: Option<u64>,
        postgres: bool,
    },
    Supabase,
    Atlas,
    /// The project's Go module runs the folder with golang-migrate, which runs only its
    /// direction files.
    GolangMigrate,
    /// A Sqitch plan's script: deploy or revert, its change's position in the plan (None when
    /// the plan does not name it) and the change's script name.
    Sqitch {
        revert: bool,
        position: Option<usize>,
        change: String,
        other_database: bool,
    },
    /// The config's `[[sets]]` names the folder's framework.
    Named(crate::model::NamedRunner),
    /// Flyway's configuration sets the prefix of versioned migrations.
    FlywayPrefix(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Up,
    Down,
    /// dbmate: both directions in one file.
    Both,
    /// Flyway `R__`: re-applied when changed, never undone.
    Repeatable,
    /// Flyway `B<version>__`: the schema up to its version, run only on an empty database in
    /// place of the versioned migrations it stands for; never run where they already ran.
    Baseline,
}

#[derive(Debug)]
pub struct SqlFile {
    framework: Framework,
    role: Role,
    /// The version the framework orders by, as digit groups (`V1_2__x` → [1, 2]).
    version: Version,
    version_text: String,
    /// A file written for another database (`001_x.mysql.up.sql`): not judged as PostgreSQL.
    other_database: bool,
    /// A script the framework's plan does not list (Sqitch): it never runs.
    unlisted: bool,
    file: FileId,
    up: Option<Body>,
    down: Option<Body>,
}

/// A version as its digit groups compared as numbers of any length: pop / golang-migrate
/// versions such as `20191100000001000000` do not fit in 64 bits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Version(Vec<(usize, String)>);

pub(super) fn digits(text: &str) -> Version {
    Version(
        text.split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|group| {
                let trimmed = group.trim_start_matches('0');
                (trimmed.len(), trimmed.to_string())
            })
            .collect(),
    )
}

pub(super) fn body(
    text: &str,
    range: std::ops::Range<usize>,
    file: FileId,
    wrapping: Wrapping,
) -> Body {
    let section = &text[range.clone()];
    let transaction = match wrapping {
        Wrapping::Always | Wrapping::EachStatement => ScriptTransaction::Wrapped,
        Wrapping::None => ScriptTransaction::PerStatement,
        Wrapping::WhenSeveralStatements => ScriptTransaction::AsWritten,
    };
    let state = if sql::has_statements(section) {
        BodyState::Code
    } else {
        BodyState::Empty
    };
    let ops = sql::lower_sql(section, file, &Shifted(range.start), wrapping);
    let start = ops
        .first()
        .and_then(|first| crate::frontend::line_start_before(text, first.span.start));
    Body {
        state,
        span: Span::new(file, range.start..range.start),
        ops,
        script: Some(Script {
            span: Span::new(file, range),
            transaction,
            source: crate::model::ScriptSource::Written,
        }),
        early_returns: Vec::new(),
        start,
        placeholder: None,
        function_end: None,
    }
}

/// A `.up.sql` / `.down.sql` name: one direction of a golang-migrate style pair.
fn is_direction_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".up.sql") || lower.ends_with(".down.sql")
}

impl SqlFile {
    /// A file holding both directions of one migration (dbmate, goose, sql-migrate sections,
    /// a Liquibase changeset), written for PostgreSQL and run.
    pub(super) fn both(
        framework: Framework,
        version: Version,
        version_text: String,
        file: FileId,
        up: Option<Body>,
        down: Body,
    ) -> SqlFile {
        SqlFile {
            framework,
            role: Role::Both,
            version,
            version_text,
            other_database: false,
            unlisted: false,
            file,
            up,
            down: Some(down),
        }
    }
}

/// A file holding one direction of a migration (golang-migrate, Flyway).
pub(super) fn one_direction(
    framework: Framework,
    role: Role,
    version_text: String,
    file: FileId,
    parsed: Body,
) -> SqlFile {
    let (up, down) = if role == Role::Down {
        (None, Some(parsed))
    } else {
        (Some(parsed), None)
    };
    SqlFile {
        framework,
        role,
        version: digits(&version_text),
        version_text,
        other_database: false,
        unlisted: false,
        file,
        up,
        down,
    }
}

/// One SQL file; `migration_folder` is the name of the folder it sits in when that folder is
/// one migration (Diesel); `script_config` the text of the settings file beside it, if any
/// (Flyway's `<file>.conf`, Diesel's `metadata.toml`); `tool`: what the tool found beside the
/// folder says about the file. A `release/name` (a script in a folder per release) is read by
/// its own name and ordered by the release first.
pub fn parse_file(
    name: &str,
    migration_folder: Option<&str>,
    text: &str,
    file: FileId,
    script_config: Option<&str>,
    tool: &ToolFacts,
) -> SqlFile {
    match tool {
        ToolFacts::Sqitch {
            revert,
            position: Some(position),
            change,
            other_database,
        } => {
            let mut sql_file = sqitch::parse(*revert, *position, change, text, file);
            sql_file.other_database = *other_database;
            return sql_file;
        }
        ToolFacts::Sqitch {
            revert,
            position: None,
            change,
            ..
        } => {
            let mut sql_file = sqitch::parse(*revert, usize::MAX, change, text, file);
            sql_file.unlisted = true;
            return sql_file;
        }
        ToolFacts::Drizzle { when, postgres } => {
            let mut sql_file = drizzle::parse(when.unwrap_or(u64::MAX), text, file);
            sql_file.other_database = !postgres;
            sql_file.unlisted = when.is_none();
            return sql_file;
        }
        ToolFacts::Supabase => {
            if let Some(sql_file) = supabase::parse(name, text, file) {
                return sql_file;
            }
        }
        // Atlas also writes and applies other tools' formats (`--dir-format goose`, dbmate,
        // flyway, golang-migrate), with its `atlas.sum` beside them: such a file is read as
        // that tool runs it, its down section a downgrade.
        ToolFacts::Atlas if !is_direction_file(name) && !in_another_tools_format(name, text) => {
            if let Some(sql_file) = atlas::parse(name, text, file) {
                return sql_file;
            }
        }
        _ => {}
    }
    if let Some((release, own_name)) = name.rsplit_once('/') {
        let mut sql_file = parse_file(own_name, migration_folder, text, file, script_config, tool);
        sql_file.version_text = format!("{release}/{}", sql_file.version_text);
        sql_file.version = digits(&sql_file.version_text);
        return sql_file;
    }
    match migration_folder {
        Some(folder) if name == "migration.sql" => {
            return prisma::parse(folder, text, file, script_config);
        }
        Some(folder) => return diesel::parse(name, folder, text, file, script_config),
        None => {}
    }
    if let ToolFacts::Sqlx { other_database } = tool
        && let Some(mut sql_file) = sqlx::parse(name, text, file)
    {
        sql_file.other_database = *other_database;
        return sql_file;
    }
    match tool {
        ToolFacts::Named(runner) => named(*runner, name, text, file, script_config),
        // Flyway's own names first, as its configuration sets them; any other file as usual.
        ToolFacts::FlywayPrefix(prefix) => {
            flyway::parse_with_prefix(prefix, name, text, file, script_config)
                .unwrap_or_else(|| plain::parse(name, text, file))
        }
        // golang-migrate passes over any other name: such a file is never run.
        ToolFacts::GolangMigrate => golang_migrate::parse(name, text, file).unwrap_or_else(|| {
            let mut sql_file = plain::parse(name, text, file);
            sql_file.unlisted = true;
            sql_file
        }),
        _ => golang_migrate::parse(name, text, file)
            .or_else(|| flyway::parse(name, text, file, script_config))
            .or_else(|| goose::is_goose(text).then(|| goose::parse(name, text, file)))
            .or_else(|| {
                sql_migrate::is_sql_migrate(text).then(|| sql_migrate::parse(name, text, file))
            })
            .or_else(|| dbmate::parse(name, text, file))
            .unwrap_or_else(|| plain::parse(name, text, file)),
    }
}

/// A file in goose's, dbmate's or Flyway's format, which Atlas can write and apply in place of
/// its own (`cmd/atlas/internal/cmdapi/migrate.go`, `--dir-format`).
fn in_another_tools_format(name: &str, text: &str) -> bool {
    goose::is_goose(text)
        || {
            let sections = super::sql::dbmate_sections(text);
            sections.up.is_some() || sections.down.is_some()
        }
        || flyway::is_flyway_name(name)
}

/// The file read as `framework`, which the config's `[[sets]]` names for its folder; read as
/// plain SQL when its name or contents do not fit that framework.
fn named(
    runner: crate::model::NamedRunner,
    name: &str,
    text: &str,
    file: FileId,
    script_config: Option<&str>,
) -> SqlFile {
    if let Some(transaction) = runner.transaction {
        return plain::parse_in(name, text, file, transaction);
    }
    let read = match runner.framework {
        Framework::GolangMigrate => golang_migrate::parse(name, text, file),
        Framework::Flyway => flyway::parse(name, text, file, script_config),
        Framework::Dbmate => dbmate::parse(name, text, file),
        Framework::Goose => Some(goose::parse(name, text, file)),
        Framework::SqlMigrate => Some(sql_migrate::parse(name, text, file)),
        Framework::Sqlx => sqlx::parse(name, text, file),
        Framework::Supabase => supabase::parse(name, text, file),
        Framework::Atlas => atlas::parse(name, text, file),
        Framework::PlainSql => Some(plain::parse(name, text, file)),
        _ => None,
    };
    read.unwrap_or_else(|| plain::parse(name, text, file))
}

/// Plain `.sql` files form a history only when something orders them: a version at the start of
/// their names (`0001_x.sql`, `V2__x.sql`), or of the folder's (one folder per migration).
/// Without one (`ddl/schema.sql`, `seeds/users.sql`) a folder is a dump or a set of scripts,
/// and running it as migrations would judge a history that does not exist.
fn unordered(file: &SqlFile, folder: &str) -> bool {
    let versioned = |name: &str| {
        let name = name.strip_prefix(['V', 'v']).unwrap_or(name);
        name.starts_with(|c: char| c.is_ascii_digit())
    };
    let folder_name = folder.rsplit('/').next().unwrap_or(folder);
    file.framework == Framework::PlainSql
        && !versioned(&file.version_text)
        && !versioned(folder_name)
}

/// A folder of `<version>_x.up.sql` files and plain `<version>_x.sql` files whose versions
/// alternate: some plain file comes before some `.up.sql` file and some after one.
fn interleaved_up_and_plain(files: &[SqlFile]) -> bool {
    let range = |framework: Framework| {
        let mut versions = files
            .iter()
            .filter(|f| f.framework == framework && f.role == Role::Up && !f.other_database)
            .map(|f| &f.version);
        let first = versions.next()?;
        Some(versions.fold((first, first), |(low, high), v| (low.min(v), high.max(v))))
    };
    match (range(Framework::GolangMigrate), range(Framework::PlainSql)) {
        (Some((first_up, last_up)), Some((first_plain, last_plain))) => {
            first_plain < last_up && first_up < last_plain
        }
        _ => false,
    }
}

/// One folder's files grouped into sets, and what was left out.
pub struct Built {
    /// One set per framework found there, in apply order.
    pub sets: Vec<MigrationSet>,
    /// Plain files nothing orders.
    pub unordered: Vec<FileId>,
    /// Scripts the framework's plan or journal does not list, which it never runs; the
    /// framework.
    pub unlisted: Vec<FileId>,
    pub unlisted_by: Option<Framework>,
    /// Files for another database (a `.sqlite.up.sql` name, Prisma's provider, sqlx's features).
    pub other_database: Vec<FileId>,
    /// Flyway baseline migrations: a copy of what the versioned ones build, for new databases.
    pub baselines: Vec<FileId>,
}

/// Groups one folder's files into sets, one per framework found there, in apply order.
/// `named`: the files were named on the command line, and are judged whatever their names.
pub fn build(root: String, files: Vec<SqlFile>, named: bool) -> Built {
    let (unlisted, files): (Vec<SqlFile>, Vec<SqlFile>) =
        files.into_iter().partition(|f| f.unlisted && !named);
    let unlisted_by = unlisted.first().map(|f| f.framework);
    let unlisted = unlisted.iter().map(|f| f.file).collect();
    // The versioned migrations a baseline stands for are the history every existing database
    // went through: they are judged, and the baseline's copy of their result is not.
    let (baselines, files): (Vec<SqlFile>, Vec<SqlFile>) = files
        .into_iter()
        .partition(|f| f.role == Role::Baseline && !named);
    let baselines = baselines.iter().map(|f| f.file).collect();
    let (mut files, unordered): (Vec<SqlFile>, Vec<SqlFile>) = files
        .into_iter()
        .partition(|f| named || !unordered(f, &root));
    let unordered = unordered.iter().map(|f| f.file).collect();
    let other_database = files
        .iter()
        .filter(|f| f.other_database)
        .map(|f| f.file)
        .collect();
    if interleaved_up_and_plain(&files) {
        // golang-migrate never runs a file not named `.up.sql`: a folder whose versions
        // alternate between the two namings is one history that its own runner applies in
        // version order (fider's `dbx.Migrate` runs every `.sql` file of its folder).
        for file in &mut files {
            if file.framework == Framework::GolangMigrate {
                file.framework = Framework::PlainSql;
            }
        }
    }
    let mut by_framework: BTreeMap<&'static str, Vec<SqlFile>> = BTreeMap::new();
    // Another database's variant of a migration is that database's business.
    for file in files.into_iter().filter(|f| !f.other_database) {
        by_framework
            .entry(file.framework.label())
            .or_default()
            .push(file);
    }
    let sets = by_framework
        .into_values()
        .map(|files| {
            let framework = files[0].framework;
            let has_undo = files.iter().any(|f| f.role == Role::Down);
            let mut by_version: BTreeMap<(Version, String), Migration> = BTreeMap::new();
            let mut downs: Vec<SqlFile> = Vec::new();
            for file in files {
                if file.role == Role::Down {
                    downs.push(file);
                    continue;
                }
                let key = (
                    if file.role == Role::Repeatable {
                        // After every versioned migration, as Flyway runs them.
                        Version(vec![(usize::MAX, String::new())])
                    } else {
                        file.version.clone()
                    },
                    file.version_text.clone(),
                );
                let missing = Body::missing(Span::new(file.file, 0..0));
                let downgrade = match (file.role, file.down) {
                    (_, Some(down)) => down,
                    (Role::Repeatable, None) => Body {
                        state: BodyState::NotApplicable,
                        ..missing
                    },
                    // Plain SQL, Prisma, Drizzle, Supabase and Atlas have no down scripts at all.
                    (_, None)
                        if matches!(
                            framework,
                            Framework::PlainSql
                                | Framework::Prisma
                                | Framework::Drizzle
                                | Framework::Supabase
                                | Framework::Atlas
                        ) =>
                    {
                        Body {
                            state: BodyState::NotApplicable,
                            ..missing
                        }
                    }
                    // Flyway without undo scripts, sqlx's simple migrations: forward only.
                    (_, None)
                        if matches!(framework, Framework::Flyway | Framework::Sqlx)
                            && !has_undo =>
                    {
                        Body {
                            state: BodyState::NotApplicable,
                            ..missing
                        }
                    }
                    (_, None) => missing,
                };
                let upgrade = file
                    .up
                    .unwrap_or_else(|| Body::missing(Span::new(file.file, 0..0)));
                by_version.insert(
                    key,
                    migration(framework, file.file, file.version_text, upgrade, downgrade),
                );
            }
            for down in downs {
                let target = by_version.iter_mut().find(|((v, _), _)| *v == down.version);
                match (target, down.down) {
                    (Some((_, m)), Some(body)) => m.downgrade = body,
                    (None, Some(body)) => {
                        // A down script without its up script: report it on its own.
                        let up = Body::missing(Span::new(down.file, 0..0));
                        by_version.insert(
                            (down.version.clone(), down.version_text.clone()),
                            migration(framework, down.file, down.version_text, up, body),
                        );
                    }
                    _ => {}
                }
            }
            let mut migrations: Vec<Migration> = by_version.into_values().collect();
            // Liquibase's rollbacks are optional: a history that writes none goes forward only.
            if framework == Framework::Liquibase
                && migrations
                    .iter()
                    .all(|m| m.downgrade.state == BodyState::Missing)
            {
                for migration in &mut migrations {
                    migration.downgrade.state = BodyState::NotApplicable;
                }
            }
            assign_step_groups(&mut migrations);
            if framework == Framework::Liquibase {
                liquibase::assign_generated_batches(&mut migrations);
            }
            for i in 1..migrations.len() {
                if let Some(previous) = migrations[i - 1].revision_id().map(str::to_string) {
                    migrations[i].parents = vec![previous];
                }
            }
            MigrationSet {
                framework,
                root: root.clone(),
                env: AlembicEnv::default(),
                migrations,
                configured_search_path: Vec::new(),
                joined: Vec::new(),
                not_read: None,
            }
        })
        .collect();
    Built {
        sets,
        unordered,
        baselines,
        unlisted,
        unlisted_by,
        other_database,
    }
}

/// pop writes one change as numbered steps: a 14-digit timestamp and a 6-digit step.
fn assign_step_groups(migrations: &mut [Migration]) {
    let group_of = |m: &Migration| {
        m.revision_id()
            .filter(|v| v.len() == 20 && v.bytes().all(|b| b.is_ascii_digit()))
            .map(|v| v[..14].to_string())
    };
    let mut sizes: BTreeMap<String, usize> = BTreeMap::new();
    for migration in migrations.iter() {
        if let Some(group) = group_of(migration) {
            *sizes.entry(group).or_default() += 1;
        }
    }
    for migration in migrations.iter_mut() {
        migration.undo_group = group_of(migration).filter(|g| sizes[g] > 1);
    }
}

fn migration(
    framework: Framework,
    file: FileId,
    version: String,
    upgrade: Body,
    downgrade: Body,
) -> Migration {
    let span = Span::new(file, 0..0);
    Migration {
        framework,
        file,
        revision: RevisionId::Literal(version),
        revision_span: span,
        parents: Vec::new(),
        parents_span: span,
        parents_unreadable: false,
        depends_on: Vec::new(),
        branch_labels: Vec::new(),
        upgrade,
        downgrade,
        uses_autocommit_block: None,
        branches_on_dialect: false,
        undo_group: None,
        batch_tables: Vec::new(),
    }
}
