//! Flyway's settings, where a project keeps them beside its migrations: `flyway.conf`,
//! Spring Boot's `application.properties` / `application.yml` (`spring.flyway.schemas`,
//! `spring.flyway.default-schema`) and Gradle's `flyway { schemas = [...] }`. Flyway sets the
//! connection's `search_path` to the default schema (the first of `schemas` unless
//! `defaultSchema` names one), so unqualified names in the scripts are in it.

use std::path::Path;

/// The prefix of versioned migrations the nearest Flyway configuration sets
/// (`sqlMigrationPrefix`, `V` when unset), when it sets one: `''` makes `2019061411__x.sql` a
/// versioned migration.
pub fn migration_prefix(folder: &Path) -> Option<String> {
    nearest(folder, |name, text| {
        if name.starts_with("build.gradle") {
            gradle_value(text, "sqlMigrationPrefix")
        } else if name.ends_with(".properties") || name.ends_with(".conf") {
            property(
                text,
                &[
                    "flyway.sqlMigrationPrefix",
                    "spring.flyway.sql-migration-prefix",
                    "spring.flyway.sqlMigrationPrefix",
                ],
            )
            .map(str::to_string)
        } else {
            None
        }
    })
}

/// The schemas Flyway puts first on the search path for the scripts in `folder`, as the nearest
/// configuration found in it or its ancestors (up to the repository's top) says; empty when none.
pub fn default_schemas(folder: &Path) -> Vec<String> {
    nearest(folder, |name, text| {
        let found = if name.starts_with("build.gradle") {
            gradle_schemas(text)
        } else if name.ends_with(".properties") || name.ends_with(".conf") {
            property_schemas(text)
        } else {
            yaml_schemas(text)
        };
        (!found.is_empty()).then_some(found)
    })
    .unwrap_or_default()
}

/// What `read` finds in the nearest of Flyway's configuration files, from `folder` up to the
/// repository's top.
fn nearest<T>(folder: &Path, read: impl Fn(&str, &str) -> Option<T>) -> Option<T> {
    const FILES: [&str; 6] = [
        "flyway.conf",
        "application.properties",
        "application.yml",
        "application.yaml",
        "build.gradle",
        "build.gradle.kts",
    ];
    nearest_of(folder, &FILES, |path, text| {
        read(path.file_name()?.to_str()?, text)
    })
}

/// What `read` finds in the nearest of `files` (a JVM service's configuration files), from
/// `folder` up to the repository's top; `read` is given each file's path and text.
pub(super) fn nearest_of<T>(
    folder: &Path,
    files: &[&str],
    read: impl Fn(&Path, &str) -> Option<T>,
) -> Option<T> {
    let folder = folder
        .canonicalize()
        .unwrap_or_else(|_| folder.to_path_buf());
    for dir in folder.ancestors().take(8) {
        for name in files {
            let path = dir.join(name);
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            if let Some(found) = read(&path, &text) {
                return Some(found);
            }
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    None
}

/// The value of the first of `keys` a `key=value` file sets.
fn property<'t>(text: &'t str, keys: &[&str]) -> Option<&'t str> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        keys.contains(&key.trim()).then(|| value.trim())
    })
}

/// `key = 'value'` in a Gradle `flyway { }` block, its quotes off.
fn gradle_value(text: &str, wanted: &str) -> Option<String> {
    text.split("flyway").skip(1).find_map(|block| {
        let body = block.trim_start().strip_prefix('{')?.split('}').next()?;
        body.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            (key.trim() == wanted).then(|| value.trim().trim_matches(['\'', '"']).to_string())
        })
    })
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .filter_map(|s| {
            let item = s.trim().trim_matches(['\'', '"', '[', ']']).trim();
            resolved(item).map(str::to_string)
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// A value as Spring resolves a property placeholder when its variable is unset: `${NAME:app}`
/// is `app`; `${NAME}`, with no default, is unknown (`None`).
fn resolved(item: &str) -> Option<&str> {
    match item
        .strip_prefix("${")
        .and_then(|rest| rest.strip_suffix('}'))
    {
        Some(placeholder) => placeholder
            .split_once(':')
            .map(|(_, default)| default.trim()),
        None => Some(item),
    }
}

/// `flyway.defaultSchema` first, else `flyway.schemas` (Spring's spellings too).
fn property_schemas(text: &str) -> Vec<String> {
    property(
        text,
        &[
            "flyway.defaultSchema",
            "spring.flyway.default-schema",
            "spring.flyway.defaultSchema",
        ],
    )
    .or_else(|| property(text, &["flyway.schemas", "spring.flyway.schemas"]))
    .map(list)
    .unwrap_or_default()
}

/// `default-schema:` or `schemas:` under a `flyway:` key.
fn yaml_schemas(text: &str) -> Vec<String> {
    let mut in_flyway = None;
    let mut schemas = Vec::new();
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if trimmed.starts_with("flyway:") {
            in_flyway = Some(indent);
            continue;
        }
        match in_flyway {
            Some(depth) if indent > depth && !trimmed.is_empty() => {
                if let Some((key, value)) = trimmed.split_once(':') {
                    match key.trim() {
                        "default-schema" | "defaultSchema" => return list(value),
                        "schemas" => schemas = list(value),
                        _ => {}
                    }
                }
            }
            Some(_) if !trimmed.is_empty() => in_flyway = None,
            _ => {}
        }
    }
    schemas
}

/// `defaultSchema = 'a'`, else `schemas = ['a', 'b']`, in a `flyway { }` block.
fn gradle_schemas(text: &str) -> Vec<String> {
    gradle_value(text, "defaultSchema")
        .or_else(|| gradle_value(text, "schemas"))
        .map(|value| list(&value))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placeholder_is_its_default() {
        assert_eq!(
            yaml_schemas("spring:\n  flyway:\n    defaultSchema: ${POSTGRES_NAME:cft_task_db}\n"),
            ["cft_task_db"]
        );
        assert!(property_schemas("spring.flyway.schemas=${SCHEMA}\n").is_empty());
    }

    #[test]
    fn each_place_flyway_settings_live_names_the_default_schema() {
        assert_eq!(
            property_schemas("spring.flyway.schemas=referencedata\nspring.flyway.table=v\n"),
            ["referencedata"]
        );
        assert_eq!(
            property_schemas("flyway.schemas=a,b\nflyway.defaultSchema=c\n"),
            ["c"]
        );
        assert_eq!(
            yaml_schemas("spring:\n  flyway:\n    schemas: app, audit\n  jpa:\n    x: y\n"),
            ["app", "audit"]
        );
        assert_eq!(
            gradle_schemas(
                "flyway {\n    url = \"x\"\n}\n\nflyway {\n    schemas = ['referencedata']\n}\n"
            ),
            ["referencedata"]
        );
        assert!(property_schemas("server.port=8080\n").is_empty());
    }
}
