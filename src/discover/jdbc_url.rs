//! The database a JVM service's own configuration connects to: the `jdbc:<database>:` URLs of
//! the nearest Spring Boot `application.properties` / `application.yml`, or `flyway.conf`,
//! above a migrations folder (`spring.datasource.url`, `spring.liquibase.url`,
//! `spring.flyway.url`, `flyway.url`). A service that talks only to ClickHouse or MySQL keeps
//! that database's migrations, whatever tool runs them.

use std::path::Path;

const FILES: [&str; 4] = [
    "application.properties",
    "application.yml",
    "application.yaml",
    "flyway.conf",
];

/// The one database other than PostgreSQL that every JDBC URL of the nearest configuration
/// names (`clickhouse`, `mysql`), with the file saying so; `None` when a URL names PostgreSQL,
/// when none is written out (`${DATABASE_URL}`), or when they disagree. H2 is no answer: a
/// service often runs it in PostgreSQL's compatibility mode.
pub fn other_database(folder: &Path) -> Option<(String, std::path::PathBuf)> {
    super::flyway_config::nearest_of(folder, &FILES, |path, text| {
        let mut databases: Vec<String> = urls(text).collect();
        databases.dedup();
        // A file naming no database says nothing; the first that names one decides.
        match databases.as_slice() {
            [] => None,
            [one] if !matches!(one.as_str(), "postgresql" | "h2" | "tc") => {
                Some(Some((one.clone(), path.to_path_buf())))
            }
            _ => Some(None),
        }
    })
    .flatten()
}

/// The database of each `jdbc:<database>:` URL in a configuration file's text, in order.
fn urls(text: &str) -> impl Iterator<Item = String> + '_ {
    text.match_indices("jdbc:").filter_map(|(at, _)| {
        let rest = &text[at + "jdbc:".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        (!name.is_empty() && rest[name.len()..].starts_with(':')).then_some(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_every_url_names() {
        let write = |text: &str| {
            let dir = tempfile::tempdir().unwrap();
            let folder = dir.path().join("src/main/resources/db/changelog");
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(dir.path().join("src/main/resources/application.yml"), text).unwrap();
            let found = other_database(&folder).map(|(db, _)| db);
            (dir, found)
        };
        let (_d, found) =
            write("spring:\n  datasource:\n    url: jdbc:clickhouse://ch:8123/analytics\n");
        assert_eq!(found.as_deref(), Some("clickhouse"));
        let (_d, found) = write("spring:\n  datasource:\n    url: jdbc:postgresql://db:5432/app\n");
        assert_eq!(found, None);
        let (_d, found) = write("url: jdbc:mysql://a/b\nreplica: jdbc:postgresql://c/d\n");
        assert_eq!(found, None);
        let (_d, found) = write("spring:\n  datasource:\n    url: ${DATABASE_URL}\n");
        assert_eq!(found, None);
        let (_d, found) = write("url: jdbc:h2:mem:test;MODE=PostgreSQL\n");
        assert_eq!(found, None);
    }
}
