//! A SQL text's statements: split on `;` with sqlparser's tokens the way PostgreSQL's scanner
//! and psql split them, or by PostgreSQL's scanner itself when sqlparser cannot tokenize the text.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use super::is_word;

/// One statement's tokens and its byte range in the SQL text.
pub(super) struct RawStatement<'t> {
    pub tokens: &'t [TokenWithSpan],
    pub range: std::ops::Range<usize>,
}

/// The statements of `sql` as PostgreSQL's scanner splits them, each with sqlparser's tokens
/// when its tokenizer takes the statement alone (none when it does not); empty when the scanner
/// refuses the text too.
pub(super) fn scanned_statements(sql: &str) -> Vec<(Vec<TokenWithSpan>, std::ops::Range<usize>)> {
    let Ok(pieces) = pg_query::split_with_scanner(sql) else {
        return Vec::new();
    };
    pieces
        .into_iter()
        .filter_map(|piece| {
            let trimmed = piece.trim();
            if trimmed.is_empty() {
                return None;
            }
            // The scanner's pieces are slices of `sql`.
            let start = trimmed.as_ptr() as usize - sql.as_ptr() as usize;
            let tokens = Tokenizer::new(&PostgreSqlDialect {}, trimmed)
                .tokenize_with_location()
                .map(|tokens| {
                    tokens
                        .into_iter()
                        .filter(|t| !matches!(t.token, Token::EOF))
                        .collect()
                })
                .unwrap_or_default();
            Some((tokens, start..start + trimmed.len()))
        })
        .collect()
}

pub(super) fn is_trivia(token: &Token) -> bool {
    matches!(token, Token::Whitespace(_) | Token::EOF)
}

pub(super) fn split_statements<'t>(
    sql: &str,
    tokens: &'t [TokenWithSpan],
    offsets: &[usize],
) -> Vec<RawStatement<'t>> {
    let mut statements = Vec::new();
    let mut start = 0;
    // A `;` inside parentheses (a rule's `DO INSTEAD (a; b)`) or inside a SQL-standard function
    // body (`BEGIN ATOMIC a; b; END`) does not end the statement, as PostgreSQL's scanner and
    // psql read it.
    let mut parentheses = 0usize;
    let mut atomic_blocks = 0usize;
    for i in 0..=tokens.len() {
        let at_end = i == tokens.len();
        if !at_end {
            match &tokens[i].token {
                Token::LParen => parentheses += 1,
                Token::RParen => parentheses = parentheses.saturating_sub(1),
                Token::Word(word) if word.quote_style.is_none() => {
                    if word.value.eq_ignore_ascii_case("ATOMIC")
                        && tokens[start..i]
                            .iter()
                            .rfind(|t| !is_trivia(&t.token))
                            .is_some_and(|t| is_word(&t.token, "BEGIN"))
                        || atomic_blocks > 0 && word.value.eq_ignore_ascii_case("CASE")
                    {
                        atomic_blocks += 1;
                    } else if atomic_blocks > 0 && word.value.eq_ignore_ascii_case("END") {
                        atomic_blocks -= 1;
                    }
                }
                _ => {}
            }
        }
        if !at_end && (tokens[i].token != Token::SemiColon || parentheses + atomic_blocks > 0) {
            continue;
        }
        let chunk = &tokens[start..i];
        let first = chunk.iter().position(|t| !is_trivia(&t.token));
        let last = chunk.iter().rposition(|t| !is_trivia(&t.token));
        if let (Some(first), Some(last)) = (first, last) {
            let begin = offsets[start + first];
            let end = offsets.get(start + last + 1).copied().unwrap_or(sql.len());
            statements.push(RawStatement {
                tokens: &tokens[start + first..=start + last],
                range: begin..end,
            });
        }
        start = i + 1;
    }
    statements
}
