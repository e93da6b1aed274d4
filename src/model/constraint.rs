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
            ConstraintKind::Check { expression } => expression
                .split(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                .any(|word| same_name(word, column)),
            ConstraintKind::Exclusion => false,
        }
    }

    /// A CHECK that says `column IS NOT NULL` (quotes, case and spacing aside).
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
        normalized.contains(&format!("{} is not null", column.to_ascii_lowercase()))
    }

    /// The name PostgreSQL gives the constraint when the statement names none
    /// (`orders_pkey`, `orders_customer_id_fkey`, `orders_code_key`); `None` where it depends
    /// on more than the statement shows (a CHECK's columns). Past 63 bytes PostgreSQL shortens
    /// the parts; the long form then matches no real name, which is the safe side.
    pub fn postgres_default_name(&self, table: &str) -> Option<String> {
        let table = bare_name(table);
        let joined = |columns: &[String]| {
            columns
                .iter()
                .map(|c| c.trim_matches('"'))
                .collect::<Vec<_>>()
                .join("_")
        };
        match self {
            ConstraintKind::PrimaryKey { .. } => Some(format!("{table}_pkey")),
            ConstraintKind::Unique { columns } if !columns.is_empty() => {
                Some(format!("{table}_{}_key", joined(columns)))
            }
            ConstraintKind::ForeignKey { columns, .. } if !columns.is_empty() => {
                Some(format!("{table}_{}_fkey", joined(columns)))
            }
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
