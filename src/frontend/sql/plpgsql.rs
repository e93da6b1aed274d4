//! The SQL inside an anonymous code block (`DO $$ ... $$`): PL/pgSQL's own words — BEGIN, IF ...
//! THEN, WHILE ... LOOP, EXCEPTION WHEN ... THEN, END, declarations, RAISE, assignments — are
//! blanked out in place, so what remains is the block's SQL statements at their own offsets, read
//! like any other SQL. `EXECUTE` of a computed string is SQL built at run time.

use std::ops::Range;

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

/// The body of a `DO` statement written in PL/pgSQL, and where it starts in `text` (the
/// statement's text). `None` for any other statement or language.
pub fn do_body<'t>(tokens: &[TokenWithSpan], text: &'t str) -> Option<(usize, &'t str)> {
    let words = significant(tokens);
    if !words.first().is_some_and(|t| super::is_word(t, "DO")) {
        return None;
    }
    // A DO block is PL/pgSQL unless it names another language.
    if language(&words).is_some_and(|l| l != "plpgsql") {
        return None;
    }
    dollar_quoted_body(&words, text)
}

/// `CREATE [OR REPLACE] FUNCTION | PROCEDURE name(...) ... LANGUAGE plpgsql AS $$ body $$`: the
/// routine's name (its last part, folded as PostgreSQL folds it), and its body, with where the
/// body starts in the statement's text. The body runs when the routine is called.
pub fn routine_body<'t>(
    tokens: &[TokenWithSpan],
    text: &'t str,
) -> Option<(String, usize, &'t str)> {
    let words = significant(tokens);
    let mut at = 0;
    if !words.get(at).is_some_and(|t| super::is_word(t, "CREATE")) {
        return None;
    }
    at += 1;
    if words.get(at).is_some_and(|t| super::is_word(t, "OR")) {
        at += 2;
    }
    if !words
        .get(at)
        .is_some_and(|t| super::is_word(t, "FUNCTION") || super::is_word(t, "PROCEDURE"))
    {
        return None;
    }
    // The name: the last word before the parameters' bracket.
    let name = words[at + 1..]
        .iter()
        .take_while(|t| !matches!(t, Token::LParen))
        .filter_map(|t| match t {
            Token::Word(word) => Some(folded(word)),
            _ => None,
        })
        .last()?;
    // A routine in another language (SQL, plpython) is not read here.
    if language(&words).as_deref() != Some("plpgsql") {
        return None;
    }
    let (at, body) = dollar_quoted_body(&words, text)?;
    Some((name, at, body))
}

/// Whether the statement runs the routine `name` now: a `SELECT` or `CALL` with `name(` in
/// it. (A trigger's `EXECUTE FUNCTION name()` runs it on later writes, not now.)
pub fn calls(tokens: &[TokenWithSpan], name: &str) -> bool {
    let words = significant(tokens);
    if !words
        .first()
        .is_some_and(|t| super::is_word(t, "SELECT") || super::is_word(t, "CALL"))
    {
        return false;
    }
    words.windows(2).any(|pair| match pair {
        [Token::Word(word), Token::LParen] => folded(word) == name,
        _ => false,
    })
}

fn significant(tokens: &[TokenWithSpan]) -> Vec<&Token> {
    tokens
        .iter()
        .map(|t| &t.token)
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect()
}

/// A word as PostgreSQL reads it: folded to lower case unless quoted.
fn folded(word: &sqlparser::tokenizer::Word) -> String {
    if word.quote_style.is_some() {
        word.value.clone()
    } else {
        word.value.to_ascii_lowercase()
    }
}

/// The language a statement's `LANGUAGE` clause names, lower-cased.
fn language(words: &[&Token]) -> Option<String> {
    words.windows(2).find_map(|pair| match pair {
        [Token::Word(keyword), Token::Word(name)]
            if keyword.value.eq_ignore_ascii_case("LANGUAGE") =>
        {
            Some(name.value.to_ascii_lowercase())
        }
        [Token::Word(keyword), Token::SingleQuotedString(name)]
            if keyword.value.eq_ignore_ascii_case("LANGUAGE") =>
        {
            Some(name.to_ascii_lowercase())
        }
        _ => None,
    })
}

/// The statement's dollar-quoted body (a DO's or a routine's), and where it starts in `text`.
fn dollar_quoted_body<'t>(words: &[&Token], text: &'t str) -> Option<(usize, &'t str)> {
    let body = words.iter().find_map(|t| match t {
        Token::DollarQuotedString(quoted) => Some(quoted),
        _ => None,
    })?;
    let delimiter = format!("${}$", body.tag.as_deref().unwrap_or_default());
    let start = text.find(&delimiter)? + delimiter.len();
    let end = start + body.value.len();
    (text.get(start..end) == Some(body.value.as_str())).then(|| (start, &text[start..end]))
}

/// The first token from `from` (up to `last`) that is not whitespace.
fn next_significant(tokens: &[TokenWithSpan], from: usize, last: usize) -> Option<usize> {
    (from..last).find(|&k| !matches!(tokens[k].token, Token::Whitespace(_) | Token::EOF))
}

/// The first unquoted `word` from `from` (up to `last`).
fn find_word(tokens: &[TokenWithSpan], from: usize, last: usize, word: &str) -> Option<usize> {
    (from..last).find(|&k| super::is_word(&tokens[k].token, word))
}

/// The block's text with everything but its SQL statements replaced by spaces, and the ranges
/// of `EXECUTE` statements (SQL built at run time). `None` when the block cannot be tokenized.
pub fn sql_statements(body: &str) -> Option<(String, Vec<Range<usize>>)> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, body)
        .tokenize_with_location()
        .ok()?;
    let offsets = super::token_offsets(body, &tokens);
    let mut blanked = body.as_bytes().to_vec();
    let mut dynamic = Vec::new();
    let blank = |range: Range<usize>, blanked: &mut Vec<u8>| {
        for byte in &mut blanked[range] {
            // Keep line breaks, so line numbers do not move; everything else becomes a space.
            if *byte != b'\n' {
                *byte = b' ';
            }
        }
    };
    // Chunks of tokens between semicolons, as (first token, one past the last).
    let mut chunks = Vec::new();
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        if token.token == Token::SemiColon {
            chunks.push((start, i + 1));
            start = i + 1;
        }
    }
    chunks.push((start, tokens.len()));
    let end_of = |i: usize| offsets.get(i).copied().unwrap_or(body.len());
    let mut in_declarations = false;
    let mut variables: Vec<String> = Vec::new();
    for (first, last) in chunks {
        let mut i = first;
        while let Some(at) = next_significant(&tokens, i, last) {
            let word = match &tokens[at].token {
                Token::Word(w) if w.quote_style.is_none() => w.value.to_ascii_uppercase(),
                _ => String::new(),
            };
            // A prefix that ends at a keyword: IF ... THEN, WHILE ... LOOP.
            let through = |keyword: &str| {
                let mut depth = 0i32;
                (at + 1..last).find(|&k| match &tokens[k].token {
                    Token::LParen => {
                        depth += 1;
                        false
                    }
                    Token::RParen => {
                        depth -= 1;
                        false
                    }
                    token => depth == 0 && super::is_word(token, keyword),
                })
            };
            if in_declarations {
                // `DECLARE name type;` / `name type;`: the name is a variable from now on.
                let name_at = if word == "DECLARE" {
                    next_significant(&tokens, at + 1, last)
                } else {
                    Some(at)
                };
                if let Some(Token::Word(name)) = name_at.map(|k| &tokens[k].token)
                    && !name.value.eq_ignore_ascii_case("BEGIN")
                {
                    variables.push(name.value.to_ascii_lowercase());
                }
                match find_word(&tokens, at, last, "BEGIN") {
                    Some(begin) => {
                        blank(end_of(at)..end_of(begin + 1), &mut blanked);
                        in_declarations = false;
                        i = begin + 1;
                        continue;
                    }
                    None => {
                        blank(end_of(at)..end_of(last), &mut blanked);
                        break;
                    }
                }
            }
            let prefix_end = match word.as_str() {
                "BEGIN" | "LOOP" | "ELSE" => Some(at + 1),
                "DECLARE" => {
                    in_declarations = true;
                    continue;
                }
                "IF" | "ELSIF" | "ELSEIF" | "WHEN" | "EXCEPTION" => through("THEN").map(|k| k + 1),
                "WHILE" | "FOR" | "FOREACH" => through("LOOP").map(|k| k + 1),
                _ => None,
            };
            if let Some(prefix_end) = prefix_end {
                blank(end_of(at)..end_of(prefix_end), &mut blanked);
                i = prefix_end;
                continue;
            }
            // `n := 1` or `n = 1`: a variable, which no SQL statement starts with.
            let names_a_variable = matches!(&tokens[at].token, Token::Word(w)
                if w.keyword == sqlparser::keywords::Keyword::NoKeyword
                    || variables.contains(&w.value.to_ascii_lowercase()));
            let is_assignment = names_a_variable
                && next_significant(&tokens, at + 1, last)
                    .is_some_and(|k| matches!(tokens[k].token, Token::Assignment | Token::Eq));
            let control = matches!(
                word.as_str(),
                "END"
                    | "RAISE"
                    | "RETURN"
                    | "NULL"
                    | "PERFORM"
                    | "EXIT"
                    | "CONTINUE"
                    | "GET"
                    | "ASSERT"
                    | "OPEN"
                    | "CLOSE"
                    | "FETCH"
            );
            // `... RETURNING id INTO new_id`: the INTO target is the block's variable.
            if let Some(returning) = find_word(&tokens, at, last, "RETURNING")
                && let Some(into) = find_word(&tokens, returning, last, "INTO")
            {
                let semicolon = if tokens[last - 1].token == Token::SemiColon {
                    last - 1
                } else {
                    last
                };
                blank(end_of(into)..end_of(semicolon), &mut blanked);
            }
            // `SELECT a INTO n FROM t`: in PL/pgSQL the INTO target is the block's variable,
            // not a table `SELECT ... INTO` would create.
            if word == "SELECT"
                && let Some(into) = find_word(&tokens, at, last, "INTO")
            {
                let end = if tokens[last - 1].token == Token::SemiColon {
                    last - 1
                } else {
                    last
                };
                let until = find_word(&tokens, into, last, "FROM").unwrap_or(end);
                blank(end_of(into)..end_of(until), &mut blanked);
            }
            if word == "EXECUTE" {
                dynamic.push(end_of(at)..end_of(last));
                blank(end_of(at)..end_of(last), &mut blanked);
            } else if control || is_assignment {
                blank(end_of(at)..end_of(last), &mut blanked);
            }
            break;
        }
    }
    Some((String::from_utf8(blanked).ok()?, dynamic))
}

#[cfg(test)]
mod tests {
    use super::sql_statements;

    #[test]
    fn control_words_are_blanked_and_statements_stay_in_place() {
        let body = "\nDECLARE n int;\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'mood') THEN\n    CREATE TYPE mood AS ENUM ('ok');\n  END IF;\n  n := 1;\n  EXECUTE format('ALTER TABLE %I ADD COLUMN x int', 't');\nEXCEPTION WHEN duplicate_object THEN NULL;\nEND\n";
        let (sql, dynamic) = sql_statements(body).unwrap();
        assert_eq!(sql.len(), body.len());
        let statement = sql.trim();
        assert!(
            statement.starts_with("CREATE TYPE mood AS ENUM ('ok');"),
            "{sql:?}"
        );
        assert_eq!(sql.find("CREATE TYPE"), body.find("CREATE TYPE"));
        assert!(!sql.contains("END") && !sql.contains("IF") && !sql.contains(":="));
        assert_eq!(dynamic.len(), 1);
        assert!(body[dynamic[0].clone()].starts_with("EXECUTE format"));
    }

    #[test]
    fn loops_keep_their_statements() {
        let body = " BEGIN WHILE EXISTS (SELECT 1 FROM t WHERE a > 1) LOOP UPDATE t SET a = a - 1 WHERE a > 1; END LOOP; END ";
        let (sql, _) = sql_statements(body).unwrap();
        assert_eq!(sql.trim(), "UPDATE t SET a = a - 1 WHERE a > 1;");
    }
}
