//! Table constraints, whichever language declared them.

use super::op::{bare_name, same_name};

#[derive(Debug, Clone, PartialEq)]
pub enum ConstraintKind {
    PrimaryKey {
        columns: Vec<String>,
    },
    Unique {
        columns: Vec<String>,
    },
    ForeignKey {
        columns: Vec<String>,
        referenced_table: String,
    },
    Check {
        expression: String,
    },
    Exclusion,
}

/// Whether `column` is a word of an SQL expression (a CHECK, an index's key expression).
pub fn mentions_column(expression: &str, column: &str) -> bool {
    expression_names(expression)
        .iter()
        .any(|word| same_name(word, column))
}

/// The words of a SQL expression read as PostgreSQL reads names: `"Total"` as written,
/// `PURGE_REPLICAS` folded to `purge_replicas`. String literals are skipped.
fn expression_names(expression: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut chars = expression.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '"' => names.push(chars.by_ref().take_while(|c| *c != '"').collect()),
            '\'' => chars.by_ref().take_while(|c| *c != '\'').for_each(drop),
            c if c.is_alphanumeric() || c == '_' => {
                let mut word = c.to_lowercase().collect::<String>();
                while let Some(next) = chars.next_if(|n| n.is_alphanumeric() || *n == '_') {
                    word.extend(next.to_lowercase());
                }
                names.push(word);
            }
            _ => {}
        }
    }
    names
}

impl ConstraintKind {
    /// Whether the constraint involves `column`: its key columns, or a word of its CHECK
    /// expression (PostgreSQL drops such constraints with the column).
    pub fn involves_column(&self, column: &str) -> bool {
        match self {
            ConstraintKind::PrimaryKey { columns }
            | ConstraintKind::Unique { columns }
            | ConstraintKind::ForeignKey { columns, .. } => {
                columns.iter().any(|c| same_name(c, column))
            }
            ConstraintKind::Check { expression } => mentions_column(expression, column),
            ConstraintKind::Exclusion => false,
        }
    }

    /// A CHECK that proves `column IS NOT NULL` the way PostgreSQL's predicate proof does: the
    /// expression is that test, or an AND of terms one of which is (quotes, case, spacing and
    /// parentheses aside). A disjunction proves nothing; nor does a test of another column.
    pub fn checks_not_null(&self, column: &str) -> bool {
        let ConstraintKind::Check { expression } = self else {
            return false;
        };
        let normalized = expression
            .to_ascii_lowercase()
            .replace('"', "")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let wanted = format!("{} is not null", bare_name(column).to_ascii_lowercase());
        top_level_terms(&normalized, " and ")
            .iter()
            .any(|term| strip_parentheses(term) == wanted)
            && top_level_terms(&normalized, " or ").len() == 1
    }

    /// The name PostgreSQL gives the constraint when the statement names none
    /// (`orders_pkey`, `orders_customer_id_fkey`, `orders_code_key`); `None` where it depends
    /// on more than the statement shows (a CHECK's columns). Past 63 bytes PostgreSQL shortens
    /// the parts as [`postgres_object_name`] does.
    pub fn postgres_default_name(&self, table: &str) -> Option<String> {
        let table = bare_name(table);
        match self {
            ConstraintKind::PrimaryKey { .. } => Some(postgres_object_name(table, None, "pkey")),
            ConstraintKind::Unique { columns } if !columns.is_empty() => Some(
                postgres_object_name(table, Some(&name_addition(columns)), "key"),
            ),
            ConstraintKind::ForeignKey { columns, .. } if !columns.is_empty() => Some(
                postgres_object_name(table, Some(&name_addition(columns)), "fkey"),
            ),
            _ => None,
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            ConstraintKind::PrimaryKey { .. } => "primary key",
            ConstraintKind::Unique { .. } => "unique constraint",
            ConstraintKind::ForeignKey { .. } => "foreign key",
            ConstraintKind::Check { .. } => "check constraint",
            ConstraintKind::Exclusion => "exclusion constraint",
        }
    }
}

/// `text` split at `separator` where it is outside parentheses, each part without its outer
/// parentheses.
fn top_level_terms<'a>(text: &'a str, separator: &str) -> Vec<&'a str> {
    let text = strip_parentheses(text);
    let mut terms = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let mut position = 0;
    while position < text.len() {
        match text.as_bytes()[position] {
            b'(' => depth += 1,
            b')' => depth -= 1,
            _ if depth == 0 && text[position..].starts_with(separator) => {
                terms.push(text[start..position].trim());
                position += separator.len();
                start = position;
                continue;
            }
            _ => {}
        }
        position += 1;
    }
    terms.push(text[start..].trim());
    terms
}

/// `((x))` → `x`, when the outer parentheses enclose the whole text.
fn strip_parentheses(text: &str) -> &str {
    let mut text = text.trim();
    while text.starts_with('(') && text.ends_with(')') && encloses_whole(text) {
        text = text[1..text.len() - 1].trim();
    }
    text
}

/// The opening parenthesis at the start closes at the very end.
fn encloses_whole(text: &str) -> bool {
    let mut depth = 0;
    for (i, byte) in text.bytes().enumerate() {
        match byte {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i == text.len() - 1;
                }
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::ConstraintKind;

    fn check(expression: &str) -> ConstraintKind {
        ConstraintKind::Check {
            expression: expression.into(),
        }
    }

    #[test]
    fn only_a_test_of_the_column_or_a_conjunction_with_one_proves_not_null() {
        assert!(check("email IS NOT NULL").checks_not_null("email"));
        assert!(check("(\"email\" is not null)").checks_not_null("email"));
        assert!(check("(email IS NOT NULL) AND (length(email) > 3)").checks_not_null("email"));
        assert!(!check("email IS NOT NULL OR legacy").checks_not_null("email"));
        assert!(!check("(a AND email IS NOT NULL) OR b").checks_not_null("email"));
        assert!(!check("backup_email IS NOT NULL").checks_not_null("email"));
        assert!(!check("email IS NOT NULL AND (x OR y)").checks_not_null("phone"));
        assert!(!check("length(email) > 3").checks_not_null("email"));
    }

    #[test]
    fn a_check_mentions_a_column_by_the_name_postgres_reads() {
        assert!(check("PURGE_REPLICAS IS NOT NULL").involves_column("purge_replicas"));
        assert!(check("\"Total\" > 0").involves_column("Total"));
        assert!(!check("\"Total\" > 0").involves_column("total"));
        assert!(!check("kind <> 'state'").involves_column("state"));
    }
}

/// PostgreSQL's `NAMEDATALEN`: a name holds at most one byte less.
const NAMEDATALEN: usize = 64;

/// The columns of a default name, joined with `_` (`ChooseIndexNameAddition`: it stops once
/// the text reaches `NAMEDATALEN` bytes).
fn name_addition(columns: &[String]) -> String {
    let mut addition = String::new();
    for column in columns {
        if !addition.is_empty() {
            addition.push('_');
        }
        addition.push_str(column.trim_matches('"'));
        if addition.len() >= NAMEDATALEN {
            break;
        }
    }
    addition
}

/// PostgreSQL's `makeObjectName` (`src/backend/commands/indexcmds.c`): `name1_name2_label`,
/// the longer of the two names shortened a byte at a time until the whole fits in 63 bytes.
pub fn postgres_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let overhead = usize::from(name2.is_some()) + label.len() + 1;
    let available = NAMEDATALEN - 1 - overhead;
    let (mut chars1, mut chars2) = (name1.len(), name2.map_or(0, str::len));
    while chars1 + chars2 > available {
        if chars1 > chars2 {
            chars1 -= 1;
        } else {
            chars2 -= 1;
        }
    }
    // `pg_mbcliplen`: never half a character.
    let clip = |name: &str, mut len: usize| {
        while !name.is_char_boundary(len) {
            len -= 1;
        }
        name[..len].to_string()
    };
    let mut result = clip(name1, chars1);
    if let Some(name2) = name2 {
        result.push('_');
        result.push_str(&clip(name2, chars2));
    }
    result.push('_');
    result.push_str(label);
    result
}

/// The name PostgreSQL gives an index created without one (`ChooseIndexName`): the table, its
/// columns and `idx`. `None` for an index on an expression, whose part of the name PostgreSQL
/// takes from the expression.
pub fn postgres_default_index_name(table: &str, columns: &[String]) -> Option<String> {
    let plain = |c: &String| {
        let c = c.trim_matches('"');
        !c.is_empty()
            && c.chars()
                .all(|ch| ch.is_alphanumeric() || ch == '_' || ch == '$')
    };
    (!columns.is_empty() && columns.iter().all(plain))
        .then(|| postgres_object_name(bare_name(table), Some(&name_addition(columns)), "idx"))
}

#[cfg(test)]
mod default_name_tests {
    use super::*;

    /// As PostgreSQL 15 named them (`CREATE INDEX ON t (...)`, `ADD UNIQUE (...)`).
    #[test]
    fn default_names_are_postgres_own_shortened_past_63_bytes() {
        let columns = |list: &[&str]| list.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert_eq!(
            postgres_default_index_name(
                "personal_access_tokens",
                &columns(&["personal_session_id"])
            ),
            Some("personal_access_tokens_personal_session_id_idx".to_string())
        );
        let long = columns(&[
            "a_really_quite_long_column_name_for_testing",
            "another_really_long_column_name_here",
        ]);
        assert_eq!(
            postgres_default_index_name("personal_access_tokens", &long),
            Some("personal_access_tokens_a_really_quite_long_column_name_for__idx".to_string())
        );
        assert_eq!(
            ConstraintKind::Unique { columns: long }
                .postgres_default_name("personal_access_tokens"),
            Some("personal_access_tokens_a_really_quite_long_column_name_for__key".to_string())
        );
        assert_eq!(
            postgres_default_index_name(
                "a_table_with_a_name_long_enough_to_need_shortening_by_postgres",
                &columns(&["x"])
            ),
            Some("a_table_with_a_name_long_enough_to_need_shortening_by_pos_x_idx".to_string())
        );
        assert_eq!(
            postgres_default_index_name("t", &columns(&["lower(email)"])),
            None
        );
    }
}
