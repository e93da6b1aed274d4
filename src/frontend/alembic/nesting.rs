//! A budget on how deeply Python code nests, checked on tokens before anything is parsed.
//!
//! Parsing and walking an expression costs stack and memory in proportion to its depth:
//! a megabyte of unary minus is a million nested nodes. No real revision comes close to the
//! budget (CPython itself refuses 200 nested brackets), so a file over it is reported as
//! unreadable instead of being parsed.

use ruff_python_ast::ModModule;
use ruff_python_ast::token::TokenKind;
use ruff_python_parser::lexer::lex;
use ruff_python_parser::{Mode, Parsed};

/// Brackets, indentation and operators chained without a separator, counted together.
pub const NESTING_BUDGET: usize = 1000;

/// Where the nesting went over the budget: the 1-based line, counted from newline tokens (a
/// multi-line string before it shifts it).
pub struct TooDeep {
    pub line: usize,
}

/// A module parsed only for what it tells (env.py, the models it imports): `None` when it is
/// over the budget or not valid Python.
pub fn parse_within_budget(source: &str) -> Option<Parsed<ModModule>> {
    if check_nesting(source).is_some() {
        return None;
    }
    ruff_python_parser::parse_module(source).ok()
}

pub fn check_nesting(source: &str) -> Option<TooDeep> {
    let mut lexer = lex(source, Mode::Module);
    // One entry per open bracket (and one for the statement level): operators chained since
    // the last separator at that level, each of which nests the expression one node deeper.
    let mut chains: Vec<usize> = vec![0];
    let mut chained = 0usize;
    let mut indent = 0usize;
    let mut line = 1usize;
    loop {
        let kind = lexer.next_token();
        match kind {
            TokenKind::EndOfFile => return None,
            TokenKind::Newline | TokenKind::NonLogicalNewline => {
                line += 1;
                if kind == TokenKind::Newline {
                    chained -= std::mem::take(chains.last_mut().expect("statement level"));
                }
            }
            TokenKind::Indent => indent += 1,
            TokenKind::Dedent => indent = indent.saturating_sub(1),
            TokenKind::Lpar
            | TokenKind::Lsqb
            | TokenKind::Lbrace
            | TokenKind::FStringStart
            | TokenKind::TStringStart => chains.push(0),
            TokenKind::Rpar
            | TokenKind::Rsqb
            | TokenKind::Rbrace
            | TokenKind::FStringEnd
            | TokenKind::TStringEnd
                if chains.len() > 1 =>
            {
                chained -= chains.pop().unwrap_or_default();
            }
            TokenKind::Comma
            | TokenKind::Colon
            | TokenKind::Semi
            | TokenKind::Equal
            | TokenKind::ColonEqual => {
                chained -= std::mem::take(chains.last_mut().expect("a level"));
            }
            kind if kind.is_operator() || kind == TokenKind::Await || kind == TokenKind::Lambda => {
                *chains.last_mut().expect("a level") += 1;
                chained += 1;
            }
            _ => {}
        }
        if chains.len() + chained + indent > NESTING_BUDGET {
            return Some(TooDeep { line });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_code_is_within_the_budget() {
        let flat_list = format!("x = [{}]\n", "-1, ".repeat(50_000));
        let long_concatenation = format!("sql = {}'a'\n", "'a' + ".repeat(300));
        let many_statements = "op.execute('SELECT 1 + 2 + 3')\n".repeat(10_000);
        for source in [flat_list, long_concatenation, many_statements] {
            assert!(check_nesting(&source).is_none());
        }
    }

    #[test]
    fn deep_brackets_operators_and_unary_chains_are_over_it() {
        let unary = format!("x = 1\ny = {}1\n", "-".repeat(100_000));
        let brackets = format!("x = {}1{}\n", "(".repeat(5_000), ")".repeat(5_000));
        let chain = format!("x = 1{}\n", " + 1".repeat(5_000));
        let attributes = format!("x = a{}\n", ".b".repeat(5_000));
        for source in [unary, brackets, chain, attributes] {
            assert!(check_nesting(&source).is_some_and(|deep| deep.line <= 2));
        }
    }
}
