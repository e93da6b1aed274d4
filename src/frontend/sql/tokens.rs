//! Token-level rewrites that let sqlparser read what PostgreSQL accepts and it does not.

use sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace};

use super::{is_trivia, is_word};

/// PostgreSQL joins string constants separated only by whitespace with at least one newline
/// (`'a'\n'b'` is `'ab'`, SQL's continuation rule); sqlparser does not, so they are joined here.
pub(super) fn with_continued_strings(tokens: &[TokenWithSpan]) -> Vec<TokenWithSpan> {
    let mut out: Vec<TokenWithSpan> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        if let Token::SingleQuotedString(first) = &token.token {
            let mut value = first.clone();
            let mut end = token.span.end;
            let mut next = i + 1;
            loop {
                let mut j = next;
                let mut newline = false;
                while let Some(Token::Whitespace(space)) = tokens.get(j).map(|t| &t.token) {
                    newline |= matches!(space, Whitespace::Newline);
                    j += 1;
                }
                match tokens.get(j) {
                    Some(TokenWithSpan {
                        token: Token::SingleQuotedString(more),
                        span,
                    }) if newline => {
                        value.push_str(more);
                        end = span.end;
                        next = j + 1;
                    }
                    _ => break,
                }
            }
            if next > i + 1 {
                out.push(TokenWithSpan::new(
                    Token::SingleQuotedString(value),
                    sqlparser::tokenizer::Span::new(token.span.start, end),
                ));
                i = next;
                continue;
            }
        }
        out.push(token.clone());
        i += 1;
    }
    out
}

/// The statement rewritten as sqlparser can read it, and whether it declared virtual generated
/// columns: PostgreSQL 18's `GENERATED ALWAYS AS (...) VIRTUAL` becomes `STORED` (the caller
/// clears the stored mark again) and a key's `WITHOUT OVERLAPS` is left out. `None` when the
/// statement has neither.
pub(super) fn without_newer_syntax(tokens: &[TokenWithSpan]) -> Option<(Vec<TokenWithSpan>, bool)> {
    let mut changed = false;
    let mut virtual_columns = false;
    let mut rewritten = Vec::with_capacity(tokens.len());
    let mut i = 0;
    // `CREATE MATERIALIZED VIEW / TABLE ... AS query WITH [NO] DATA`: whether it is filled now
    // changes nothing the rules read, and sqlparser stops before it.
    let meaningful: Vec<usize> = (0..tokens.len())
        .filter(|&k| !is_trivia(&tokens[k].token) && tokens[k].token != Token::SemiColon)
        .collect();
    let with_data = match meaningful.as_slice() {
        [.., with, no, data]
            if is_word(&tokens[*with].token, "WITH")
                && is_word(&tokens[*no].token, "NO")
                && is_word(&tokens[*data].token, "DATA") =>
        {
            Some(*with)
        }
        [.., with, data]
            if is_word(&tokens[*with].token, "WITH") && is_word(&tokens[*data].token, "DATA") =>
        {
            Some(*with)
        }
        _ => None,
    };
    let end = with_data.unwrap_or(tokens.len());
    changed |= with_data.is_some();
    while i < end {
        if is_word(&tokens[i].token, "WITHOUT")
            && let Some(overlaps) = (i + 1..tokens.len())
                .find(|&k| !is_trivia(&tokens[k].token))
                .filter(|&k| is_word(&tokens[k].token, "OVERLAPS"))
        {
            i = overlaps + 1;
            changed = true;
            continue;
        }
        let mut token = tokens[i].clone();
        if is_word(&token.token, "VIRTUAL") {
            token.token = Token::make_keyword("STORED");
            virtual_columns = true;
            changed = true;
        }
        rewritten.push(token);
        i += 1;
    }
    changed.then_some((rewritten, virtual_columns))
}
