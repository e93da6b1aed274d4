//! Names as PostgreSQL resolves them. Frontends write every name the way PostgreSQL reads it
//! (unquoted folded to lower case, quoted as written, `public.` left off); comparing two names
//! is then exact, except for the schema an unqualified name lands in, which depends on the
//! `search_path` the migrations set.

use std::cell::RefCell;

/// The schema a name without one resolves to when no migration changes `search_path`.
pub const DEFAULT_SCHEMA: &str = "public";

/// A name without its schema prefix and quotes: `"app"."users"` → `users`.
pub fn bare_name(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name).trim_matches('"')
}

/// A name quoted, so that PostgreSQL reads it exactly as stored: neither folded nor taken for
/// a keyword (`user`, `order`).
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A possibly schema-qualified name, each part quoted.
pub fn quote_qualified(name: &str) -> String {
    name.split('.')
        .map(quote_identifier)
        .collect::<Vec<_>>()
        .join(".")
}

/// The schema a name is qualified with, if any and not the default one.
pub fn schema_of(name: &str) -> Option<&str> {
    let (schema, _) = name.rsplit_once('.')?;
    let schema = schema
        .rsplit('.')
        .next()
        .unwrap_or(schema)
        .trim_matches('"');
    (schema != DEFAULT_SCHEMA).then_some(schema)
}

/// `name` qualified with the schema of `table`: an index or sequence lives in its table's
/// schema, whatever the statement that made it wrote.
pub fn in_schema_of(table: &str, name: &str) -> String {
    match (schema_of(table), schema_of(name)) {
        (Some(schema), None) => format!("{schema}.{}", bare_name(name)),
        _ => name.to_string(),
    }
}

/// Whether two names denote the same object: the names exactly (`"Users"` is not `users`),
/// and the schemas, where an unqualified name is in any schema the set's `search_path` reaches
/// ahead of the default one.
pub fn same_name(a: &str, b: &str) -> bool {
    // The common case, and the one the history's lookups ask most: the same spelling.
    if a == b {
        return true;
    }
    if bare_name(a) != bare_name(b) {
        return false;
    }
    match (schema_of(a), schema_of(b)) {
        (Some(x), Some(y)) => x == y,
        (None, None) => true,
        (Some(schema), None) | (None, Some(schema)) => reached_unqualified(schema),
    }
}

/// What the migrations of one set do to `search_path`, read by the frontends from `SET
/// search_path`, `set_config('search_path', …)` and `ALTER ROLE / DATABASE … SET search_path`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SearchPath {
    /// Never changed: unqualified names are in `public`.
    #[default]
    Default,
    /// Set to these schemas (each setting's schemas together, as the order of settings against
    /// statements is not followed): an unqualified name may be in any of them.
    Schemas(Vec<String>),
    /// Set to something not known before run time (a template, a variable): an unqualified name
    /// may be in any schema.
    Unknown,
}

impl SearchPath {
    /// Adds what one setting names (`None`: not known).
    pub fn add(&mut self, schemas: Option<&[String]>) {
        let Some(schemas) = schemas else {
            *self = SearchPath::Unknown;
            return;
        };
        let named = schemas
            .iter()
            .filter(|s| !matches!(s.as_str(), DEFAULT_SCHEMA | "$user" | "pg_catalog" | ""));
        match self {
            SearchPath::Unknown => {}
            SearchPath::Default => {
                let named: Vec<String> = named.cloned().collect();
                if !named.is_empty() {
                    *self = SearchPath::Schemas(named);
                }
            }
            SearchPath::Schemas(known) => {
                for schema in named {
                    if !known.contains(schema) {
                        known.push(schema.clone());
                    }
                }
            }
        }
    }
}

impl SearchPath {
    /// What the migrations of a set do to `search_path`, from their operations.
    pub fn of_set(set: &super::MigrationSet) -> SearchPath {
        let mut path = SearchPath::Default;
        if !set.configured_search_path.is_empty() {
            path.add(Some(&set.configured_search_path));
        }
        let bodies = set
            .migrations
            .iter()
            .flat_map(|m| [&m.upgrade, &m.downgrade]);
        for op in bodies.flat_map(|body| &body.ops) {
            if let super::OpKind::SetSearchPath { schemas } = &op.kind {
                path.add(schemas.as_deref());
            }
        }
        path
    }
}

thread_local! {
    /// The search path of the set being checked on this thread: names are compared in many
    /// places that only see two names, and a set is checked on one thread from start to end.
    static SEARCH_PATH: RefCell<SearchPath> = const { RefCell::new(SearchPath::Default) };
}

/// Runs `check` with names resolved under `search_path`, then restores the previous one.
pub fn with_search_path<R>(search_path: SearchPath, check: impl FnOnce() -> R) -> R {
    let previous = SEARCH_PATH.with(|current| current.replace(search_path));
    struct Restore(Option<SearchPath>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(previous) = self.0.take() {
                SEARCH_PATH.with(|current| *current.borrow_mut() = previous);
            }
        }
    }
    let _restore = Restore(Some(previous));
    check()
}

fn reached_unqualified(schema: &str) -> bool {
    SEARCH_PATH.with(|current| match &*current.borrow() {
        SearchPath::Default => false,
        SearchPath::Schemas(schemas) => schemas.iter().any(|s| s == schema),
        SearchPath::Unknown => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_case_and_schemas_are_kept_apart() {
        assert!(same_name("users", "users"));
        assert!(!same_name("Users", "users"));
        assert!(same_name("s.T3", "s.T3"));
        assert!(!same_name("s.T3", "s.t3"));
        assert!(!same_name("audit.logs", "logs"));
        assert!(!same_name("audit.logs", "other.logs"));
        assert!(same_name("public.users", "users"));
        assert!(same_name("\"app\".\"users\"", "app.users"));
    }

    #[test]
    fn a_search_path_lets_unqualified_names_reach_its_schemas() {
        let mut path = SearchPath::default();
        path.add(Some(&["app".to_string(), "public".to_string()]));
        with_search_path(path, || {
            assert!(same_name("app.users", "users"));
            assert!(!same_name("audit.users", "users"));
        });
        assert!(!same_name("app.users", "users"));
        let mut unknown = SearchPath::default();
        unknown.add(None);
        with_search_path(unknown, || assert!(same_name("audit.users", "users")));
    }

    #[test]
    fn indexes_live_in_their_tables_schema() {
        assert_eq!(in_schema_of("audit.logs", "ix_logs_at"), "audit.ix_logs_at");
        assert_eq!(in_schema_of("logs", "ix_logs_at"), "ix_logs_at");
        assert_eq!(in_schema_of("audit.logs", "audit.ix"), "audit.ix");
    }
}
