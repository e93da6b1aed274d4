//! Reading Python expressions that Alembic revisions pass to `op.*`: names, strings, types,
//! columns and server defaults.

use std::collections::HashMap;

use ruff_python_ast::{Expr, ExprCall, Number};
use ruff_text_size::Ranged;

use crate::model::{Column, ColumnType, ConstraintKind, DefaultExpr};

/// Module-level `NAME = "text"` assignments, so `op.create_index(..., TABLE, ...)` resolves.
pub type Constants<'a> = HashMap<String, &'a Expr>;

pub struct Reader<'a> {
    pub source: &'a str,
    pub constants: &'a Constants<'a>,
    /// Local names bound while a body is read: a loop variable over a literal list (the body
    /// is read once per value) or a helper's parameter. `None` is a value not known before run
    /// time; it still hides a module constant of the same name, as Python scoping does.
    pub local_values: std::cell::RefCell<HashMap<String, Option<&'a Expr>>>,
    /// The module's own functions, which `upgrade()` may call to do its work.
    pub helpers: HashMap<String, &'a ruff_python_ast::StmtFunctionDef>,
    /// Operations imported by name (`from alembic.op import add_column, drop_column as dc`):
    /// local name → the `op` method it is.
    pub op_functions: HashMap<String, String>,
    /// The module's declarative classes: class name → the table it maps.
    pub models: Vec<(String, String)>,
    /// Names that, used as a column type, are the project's own types (a `TypeDecorator` or
    /// user-defined type defined in the file or imported from the project): what PostgreSQL
    /// stores for them is their `impl`, which is not read, so their type is unknown.
    pub project_types: std::collections::HashSet<String>,
}

impl<'a> Reader<'a> {
    /// What a local name stands for when it is bound: a name passed on is followed to its
    /// value now, so no binding ever refers to itself.
    pub fn bound_value(&self, expr: &'a Expr) -> Option<&'a Expr> {
        match expr {
            Expr::Name(name) => match self.local_values.borrow().get(name.id.as_str()) {
                Some(value) => *value,
                None => self
                    .constants
                    .get(name.id.as_str())
                    .copied()
                    .filter(|v| !matches!(v, Expr::Name(_))),
            },
            other => Some(other),
        }
    }

    pub fn new(source: &'a str, constants: &'a Constants<'a>) -> Self {
        Reader {
            source,
            constants,
            local_values: Default::default(),
            helpers: HashMap::new(),
            op_functions: HashMap::new(),
            models: Vec::new(),
            project_types: Default::default(),
        }
    }
}

/// The dotted name of a callee or attribute chain: `sa.Column`, `op.execute`.
pub fn dotted(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Name(name) => Some(name.id.as_str().to_string()),
        Expr::Attribute(attr) => Some(format!("{}.{}", dotted(&attr.value)?, attr.attr.as_str())),
        _ => None,
    }
}

/// The last segment of a dotted callee: `sa.Column` → `Column`.
pub fn callee_name(call: &ExprCall) -> Option<&str> {
    match call.func.as_ref() {
        Expr::Name(name) => Some(name.id.as_str()),
        Expr::Attribute(attr) => Some(attr.attr.as_str()),
        _ => None,
    }
}

pub fn as_call(expr: &Expr) -> Option<&ExprCall> {
    match expr {
        Expr::Call(call) => Some(call),
        _ => None,
    }
}

impl<'a> Reader<'a> {
    /// A string literal, `op.f("...")`, `conv("...")` (a name SQLAlchemy takes as final),
    /// `sa.text("...")`, or a module constant holding one.
    /// A condition written with SQLAlchemy's column expressions, as the SQL SQLAlchemy
    /// compiles it to: `sa.column("x").is_not(None)` and `sa.column("x") != None` are
    /// `x IS NOT NULL`, `.is_(None)` and `== None` are `x IS NULL`, `sa.and_(a, b)` is
    /// `a AND b`. `None` for any other expression.
    pub fn sql_condition(&self, expr: &Expr) -> Option<String> {
        let column_name = |expr: &Expr| {
            let call = as_call(expr)?;
            matches!(callee_name(call), Some("column" | "literal_column"))
                .then(|| call.arguments.args.first())
                .flatten()
                .and_then(|e| self.string(e))
        };
        match expr {
            Expr::Call(call) => match (call.func.as_ref(), callee_name(call)) {
                (Expr::Attribute(attr), Some(method)) => {
                    let argument_is_none =
                        matches!(call.arguments.args.first(), Some(Expr::NoneLiteral(_)));
                    let column = column_name(&attr.value)?;
                    match method {
                        "is_not" | "isnot" if argument_is_none => {
                            Some(format!("{column} IS NOT NULL"))
                        }
                        "is_" if argument_is_none => Some(format!("{column} IS NULL")),
                        _ => None,
                    }
                }
                (_, Some("and_")) => {
                    let terms: Option<Vec<String>> = call
                        .arguments
                        .args
                        .iter()
                        .map(|e| self.sql_condition(e))
                        .collect();
                    Some(terms?.join(" AND "))
                }
                _ => None,
            },
            Expr::Compare(compare)
                if compare.comparators.len() == 1
                    && matches!(compare.comparators[0], Expr::NoneLiteral(_)) =>
            {
                let column = column_name(&compare.left)?;
                match compare.ops[0] {
                    ruff_python_ast::CmpOp::NotEq | ruff_python_ast::CmpOp::IsNot => {
                        Some(format!("{column} IS NOT NULL"))
                    }
                    ruff_python_ast::CmpOp::Eq | ruff_python_ast::CmpOp::Is => {
                        Some(format!("{column} IS NULL"))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    pub fn string(&self, expr: &Expr) -> Option<String> {
        match expr {
            Expr::StringLiteral(literal) => Some(literal.value.to_str().to_string()),
            Expr::Name(name) if self.local_values.borrow().contains_key(name.id.as_str()) => {
                let value = self.local_values.borrow()[name.id.as_str()];
                value.and_then(|v| self.string(v))
            }
            Expr::FString(fstring) => self.fstring(fstring),
            Expr::Name(name) => self.constants.get(name.id.as_str()).and_then(|value| {
                if matches!(value, Expr::Name(_)) {
                    None
                } else {
                    self.string(value)
                }
            }),
            Expr::Call(call)
                if matches!(
                    callee_name(call),
                    Some("f" | "conv" | "text" | "literal_column" | "quoted_name")
                ) =>
            {
                self.string(call.arguments.args.first()?)
            }
            _ => None,
        }
    }

    /// An f-string whose every placeholder is a constant or loop value, without conversions or
    /// format specs: `f"{TABLE}_archive"`.
    fn fstring(&self, fstring: &ruff_python_ast::ExprFString) -> Option<String> {
        use ruff_python_ast::{ConversionFlag, FStringPart, InterpolatedStringElement};
        let mut text = String::new();
        for part in fstring.value.iter() {
            match part {
                FStringPart::Literal(literal) => text.push_str(&literal.value),
                FStringPart::FString(inner) => {
                    for element in inner.elements.iter() {
                        match element {
                            InterpolatedStringElement::Literal(literal) => {
                                text.push_str(&literal.value)
                            }
                            InterpolatedStringElement::Interpolation(value) => {
                                if value.conversion != ConversionFlag::None
                                    || value.format_spec.is_some()
                                    || value.debug_text.is_some()
                                {
                                    return None;
                                }
                                text.push_str(&self.interpolated(&value.expression)?);
                            }
                        }
                    }
                }
            }
        }
        Some(text)
    }

    /// What an f-string placeholder renders: a string as above, or an integer literal (given
    /// directly or as a module constant) as written.
    fn interpolated(&self, expr: &Expr) -> Option<String> {
        let number = |e: &Expr| match e {
            Expr::NumberLiteral(n) if n.value.as_int().is_some() => Some(self.text(e).to_string()),
            _ => None,
        };
        self.string(expr).or_else(|| match expr {
            Expr::Name(name) => self.constants.get(name.id.as_str()).and_then(|v| number(v)),
            other => number(other),
        })
    }

    /// A constraint or index name: a string, or `None` when Python says `None`.
    pub fn optional_name(&self, expr: Option<&Expr>) -> Option<Option<String>> {
        match expr {
            None | Some(Expr::NoneLiteral(_)) => Some(None),
            Some(expr) => self.string(expr).map(Some),
        }
    }

    pub fn strings(&self, expr: &Expr) -> Option<Vec<String>> {
        match expr {
            Expr::List(list) => list.elts.iter().map(|e| self.string(e)).collect(),
            Expr::Tuple(tuple) => tuple.elts.iter().map(|e| self.string(e)).collect(),
            other => self.string(other).map(|s| vec![s]),
        }
    }

    /// The Python source of an expression, for messages.
    pub fn text(&self, expr: &Expr) -> &'a str {
        &self.source[expr.range().start().to_usize()..expr.range().end().to_usize()]
    }

    pub fn column_type(&self, expr: &Expr) -> Option<ColumnType> {
        let (name, call) = match expr {
            Expr::Call(call) => (callee_name(call)?, Some(call)),
            Expr::Attribute(attr) => (attr.attr.as_str(), None),
            Expr::Name(name) => (name.id.as_str(), None),
            _ => return None,
        };
        // The project's own type, called by its bare name: its stored type is not known.
        let bare = match expr {
            Expr::Call(call) => matches!(call.func.as_ref(), Expr::Name(_)),
            other => matches!(other, Expr::Name(_)),
        };
        if bare && self.project_types.contains(name) {
            return None;
        }
        // A bare lower-case name is a variable or a parameter (`type_=type_` in a helper), not
        // a type class: SQLAlchemy's types, like every Python class, are CapWords or UPPER.
        if bare && name.starts_with(|c: char| c.is_ascii_lowercase()) {
            return None;
        }
        let kw = |key: &str| {
            call.and_then(|c| c.arguments.find_keyword(key))
                .map(|k| &k.value)
        };
        let int_arg = |key: &str, position: usize| {
            call.and_then(|c| c.arguments.find_argument_value(key, position))
                .and_then(integer)
        };
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "array" => {
                let inner = call.and_then(|c| c.arguments.find_argument_value("item_type", 0))?;
                let mut ty = self.column_type(inner)?;
                ty.array = true;
                Some(ty)
            }
            // A VARCHAR as long as the longest value unless `length=` says (SQLAlchemy's
            // `Enum._enum_init`).
            "enum" if call.is_some_and(is_non_native_enum) => {
                let longest = call
                    .map(|c| {
                        c.arguments
                            .args
                            .iter()
                            .filter_map(|e| self.string(e))
                            .map(|v| v.chars().count())
                            .max()
                            .unwrap_or(0)
                    })
                    .unwrap_or(0);
                let length = int_arg("length", usize::MAX)
                    .map(|n| n as usize)
                    .unwrap_or(longest);
                Some(ColumnType::normalized("varchar", vec![length as u32]))
            }
            "enum" => {
                let name = kw("name")
                    .and_then(|e| self.string(e))
                    .unwrap_or_else(|| "enum".into());
                Some(ColumnType {
                    name,
                    modifiers: Vec::new(),
                    array: false,
                })
            }
            "datetime" | "timestamp" | "time" => {
                let with_zone = kw("timezone").is_some_and(is_true);
                let base = if lower == "time" { "time" } else { "timestamp" };
                let name = if with_zone {
                    format!("{base} with time zone")
                } else {
                    base.to_string()
                };
                Some(ColumnType::normalized(
                    &name,
                    int_arg("precision", usize::MAX).into_iter().collect(),
                ))
            }
            "numeric" | "decimal" => {
                let modifiers = [int_arg("precision", 0), int_arg("scale", 1)]
                    .into_iter()
                    .flatten()
                    .collect();
                Some(ColumnType::normalized("numeric", modifiers))
            }
            "string" | "varchar" | "unicode" | "autostring" | "char" | "nvarchar" => Some(
                ColumnType::normalized(&lower, int_arg("length", 0).into_iter().collect()),
            ),
            "float" => Some(ColumnType::normalized(
                if int_arg("precision", 0).is_some_and(|p| p <= 24) {
                    "real"
                } else {
                    "double precision"
                },
                Vec::new(),
            )),
            "identity" | "computed" | "foreignkey" | "sequence" => None,
            _ => Some(ColumnType::normalized(&lower, Vec::new())),
        }
    }

    /// `server_default=`: a string is a quoted constant; `sa.text(...)` and `sa.func.*()` are SQL.
    pub fn server_default(&self, expr: &Expr) -> Option<DefaultExpr> {
        match expr {
            Expr::NoneLiteral(_) => None,
            Expr::StringLiteral(literal) => Some(DefaultExpr::from_sql(&format!(
                "'{}'",
                literal.value.to_str()
            ))),
            Expr::Call(call) => {
                let callee = dotted(&call.func).unwrap_or_default();
                if let Some(constant @ ("false" | "true" | "false_" | "true_" | "null")) =
                    callee_name(call)
                {
                    Some(DefaultExpr::from_sql(constant.trim_end_matches('_')))
                } else if callee.contains("func.") {
                    let function = callee.rsplit('.').next().unwrap_or_default();
                    Some(DefaultExpr::from_sql(&format!("{function}()")))
                } else if let Some(text) = self.string(expr) {
                    Some(DefaultExpr::from_sql(&text))
                } else {
                    Some(DefaultExpr::from_python(self.text(expr)))
                }
            }
            other => Some(DefaultExpr::from_python(self.text(other))),
        }
    }

    /// `sa.Column("name", sa.Type(), sa.ForeignKey(...), nullable=False, ...)`.
    pub fn column(&self, call: &ExprCall) -> Option<Column> {
        if callee_name(call) != Some("Column") {
            return None;
        }
        let args = &call.arguments.args;
        let name = self.string(args.first()?)?;
        let mut ty = None;
        let mut column = Column::new(name, ColumnType::normalized("unknown", Vec::new()));
        for arg in args.iter().skip(1) {
            let callee = as_call(arg).and_then(callee_name);
            match callee {
                Some("ForeignKey") => {
                    let target = as_call(arg)
                        .and_then(|c| c.arguments.args.first())
                        .and_then(|e| self.string(e));
                    column.references = target.map(|t| {
                        t.rsplit_once('.')
                            .map_or(t.clone(), |(table, _)| table.to_string())
                    });
                }
                Some("CheckConstraint") => {
                    if let Some(check) = as_call(arg) {
                        let expression = check
                            .arguments
                            .find_argument_value("sqltext", 0)
                            .map(|e| self.string(e).unwrap_or_else(|| self.text(e).to_string()))
                            .unwrap_or_default();
                        let name = check
                            .arguments
                            .find_keyword("name")
                            .and_then(|k| self.string(&k.value));
                        column.checks.push((name, expression));
                    }
                }
                Some("Identity") => column.identity = true,
                Some("Computed") => column.generated_stored = true,
                Some("Sequence") => column.identity = true,
                _ if ty.is_none() => ty = self.column_type(arg),
                _ => {}
            }
        }
        let kw = |key: &str| call.arguments.find_keyword(key).map(|k| &k.value);
        if let Some(t) = kw("type_").and_then(|e| self.column_type(e)) {
            ty = Some(t);
        }
        column.ty = ty?;
        column.primary_key = kw("primary_key").is_some_and(is_true);
        column.nullable = match kw("nullable") {
            Some(value) => !is_false(value),
            None => !column.primary_key,
        };
        column.unique = kw("unique").is_some_and(is_true);
        column.indexed = kw("index").is_some_and(is_true);
        column.server_default = kw("server_default").and_then(|e| self.server_default(e));
        let autoincrement_off = kw("autoincrement").is_some_and(is_false);
        if column.primary_key
            && (column.ty.is_integer() || column.ty.is("bigint"))
            && !autoincrement_off
            && !column.identity
        {
            column.identity = true;
            column.serial = true;
        }
        if column.ty.is_serial() {
            column.identity = true;
            column.serial = true;
        }
        Some(column)
    }

    /// A table-level constraint object inside `op.create_table(...)`.
    pub fn table_constraint(&self, call: &ExprCall) -> Option<(Option<String>, ConstraintKind)> {
        let name_argument = call.arguments.find_keyword("name").map(|k| &k.value);
        let mut name = self.optional_name(name_argument)?;
        // `name=op.f(...)` is final: SQLAlchemy shortens it past 63 bytes (its first 55, `_`,
        // 4 hex digits of its MD5) before PostgreSQL sees it.
        if name_argument.is_some_and(|e| {
            as_call(e).is_some_and(|c| matches!(callee_name(c), Some("f" | "conv")))
        }) {
            name = name.map(|n| crate::model::naming::shortened(&n));
        }
        let positional = || {
            call.arguments
                .args
                .iter()
                .filter_map(|e| self.string(e))
                .collect::<Vec<_>>()
        };
        let kind = match callee_name(call)? {
            "PrimaryKeyConstraint" => ConstraintKind::PrimaryKey {
                columns: positional(),
            },
            "UniqueConstraint" => ConstraintKind::Unique {
                columns: positional(),
            },
            "CheckConstraint" => ConstraintKind::Check {
                expression: call
                    .arguments
                    .args
                    .first()
                    .and_then(|e| self.string(e))
                    .unwrap_or_default(),
            },
            "ForeignKeyConstraint" => {
                let columns = self.strings(call.arguments.args.first()?)?;
                let referenced = self.strings(call.arguments.args.get(1)?)?;
                let referenced_table = referenced
                    .first()
                    .and_then(|r| r.rsplit_once('.').map(|(t, _)| t.to_string()))
                    .unwrap_or_default();
                ConstraintKind::ForeignKey {
                    columns,
                    referenced_table,
                }
            }
            _ => return None,
        };
        Some((name, kind))
    }
}

pub fn is_true(expr: &Expr) -> bool {
    matches!(expr, Expr::BooleanLiteral(b) if b.value)
}

/// `sa.Enum(..., native_enum=False)`: SQLAlchemy stores the values in a VARCHAR and creates no
/// type in the database.
pub fn is_non_native_enum(call: &ExprCall) -> bool {
    call.arguments
        .find_keyword("native_enum")
        .is_some_and(|k| is_false(&k.value))
}

pub fn is_false(expr: &Expr) -> bool {
    matches!(expr, Expr::BooleanLiteral(b) if !b.value)
}

fn integer(expr: &Expr) -> Option<u32> {
    match expr {
        Expr::NumberLiteral(number) => match &number.value {
            Number::Int(int) => int.as_i64().and_then(|i| u32::try_from(i).ok()),
            _ => None,
        },
        _ => None,
    }
}
