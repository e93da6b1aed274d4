//! SQLAlchemy naming conventions (`MetaData(naming_convention=...)`): the names Alembic gives
//! constraints and indexes created without one, when env.py's `target_metadata` has them.

use std::collections::BTreeMap;

use super::op::bare_name;
use super::{ConstraintKind, Op, OpKind};

/// Convention keys (`ix`, `uq`, `ck`, `fk`, `pk`, or SQLAlchemy's long names) → templates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamingConvention(pub BTreeMap<String, String>);

/// What a template may refer to.
struct Subject<'a> {
    table: &'a str,
    columns: &'a [String],
    referred_table: Option<&'a str>,
}

impl NamingConvention {
    fn template(&self, short: &str, long: &str) -> Option<&str> {
        self.0
            .get(short)
            .or_else(|| self.0.get(long))
            .map(String::as_str)
    }

    /// The name SQLAlchemy renders for an unnamed constraint; `None` when the convention has no
    /// template for its kind or the template needs what an unnamed constraint lacks (its own
    /// name, a referred column).
    pub fn constraint_name(&self, kind: &ConstraintKind, table: &str) -> Option<String> {
        let (template, columns, referred_table): (_, &[String], _) = match kind {
            ConstraintKind::PrimaryKey { columns } => {
                (self.template("pk", "primary_key")?, columns, None)
            }
            ConstraintKind::Unique { columns } => {
                (self.template("uq", "unique_constraint")?, columns, None)
            }
            ConstraintKind::ForeignKey {
                columns,
                referenced_table,
            } => (
                self.template("fk", "foreign_key_constraint")?,
                columns,
                Some(referenced_table.as_str()),
            ),
            ConstraintKind::Check { .. } => (self.template("ck", "check_constraint")?, &[], None),
            ConstraintKind::Exclusion => return None,
        };
        render(
            template,
            &Subject {
                table,
                columns,
                referred_table,
            },
        )
    }

    pub fn index_name(&self, table: &str, columns: &[String]) -> Option<String> {
        render(
            self.template("ix", "index")?,
            &Subject {
                table,
                columns,
                referred_table: None,
            },
        )
    }

    /// Names what the operations create unnamed, as Alembic would under this convention.
    pub fn apply(&self, ops: &mut [Op]) {
        for op in ops {
            match &mut op.kind {
                OpKind::AddConstraint {
                    table, name, kind, ..
                } if name.is_none() => *name = self.constraint_name(kind, table),
                OpKind::CreateTable {
                    table, constraints, ..
                } => {
                    for (name, kind) in constraints.iter_mut().filter(|(n, _)| n.is_none()) {
                        *name = self.constraint_name(kind, table);
                    }
                }
                OpKind::CreateIndex {
                    name,
                    table,
                    columns,
                    ..
                } if name.is_none() && !columns.is_empty() => {
                    *name = self.index_name(table, columns);
                }
                _ => {}
            }
        }
    }
}

/// Expands `%(token)s` placeholders; any token it cannot fill makes the whole name unknown.
fn render(template: &str, subject: &Subject) -> Option<String> {
    let table = bare_name(subject.table);
    let columns: Vec<&str> = subject.columns.iter().map(|c| bare_name(c)).collect();
    let labels: Vec<String> = columns.iter().map(|c| format!("{table}_{c}")).collect();
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("%(") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find(")s")?;
        let token = &after[..end];
        let value = match token {
            "table_name" => table.to_string(),
            "referred_table_name" => bare_name(subject.referred_table?).to_string(),
            "column_0_name" | "column_0_key" => columns.first()?.to_string(),
            "column_0_label" => labels.first()?.clone(),
            "column_0N_name" | "column_0N_key" => columns.concat(),
            "column_0_N_name" | "column_0_N_key" => columns.join("_"),
            "column_0N_label" => labels.concat(),
            "column_0_N_label" => labels.join("_"),
            _ => return None,
        };
        if value.is_empty() {
            return None;
        }
        out.push_str(&value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convention() -> NamingConvention {
        NamingConvention(
            [
                ("ix", "ix_%(column_0_label)s"),
                ("uq", "uq_%(table_name)s_%(column_0_name)s"),
                ("ck", "ck_%(table_name)s_%(constraint_name)s"),
                (
                    "fk",
                    "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
                ),
                ("pk", "pk_%(table_name)s"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        )
    }

    #[test]
    fn the_usual_convention_names_what_sqlalchemy_names() {
        let c = convention();
        let columns = vec!["customer_id".to_string()];
        assert_eq!(
            c.constraint_name(
                &ConstraintKind::ForeignKey {
                    columns: columns.clone(),
                    referenced_table: "public.customers".into()
                },
                "orders"
            )
            .as_deref(),
            Some("fk_orders_customer_id_customers")
        );
        assert_eq!(
            c.constraint_name(
                &ConstraintKind::PrimaryKey {
                    columns: columns.clone()
                },
                "orders"
            )
            .as_deref(),
            Some("pk_orders")
        );
        assert_eq!(
            c.index_name("orders", &columns).as_deref(),
            Some("ix_orders_customer_id")
        );
        // An unnamed CHECK has no constraint_name to fill in: SQLAlchemy refuses it too.
        assert_eq!(
            c.constraint_name(
                &ConstraintKind::Check {
                    expression: "x > 0".into()
                },
                "orders"
            ),
            None
        );
    }
}
