//! The migration tool a SQL folder's project declares, for names several tools share: sqlx and
//! golang-migrate both write `<version>_<name>.up.sql`, and sqlx's simple migrations are
//! `<version>_<name>.sql` like loose versioned SQL, but sqlx runs each migration in a
//! transaction. A Rust crate that depends on sqlx and keeps its migrations beside its manifest
//! (`sqlx::migrate!()` reads `<CARGO_MANIFEST_DIR>/migrations` by default) runs them with sqlx,
//! on the database sqlx's features name.

use std::path::Path;

/// A crate that runs its migrations with sqlx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlxCrate {
    /// sqlx's features name another database (`sqlite`, `mysql`) and not `postgres`: the
    /// migrations are that database's (a crate whose features name none is taken as PostgreSQL).
    pub other_database: bool,
}

/// The folder's migrations run with sqlx: the nearest `Cargo.toml` above it, the package the
/// folder belongs to as Cargo sees it (`migrate!("src/db/migrations")` names a folder of its
/// own, however deep), depends on sqlx (`[dependencies]`, `[dev-dependencies]`,
/// `[build-dependencies]`, a target's, or the workspace's). The search stops at the
/// repository's root.
pub fn sqlx_crate(folder: &Path) -> Option<SqlxCrate> {
    let folder = std::path::absolute(folder).unwrap_or_else(|_| folder.to_path_buf());
    let manifest_path = nearest_in_repository(folder.parent()?, "Cargo.toml")?;
    let manifest = read_manifest(&manifest_path)?;
    let entry = dependency(&manifest, "sqlx")?;
    let mut features = features(entry);
    // `sqlx = { workspace = true, features = [...] }` adds to the workspace's own features.
    if entry.get("workspace").and_then(|w| w.as_bool()) == Some(true)
        && let Some(workspace) = manifest_path
            .parent()?
            .ancestors()
            .skip(1)
            .map(|dir| dir.join("Cargo.toml"))
            .filter(|candidate| candidate.is_file())
            .filter_map(|candidate| read_manifest(&candidate))
            .find(|m| m.contains_key("workspace"))
        && let Some(shared) = dependency(&workspace, "sqlx")
    {
        features.extend(self::features(shared));
    }
    let names = |wanted: &str| features.iter().any(|f| f == wanted);
    Some(SqlxCrate {
        other_database: !names("postgres") && (names("sqlite") || names("mysql")),
    })
}

/// The nearest file named `name` in `start` or a folder above it; the search stops at the
/// repository's root: past it, a manifest is another project's.
fn nearest_in_repository(start: &Path, name: &str) -> Option<std::path::PathBuf> {
    let mut past_root = false;
    start
        .ancestors()
        .take_while(|dir| {
            let within = !past_root;
            past_root = dir.join(".git").exists();
            within
        })
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The folder's `.up.sql` / `.down.sql` files run with golang-migrate: it holds such a file,
/// and the Go module it belongs to (the nearest `go.mod` above it) requires
/// `github.com/golang-migrate/migrate`. golang-migrate's sources then skip every other file of
/// the folder (`source/iofs`, `source/file`: a name `^([0-9]+)_(.*)\.(down|up)\.(.*)$` does
/// not match, and the file is passed over), so such a file is never run.
pub fn golang_migrate_module(folder: &Path) -> bool {
    let has_direction_file = std::fs::read_dir(folder).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|entry| {
            let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
            name.ends_with(".up.sql") || name.ends_with(".down.sql")
        })
    });
    has_direction_file
        && nearest_in_repository(
            &std::path::absolute(folder).unwrap_or_else(|_| folder.to_path_buf()),
            "go.mod",
        )
        .and_then(|path| std::fs::read_to_string(path).ok())
        .is_some_and(|module| module.contains("github.com/golang-migrate/migrate"))
}

fn read_manifest(path: &Path) -> Option<toml::Table> {
    std::fs::read_to_string(path).ok()?.parse().ok()
}

/// The dependency's entry, from any dependency table of the manifest.
fn dependency<'m>(manifest: &'m toml::Table, name: &str) -> Option<&'m toml::Value> {
    let in_tables = |table: &'m toml::Table| {
        ["dependencies", "dev-dependencies", "build-dependencies"]
            .iter()
            .filter_map(|key| table.get(*key)?.as_table())
            .find_map(|dependencies| dependencies.get(name))
    };
    let targets = || {
        manifest
            .get("target")?
            .as_table()?
            .values()
            .filter_map(|t| t.as_table())
            .find_map(in_tables)
    };
    let workspace = || in_tables(manifest.get("workspace")?.as_table()?);
    in_tables(manifest).or_else(targets).or_else(workspace)
}

/// The `features` a dependency entry enables (none for a bare version string).
fn features(dependency: &toml::Value) -> Vec<String> {
    dependency
        .get("features")
        .and_then(|f| f.as_array())
        .map(|features| {
            features
                .iter()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crate_with(manifest: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
        std::fs::create_dir(dir.path().join("migrations")).unwrap();
        dir
    }

    #[test]
    fn a_crate_depending_on_sqlx_runs_its_migrations_with_sqlx() {
        for manifest in [
            "[package]\nname = \"a\"\n[dependencies]\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\n",
            "[package]\nname = \"a\"\n[dependencies.sqlx]\nworkspace = true\n",
            "[workspace]\nmembers = []\n[workspace.dependencies]\nsqlx = \"0.8\"\n",
            "[package]\nname = \"a\"\n[target.'cfg(unix)'.dev-dependencies]\nsqlx = \"0.8\"\n",
        ] {
            let dir = crate_with(manifest);
            assert_eq!(
                sqlx_crate(&dir.path().join("migrations")),
                Some(SqlxCrate {
                    other_database: false
                }),
                "{manifest}"
            );
        }
    }

    #[test]
    fn other_crates_and_folders_without_a_manifest_do_not() {
        let dir = crate_with("[package]\nname = \"a\"\n[dependencies]\ndiesel = \"2\"\n");
        assert_eq!(sqlx_crate(&dir.path().join("migrations")), None);
        let bare = tempfile::tempdir().unwrap();
        assert_eq!(sqlx_crate(bare.path()), None);
        let broken = crate_with("not [ toml");
        assert_eq!(sqlx_crate(&broken.path().join("migrations")), None);
    }

    /// The database is in sqlx's features, the crate's own or the workspace's it inherits.
    #[test]
    fn sqlx_features_that_name_only_another_database_make_its_migrations_that_databases() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(
            root.path().join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/*\"]\n[workspace.dependencies.sqlx]\nversion = \"0.8\"\nfeatures = [\"runtime-tokio\"]\n",
        )
        .unwrap();
        let member = |name: &str, entry: &str| {
            let dir = root.path().join("crates").join(name);
            std::fs::create_dir_all(dir.join("migrations")).unwrap();
            std::fs::write(
                dir.join("Cargo.toml"),
                format!("[package]\nname = \"{name}\"\n[dependencies]\nsqlx = {entry}\n"),
            )
            .unwrap();
            sqlx_crate(&dir.join("migrations")).unwrap().other_database
        };
        assert!(member(
            "client",
            "{ workspace = true, features = [\"sqlite\"] }"
        ));
        assert!(!member(
            "server",
            "{ workspace = true, features = [\"postgres\"] }"
        ));
        assert!(!member(
            "both",
            "{ version = \"0.8\", features = [\"sqlite\", \"postgres\"] }"
        ));
        // Nothing said: taken as PostgreSQL.
        assert!(!member("plain", "{ workspace = true }"));
    }
}
