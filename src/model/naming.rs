//! SQLAlchemy naming conventions (`MetaData(naming_convention=...)`): the names Alembic gives
//! constraints and indexes created without one, when env.py's `target_metadata` has them.

use std::collections::BTreeMap;

use super::op::NameOrigin;
use super::op::bare_name;
use super::{ConstraintKind, Op, OpKind};

/// Convention keys (`ix`, `uq`, `ck`, `fk`, `pk`, or SQLAlchemy's long names) → templates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamingConvention(pub BTreeMap<String, String>);

/// What a template may refer to.
#[derive(Default)]
struct Subject<'a> {
    table: &'a str,
    columns: &'a [String],
    referred_table: Option<&'a str>,
    /// The name the operation gives, for `%(constraint_name)s`.
    constraint_name: Option<&'a str>,
}

/// PostgreSQL's NAMEDATALEN - 1, which SQLAlchemy's PostgreSQL dialect takes as its limit.
const MAX_IDENTIFIER_BYTES: usize = 63;

impl NamingConvention {
    fn template(&self, short: &str, long: &str) -> Option<&str> {
        self.0
            .get(short)
            .or_else(|| self.0.get(long))
            .map(String::as_str)
    }

    /// The template for a constraint's kind.
    fn constraint_template(&self, kind: &ConstraintKind) -> Option<&str> {
        match kind {
            ConstraintKind::PrimaryKey { .. } => self.template("pk", "primary_key"),
            ConstraintKind::Unique { .. } => self.template("uq", "unique_constraint"),
            ConstraintKind::ForeignKey { .. } => self.template("fk", "foreign_key_constraint"),
            ConstraintKind::Check { .. } => self.template("ck", "check_constraint"),
            ConstraintKind::Exclusion => None,
        }
    }

    /// The name SQLAlchemy renders for a constraint: one created without a name, or one named
    /// with a plain string (`given`) when the template holds `%(constraint_name)s`. `None` when
    /// the convention has no template for its kind, or the template needs what the constraint
    /// lacks (its own name, for an unnamed one).
    pub fn constraint_name(
        &self,
        kind: &ConstraintKind,
        table: &str,
        given: Option<&str>,
    ) -> Option<String> {
        let template = self.constraint_template(kind)?;
        if given.is_some() && !template.contains("%(constraint_name)s") {
            return None;
        }
        let (columns, referred_table): (&[String], _) = match kind {
            ConstraintKind::PrimaryKey { columns } | ConstraintKind::Unique { columns } => {
                (columns, None)
            }
            ConstraintKind::ForeignKey {
                columns,
                referenced_table,
            } => (columns, Some(referenced_table.as_str())),
            _ => (&[], None),
        };
        render(
            template,
            &Subject {
                table,
                columns,
                referred_table,
                constraint_name: given,
            },
        )
    }

    pub fn index_name(&self, table: &str, columns: &[String]) -> Option<String> {
        render(
            self.template("ix", "index")?,
            &Subject {
                table,
                columns,
                ..Subject::default()
            },
        )
    }

    /// Names what the operations create unnamed, and renames what they name with a plain
    /// string where the template holds `%(constraint_name)s`, as SQLAlchemy does under this
    /// convention.
    pub fn apply(&self, ops: &mut [Op]) {
        for op in ops {
            let renamed = match &mut op.kind {
                OpKind::AddConstraint {
                    table, name, kind, ..
                } => {
                    if op.name_origin != NameOrigin::AlembicString {
                        continue;
                    }
                    let given = name.as_deref();
                    self.constraint_name(kind, table, given)
                        .map(|rendered| *name = Some(rendered))
                }
                OpKind::DropConstraint {
                    table,
                    name: Some(name),
                    kind: Some(kind),
                } if op.name_origin == NameOrigin::AlembicString => self
                    .constraint_name(kind, table, Some(name))
                    .map(|rendered| *name = rendered),
                OpKind::CreateTable {
                    table, constraints, ..
                } => {
                    for (name, kind) in constraints.iter_mut().filter(|(n, _)| n.is_none()) {
                        *name = self
                            .constraint_name(kind, table, None)
                            .map(|n| shortened(&n));
                    }
                    None
                }
                OpKind::CreateIndex {
                    name,
                    table,
                    columns,
                    ..
                } if name.is_none() && !columns.is_empty() => self
                    .index_name(table, columns)
                    .map(|rendered| *name = Some(rendered)),
                _ => None,
            };
            if renamed.is_some() {
                op.name_origin = NameOrigin::Final;
                shorten_final_name(&mut op.kind);
            }
        }
    }
}

/// A name SQLAlchemy takes as final (`op.f()`, a convention's) past 63 bytes: its first 55
/// bytes, `_`, and the last 4 hex digits of its MD5 — what PostgreSQL receives (verified with
/// SQLAlchemy 1.4 and 2.1).
pub fn shortened(name: &str) -> String {
    if name.len() <= MAX_IDENTIFIER_BYTES {
        return name.to_string();
    }
    use md5::Digest;
    let digest = md5::Md5::digest(name.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let mut cut = MAX_IDENTIFIER_BYTES - 8;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{}", &name[..cut], &hex[hex.len() - 4..])
}

/// Shortens the index or constraint name of an operation whose name is final.
pub fn shorten_final_name(kind: &mut OpKind) {
    match kind {
        OpKind::AddConstraint {
            name: Some(name), ..
        }
        | OpKind::DropConstraint {
            name: Some(name), ..
        }
        | OpKind::CreateIndex {
            name: Some(name), ..
        }
        | OpKind::DropIndex {
            name: Some(name), ..
        } => *name = shortened(name),
        _ => {}
    }
}

/// Expands `%(token)s` placeholders. A name whose template needs what the subject lacks is
/// unknown; a token the model cannot evaluate stays in the name (see `names_match`).
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
            // An unnamed constraint has no name to fill in: SQLAlchemy refuses it.
            "constraint_name" => subject.constraint_name?.to_string(),
            // A token of the project's own (a callable in the convention) or one the model
            // cannot fill (a referred column): SQLAlchemy still names the constraint, so the
            // name is known up to the token, which stays in it as written.
            _ => format!("%({token})s"),
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

/// Whether two constraint or index names are the same to PostgreSQL, where either may hold a
/// convention token that was not evaluated (`fk_%(table_name)s_%(column_names)s`): the token
/// then stands for any text.
pub fn names_match(a: &str, b: &str) -> bool {
    if super::op::same_name(a, b) {
        return true;
    }
    let (pattern, name) = match (a.contains("%("), b.contains("%(")) {
        (true, false) => (a, b),
        (false, true) => (b, a),
        _ => return false,
    };
    let pattern = bare_name(pattern).to_ascii_lowercase();
    let name = bare_name(name).to_ascii_lowercase();
    // Literal pieces between tokens must appear in order, the first at the start and the last
    // at the end.
    let mut pieces: Vec<&str> = Vec::new();
    let mut rest = pattern.as_str();
    while let Some(start) = rest.find("%(") {
        pieces.push(&rest[..start]);
        rest = rest[start..]
            .find(")s")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    pieces.push(rest);
    let Some(mut remaining) = name.strip_prefix(pieces[0]) else {
        return false;
    };
    let last = pieces.len() - 1;
    for (i, piece) in pieces.iter().enumerate().skip(1) {
        if i == last {
            return remaining.len() > piece.len() && remaining.ends_with(piece);
        }
        let Some(at) = remaining.find(piece).filter(|&at| at > 0) else {
            return false;
        };
        remaining = &remaining[at + piece.len()..];
    }
    true
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
                "orders",
                None
            )
            .as_deref(),
            Some("fk_orders_customer_id_customers")
        );
        assert_eq!(
            c.constraint_name(
                &ConstraintKind::PrimaryKey {
                    columns: columns.clone()
                },
                "orders",
                None
            )
            .as_deref(),
            Some("pk_orders")
        );
        assert_eq!(
            c.index_name("orders", &columns).as_deref(),
            Some("ix_orders_customer_id")
        );
        // A token of the project's own stays; the name still matches the real one.
        let custom = NamingConvention(
            [(
                "fk",
                "fk_%(table_name)s_%(column_names)s_%(referred_table_name)s",
            )]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        );
        let named = custom
            .constraint_name(
                &ConstraintKind::ForeignKey {
                    columns: columns.clone(),
                    referenced_table: "users".into(),
                },
                "registrations",
                None,
            )
            .unwrap();
        assert_eq!(named, "fk_registrations_%(column_names)s_users");
        assert!(names_match(&named, "fk_registrations_created_by_id_users"));
        assert!(!names_match(&named, "fk_registrations_users"));
        assert!(!names_match(&named, "fk_events_created_by_id_users"));
        // A named CHECK under a template with its name: SQLAlchemy renames it (verified with
        // SQLAlchemy 1.4 and 2.1: `create_check_constraint("positive", "orders", ...)` adds
        // `ck_orders_positive`); a template without the name leaves a given name alone.
        let check = ConstraintKind::Check {
            expression: "x > 0".into(),
        };
        assert_eq!(
            c.constraint_name(&check, "orders", Some("positive"))
                .as_deref(),
            Some("ck_orders_positive")
        );
        let unique = ConstraintKind::Unique {
            columns: columns.clone(),
        };
        assert_eq!(c.constraint_name(&unique, "orders", Some("my_uq")), None);
        // Past 63 bytes SQLAlchemy shortens a final name (the hash checked against SQLAlchemy).
        assert_eq!(
            shortened(&format!("ix_{}", "x".repeat(70))),
            format!("ix_{}_3aa3", "x".repeat(52))
        );
        // An unnamed CHECK has no constraint_name to fill in: SQLAlchemy refuses it too.
        assert_eq!(
            c.constraint_name(
                &ConstraintKind::Check {
                    expression: "x > 0".into()
                },
                "orders",
                None
            ),
            None
        );
    }
}
