//! Walks an `upgrade()` / `downgrade()` body and turns `op.*` calls into operations.

use std::collections::HashMap;

use ruff_python_ast::{Expr, ExprCall, Stmt};
use ruff_text_size::Ranged;

use crate::model::op::{BatchRecreate, NameOrigin};
use crate::model::{FileId, Op, OpKind, Span};

use super::dialect;
use super::exprs::{Reader, as_call, callee_name, is_non_native_enum};

mod calls;
mod core_dml;
mod execute;
pub mod models;

/// An enum type object assigned to a variable, created or dropped with `.create(bind)`.
struct EnumObject {
    name: String,
    values: Vec<String>,
}

pub struct Walker<'r, 'a> {
    reader: &'r Reader<'a>,
    file: FileId,
    pub ops: Vec<Op>,
    /// `with op.batch_alter_table("t") as batch_op:` scopes: alias → table, and where the
    /// `with` statement can be edited.
    batches: Vec<(String, String, Option<crate::model::edit_site::EditSite>)>,
    autocommit_depth: usize,
    pub autocommit_block: Option<Span>,
    /// Variables holding `op.get_bind()` (or a connection from it).
    binds: Vec<String>,
    enums: HashMap<String, EnumObject>,
    /// Local variables holding SQL: `sql = "UPDATE ..."` / `sql = sa.text("...")`.
    sql_locals: HashMap<String, ruff_python_ast::ExprStringLiteral>,
    /// Local variables holding a list or tuple literal, as `*args` of an `op.*` call passes
    /// them (`args = ["t", sa.Column(...)]`, `op.create_table(*args)`). Items appended later
    /// are not read; the ones written are still passed.
    list_locals: HashMap<String, &'a [Expr]>,
    /// Local variables holding a SQLAlchemy Core table: `t = sa.table("users", ...)` → `users`.
    core_tables: HashMap<String, String>,
    /// The module's helper functions being read, innermost last (no recursion into one twice).
    helpers_entered: Vec<String>,
    /// How the `op.*` call being read names its index or constraint.
    name_origin: NameOrigin,
    /// Inside an autocommit block, an explicit `op.execute("BEGIN")` opened a transaction block
    /// that no `COMMIT` / `ROLLBACK` has closed yet: the statements between run in it.
    explicit_transaction: bool,
    /// An explicit `op.execute("COMMIT")` ended Alembic's transaction: psycopg2 starts no new
    /// one, so what follows runs statement by statement (psycopg 3 would begin one again; the
    /// COMMIT itself is `transaction-control-in-migration`'s finding).
    left_transaction: bool,
    /// Declarative classes defined in the body read so far: class name → table.
    models: Vec<(String, String)>,
    /// A branch that runs on PostgreSQL returned (`if dialect == "postgresql": return`): the
    /// rest of the function does not run there.
    returned_on_postgres: bool,
    /// A test on the database's dialect was read: the revision is written to run on others too.
    pub branches_on_dialect: bool,
    /// The expression statement being read, when it is one: an `op.*` call written as one
    /// can be edited by a fix.
    statement: Option<ruff_text_size::TextRange>,
    /// Where the call being read can be edited, for the operations it makes.
    edit: Option<crate::model::edit_site::EditSite>,
}

impl<'r, 'a> Walker<'r, 'a> {
    pub fn new(reader: &'r Reader<'a>, file: FileId) -> Self {
        Walker {
            reader,
            file,
            ops: Vec::new(),
            batches: Vec::new(),
            autocommit_depth: 0,
            autocommit_block: None,
            binds: Vec::new(),
            enums: HashMap::new(),
            sql_locals: HashMap::new(),
            list_locals: HashMap::new(),
            core_tables: HashMap::new(),
            helpers_entered: Vec::new(),
            name_origin: NameOrigin::AsWritten,
            returned_on_postgres: false,
            models: Vec::new(),
            explicit_transaction: false,
            left_transaction: false,
            branches_on_dialect: false,
            statement: None,
            edit: None,
        }
    }

    fn span(&self, node: &impl Ranged) -> Span {
        Span::new(
            self.file,
            node.range().start().to_usize()..node.range().end().to_usize(),
        )
    }

    fn push(&mut self, mut kind: OpKind, span: Span) {
        let in_transaction = !self.outside_transaction() || self.explicit_transaction;
        // `op.f("...")` past 63 bytes reaches PostgreSQL shortened by SQLAlchemy.
        if self.name_origin == NameOrigin::Final {
            crate::model::naming::shorten_final_name(&mut kind);
        }
        self.ops.push(Op {
            kind,
            span,
            in_transaction,
            name_origin: self.name_origin,
            edit: self.edit.clone(),
        });
    }

    /// Where `call` can be edited: only when it is the whole expression statement being read.
    fn edit_site(
        &self,
        call: &ExprCall,
        method: &str,
        on_op: bool,
    ) -> Option<crate::model::edit_site::EditSite> {
        let statement = self.statement?;
        if statement != call.range() {
            return None;
        }
        super::edit_sites::call_statement(self.reader.source, statement, call, method, on_op)
    }

    /// Statements run outside Alembic's transaction: in an autocommit block, or after an
    /// explicit COMMIT ended it.
    pub(super) fn outside_transaction(&self) -> bool {
        self.autocommit_depth > 0 || self.left_transaction
    }

    pub fn walk(&mut self, body: &'a [Stmt]) {
        for stmt in body {
            if self.returned_on_postgres {
                break;
            }
            self.statement(stmt);
        }
    }

    /// Reads a function's body (the revision's, or a helper's it calls): a return inside it
    /// ends that function only.
    pub fn walk_function(&mut self, body: &'a [Stmt]) {
        // The function's own assignments are its locals: gone when it returns.
        let outer = self.reader.local_values.borrow().clone();
        let outer_lists = self.list_locals.clone();
        self.walk(body);
        *self.reader.local_values.borrow_mut() = outer;
        self.list_locals = outer_lists;
        self.returned_on_postgres = false;
    }

    fn statement(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::ClassDef(class) => {
                if let Some(table) = models::table_of(class, self.reader) {
                    self.models.push((class.name.to_string(), table));
                }
            }
            Stmt::Expr(expr) => {
                let outer = self.statement.replace(expr.range);
                self.expression(&expr.value);
                self.statement = outer;
            }
            Stmt::Assign(assign) => {
                if let [Expr::Name(target)] = assign.targets.as_slice() {
                    self.remember(target.id.as_str(), &assign.value);
                    match assign.value.as_ref() {
                        Expr::List(list) => {
                            self.list_locals.insert(target.id.to_string(), &list.elts)
                        }
                        Expr::Tuple(tuple) => {
                            self.list_locals.insert(target.id.to_string(), &tuple.elts)
                        }
                        _ => self.list_locals.remove(target.id.as_str()),
                    };
                    // `upgrade = False`, `table = "users"`: a local whose value is known from
                    // here on (a flag passed to helpers, a name in an f-string); anything
                    // else hides a module constant of the same name, as Python scoping does.
                    let known = matches!(
                        assign.value.as_ref(),
                        Expr::BooleanLiteral(_)
                            | Expr::NoneLiteral(_)
                            | Expr::StringLiteral(_)
                            | Expr::NumberLiteral(_)
                    )
                    .then_some(assign.value.as_ref());
                    self.reader
                        .local_values
                        .borrow_mut()
                        .insert(target.id.to_string(), known);
                }
                self.expression(&assign.value);
            }
            Stmt::With(with) => {
                let mut scopes = 0;
                let mut autocommit = false;
                for item in &with.items {
                    let Some(call) = as_call(&item.context_expr) else {
                        continue;
                    };
                    match callee_name(call) {
                        Some("batch_alter_table") => {
                            if let Some(table) = call
                                .arguments
                                .find_argument_value("table_name", 0)
                                .and_then(|e| self.reader.string(e))
                            {
                                let schema = call
                                    .arguments
                                    .find_keyword("schema")
                                    .and_then(|k| self.reader.string(&k.value));
                                let table =
                                    crate::frontend::python_models::in_schema(schema, table);
                                let alias = match item.optional_vars.as_deref() {
                                    Some(Expr::Name(name)) => name.id.as_str().to_string(),
                                    _ => String::new(),
                                };
                                let recreate = match call
                                    .arguments
                                    .find_keyword("recreate")
                                    .and_then(|k| self.reader.string(&k.value))
                                    .as_deref()
                                {
                                    Some("always") => BatchRecreate::Always,
                                    Some("never") => BatchRecreate::Never,
                                    _ => BatchRecreate::Auto,
                                };
                                self.push(
                                    OpKind::BatchTable {
                                        table: table.clone(),
                                        recreate,
                                    },
                                    self.span(call),
                                );
                                let block =
                                    super::edit_sites::with_statement(self.reader.source, with);
                                self.batches.push((alias, table, block));
                                scopes += 1;
                            }
                        }
                        Some("autocommit_block") => {
                            autocommit = true;
                            self.autocommit_block.get_or_insert(self.span(call));
                        }
                        Some("begin" | "connect") => {
                            if let Some(Expr::Name(name)) = item.optional_vars.as_deref() {
                                self.binds.push(name.id.as_str().to_string());
                            }
                        }
                        _ => {}
                    }
                }
                if autocommit {
                    self.autocommit_depth += 1;
                }
                self.walk(&with.body);
                if autocommit {
                    self.autocommit_depth -= 1;
                    // Alembic begins its transaction again after the block.
                    self.left_transaction = false;
                }
                for _ in 0..scopes {
                    self.batches.pop();
                }
            }
            Stmt::If(branch) => {
                // Branches on the database: only what runs on PostgreSQL is read. A test that
                // is not about the database may go either way, so its body is read.
                let clauses = std::iter::once((Some(branch.test.as_ref()), &branch.body)).chain(
                    branch
                        .elif_else_clauses
                        .iter()
                        .map(|c| (c.test.as_ref(), &c.body)),
                );
                for (test, body) in clauses {
                    // A test on a value known here (a helper's `upgrade=False` argument, a
                    // module constant) decides like a test on the database does.
                    let decided = test.and_then(|t| {
                        self.known_truth(t).or_else(|| {
                            let on_postgres = dialect::holds_on_postgres(t, self.reader);
                            self.branches_on_dialect |= on_postgres.is_some();
                            on_postgres
                        })
                    });
                    match decided {
                        Some(true) => {
                            self.walk(body);
                            // What follows the branch runs on other databases only.
                            if matches!(body.last(), Some(Stmt::Return(_) | Stmt::Raise(_))) {
                                self.returned_on_postgres = true;
                            }
                            break;
                        }
                        Some(false) => {}
                        None => self.walk(body),
                    }
                }
            }
            Stmt::For(r#loop) => {
                match self.literal_iterations(&r#loop.target, &r#loop.iter) {
                    Some(iterations) => {
                        for bindings in iterations {
                            let bindings = bindings
                                .into_iter()
                                .map(|(name, value)| (name, self.reader.bound_value(value)))
                                .collect();
                            self.with_bindings(bindings, |walker| walker.walk(&r#loop.body));
                        }
                    }
                    None => {
                        // Unknown values: the variables hide any constant of the same name.
                        let mut names = Vec::new();
                        loop_variables(&r#loop.target, &mut names);
                        let bindings = names.into_iter().map(|n| (n, None)).collect();
                        self.with_bindings(bindings, |walker| walker.walk(&r#loop.body));
                    }
                }
                self.walk(&r#loop.orelse);
            }
            Stmt::While(r#loop) => self.walk(&r#loop.body),
            Stmt::Try(r#try) => {
                self.walk(&r#try.body);
                self.walk(&r#try.orelse);
                self.walk(&r#try.finalbody);
            }
            _ => {}
        }
    }

    /// A call to one of the module's own functions is read as if its body were written here,
    /// its parameters bound to the call's arguments: `_add_index("users")`.
    /// The truth of a test whose value is known while reading: a name bound to `True`,
    /// `False` or `None` (a helper's argument, a module constant), or `not` of one.
    fn known_truth(&self, test: &Expr) -> Option<bool> {
        match test {
            Expr::UnaryOp(unary) if unary.op == ruff_python_ast::UnaryOp::Not => {
                self.known_truth(&unary.operand).map(|b| !b)
            }
            Expr::Name(name) => {
                let bound = self
                    .reader
                    .local_values
                    .borrow()
                    .get(name.id.as_str())
                    .copied();
                let value = match bound {
                    Some(value) => value?,
                    None => *self.reader.constants.get(name.id.as_str())?,
                };
                match value {
                    Expr::BooleanLiteral(literal) => Some(literal.value),
                    Expr::NoneLiteral(_) => Some(false),
                    _ => None,
                }
            }
            Expr::BooleanLiteral(literal) => Some(literal.value),
            _ => None,
        }
    }

    fn helper_call(&mut self, name: &str, call: &'a ExprCall) {
        let Some(function) = self.reader.helpers.get(name).copied() else {
            return;
        };
        if self.helpers_entered.iter().any(|h| h == name) || self.helpers_entered.len() >= 4 {
            return;
        }
        let parameters = &function.parameters;
        let mut bindings: Vec<(String, Option<&'a Expr>)> = Vec::new();
        for (position, parameter) in parameters
            .posonlyargs
            .iter()
            .chain(&parameters.args)
            .chain(&parameters.kwonlyargs)
            .enumerate()
        {
            let name = parameter.parameter.name.as_str();
            let value = call
                .arguments
                .find_argument_value(name, position)
                .or(parameter.default.as_deref());
            bindings.push((
                name.to_string(),
                value.and_then(|v| self.reader.bound_value(v)),
            ));
        }
        self.helpers_entered.push(name.to_string());
        self.with_bindings(bindings, |walker| walker.walk_function(&function.body));
        self.helpers_entered.pop();
    }

    /// Reads with local names bound, then restores what they were before.
    fn with_bindings(
        &mut self,
        bindings: Vec<(String, Option<&'a Expr>)>,
        read: impl FnOnce(&mut Self),
    ) {
        let previous: Vec<(String, Option<Option<&'a Expr>>)> = bindings
            .into_iter()
            .map(|(name, value)| {
                let before = self
                    .reader
                    .local_values
                    .borrow_mut()
                    .insert(name.clone(), value);
                (name, before)
            })
            .collect();
        read(self);
        let mut values = self.reader.local_values.borrow_mut();
        for (name, before) in previous.into_iter().rev() {
            match before {
                Some(value) => values.insert(name, value),
                None => values.remove(&name),
            };
        }
    }

    /// For a loop over a literal list or tuple (or a module constant holding one), the values
    /// its variables take on each pass: `for table in ("a", "b")`,
    /// `for table, column in [("a", "x"), ("b", "y")]`.
    fn literal_iterations(
        &self,
        target: &'a Expr,
        iter: &'a Expr,
    ) -> Option<Vec<Vec<(String, &'a Expr)>>> {
        let items = |expr: &'a Expr| -> Option<&'a [Expr]> {
            match expr {
                Expr::List(list) => Some(&list.elts),
                Expr::Tuple(tuple) => Some(&tuple.elts),
                _ => None,
            }
        };
        let iter = match iter {
            Expr::Name(name) => *self.reader.constants.get(name.id.as_str())?,
            other => other,
        };
        let names = |expr: &Expr| -> Option<Vec<String>> {
            match expr {
                Expr::Name(name) => Some(vec![name.id.as_str().to_string()]),
                Expr::Tuple(tuple) => tuple
                    .elts
                    .iter()
                    .map(|e| match e {
                        Expr::Name(name) => Some(name.id.as_str().to_string()),
                        _ => None,
                    })
                    .collect(),
                _ => None,
            }
        };
        let targets = names(target)?;
        items(iter)?
            .iter()
            .map(|item| {
                if let [single] = targets.as_slice() {
                    return Some(vec![(single.clone(), item)]);
                }
                let values = items(item)?;
                (values.len() == targets.len())
                    .then(|| targets.iter().cloned().zip(values.iter()).collect())
            })
            .collect()
    }

    /// A call's positional arguments with each `*name` of a local list literal spread out.
    pub(super) fn positional<'c>(&self, call: &'c ExprCall) -> Vec<&'c Expr>
    where
        'a: 'c,
    {
        let mut spread = Vec::new();
        for arg in call.arguments.args.iter() {
            match arg {
                Expr::Starred(starred) => match starred.value.as_ref() {
                    Expr::Name(name) => match self.list_locals.get(name.id.as_str()) {
                        Some(items) => spread.extend(items.iter()),
                        None => spread.push(arg),
                    },
                    _ => spread.push(arg),
                },
                other => spread.push(other),
            }
        }
        spread
    }

    /// The module's own assignments, seen before its functions run: an enum
    /// (`kind = sa.Enum(..., name="kind")`, then `kind.create(op.get_bind())`), a Core table
    /// or a SQL string defined once for both phases.
    pub fn remember_module<'e>(&mut self, assignments: impl Iterator<Item = (&'e str, &'e Expr)>) {
        for (variable, value) in assignments {
            self.remember(variable, value);
        }
    }

    fn remember(&mut self, variable: &str, value: &Expr) {
        self.remember_core_table(variable, value);
        match self.sql_literal(value) {
            Some(literal) => self.sql_locals.insert(variable.to_string(), literal),
            None => self.sql_locals.remove(variable),
        };
        let Some(call) = as_call(value) else { return };
        // An ORM session on the migration's connection runs its SQL there too.
        if self.session_on_bind(call) {
            self.binds.push(variable.to_string());
            return;
        }
        match callee_name(call) {
            Some("get_bind" | "connect" | "begin") => self.binds.push(variable.to_string()),
            // A non-native enum is a VARCHAR: `.create()` / `.drop()` make no type.
            Some("Enum" | "ENUM") if !is_non_native_enum(call) => {
                if let Some(name) = call
                    .arguments
                    .find_keyword("name")
                    .and_then(|k| self.reader.string(&k.value))
                {
                    let values = call
                        .arguments
                        .args
                        .iter()
                        .filter_map(|e| self.reader.string(e))
                        .collect();
                    self.enums
                        .insert(variable.to_string(), EnumObject { name, values });
                }
            }
            _ => {}
        }
    }

    /// `Session(bind=op.get_bind())`, `sessionmaker(bind=bind)()`: a session whose
    /// `execute` sends SQL on the migration's connection.
    fn session_on_bind(&self, call: &ExprCall) -> bool {
        let on_bind = |call: &ExprCall| {
            call.arguments
                .find_argument_value("bind", 0)
                .is_some_and(|bind| match bind {
                    Expr::Call(inner) => matches!(callee_name(inner), Some("get_bind" | "connect")),
                    Expr::Name(name) => self.binds.iter().any(|b| b == name.id.as_str()),
                    _ => false,
                })
        };
        match call.func.as_ref() {
            Expr::Call(maker) => callee_name(maker) == Some("sessionmaker") && on_bind(maker),
            _ => callee_name(call) == Some("Session") && on_bind(call),
        }
    }

    fn expression(&mut self, expr: &'a Expr) {
        let Some(call) = as_call(expr) else { return };
        if let Expr::Name(function) = call.func.as_ref() {
            // `from alembic.op import add_column`: `add_column(...)` is `op.add_column(...)`.
            if let Some(method) = self.reader.op_functions.get(function.id.as_str()) {
                let span = self.span(call);
                self.edit = self.edit_site(call, method, true);
                for kind in self.op_call(method, call, None) {
                    self.push(kind, span);
                }
                self.edit = None;
                self.name_origin = NameOrigin::AsWritten;
                return;
            }
            self.helper_call(function.id.as_str(), call);
            return;
        }
        let Expr::Attribute(attr) = call.func.as_ref() else {
            return;
        };
        let method = attr.attr.as_str();
        let receiver = attr.value.as_ref();
        let span = self.span(call);
        match receiver {
            Expr::Name(name) if name.id.as_str() == "op" => {
                self.edit = self.edit_site(call, method, true);
                for kind in self.op_call(method, call, None) {
                    self.push(kind, span);
                }
                self.edit = None;
                self.name_origin = NameOrigin::AsWritten;
            }
            Expr::Name(name)
                if self
                    .batches
                    .iter()
                    .any(|(alias, _, _)| alias == name.id.as_str()) =>
            {
                let (table, block) = self
                    .batches
                    .iter()
                    .rev()
                    .find(|(alias, _, _)| alias == name.id.as_str())
                    .map(|(_, t, block)| (t.clone(), block.clone()))
                    .unzip();
                self.edit = self.edit_site(call, method, false).map(|mut site| {
                    site.batch_block = block.flatten().map(Box::new);
                    site
                });
                for kind in self.op_call(method, call, table.as_deref()) {
                    self.push(kind, span);
                }
                self.edit = None;
                self.name_origin = NameOrigin::AsWritten;
            }
            Expr::Name(name)
                if method == "execute" && self.binds.iter().any(|b| b == name.id.as_str()) =>
            {
                self.execute(call);
            }
            Expr::Call(inner)
                if method == "execute"
                    && matches!(callee_name(inner), Some("get_bind" | "connect")) =>
            {
                self.execute(call);
            }
            // `Base.metadata.create_all(bind)`, `metadata.create_all(bind=...)`.
            _ if method == "create_all" => self.push(OpKind::CreateModelTables, span),
            Expr::Attribute(_) if matches!(method, "create" | "drop") => {
                if let Some(kind) = self.model_table_call(method, receiver) {
                    self.push(kind, span);
                }
            }
            Expr::Name(name) if matches!(method, "create" | "drop") => {
                if let Some(object) = self.enums.get(name.id.as_str()) {
                    let kind = enum_lifecycle(method, object.name.clone(), object.values.clone());
                    self.push(kind, span);
                }
            }
            Expr::Call(inner)
                if matches!(method, "create" | "drop")
                    && matches!(callee_name(inner), Some("Enum" | "ENUM")) =>
            {
                let name = inner
                    .arguments
                    .find_keyword("name")
                    .and_then(|k| self.reader.string(&k.value));
                if let Some(name) = name {
                    let values = inner
                        .arguments
                        .args
                        .iter()
                        .filter_map(|e| self.reader.string(e))
                        .collect();
                    self.push(enum_lifecycle(method, name, values), span);
                }
            }
            _ => {}
        }
    }
}

/// The names a `for` target binds: `table`, `(table, column)`.
fn loop_variables(target: &Expr, names: &mut Vec<String>) {
    match target {
        Expr::Name(name) => names.push(name.id.as_str().to_string()),
        Expr::Tuple(tuple) => tuple.elts.iter().for_each(|e| loop_variables(e, names)),
        Expr::List(list) => list.elts.iter().for_each(|e| loop_variables(e, names)),
        _ => {}
    }
}

fn enum_lifecycle(method: &str, name: String, values: Vec<String>) -> OpKind {
    if method == "create" {
        OpKind::CreateEnum { name, values }
    } else {
        OpKind::DropType { name }
    }
}
