//! A Liquibase master changelog near a folder of formatted SQL files: the order Liquibase runs
//! them in (read in liquibase/liquibase at cdbdec7f, `changelog/DatabaseChangeLog.java`):
//! `include file=` entries run where they stand, `includeAll path=` runs a folder's files in
//! the order of their full path strings; an included changelog's own includes run in its place.
//! A changelog's own changesets run where it stands: an XML changelog holding some is run like
//! an included file; YAML and JSON ones are not read, only counted, so that what is left out
//! is said.

use std::path::{Path, PathBuf};

/// How far up from the SQL folder a master changelog is looked for.
const SEARCH_DEPTH: usize = 3;
/// How deep included changelogs are followed.
const INCLUDE_DEPTH: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiquibaseChangelog {
    /// The master changelog file.
    pub master: PathBuf,
    /// The SQL files and XML changelogs with changesets it runs, in order (canonical paths).
    pub files: Vec<PathBuf>,
    /// The YAML and JSON changelogs it runs (itself included) that hold changesets of their
    /// own, which are not read: each with how many.
    pub unread: Vec<(PathBuf, usize)>,
    /// SQL files its XML changesets run through `<sqlFile>`: part of those changesets, no
    /// migrations of their own.
    pub change_files: Vec<PathBuf>,
    /// The contexts the service runs Liquibase with (`spring.liquibase.contexts`), when its
    /// configuration sets them: changesets of other contexts never run.
    pub contexts: Option<Vec<String>>,
}

impl LiquibaseChangelog {
    /// The run position of `path`, when the changelog names it.
    pub fn position(&self, path: &Path) -> Option<usize> {
        let path = path.canonicalize().ok()?;
        self.files.iter().position(|f| *f == path)
    }
}

/// The master changelog that includes files of `folder`, if one is found above it.
pub fn find(folder: &Path) -> Option<LiquibaseChangelog> {
    let folder = folder.canonicalize().ok()?;
    for dir in folder.ancestors().take(SEARCH_DEPTH) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut masters: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| has_changelog_extension(p))
            .collect();
        masters.sort();
        for master in masters {
            if let Some(changelog) = read(&master)
                && changelog.files.iter().any(|f| f.starts_with(&folder))
            {
                return Some(changelog);
            }
        }
    }
    None
}

/// The changelog `path` is, with the SQL files it runs; `None` when it is none or runs none.
pub fn read(path: &Path) -> Option<LiquibaseChangelog> {
    let text = changelog_text(path)?;
    let mut changelog = LiquibaseChangelog {
        master: path.to_path_buf(),
        files: Vec::new(),
        unread: Vec::new(),
        change_files: Vec::new(),
        contexts: super::liquibase_config::spring_contexts(path.parent().unwrap_or(Path::new("."))),
    };
    collect(path, &text, INCLUDE_DEPTH, &mut changelog);
    (!changelog.files.is_empty() || !changelog.unread.is_empty()).then_some(changelog)
}

/// How many changesets a changelog writes itself: `<changeSet` elements (XML), `changeSet:`
/// list entries (YAML), `"changeSet"` keys (JSON).
fn own_changesets(text: &str) -> usize {
    let xml = text.matches("<changeSet").count();
    let json = text.matches("\"changeSet\"").count();
    let yaml = text
        .lines()
        .filter(|line| {
            line.trim_start()
                .trim_start_matches('-')
                .trim_start()
                .starts_with("changeSet:")
        })
        .count();
    xml + json + yaml
}

pub fn is_xml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
}

fn has_changelog_extension(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    [".xml", ".yaml", ".yml", ".json"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// The text of an XML, YAML or JSON changelog (its root is `databaseChangeLog`, whatever the
/// file's name); `None` for any other file.
fn changelog_text(path: &Path) -> Option<String> {
    if !has_changelog_extension(path)
        || !std::fs::metadata(path).is_ok_and(|m| m.len() < 4 * 1024 * 1024)
    {
        return None;
    }
    std::fs::read_to_string(path)
        .ok()
        .filter(|text| text.contains("databaseChangeLog"))
}

/// The SQL files the changelog at `path` (its `text`) runs, appended in order, and the
/// changelogs among them holding changesets of their own.
fn collect(path: &Path, text: &str, depth: usize, changelog: &mut LiquibaseChangelog) {
    let own = own_changesets(text);
    if own > 0
        && let Ok(canonical) = path.canonicalize()
        && !changelog.files.contains(&canonical)
        && !changelog
            .unread
            .iter()
            .any(|(known, _)| *known == canonical)
    {
        if is_xml(path) {
            changelog.files.push(canonical);
            let base = path.parent().unwrap_or(Path::new("."));
            let mut rest = text;
            while let Some(at) = rest.find("<sqlFile") {
                rest = &rest[at + "<sqlFile".len()..];
                let window = &rest[..rest.find('>').unwrap_or(rest.len())];
                if let Some(target) = key_value(window, "path")
                    && let Some(resolved) = resolve(base, &target)
                {
                    changelog.change_files.push(resolved);
                }
            }
        } else {
            changelog.unread.push((canonical, own));
        }
    }
    let base = path.parent().unwrap_or(Path::new("."));
    for (all, target) in includes(text) {
        let Some(resolved) = resolve(base, &target) else {
            continue;
        };
        if all {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(&resolved)
                .into_iter()
                .filter_map(Result::ok)
                .map(|e| e.into_path())
                .filter(|p| p.extension().is_some_and(|e| e == "sql") || has_changelog_extension(p))
                .filter_map(|p| p.canonicalize().ok())
                .collect();
            found.sort_by(|a, b| a.to_string_lossy().cmp(&b.to_string_lossy()));
            // A changelog among them runs its own changesets and includes in its place.
            for file in found {
                if file.extension().is_some_and(|e| e == "sql") {
                    changelog.files.push(file);
                } else if depth > 0
                    && let Some(nested) = changelog_text(&file)
                {
                    collect(&file, &nested, depth - 1, changelog);
                }
            }
        } else if resolved.extension().is_some_and(|e| e == "sql") {
            changelog.files.push(resolved);
        } else if depth > 0
            && let Some(nested) = changelog_text(&resolved)
        {
            collect(&resolved, &nested, depth - 1, changelog);
        }
    }
}

/// `(includeAll, path)` of each include in the changelog's text, in order: XML attributes
/// (`file="..."`, `path="..."`), YAML and JSON keys (`file: ...`, `"path": "..."`).
fn includes(text: &str) -> Vec<(bool, String)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("include") {
        let after = &rest[at + "include".len()..];
        let all = after.starts_with("All");
        let mut end = after.len().min(400);
        while !after.is_char_boundary(end) {
            end -= 1;
        }
        let window = &after[..end];
        let key = if all { "path" } else { "file" };
        if let Some(value) = key_value(window, key) {
            found.push((all, value));
        }
        rest = after;
    }
    found
}

/// The value of `key` in a window of XML, YAML or JSON text.
fn key_value(window: &str, key: &str) -> Option<String> {
    let at = window.find(key)?;
    let rest = window[at + key.len()..]
        .trim_start_matches('"')
        .trim_start();
    let rest = rest.strip_prefix(['=', ':'])?.trim_start();
    let value = match rest.chars().next()? {
        quote @ ('"' | '\'') => rest[1..].split(quote).next()?,
        // A YAML value runs to the end of its line, spaces and all.
        _ => rest.lines().next()?.split(" #").next()?.trim(),
    };
    (!value.is_empty()).then(|| value.to_string())
}

/// An include's path: relative to the changelog, or to a folder above it (a classpath root
/// such as `src/main/resources`).
pub fn resolve(base: &Path, target: &str) -> Option<PathBuf> {
    let target = target
        .trim_start_matches("classpath:")
        .trim_start_matches('/');
    base.ancestors()
        .take(6)
        .map(|dir| dir.join(target))
        .find(|candidate| candidate.exists())
        .and_then(|p| p.canonicalize().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_in_xml_and_yaml_in_order() {
        let xml = r#"<databaseChangeLog><include file="changes/002-b.sql" relativeToChangelogFile="true"/><includeAll path="more/"/><include file='changes/001-a.sql'/></databaseChangeLog>"#;
        assert_eq!(
            includes(xml),
            [
                (false, "changes/002-b.sql".to_string()),
                (true, "more/".to_string()),
                (false, "changes/001-a.sql".to_string())
            ]
        );
        let yaml = "databaseChangeLog:\n  - include:\n      file: db/changes/001 add avatar.sql\n  - includeAll:\n      path: db/more\n";
        assert_eq!(
            includes(yaml),
            [
                (false, "db/changes/001 add avatar.sql".to_string()),
                (true, "db/more".to_string())
            ]
        );
    }

    #[test]
    fn the_master_changelog_orders_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("db/changes")).unwrap();
        for name in ["001-a.sql", "002-b.sql"] {
            std::fs::write(
                root.join("db/changes").join(name),
                "-- liquibase formatted sql\n",
            )
            .unwrap();
        }
        std::fs::write(
            root.join("db/changelog-master.xml"),
            r#"<databaseChangeLog><include file="changes/002-b.sql" relativeToChangelogFile="true"/><include file="changes/001-a.sql" relativeToChangelogFile="true"/></databaseChangeLog>"#,
        )
        .unwrap();
        let changelog = find(&root.join("db/changes")).unwrap();
        assert_eq!(
            changelog.position(&root.join("db/changes/002-b.sql")),
            Some(0)
        );
        assert_eq!(
            changelog.position(&root.join("db/changes/001-a.sql")),
            Some(1)
        );
    }
}
