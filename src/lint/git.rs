//! What `--base REF` needs from git: the files changed since the merge base, and the migration
//! folders as they are on REF.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("--base {reference}: {message}")]
    Base { reference: String, message: String },
}

pub struct BaseRef {
    pub reference: String,
    pub toplevel: PathBuf,
    merge_base: String,
}

fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
    }
}

fn git_text(dir: &Path, args: &[&str]) -> Result<String, String> {
    git(dir, args).map(|out| String::from_utf8_lossy(&out).trim().to_string())
}

const FETCH_ADVICE: &str = "fetch the full history first: `git fetch origin <branch>`, or in GitHub Actions `actions/checkout` with `fetch-depth: 0`";

impl BaseRef {
    /// Resolves REF and its merge base with HEAD, from the repository that holds `dir`.
    pub fn resolve(reference: &str, dir: &Path) -> Result<Self, GitError> {
        let fail = |message: String| GitError::Base {
            reference: reference.to_string(),
            message,
        };
        let toplevel = git_text(dir, &["rev-parse", "--show-toplevel"])
            .map_err(|e| fail(format!("not inside a git repository ({e})")))?;
        let toplevel = PathBuf::from(toplevel);
        let shallow = git_text(&toplevel, &["rev-parse", "--is-shallow-repository"])
            .is_ok_and(|s| s == "true");
        let commit = format!("{reference}^{{commit}}");
        if git(&toplevel, &["rev-parse", "--verify", "--quiet", &commit]).is_err() {
            let why = if shallow {
                "is not in this shallow clone"
            } else {
                "is not a known branch, tag or commit here"
            };
            return Err(fail(format!("{why}; {FETCH_ADVICE}")));
        }
        let merge_base = git_text(&toplevel, &["merge-base", reference, "HEAD"]).map_err(|_| {
            let why = if shallow {
                "this shallow clone lacks the commit where the branch left it"
            } else {
                "it shares no history with HEAD"
            };
            fail(format!("{why}; {FETCH_ADVICE}"))
        })?;
        Ok(BaseRef {
            reference: reference.to_string(),
            toplevel,
            merge_base,
        })
    }

    /// Files changed since the merge base (committed, staged, unstaged, and new untracked
    /// files), as absolute paths.
    pub fn changed_files(&self) -> Result<Vec<PathBuf>, GitError> {
        let fail = |message: String| GitError::Base {
            reference: self.reference.clone(),
            message,
        };
        let changed = git(
            &self.toplevel,
            &[
                "diff",
                "--name-only",
                "-z",
                "--no-renames",
                &self.merge_base,
            ],
        )
        .map_err(fail)?;
        let untracked = git(
            &self.toplevel,
            &["ls-files", "--others", "--exclude-standard", "-z"],
        )
        .map_err(fail)?;
        Ok(changed
            .split(|&b| b == 0)
            .chain(untracked.split(|&b| b == 0))
            .filter(|name| !name.is_empty())
            .map(|name| self.toplevel.join(String::from_utf8_lossy(name).as_ref()))
            .collect())
    }

    /// Writes the files under `folder` (an absolute path inside the repository) as they are on
    /// REF into `into`, keeping their repository-relative paths. Returns the folder's copy.
    pub fn export_folder(&self, folder: &Path, into: &Path) -> Result<PathBuf, GitError> {
        let fail = |message: String| GitError::Base {
            reference: self.reference.clone(),
            message,
        };
        let relative = folder
            .strip_prefix(&self.toplevel)
            .map_err(|_| fail(format!("{} is outside the repository", folder.display())))?;
        let relative_str = relative.to_string_lossy().replace('\\', "/");
        let pathspec = if relative_str.is_empty() {
            ".".to_string()
        } else {
            relative_str
        };
        let listing = git(
            &self.toplevel,
            &[
                "ls-tree",
                "-r",
                "-z",
                "--full-tree",
                &self.reference,
                "--",
                &pathspec,
            ],
        )
        .map_err(fail)?;
        let blobs: Vec<(String, String)> = listing
            .split(|&b| b == 0)
            .filter_map(|entry| {
                let entry = String::from_utf8_lossy(entry);
                let (meta, path) = entry.split_once('\t')?;
                let mut fields = meta.split_whitespace();
                let (_mode, kind, id) = (fields.next()?, fields.next()?, fields.next()?);
                (kind == "blob").then(|| (id.to_string(), path.to_string()))
            })
            .collect();
        let contents = self.read_blobs(blobs.iter().map(|(id, _)| id.as_str()))?;
        for ((_, path), content) in blobs.iter().zip(contents) {
            let target = into.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| fail(e.to_string()))?;
            }
            std::fs::write(&target, content).map_err(|e| fail(e.to_string()))?;
        }
        Ok(into.join(relative))
    }

    /// Reads many blobs through one `git cat-file --batch` process.
    fn read_blobs<'a>(&self, ids: impl Iterator<Item = &'a str>) -> Result<Vec<Vec<u8>>, GitError> {
        let fail = |message: String| GitError::Base {
            reference: self.reference.clone(),
            message,
        };
        let request: String = ids.map(|id| format!("{id}\n")).collect();
        let mut child = Command::new("git")
            .args(["cat-file", "--batch"])
            .current_dir(&self.toplevel)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| fail(format!("cannot run git: {e}")))?;
        let mut stdin = child.stdin.take().expect("piped stdin");
        // Written from a thread so a large answer cannot deadlock against the request.
        let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
        let mut answer = Vec::new();
        child
            .stdout
            .take()
            .expect("piped stdout")
            .read_to_end(&mut answer)
            .map_err(|e| fail(e.to_string()))?;
        let _ = writer.join();
        let _ = child.wait();
        let mut blobs = Vec::new();
        let mut rest = answer.as_slice();
        while let Some(newline) = rest.iter().position(|&b| b == b'\n') {
            let header = String::from_utf8_lossy(&rest[..newline]).to_string();
            let size: usize = header
                .split_whitespace()
                .nth(2)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| fail(format!("unexpected git cat-file answer: {header}")))?;
            let start = newline + 1;
            let end = (start + size).min(rest.len());
            blobs.push(rest[start..end].to_vec());
            rest = &rest[(end + 1).min(rest.len())..];
        }
        Ok(blobs)
    }
}

/// A checkout of REF beside the working tree (`git worktree add --detach`), removed again when
/// dropped: the models of the version REF names are imported from it.
pub struct Worktree {
    /// The repository's top level in the checkout.
    pub toplevel: PathBuf,
    repository: PathBuf,
    _folder: tempfile::TempDir,
}

impl BaseRef {
    /// Checks REF out into a temporary folder.
    pub fn worktree(&self) -> Result<Worktree, GitError> {
        let fail = |message: String| GitError::Base {
            reference: self.reference.clone(),
            message,
        };
        let folder = tempfile::Builder::new()
            .prefix("migration-gate-base-")
            .tempdir()
            .map_err(|e| fail(format!("cannot make a folder for its checkout: {e}")))?;
        let toplevel = folder.path().join("checkout");
        let target = toplevel.to_string_lossy().to_string();
        let commit = format!("{}^{{commit}}", self.reference);
        git(
            &self.toplevel,
            &["worktree", "add", "--detach", "--quiet", &target, &commit],
        )
        .map_err(|e| fail(format!("cannot check it out beside the working tree: {e}")))?;
        Ok(Worktree {
            toplevel,
            repository: self.toplevel.clone(),
            _folder: folder,
        })
    }
}

impl Worktree {
    /// `path` (inside the working tree whose top level is `toplevel`) in the checkout.
    pub fn map(&self, toplevel: &Path, path: &Path) -> PathBuf {
        match path.strip_prefix(toplevel) {
            Ok(relative) => self.toplevel.join(relative),
            Err(_) => path.to_path_buf(),
        }
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        let target = self.toplevel.to_string_lossy().to_string();
        let _ = git(
            &self.repository,
            &["worktree", "remove", "--force", &target],
        );
    }
}

impl BaseRef {
    /// The Python files on REF that may declare models (`__tablename__`, `Table(`), with their
    /// text: at most `limit` of them, by path.
    pub fn model_files(&self, limit: usize) -> Vec<(String, String)> {
        let commit = format!("{}^{{commit}}", self.reference);
        let Ok(listed) = git(
            &self.toplevel,
            &[
                "grep",
                "-l",
                "-I",
                "-z",
                "-e",
                "__tablename__",
                "-e",
                "Table(",
                &commit,
                "--",
                "*.py",
            ],
        ) else {
            return Vec::new();
        };
        listed
            .split(|&b| b == 0)
            .filter(|name| !name.is_empty())
            .take(limit)
            .filter_map(|name| {
                // `git grep` on a commit names each file `<commit>:<path>`.
                let name = String::from_utf8_lossy(name).to_string();
                let path = name.split_once(':').map_or(name.as_str(), |(_, p)| p);
                let text = git(&self.toplevel, &["show", &name]).ok()?;
                Some((path.to_string(), String::from_utf8_lossy(&text).to_string()))
            })
            .collect()
    }
}
