//! The contexts a Spring Boot service runs Liquibase with: `spring.liquibase.contexts` in the
//! nearest `application.properties` / `application.yml` above the changelog. With contexts
//! given, Liquibase runs a changeset whose `context` expression they do not satisfy on no
//! database (`ContextExpression.matches`); without any, it runs every changeset.

use std::path::Path;

const FILES: [&str; 3] = [
    "application.properties",
    "application.yml",
    "application.yaml",
];

/// The contexts of the nearest configuration that sets them, lower-cased; `None` when none
/// does (or only through a variable without a default).
pub fn spring_contexts(folder: &Path) -> Option<Vec<String>> {
    super::flyway_config::nearest_of(folder, &FILES, |path, text| {
        let name = path.file_name()?.to_str()?;
        let value = if name.ends_with(".properties") {
            property(text)
        } else {
            yaml_value(text)
        }?;
        let contexts: Vec<String> = value
            .split(',')
            .map(|c| c.trim().trim_matches(['\'', '"']).to_ascii_lowercase())
            .filter(|c| !c.is_empty())
            .collect();
        (!contexts.is_empty() && !contexts.iter().any(|c| c.contains("${"))).then_some(contexts)
    })
}

fn property(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        matches!(
            key.trim(),
            "spring.liquibase.contexts" | "spring.liquibase.context"
        )
        .then(|| value.trim().to_string())
    })
}

/// `contexts:` under a `liquibase:` key.
fn yaml_value(text: &str) -> Option<String> {
    let mut in_liquibase = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if trimmed.starts_with("liquibase:") {
            in_liquibase = Some(indent);
            continue;
        }
        match in_liquibase {
            Some(depth) if indent > depth && !trimmed.is_empty() => {
                if let Some((key, value)) = trimmed.split_once(':')
                    && matches!(key.trim(), "contexts" | "context")
                {
                    return Some(value.split(" #").next().unwrap_or(value).trim().to_string());
                }
            }
            Some(_) if !trimmed.is_empty() && !trimmed.starts_with('#') => in_liquibase = None,
            _ => {}
        }
    }
    None
}

/// Whether a changeset's `context` expression selects it under the service's contexts: terms
/// joined by `,` or `or`, each of atoms joined by `and`, an atom negated by `!` or `not`.
/// Parentheses are not read: such an expression is taken to select the changeset.
pub fn selects(expression: &str, contexts: &[String]) -> bool {
    let expression = expression.trim().to_ascii_lowercase();
    if expression.is_empty() || expression.contains('(') {
        return true;
    }
    let atom = |atom: &str| {
        let atom = atom.trim();
        match atom.strip_prefix('!').or_else(|| atom.strip_prefix("not ")) {
            Some(negated) => !contexts.iter().any(|c| c == negated.trim()),
            None => contexts.iter().any(|c| c == atom),
        }
    };
    expression
        .split(',')
        .flat_map(|term| term.split(" or "))
        .any(|term| term.split(" and ").all(atom))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_expressions_as_liquibase_matches_them() {
        let contexts = vec!["schema-change".to_string(), "initial-data".to_string()];
        assert!(selects("schema-change", &contexts));
        assert!(!selects("sample-data", &contexts));
        assert!(selects("sample-data, initial-data", &contexts));
        assert!(selects("!test", &contexts));
        assert!(!selects("schema-change and !initial-data", &contexts));
        assert!(selects("", &contexts));
    }

    #[test]
    fn the_contexts_spring_sets() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("src/main/resources/db/changelog");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(
            dir.path().join("src/main/resources/application.yml"),
            "spring:\n  liquibase:\n    change-log: classpath:db/changelog/master.xml\n    contexts: schema-change, initial-data\n  jpa:\n    open-in-view: false\n",
        )
        .unwrap();
        assert_eq!(
            spring_contexts(&folder),
            Some(vec![
                "schema-change".to_string(),
                "initial-data".to_string()
            ])
        );
        std::fs::write(
            dir.path().join("src/main/resources/application.yml"),
            "spring:\n  liquibase:\n    contexts: ${LIQUIBASE_CONTEXTS}\n",
        )
        .unwrap();
        assert_eq!(spring_contexts(&folder), None);
    }
}
