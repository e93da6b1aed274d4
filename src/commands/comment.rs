//! `migration-gate comment`: posts the Markdown report on the pull request, or updates the
//! comment it posted before (found by a hidden marker), through the GitHub REST API.

use std::path::PathBuf;

use serde_json::Value;

use crate::report::markdown::{self, MARKER};

pub struct CommentRequest {
    /// Reports to post as one comment, in order.
    pub body_files: Vec<PathBuf>,
    pub pull_request: Option<u64>,
    pub repository: Option<String>,
    /// A lint JSON report whose fixes become review suggestions on the changed lines.
    pub suggestions: Option<PathBuf>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Posted {
    /// The summary comment, and what was done with the review suggestions.
    Created(String, Option<String>),
    Updated(String, Option<String>),
    /// A fork's pull request: the token cannot write, which is not the author's fault.
    Skipped(String),
}

#[derive(Debug, thiserror::Error)]
#[error("comment: {0}")]
pub struct CommentError(String);

pub(super) fn fail(message: impl Into<String>) -> CommentError {
    CommentError(message.into())
}

pub(super) struct Api {
    agent: ureq::Agent,
    pub(super) base: String,
    token: String,
}

pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) body: Value,
    pub(super) next: Option<String>,
}

impl Api {
    pub(super) fn call(
        &self,
        method: &str,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Answer, CommentError> {
        let authorization = format!("Bearer {}", self.token);
        let user_agent = concat!("migration-gate/", env!("CARGO_PKG_VERSION"));
        let without_body = |request: ureq::RequestBuilder<ureq::typestate::WithoutBody>| {
            request
                .header("Authorization", &authorization)
                .header("Accept", "application/vnd.github+json")
                .header("User-Agent", user_agent)
                .header("X-GitHub-Api-Version", "2022-11-28")
                .call()
        };
        let response = match (method, body) {
            ("DELETE", _) => without_body(self.agent.delete(url)),
            ("GET", _) => without_body(self.agent.get(url)),
            (_, body) => {
                let request = if method == "PATCH" {
                    self.agent.patch(url)
                } else {
                    self.agent.post(url)
                };
                request
                    .header("Authorization", &authorization)
                    .header("Accept", "application/vnd.github+json")
                    .header("User-Agent", user_agent)
                    .header("X-GitHub-Api-Version", "2022-11-28")
                    .header("Content-Type", "application/json")
                    .send(body.map(Value::to_string).unwrap_or_default())
            }
        }
        .map_err(|e| fail(format!("{method} {url}: {e}")))?;
        let status = response.status().as_u16();
        let next = response
            .headers()
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(next_page);
        let mut response = response;
        let text = response.body_mut().read_to_string().unwrap_or_default();
        Ok(Answer {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            next,
        })
    }
}

/// The `rel="next"` URL of a `Link` header.
fn next_page(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params.contains("rel=\"next\"").then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

/// The workflow run's page, whose job summary holds the whole report.
fn job_summary_link() -> Option<String> {
    let server = std::env::var("GITHUB_SERVER_URL").ok()?;
    let repository = std::env::var("GITHUB_REPOSITORY").ok()?;
    let run = std::env::var("GITHUB_RUN_ID").ok()?;
    Some(format!("{server}/{repository}/actions/runs/{run}"))
}

fn event() -> Value {
    std::env::var("GITHUB_EVENT_PATH")
        .ok()
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null)
}

/// The comment's text: the reports in order, cut to fit a comment.
pub fn body(request: &CommentRequest) -> Result<String, CommentError> {
    let reports = request
        .body_files
        .iter()
        .map(|file| {
            std::fs::read_to_string(file)
                .map_err(|e| fail(format!("cannot read {}: {e}", file.display())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(markdown::combine(
        &reports,
        markdown::COMMENT_LIMIT,
        job_summary_link().as_deref(),
    ))
}

/// The review suggestions `--suggestions` asks for, read from its report.
pub fn suggestions(
    request: &CommentRequest,
) -> Result<Option<Vec<super::review::Suggestion>>, CommentError> {
    request
        .suggestions
        .as_ref()
        .map(|file| {
            std::fs::read_to_string(file)
                .map_err(|e| fail(format!("cannot read {}: {e}", file.display())))
                .and_then(|text| super::review::from_report(&text))
        })
        .transpose()
}

pub fn post(request: &CommentRequest) -> Result<Posted, CommentError> {
    let body = body(request)?;
    let suggestions = suggestions(request)?;
    let event = event();
    let repository = request
        .repository
        .clone()
        .or_else(|| std::env::var("GITHUB_REPOSITORY").ok())
        .ok_or_else(|| fail("no repository: set GITHUB_REPOSITORY or pass --repo OWNER/REPO"))?;
    let number = request
        .pull_request
        .or_else(|| event["pull_request"]["number"].as_u64())
        .or_else(|| event["issue"]["number"].as_u64())
        .ok_or_else(|| fail("not a pull request event: pass --pr NUMBER"))?;
    let head = event["pull_request"]["head"]["repo"]["full_name"].as_str();
    let base = event["pull_request"]["base"]["repo"]["full_name"].as_str();
    if let (Some(head), Some(base)) = (head, base)
        && head != base
    {
        return Ok(Posted::Skipped(format!(
            "pull request #{number} comes from the fork {head}: its token is read-only, so the report stays in the job summary"
        )));
    }
    let token = std::env::var("GITHUB_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            fail(
                "GITHUB_TOKEN is not set (in a workflow: `env: GITHUB_TOKEN: ${{ github.token }}`)",
            )
        })?;
    let api = Api {
        agent: ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into(),
        base: std::env::var("GITHUB_API_URL")
            .unwrap_or_else(|_| "https://api.github.com".into())
            .trim_end_matches('/')
            .to_string(),
        token,
    };
    let mut url = Some(format!(
        "{}/repos/{repository}/issues/{number}/comments?per_page=100",
        api.base
    ));
    let mut ours = None;
    while let Some(page) = url.take() {
        let answer = api.call("GET", &page, None)?;
        if answer.status != 200 {
            return Err(fail(format!(
                "listing the comments of #{number} answered {}: {}",
                answer.status, answer.body["message"]
            )));
        }
        ours = answer.body.as_array().and_then(|comments| {
            comments
                .iter()
                .find(|c| c["body"].as_str().is_some_and(|b| b.contains(MARKER)))
                .and_then(|c| c["id"].as_u64())
        });
        if ours.is_some() {
            break;
        }
        url = answer.next;
    }
    let payload = serde_json::json!({"body": body});
    let answer = match ours {
        Some(id) => api.call(
            "PATCH",
            &format!("{}/repos/{repository}/issues/comments/{id}", api.base),
            Some(&payload),
        )?,
        None => api.call(
            "POST",
            &format!("{}/repos/{repository}/issues/{number}/comments", api.base),
            Some(&payload),
        )?,
    };
    let link = answer.body["html_url"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let reviewed = || -> Result<Option<String>, CommentError> {
        let Some(suggestions) = &suggestions else {
            return Ok(None);
        };
        let Some(head) = event["pull_request"]["head"]["sha"].as_str() else {
            return Ok(Some(
                "suggestions: not posted, the event names no head commit".into(),
            ));
        };
        super::review::upsert(&api, &repository, number, head, suggestions)
            .map(|reviewed| Some(reviewed.summary()))
    };
    match answer.status {
        200 if ours.is_some() => Ok(Posted::Updated(link, reviewed()?)),
        201 => Ok(Posted::Created(link, reviewed()?)),
        401 | 403 | 404 => Ok(Posted::Skipped(format!(
            "the token cannot write to #{number} ({}: {}); a pull request from a fork gets a read-only token, so the report stays in the job summary",
            answer.status, answer.body["message"]
        ))),
        status => Err(fail(format!(
            "writing the comment answered {status}: {}",
            answer.body["message"]
        ))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_next_page_in_a_link_header() {
        let link = r#"<https://api.github.com/repos/o/r/issues/1/comments?page=1>; rel="prev", <https://api.github.com/repos/o/r/issues/1/comments?page=3>; rel="next", <https://api.github.com/repos/o/r/issues/1/comments?page=9>; rel="last""#;
        assert_eq!(
            super::next_page(link).as_deref(),
            Some("https://api.github.com/repos/o/r/issues/1/comments?page=3")
        );
        assert_eq!(super::next_page(r#"<https://x>; rel="last""#), None);
    }
}
