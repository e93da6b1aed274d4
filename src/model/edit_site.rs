//! Where the text of an operation or a body can be changed, as the frontend that read it knows
//! it: a rule builds its fix from these positions and the model, never by reading text.

use std::ops::Range;

/// The statement an operation was written as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditSite {
    /// The whole statement, from its first character (after its indentation) to its end.
    pub statement: Range<usize>,
    /// The end of the statement's last line (after a trailing comment), before its line break:
    /// where a statement added after it goes.
    pub line_end: usize,
    /// The indentation of the statement's first line. The statement is alone on its lines (no
    /// other statement shares them), so it can be moved into a block.
    pub indent: String,
    /// Starts of the statement's later lines that are not inside a string literal: where a
    /// level of indentation goes when the statement moves into a block.
    pub continuation_lines: Vec<usize>,
    /// A Python call: where its arguments are and which keywords it was given.
    pub call: Option<CallSite>,
    /// SQL `CREATE [UNIQUE] INDEX` / `DROP INDEX`: just after the INDEX keyword, where
    /// `CONCURRENTLY` goes.
    pub index_keyword_end: Option<usize>,
    /// The `with op.batch_alter_table(...)` statement a `batch_op` call is in: a batch runs
    /// its operations when its block ends, so it is the whole block that can move.
    pub batch_block: Option<Box<EditSite>>,
}

/// The arguments of a Python call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSite {
    /// The operation called: `create_index` for `op.create_index(...)` and
    /// `batch_op.create_index(...)`.
    pub method: String,
    /// The end of the last argument, or just after `(` when there is none: a keyword
    /// argument added here needs a leading `, ` only when there are `arguments`.
    pub arguments_end: usize,
    /// The indentation of the last argument, when it starts a line of its own (a call written
    /// one argument per line): added keywords get lines of their own too.
    pub argument_indent: Option<String>,
    /// Each keyword argument written, with the range of its value.
    pub keywords: Vec<(String, Range<usize>)>,
    /// The range of each positional argument, in order.
    pub positional: Vec<Range<usize>>,
    /// Every argument (positional, `name=value`, `*args`), in source order, whole.
    pub arguments: Vec<Range<usize>>,
    /// Where the call's closing bracket is.
    pub close: usize,
    /// The call is written on one line (its statement starts and ends on the same line).
    pub one_line: bool,
    /// The arguments (positional, or keyword values) written as the literal `None`.
    pub none_literals: Vec<Range<usize>>,
    /// The call is `op.<method>(...)` (or an operation imported from `alembic.op`), not a
    /// `batch_op` method: it can move into an autocommit block.
    pub on_op: bool,
}

impl CallSite {
    /// The argument a parameter was given by: its keyword, else its position.
    pub fn argument(&self, keyword: &str, position: usize) -> Option<&Range<usize>> {
        self.keyword(keyword)
            .or_else(|| self.positional.get(position))
    }

    pub fn keyword(&self, name: &str) -> Option<&Range<usize>> {
        self.keywords
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, range)| range)
    }
}

/// Where statements can be added at the start of a body, before everything it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyStart {
    /// The start of the line of the body's first statement (after a Python docstring).
    pub line_start: usize,
    /// That statement's indentation.
    pub indent: String,
}
