//! A constraint created with the name `None` (PostgreSQL picks `<table>_<column>_fkey`, and the
//! reverse operation has nothing to name) → that same name written out, with `op.f()` so that
//! no naming convention rewrites it.
//!
//! Safe: the constraint PostgreSQL makes is the same, now with a name the downgrade can use.

use crate::model::Op;

use super::python::final_name;
use super::{Applicability, Edit, Fix};

/// The fix of an `op.create_*` call whose name argument is the literal `None`, given the name
/// PostgreSQL would pick; or of an `op.drop_constraint(None, ...)`, given the name the other
/// direction creates the constraint with.
pub fn alembic(op: &Op, name: &str) -> Option<Fix> {
    // Past 63 bytes PostgreSQL shortens the parts of the name its own way: not written here.
    if name.len() > 63 {
        return None;
    }
    let call = op.edit.as_ref()?.call.as_ref()?;
    if !matches!(
        call.method.as_str(),
        "create_foreign_key"
            | "create_unique_constraint"
            | "create_check_constraint"
            | "drop_constraint"
    ) {
        return None;
    }
    let argument = call.argument("constraint_name", 0)?;
    if !call.none_literals.contains(argument) {
        return None;
    }
    Fix::new(
        format!("name it `{name}`"),
        Applicability::Safe,
        op.span.file,
        vec![Edit::replace(argument.clone(), final_name(name))],
    )
}
