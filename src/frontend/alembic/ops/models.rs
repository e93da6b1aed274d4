//! Tables a revision creates or drops through SQLAlchemy's own objects rather than `op`: a
//! declarative class's `__table__.create(bind)` / `.drop(bind)`, as revisions that copy a
//! model into themselves do. The class is read where the revision defines it (in the module or
//! in the function before the call); a class imported from the application is not followed.

use ruff_python_ast::{Expr, Stmt, StmtClassDef};

use crate::model::OpKind;

use super::super::exprs::Reader;
use super::Walker;

/// The table a declarative class maps: its `__tablename__`, qualified by the `schema` of its
/// `__table_args__` (a dict, or a tuple ending with one) when not the default one.
pub(super) fn table_of(class: &StmtClassDef, reader: &Reader) -> Option<String> {
    let mut table = None;
    let mut schema = None;
    for stmt in &class.body {
        let Stmt::Assign(assign) = stmt else { continue };
        let [Expr::Name(target)] = assign.targets.as_slice() else {
            continue;
        };
        match target.id.as_str() {
            "__tablename__" => table = reader.string(&assign.value),
            "__table_args__" => {
                schema = crate::frontend::python_models::table_args_schema(&assign.value, &|e| {
                    reader.string(e)
                })
            }
            _ => {}
        }
    }
    Some(crate::frontend::python_models::in_schema(schema, table?))
}

/// Module-level declarative classes: class name → table.
pub fn module_models(suite: &[Stmt], reader: &Reader) -> Vec<(String, String)> {
    suite
        .iter()
        .filter_map(|stmt| match stmt {
            Stmt::ClassDef(class) => Some((class.name.to_string(), table_of(class, reader)?)),
            _ => None,
        })
        .collect()
}

impl Walker<'_, '_> {
    /// `Model.__table__.create(bind)` / `.drop(bind)`: the table the class maps, made or dropped
    /// whole. Its columns are the class's, not read here: the table is new, its shape unknown.
    pub(super) fn model_table_call(&self, method: &str, receiver: &Expr) -> Option<OpKind> {
        let Expr::Attribute(table) = receiver else {
            return None;
        };
        let Expr::Name(class) = table.value.as_ref() else {
            return None;
        };
        if table.attr.as_str() != "__table__" {
            return None;
        }
        let name = self
            .models
            .iter()
            .rev()
            .chain(self.reader.models.iter().rev())
            .find(|(class_name, _)| class_name == class.id.as_str())
            .map(|(_, table)| table.clone())?;
        Some(match method {
            "create" => OpKind::CreateTable {
                table: name,
                columns: Vec::new(),
                constraints: Vec::new(),
                if_not_exists: false,
                shaped_by: vec![format!("{}.__table__", class.id)],
            },
            _ => OpKind::DropTable {
                table: name,
                if_exists: false,
            },
        })
    }
}
