//! What an alembic.ini says about where revisions live: the `[alembic]` section's
//! `script_location`, `version_locations` and `recursive_version_locations`, read as Python's
//! configparser reads them (indented continuation lines, `#`/`;` comments, `[DEFAULT]`, and
//! `%(name)s` interpolation: `%(here)s` and any option of the section or of `[DEFAULT]`).

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlembicIni {
    /// The script directory (env.py, versions/), when it is a folder on disk.
    pub script_location: Option<PathBuf>,
    /// Folders the ini names for revision files, instead of `<script_location>/versions`.
    pub version_locations: Option<Vec<PathBuf>>,
    /// `recursive_version_locations = true`: sub-folders of each location hold revisions too.
    pub recursive: bool,
    /// The multi-database template's `databases = engine1, engine2`: one section (with its own
    /// `sqlalchemy.url`) and one version table per name.
    pub databases: Vec<String>,
}

pub fn read(ini: &Path) -> Option<AlembicIni> {
    let text = std::fs::read_to_string(ini).ok()?;
    let here = ini.parent().unwrap_or(Path::new("."));
    let mut options = section_options(&text, "DEFAULT");
    // Alembic gives configparser `here` as a default.
    options.push(("here".into(), here.display().to_string()));
    // The section's own options come first: they override `[DEFAULT]`'s.
    options.splice(0..0, section_options(&text, "alembic"));
    let value = |key: &str| interpolated(&options, key, 0);
    // `%(here)s` is the ini's own folder: a value built on it is already placed, even when
    // that folder was given relative (`check src/app/migrations`), and must not be joined to
    // it a second time.
    let resolve = |value: &str| {
        let path = Path::new(value);
        let placed = !here.as_os_str().is_empty() && path.starts_with(here);
        if path.is_absolute() || placed {
            path.to_path_buf()
        } else {
            here.join(path)
        }
    };
    // `package:folder` names a package resource: nothing to find on disk from here.
    let script_location = value("script_location")
        .filter(|v| !v.contains(':') || Path::new(v).exists())
        .map(|v| resolve(&v));
    let separator = value("path_separator").or_else(|| value("version_path_separator"));
    let version_locations = value("version_locations").map(|v| {
        split_locations(&v, separator.as_deref())
            .into_iter()
            .map(resolve)
            .collect()
    });
    let recursive = value("recursive_version_locations")
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "on" | "1"));
    let databases = value("databases")
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Some(AlembicIni {
        script_location,
        version_locations,
        recursive,
        databases,
    })
}

/// configparser's limit on nested `%(name)s` references.
const MAX_INTERPOLATION_DEPTH: usize = 10;

/// The option's value with `%(name)s` replaced by that option's own (interpolated) value and
/// `%%` by `%`, as configparser's BasicInterpolation does; `None` when the option, or one it
/// names, is missing or the references nest too deep (configparser raises then).
fn interpolated(options: &[(String, String)], key: &str, depth: usize) -> Option<String> {
    if depth > MAX_INTERPOLATION_DEPTH {
        return None;
    }
    let raw = &options.iter().find(|(k, _)| k == key)?.1;
    let mut out = String::new();
    let mut rest = raw.as_str();
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("%%") {
            out.push('%');
            rest = after;
        } else if let Some(inner) = rest.strip_prefix("%(")
            && let Some(end) = inner.find(")s")
        {
            let name = inner[..end].to_ascii_lowercase();
            out.push_str(&interpolated(options, &name, depth + 1)?);
            rest = &inner[end + 2..];
        } else {
            return None;
        }
    }
    out.push_str(rest);
    Some(out)
}

/// `(key, value)` pairs of one section, continuation lines joined with newlines.
fn section_options(text: &str, wanted: &str) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut in_section = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if trimmed.starts_with('[') {
            in_section = trimmed == format!("[{wanted}]");
            continue;
        }
        if !in_section || trimmed.is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = pairs.last_mut() {
                value.push('\n');
                value.push_str(trimmed);
            }
            continue;
        }
        let split_at = trimmed.find(['=', ':']);
        if let Some(at) = split_at {
            pairs.push((
                trimmed[..at].trim().to_ascii_lowercase(),
                trimmed[at + 1..].trim().to_string(),
            ));
        }
    }
    pairs
}

/// Alembic's separators: `os` (the platform's path separator), `space`, `newline`, `:`, `;`,
/// `,`; without one, the legacy split on commas and spaces.
fn split_locations<'v>(value: &'v str, separator: Option<&str>) -> Vec<&'v str> {
    let parts: Vec<&str> = match separator.map(str::trim) {
        Some("os") => value.split(if cfg!(windows) { ';' } else { ':' }).collect(),
        Some("space") => value.split([' ', '\n']).collect(),
        Some("newline") => value.split('\n').collect(),
        Some(":") => value.split(':').collect(),
        Some(";") => value.split(';').collect(),
        Some(",") => value.split(',').collect(),
        _ => value.split([',', ' ', '\n']).collect(),
    };
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ini(text: &str) -> AlembicIni {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("migrations")).unwrap();
        let path = dir.path().join("alembic.ini");
        std::fs::write(&path, text).unwrap();
        let read = read(&path).unwrap();
        let strip = |p: PathBuf| p.strip_prefix(dir.path()).unwrap().to_path_buf();
        AlembicIni {
            script_location: read.script_location.map(strip),
            version_locations: read
                .version_locations
                .map(|v| v.into_iter().map(strip).collect()),
            recursive: read.recursive,
            databases: read.databases,
        }
    }

    #[test]
    fn locations_are_read_as_alembic_reads_them() {
        let read = ini(
            "[alembic]\n# version_locations = nowhere\nscript_location = %(here)s/migrations\nversion_locations = %(here)s/migrations/versions/core\n    %(here)s/plugins/versions\nversion_path_separator = newline\nrecursive_version_locations = true\n\n[loggers]\nkeys = root\n",
        );
        assert_eq!(read.script_location, Some(PathBuf::from("migrations")));
        assert_eq!(
            read.version_locations,
            Some(vec![
                PathBuf::from("migrations/versions/core"),
                PathBuf::from("plugins/versions")
            ])
        );
        assert!(read.recursive);
    }

    #[test]
    fn without_a_separator_commas_and_spaces_split() {
        let read = ini("[alembic]\nscript_location = migrations\nversion_locations = a, b c\n");
        assert_eq!(
            read.version_locations,
            Some(vec![
                PathBuf::from("a"),
                PathBuf::from("b"),
                PathBuf::from("c")
            ])
        );
        assert!(!read.recursive);
        assert!(read.databases.is_empty());
    }

    #[test]
    fn the_multidb_templates_databases_are_listed() {
        let read = ini(
            "[alembic]\nscript_location = migrations\ndatabases = engine1, engine2\n\n[engine1]\nsqlalchemy.url = driver://a\n",
        );
        assert_eq!(read.databases, vec!["engine1", "engine2"]);
    }

    /// configparser interpolates any option of the section or of `[DEFAULT]`, not only `here`.
    #[test]
    fn options_named_in_other_options_are_interpolated_as_configparser_does() {
        let read = ini(
            "[DEFAULT]\nroot = %(here)s/app\n\n[alembic]\nscript_location = migrations\n\
             version_locations = %(script_location)s/versions %(root)s/plugins 100%%\n",
        );
        let root = read.script_location.clone().unwrap();
        assert_eq!(root, PathBuf::from("migrations"));
        let locations = read.version_locations.unwrap();
        assert_eq!(locations[0], PathBuf::from("migrations/versions"));
        assert!(locations[1].ends_with("app/plugins"), "{locations:?}");
        assert_eq!(locations[2], PathBuf::from("100%"));
        // A name no section defines: configparser raises, so the option is not used.
        let read =
            ini("[alembic]\nscript_location = migrations\nversion_locations = %(nowhere)s/v\n");
        assert_eq!(read.version_locations, None);
    }

    #[test]
    fn a_package_resource_is_not_a_folder() {
        let read = ini("[alembic]\nscript_location = myapp:migrations\n");
        assert_eq!(read.script_location, None);
        assert_eq!(read.version_locations, None);
    }

    /// An ini found through a relative path (`check server/migrations`): `%(here)s` is that
    /// relative folder, and a location built on it is not joined to it a second time.
    #[test]
    fn here_given_relative_is_not_applied_twice() {
        // Relative to the working folder cargo runs tests in (the package's), without changing it.
        std::fs::create_dir_all("target").unwrap();
        let dir = tempfile::tempdir_in("target").unwrap();
        let base = dir
            .path()
            .strip_prefix(std::env::current_dir().unwrap())
            .unwrap_or(dir.path());
        let folder = base.join("server/migrations");
        std::fs::create_dir_all(folder.join("community")).unwrap();
        std::fs::write(
            folder.join("alembic.ini"),
            "[alembic]\nscript_location = %(here)s\nversion_locations = %(here)s/community\n",
        )
        .unwrap();
        assert!(folder.is_relative());
        let read = read(&folder.join("alembic.ini")).unwrap();
        assert_eq!(read.version_locations, Some(vec![folder.join("community")]));
    }
}
