//! What the Alembic driver's process is given: the project's interpreter, and the scratch
//! database's coordinates for env.py files that do not take a URL.

use std::path::{Path, PathBuf};

use super::postgres::ConnInfo;

/// libpq's own variables for the scratch database, for env.py files that connect through
/// libpq's defaults or build their URL from them.
pub(super) fn scratch_variables(database: &ConnInfo) -> Vec<(&'static str, String)> {
    let mut variables = vec![
        ("PGHOST", database.host.clone()),
        ("PGPORT", database.port.to_string()),
        ("PGUSER", database.user.clone()),
        ("PGDATABASE", database.dbname.clone()),
    ];
    if let Some(password) = &database.password {
        variables.push(("PGPASSWORD", password.expose().to_string()));
    }
    variables
}

const DATABASE_PARTS: [&str; 6] = [
    "{host}",
    "{port}",
    "{user}",
    "{password}",
    "{database}",
    "{url}",
];

/// Whether a `[roundtrip] env` value names a part of the scratch database, which is known only
/// once the database exists.
pub(super) fn needs_database(value: &str) -> bool {
    DATABASE_PARTS.iter().any(|part| value.contains(part))
}

/// A `[roundtrip] env` value with the scratch database's parts filled in: `{host}`, `{port}`,
/// `{user}`, `{password}`, `{database}` and `{url}`, for env.py files that assemble their URL
/// from variables of their own (`POSTGRES_SERVER`, `POSTGRES_DB`, ...).
pub(super) fn fill_in(value: &str, database: &ConnInfo, url: &str) -> String {
    value
        .replace("{host}", &database.host)
        .replace("{port}", &database.port.to_string())
        .replace("{user}", &database.user)
        .replace(
            "{password}",
            database.password.as_ref().map(|p| p.expose()).unwrap_or(""),
        )
        .replace("{database}", &database.dbname)
        .replace("{url}", url)
}

/// The folder the project runs `alembic` in, where the driver runs too: Alembic resolves
/// `prepend_sys_path = .` and env.py resolves its relative paths against it. An ini named with
/// `--alembic-config` is used as `alembic -c FILE` is, from the folder migration-gate runs in
/// (`invoked_from`). An ini found beside the project is alembic.ini's own folder, where
/// `alembic` finds it by default. When the ini sits inside the script directory (Flask-Migrate's
/// `migrations/alembic.ini`) or there is none, the project runs its tool from a folder above:
/// `invoked_from` when it holds the script directory, else the folder right above it.
pub(super) fn working_dir(
    ini: Option<&Path>,
    ini_named: bool,
    script_location: &Path,
    invoked_from: &Path,
) -> PathBuf {
    match ini.and_then(Path::parent) {
        Some(_) if ini_named => invoked_from.to_path_buf(),
        Some(folder) if folder != script_location => folder.to_path_buf(),
        _ if script_location.starts_with(invoked_from) && script_location != invoked_from => {
            invoked_from.to_path_buf()
        }
        _ => script_location
            .parent()
            .unwrap_or(script_location)
            .to_path_buf(),
    }
}

/// The command that installs `packages` into `python`'s environment: a virtualenv made by uv
/// has no pip (its pyvenv.cfg names uv), and uv installs into it.
pub(super) fn install_command(python: &str, packages: &str) -> String {
    let made_by_uv = Path::new(python)
        .parent()
        .and_then(Path::parent)
        .and_then(|venv| std::fs::read_to_string(venv.join("pyvenv.cfg")).ok())
        .is_some_and(|cfg| {
            cfg.lines()
                .any(|line| line.split('=').next().is_some_and(|key| key.trim() == "uv"))
        });
    if made_by_uv {
        format!("uv pip install --python {python} {packages}")
    } else {
        format!("{python} -m pip install {packages}")
    }
}

/// The project's Python: `--python` / config, then a virtualenv next to the project, then
/// `python3` on PATH.
pub fn find_python(given: Option<&Path>, project: &Path) -> PathBuf {
    if let Some(python) = given {
        // A path (not a bare command name) from the folder migration-gate runs in: the
        // driver runs in the project's Alembic folder.
        if python.components().count() > 1 {
            return std::path::absolute(python).unwrap_or_else(|_| python.to_path_buf());
        }
        return python.to_path_buf();
    }
    // The nearest one above the project, up to the repository's root; then the folder
    // migration-gate runs in.
    let venv_in = |folder: &Path| {
        [".venv", "venv"]
            .iter()
            .map(|venv| folder.join(venv).join("bin/python"))
            .find(|candidate| candidate.is_file())
    };
    let project = project
        .canonicalize()
        .unwrap_or_else(|_| project.to_path_buf());
    for folder in project.ancestors().take(12) {
        if let Some(python) = venv_in(folder) {
            return python;
        }
        if folder.join(".git").exists() {
            break;
        }
    }
    std::env::current_dir()
        .ok()
        .and_then(|here| venv_in(&here))
        .unwrap_or_else(|| PathBuf::from("python3"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_driver_runs_where_the_project_runs_alembic() {
        let project = Path::new("/repo/backend");
        let scripts = project.join("migrations");
        // alembic.ini beside the project: its folder, wherever migration-gate runs.
        let ini = project.join("alembic.ini");
        assert_eq!(
            working_dir(Some(&ini), false, &scripts, Path::new("/repo")),
            project
        );
        // Named with --alembic-config, as `alembic -c`: from where migration-gate runs.
        assert_eq!(
            working_dir(
                Some(Path::new("/tmp/x.ini")),
                true,
                &scripts,
                Path::new("/repo/backend")
            ),
            project
        );
        // Inside the script folder (Flask-Migrate), or none: the folder migration-gate runs in
        // when it holds the scripts, else the one above them.
        let inside = scripts.join("alembic.ini");
        assert_eq!(
            working_dir(Some(&inside), false, &scripts, Path::new("/repo")),
            Path::new("/repo")
        );
        assert_eq!(
            working_dir(None, false, &scripts, Path::new("/elsewhere")),
            project
        );
    }

    #[test]
    fn the_install_hint_fits_a_virtualenv_made_by_uv() {
        let venv = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(venv.path().join("bin")).unwrap();
        let python = venv.path().join("bin/python").display().to_string();
        std::fs::write(
            venv.path().join("pyvenv.cfg"),
            "home = /usr/bin\nuv = 0.9.2\n",
        )
        .unwrap();
        assert_eq!(
            install_command(&python, "alembic"),
            format!("uv pip install --python {python} alembic")
        );
        std::fs::write(venv.path().join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        assert_eq!(
            install_command(&python, "alembic"),
            format!("{python} -m pip install alembic")
        );
    }

    #[test]
    fn env_values_take_the_scratch_databases_parts() {
        let database = ConnInfo {
            host: "127.0.0.1".into(),
            port: 54321,
            user: "gate".into(),
            password: Some(super::super::conninfo::Secret::new("s3cret")),
            dbname: "mg_scratch_1".into(),
            connect_timeout: Duration::from_secs(10),
        };
        assert_eq!(
            fill_in("{user}:{password}@{host}:{port}/{database}", &database, "u"),
            "gate:s3cret@127.0.0.1:54321/mg_scratch_1"
        );
        assert_eq!(fill_in("plain", &database, "u"), "plain");
        let variables = scratch_variables(&database);
        assert!(variables.contains(&("PGDATABASE", "mg_scratch_1".to_string())));
        assert!(variables.contains(&("PGPASSWORD", "s3cret".to_string())));
    }
}
