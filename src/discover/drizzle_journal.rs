//! drizzle-kit's `meta/_journal.json`, beside a Drizzle migrations folder's `.sql` files: which
//! files are migrations (drizzle-orm's `readMigrationFiles` reads exactly the journal's entries,
//! `<tag>.sql`), their order, the `when` each is recorded by, and the database (`dialect`).

use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrizzleJournal {
    /// `dialect` names PostgreSQL (`postgresql`, `pg`); otherwise SQLite, MySQL, SingleStore...
    pub postgres: bool,
    /// `(tag, when)` of each entry, in the journal's order.
    pub entries: Vec<(String, u64)>,
}

impl DrizzleJournal {
    /// The `when` a migration file is recorded by, when the journal lists it.
    pub fn when(&self, file_name: &str) -> Option<u64> {
        let tag = file_name.strip_suffix(".sql")?;
        self.entries
            .iter()
            .find(|(t, _)| t == tag)
            .map(|(_, when)| *when)
    }
}

/// The journal of the Drizzle migrations folder `folder`, when it has one that reads.
pub fn read(folder: &Path) -> Option<DrizzleJournal> {
    let text = std::fs::read_to_string(folder.join("meta").join("_journal.json")).ok()?;
    let journal: serde_json::Value = serde_json::from_str(&text).ok()?;
    let dialect = journal.get("dialect")?.as_str()?.to_ascii_lowercase();
    let entries = journal
        .get("entries")?
        .as_array()?
        .iter()
        .filter_map(|entry| {
            Some((
                entry.get("tag")?.as_str()?.to_string(),
                entry.get("when")?.as_u64()?,
            ))
        })
        .collect();
    Some(DrizzleJournal {
        postgres: matches!(dialect.as_str(), "postgresql" | "pg" | "postgres"),
        entries,
    })
}

/// A migration of drizzle-kit's folder-per-migration layout (`<timestamp>_<name>/migration.sql`
/// with the `snapshot.json` it was generated from, and no journal): ordered by the folder's
/// timestamp, on the database the snapshot's `dialect` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderMigration {
    pub when: u64,
    pub postgres: bool,
}

/// `migration_sql` as a migration of drizzle-kit's folder layout, when its snapshot says so.
pub fn folder_migration(migration_sql: &Path) -> Option<FolderMigration> {
    let folder = migration_sql.parent()?;
    let text = std::fs::read_to_string(folder.join("snapshot.json")).ok()?;
    let snapshot: serde_json::Value = serde_json::from_str(&text).ok()?;
    let dialect = snapshot.get("dialect")?.as_str()?.to_ascii_lowercase();
    let name = folder.file_name()?.to_str()?;
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    Some(FolderMigration {
        when: digits.parse().ok()?,
        postgres: matches!(dialect.as_str(), "postgresql" | "pg" | "postgres"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_lists_the_migrations_and_names_the_database() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("meta")).unwrap();
        std::fs::write(
            dir.path().join("meta/_journal.json"),
            r#"{"version":"7","dialect":"postgresql","entries":[{"idx":0,"version":"7","when":1725358702427,"tag":"0000_little_blizzard","breakpoints":true}]}"#,
        )
        .unwrap();
        let journal = read(dir.path()).unwrap();
        assert!(journal.postgres);
        assert_eq!(
            journal.when("0000_little_blizzard.sql"),
            Some(1725358702427)
        );
        assert_eq!(journal.when("0001_not_listed.sql"), None);
        std::fs::write(
            dir.path().join("meta/_journal.json"),
            r#"{"dialect":"sqlite","entries":[]}"#,
        )
        .unwrap();
        assert!(!read(dir.path()).unwrap().postgres);
        std::fs::write(dir.path().join("meta/_journal.json"), "not json").unwrap();
        assert_eq!(read(dir.path()), None);
    }
}
