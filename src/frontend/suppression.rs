//! Reads `migration-gate: ignore[rule-a, rule-b] reason` out of one comment's text.

use crate::model::{Span, Suppression};

const MARKER: &str = "migration-gate:";

/// `comment` is the comment's text without its `#` / `--` opener.
pub fn parse(comment: &str, line: usize, span: Span) -> Option<Suppression> {
    let rest = comment.trim_start_matches(['#', '-', ' ', '\t', '/', '*']);
    let rest = rest.strip_prefix(MARKER)?.trim_start();
    let (whole_file, rest) = if let Some(rest) = rest.strip_prefix("ignore-file[") {
        (true, rest)
    } else {
        (false, rest.strip_prefix("ignore[")?)
    };
    let close = rest.find(']')?;
    let rules = rest[..close]
        .split(',')
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect();
    let reason = rest[close + 1..].trim().trim_end_matches("*/").trim();
    Some(Suppression {
        rules,
        reason: (!reason.is_empty()).then(|| reason.to_string()),
        whole_file,
        line,
        span,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FileId;

    #[test]
    fn reads_rules_and_reason() {
        let span = Span::new(FileId(0), 0..1);
        let s = parse(
            "# migration-gate: ignore[drop-column, drop-table] cleanup after #412",
            3,
            span,
        )
        .unwrap();
        assert_eq!(s.rules, ["drop-column", "drop-table"]);
        assert_eq!(s.reason.as_deref(), Some("cleanup after #412"));
        assert!(!s.whole_file);
        assert!(
            parse(" migration-gate: ignore-file[dynamic-sql]", 1, span)
                .unwrap()
                .whole_file
        );
        assert!(parse("# just a comment", 1, span).is_none());
    }
}
