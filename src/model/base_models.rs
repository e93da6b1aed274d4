//! The tables and columns the application's models map on `--base REF`: what the version
//! running now selects and inserts, read from REF's Python source (declarative classes, SQLModel
//! tables, `Table(...)` objects).

use super::op::same_name;

/// One table a model maps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedTable {
    pub table: String,
    pub columns: Vec<String>,
    /// Every column the model maps is listed: no base class or mixin the reader could not
    /// follow, no reflected table. Only then does a missing column mean "not mapped".
    pub complete: bool,
    /// Where: `app/models.py:12`.
    pub place: String,
}

/// What the models on REF map, as far as they were read.
#[derive(Debug, Clone, Default)]
pub struct BaseModels {
    pub tables: Vec<MappedTable>,
}

/// Whether REF's models use a table or column.
pub enum Mapped<'a> {
    /// A model maps it (where).
    Yes(&'a str),
    /// A model maps the table and lists every column it maps, without this one.
    No(&'a str),
    /// Nothing read says.
    Unknown,
}

impl BaseModels {
    /// Whether the models map `table` (a column of it, when `column` is given).
    pub fn maps(&self, table: &str, column: Option<&str>) -> Mapped<'_> {
        let mapping: Vec<&MappedTable> = self
            .tables
            .iter()
            .filter(|t| same_name(&t.table, table))
            .collect();
        let Some(column) = column else {
            return match mapping.first() {
                Some(found) => Mapped::Yes(&found.place),
                None => Mapped::Unknown,
            };
        };
        if let Some(found) = mapping
            .iter()
            .find(|t| t.columns.iter().any(|c| c == column))
        {
            return Mapped::Yes(&found.place);
        }
        match mapping.first() {
            Some(found) if mapping.iter().all(|t| t.complete) => Mapped::No(&found.place),
            _ => Mapped::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_is_unmapped_only_when_every_model_of_its_table_is_read_whole() {
        let table = |columns: &[&str], complete| MappedTable {
            table: "users".into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            complete,
            place: "app/models.py:3".into(),
        };
        let whole = BaseModels {
            tables: vec![table(&["id", "email"], true)],
        };
        assert!(matches!(whole.maps("users", Some("email")), Mapped::Yes(_)));
        assert!(matches!(whole.maps("users", Some("legacy")), Mapped::No(_)));
        assert!(matches!(whole.maps("teams", None), Mapped::Unknown));
        let with_mixin = BaseModels {
            tables: vec![table(&["id"], false)],
        };
        assert!(matches!(
            with_mixin.maps("users", Some("email")),
            Mapped::Unknown
        ));
    }
}
