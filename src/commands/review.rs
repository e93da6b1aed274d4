//! Pull-request review comments with GitHub suggestion blocks: one per fixable finding of the
//! lint report, on the lines the fix changes, so that the author applies it with one click.
//! Upserted like the summary comment: each carries a hidden key (rule, file, line); a run
//! updates its own comments, posts new ones and deletes those whose finding is gone.

use serde_json::Value;

use super::comment::{Api, CommentError, fail};

/// Marks a review comment as ours; the key follows it.
const MARKER: &str = "<!-- migration-gate:suggestion";
/// At most this many suggestions per run: a pull request is reviewed by people.
pub const LIMIT: usize = 20;
/// A fix longer than this is not a one-click suggestion; the finding's help says what to do.
const MAX_LINES: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub key: String,
    /// The file, relative to the repository's root.
    pub path: String,
    pub start_line: usize,
    pub line: usize,
    pub body: String,
}

/// The suggestions of a lint JSON report (`check --format json=FILE`), in its order.
pub fn from_report(text: &str) -> Result<Vec<Suggestion>, CommentError> {
    let report: Value = serde_json::from_str(text).map_err(|e| {
        fail(format!(
            "the suggestions report is not migration-gate's JSON: {e}"
        ))
    })?;
    let diagnostics = report["diagnostics"]
        .as_array()
        .ok_or_else(|| fail("the suggestions report has no `diagnostics`"))?;
    let mut suggestions = Vec::new();
    for diagnostic in diagnostics {
        let fix = &diagnostic["fix"];
        let (Some(path), Some(start_line), Some(line), Some(replacement)) = (
            fix["path"].as_str(),
            fix["lines"]["start_line"].as_u64(),
            fix["lines"]["end_line"].as_u64(),
            fix["lines"]["text"].as_str(),
        ) else {
            continue;
        };
        if line - start_line >= MAX_LINES as u64 {
            continue;
        }
        let path = crate::report::repository_path(path);
        let rule = diagnostic["rule"].as_str().unwrap_or_default();
        let key = format!("{rule} {path}:{start_line}");
        if suggestions.iter().any(|s: &Suggestion| s.key == key) {
            continue;
        }
        let unsafe_note = if fix["applicability"] == "unsafe" {
            " It changes what the migration does: read it before applying."
        } else {
            ""
        };
        // A fence longer than any run of backticks in the text.
        let fence = "`".repeat(3.max(longest_backtick_run(replacement) + 1));
        let body = format!(
            "**{}[{rule}]** {}\n\nFix ({}): {}.{unsafe_note}\n\n{fence}suggestion\n{replacement}\n{fence}\n\n{MARKER} {key} -->",
            diagnostic["severity"].as_str().unwrap_or("note"),
            diagnostic["message"].as_str().unwrap_or_default(),
            fix["applicability"].as_str().unwrap_or("safe"),
            fix["title"].as_str().unwrap_or("the fix"),
        );
        suggestions.push(Suggestion {
            key,
            path,
            start_line: start_line as usize,
            line: line as usize,
            body,
        });
    }
    Ok(suggestions)
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// What one run did to the pull request's review comments.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reviewed {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub deleted: usize,
    /// GitHub refused the lines: they are not part of the pull request's diff.
    pub outside_diff: usize,
    /// Over [`LIMIT`]: not posted.
    pub over_limit: usize,
}

impl Reviewed {
    pub fn summary(&self) -> String {
        let mut parts = vec![format!(
            "suggestions: {} posted, {} updated, {} unchanged, {} removed",
            self.created, self.updated, self.unchanged, self.deleted
        )];
        if self.outside_diff > 0 {
            parts.push(format!(
                "{} on lines outside the pull request's diff (not posted)",
                self.outside_diff
            ));
        }
        if self.over_limit > 0 {
            parts.push(format!(
                "{} more than the {LIMIT} a run posts (`check --diff` shows them all)",
                self.over_limit
            ));
        }
        parts.join("; ")
    }
}

/// Posts, updates and deletes this tool's review comments on pull request `number` so that
/// they are `suggestions` (at most [`LIMIT`]), on the commit `head`.
pub fn upsert(
    api: &Api,
    repository: &str,
    number: u64,
    head: &str,
    suggestions: &[Suggestion],
) -> Result<Reviewed, CommentError> {
    let mut reviewed = Reviewed {
        over_limit: suggestions.len().saturating_sub(LIMIT),
        ..Reviewed::default()
    };
    let wanted = &suggestions[..suggestions.len().min(LIMIT)];
    // Ours, by key: (id, body).
    let mut ours: Vec<(String, u64, String)> = Vec::new();
    let mut url = Some(format!(
        "{}/repos/{repository}/pulls/{number}/comments?per_page=100",
        api.base
    ));
    while let Some(page) = url.take() {
        let answer = api.call("GET", &page, None)?;
        if answer.status != 200 {
            return Err(fail(format!(
                "listing the review comments of #{number} answered {}: {}",
                answer.status, answer.body["message"]
            )));
        }
        for comment in answer.body.as_array().into_iter().flatten() {
            let body = comment["body"].as_str().unwrap_or_default();
            let Some(key) = body
                .split_once(MARKER)
                .and_then(|(_, rest)| rest.split_once("-->"))
                .map(|(key, _)| key.trim().to_string())
            else {
                continue;
            };
            if let Some(id) = comment["id"].as_u64() {
                ours.push((key, id, body.to_string()));
            }
        }
        url = answer.next;
    }
    for suggestion in wanted {
        match ours.iter().find(|(key, _, _)| *key == suggestion.key) {
            Some((_, _, body)) if *body == suggestion.body => reviewed.unchanged += 1,
            Some((_, id, _)) => {
                let answer = api.call(
                    "PATCH",
                    &format!("{}/repos/{repository}/pulls/comments/{id}", api.base),
                    Some(&serde_json::json!({"body": suggestion.body})),
                )?;
                expect_success(answer.status, &answer.body, "updating a suggestion")?;
                reviewed.updated += 1;
            }
            None => {
                let mut payload = serde_json::json!({
                    "body": suggestion.body,
                    "commit_id": head,
                    "path": suggestion.path,
                    "line": suggestion.line,
                    "side": "RIGHT",
                });
                if suggestion.start_line < suggestion.line {
                    payload["start_line"] = suggestion.start_line.into();
                    payload["start_side"] = "RIGHT".into();
                }
                let answer = api.call(
                    "POST",
                    &format!("{}/repos/{repository}/pulls/{number}/comments", api.base),
                    Some(&payload),
                )?;
                if answer.status == 422 {
                    reviewed.outside_diff += 1;
                    continue;
                }
                expect_success(answer.status, &answer.body, "posting a suggestion")?;
                reviewed.created += 1;
            }
        }
    }
    for (key, id, _) in &ours {
        if wanted.iter().any(|s| s.key == *key) {
            continue;
        }
        let answer = api.call(
            "DELETE",
            &format!("{}/repos/{repository}/pulls/comments/{id}", api.base),
            None,
        )?;
        expect_success(answer.status, &answer.body, "removing a stale suggestion")?;
        reviewed.deleted += 1;
    }
    Ok(reviewed)
}

fn expect_success(status: u16, body: &Value, what: &str) -> Result<(), CommentError> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(fail(format!(
            "{what} answered {status}: {}",
            body["message"]
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fix_becomes_a_suggestion_on_its_lines_with_a_fence_longer_than_its_backticks() {
        let report = serde_json::json!({"diagnostics": [
            {"rule": "create-index-non-concurrently", "severity": "error", "message": "index `ix` blocks writes",
             "fix": {"title": "build it CONCURRENTLY", "applicability": "safe", "path": "no/such/versions/a.py",
                     "lines": {"start_line": 12, "end_line": 13, "text": "    with x:\n        y  # ```"}}},
            {"rule": "set-not-null", "severity": "warning", "message": "no fix here"}
        ]});
        let suggestions = from_report(&report.to_string()).unwrap();
        assert_eq!(suggestions.len(), 1);
        let s = &suggestions[0];
        assert_eq!((s.start_line, s.line), (12, 13));
        assert!(
            s.body
                .contains("````suggestion\n    with x:\n        y  # ```\n````"),
            "{}",
            s.body
        );
        assert!(s.body.ends_with("<!-- migration-gate:suggestion create-index-non-concurrently no/such/versions/a.py:12 -->"), "{}", s.body);
    }
}
