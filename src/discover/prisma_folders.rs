//! A Prisma migrations folder's migration folders that hold no `migration.sql`. `prisma migrate`
//! applies each folder's `migration.sql`; a project's own tooling may keep other migrations
//! beside them (`migration.ts` data migrations run by its own CLI), which are no SQL to read.

use std::path::Path;

/// The migration folders (named from a version, as Prisma names them) below `migrations` with
/// no `migration.sql`, and the name of a file one of them holds instead.
pub fn without_script(migrations: &Path) -> (usize, Option<String>) {
    let Ok(entries) = std::fs::read_dir(migrations) else {
        return (0, None);
    };
    let mut count = 0;
    let mut example = None;
    for entry in entries.filter_map(Result::ok) {
        let folder = entry.path();
        let versioned = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(|c: char| c.is_ascii_digit()));
        if !versioned || !folder.is_dir() || folder.join("migration.sql").is_file() {
            continue;
        }
        let held = std::fs::read_dir(&folder)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter(|file| file.path().is_file())
            .find_map(|file| file.file_name().to_str().map(str::to_string));
        if let Some(held) = held {
            count += 1;
            example.get_or_insert(held);
        }
    }
    (count, example)
}
