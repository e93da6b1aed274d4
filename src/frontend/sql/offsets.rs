//! Byte offsets of tokens: sqlparser locates them by line and character column.

use sqlparser::tokenizer::TokenWithSpan;

use crate::model::source::line_starts;

/// Turns sqlparser's (line, column-in-characters) locations into byte offsets. Locations asked
/// in order are found by walking forward from the previous one, so a whole file costs one pass
/// even when it is a single megabyte-long line.
pub struct ByteOffsets<'s> {
    sql: &'s str,
    line_starts: Vec<usize>,
    /// The last answer: its line, column and byte offset.
    cursor: (u64, u64, usize),
}

impl<'s> ByteOffsets<'s> {
    pub fn new(sql: &'s str) -> Self {
        ByteOffsets {
            sql,
            line_starts: line_starts(sql),
            cursor: (1, 1, 0),
        }
    }

    pub fn at(&mut self, line: u64, column: u64) -> usize {
        let (cursor_line, cursor_column, cursor_byte) = self.cursor;
        let (mut byte, mut from_column) = if line == cursor_line && column >= cursor_column {
            (cursor_byte, cursor_column)
        } else {
            match self.line_starts.get((line as usize).saturating_sub(1)) {
                Some(&start) => (start, 1),
                None => return self.sql.len(),
            }
        };
        let mut rest = self.sql[byte..].chars();
        while from_column < column {
            match rest.next() {
                Some(c) => byte += c.len_utf8(),
                None => break,
            }
            from_column += 1;
        }
        self.cursor = (line, from_column, byte);
        byte
    }
}

pub fn token_offsets(sql: &str, tokens: &[TokenWithSpan]) -> Vec<usize> {
    let mut offsets = ByteOffsets::new(sql);
    tokens
        .iter()
        .map(|t| offsets.at(t.span.start.line, t.span.start.column))
        .collect()
}

pub fn byte_offset(sql: &str, line: u64, column: u64) -> usize {
    ByteOffsets::new(sql).at(line, column)
}
