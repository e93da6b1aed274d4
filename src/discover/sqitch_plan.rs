//! A Sqitch project: `sqitch.plan` and the scripts it names (read in sqitchers/sqitch at
//! 0ab857e3, `lib/App/Sqitch/Plan.pm` `_parse`, `Plan/Change.pm`, `Target.pm`):
//! - the plan lists changes in deploy order (Sqitch never re-sorts them); `%` pragma lines,
//!   blank lines and `#` comments are not changes, `@tag` lines tag the change before them;
//! - a change named again after a tag is a rework: the earlier version's scripts are
//!   `<name>@<tag>.sql`, for the first of the tags between it and its rework whose deploy
//!   script exists (the first tag when none does; `Plan/Change.pm` `path_segments`), the
//!   latest keeps `<name>.sql`;
//! - scripts live in `deploy/`, `revert/` and `verify/` beside the plan (`top_dir`), unless
//!   sqitch.conf moves them (`deploy_dir`, `revert_dir`, `verify_dir`, `top_dir`);
//! - `[core] engine` in sqitch.conf names the database (`pg` for PostgreSQL).

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqitchPlan {
    /// Each change's script name (`users`, `users@v1.0`), in deploy order.
    pub changes: Vec<String>,
    pub deploy_dir: PathBuf,
    pub revert_dir: PathBuf,
    pub verify_dir: PathBuf,
    /// sqitch.conf names another engine than `pg`.
    pub other_database: bool,
}

impl SqitchPlan {
    /// The deploy position of the change whose script is `script` (its path below the deploy
    /// or revert folder, without `.sql`).
    pub fn position(&self, script: &str) -> Option<usize> {
        self.changes.iter().position(|c| c == script)
    }

    /// Which script folder `path` is in, and its script name there.
    pub fn script_of(&self, path: &Path) -> Option<(ScriptKind, String)> {
        let kinds = [
            (ScriptKind::Deploy, &self.deploy_dir),
            (ScriptKind::Revert, &self.revert_dir),
            (ScriptKind::Verify, &self.verify_dir),
        ];
        kinds.into_iter().find_map(|(kind, dir)| {
            let relative = path.strip_prefix(dir).ok()?;
            let name = relative.to_str()?.strip_suffix(".sql")?.replace('\\', "/");
            Some((kind, name))
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptKind {
    Deploy,
    Revert,
    /// Run after a deploy to check it (inside BEGIN ... ROLLBACK): not a migration.
    Verify,
}

/// The Sqitch project whose plan is `plan_path`, when it reads.
pub fn read(plan_path: &Path) -> Option<SqitchPlan> {
    // The plan sits in `top_dir`; sqitch.conf beside it or in the folder above (a `top_dir`
    // setting), and its paths are relative to where it is.
    let top_dir = plan_path.parent()?;
    let plan = std::fs::read_to_string(plan_path).ok()?;
    let (conf_dir, conf) = top_dir
        .ancestors()
        .take(2)
        .find_map(|dir| Some((dir, std::fs::read_to_string(dir.join("sqitch.conf")).ok()?)))
        .unwrap_or((top_dir, String::new()));
    let setting = |key: &str| conf_value(&conf, key);
    let dir = |key: &str, default: &str| {
        setting(key).map_or_else(|| top_dir.join(default), |d| conf_dir.join(d))
    };
    let engine = setting("engine");
    let deploy_dir = dir("deploy_dir", "deploy");
    let deployable = |script: &str| deploy_dir.join(format!("{script}.sql")).is_file();
    Some(SqitchPlan {
        changes: changes(&plan, deployable),
        deploy_dir: deploy_dir.clone(),
        revert_dir: dir("revert_dir", "revert"),
        verify_dir: dir("verify_dir", "verify"),
        other_database: engine.is_some_and(|e| e != "pg"),
    })
}

/// The plan's changes as script names, in order; `deployable` says whether a script name
/// has a deploy script, which picks a reworked change's tag.
fn changes(plan: &str, deployable: impl Fn(&str) -> bool) -> Vec<String> {
    let mut changes: Vec<String> = Vec::new();
    let mut tags: Vec<String> = Vec::new();
    // Per change: where the tags after it start in `tags`, for the script name of a reworked
    // earlier version; `None` once reworked (later tags belong to the rework).
    let mut tags_from: Vec<Option<usize>> = Vec::new();
    for line in plan.lines() {
        let line = line.split(" #").next().unwrap_or(line).trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('%') {
            continue;
        }
        let first = line.split_whitespace().next().unwrap_or_default();
        if let Some(tag) = first.strip_prefix('@') {
            tags.push(tag.to_string());
            continue;
        }
        // `+name` deploys; `-name` (a change reverted at this point) is rare and left out.
        if first.starts_with('-') {
            continue;
        }
        let name = first.trim_start_matches('+').to_string();
        if let Some(earlier) = changes.iter().rposition(|c| *c == name)
            && let Some(from) = tags_from[earlier].take()
            && let Some(first_tag) = tags.get(from)
        {
            let script = |tag: &String| format!("{name}@{tag}");
            changes[earlier] = tags[from..]
                .iter()
                .map(script)
                .find(|candidate| deployable(candidate))
                .unwrap_or_else(|| script(first_tag));
        }
        changes.push(name);
        tags_from.push(Some(tags.len()));
    }
    changes
}

/// A `key = value` of sqitch.conf (git-config syntax), from `[core]`, `[engine "pg"]` or a
/// target; the first found.
fn conf_value(conf: &str, key: &str) -> Option<String> {
    conf.lines().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_order_and_reworked_script_names() {
        let plan = "%syntax-version=1.0.0\n%project=flipr\n\n# a comment\nappschema 2024-01-01T00:00:00Z Ann <a@x> # schema\nusers [appschema] 2024-01-02T00:00:00Z Ann <a@x>\n@v1.0 2024-01-03T00:00:00Z Ann <a@x>\n\nflips [users] 2024-01-04T00:00:00Z Ann <a@x>\nusers [users@v1.0] 2024-01-05T00:00:00Z Ann <a@x> # reworked\n";
        assert_eq!(
            changes(plan, |_| false),
            ["appschema", "users@v1.0", "flips", "users"].map(String::from)
        );
    }

    /// Sqitch takes the first tag between a change and its rework whose deploy script exists:
    /// a change tagged twice before its rework may be scripted under the second tag.
    #[test]
    fn a_reworked_change_is_scripted_under_the_first_tag_with_a_deploy_script() {
        let plan = "acl 2024-01-01T00:00:00Z Ann <a@x>\n@1.1.6 2024-01-02T00:00:00Z Ann <a@x>\nkeys 2024-01-03T00:00:00Z Ann <a@x>\n@1.2.0 2024-01-04T00:00:00Z Ann <a@x>\nacl [acl@1.2.0] 2024-01-05T00:00:00Z Ann <a@x>\n@1.3.0 2024-01-06T00:00:00Z Ann <a@x>\n";
        assert_eq!(
            changes(plan, |script| script == "acl@1.2.0"),
            ["acl@1.2.0", "keys", "acl"].map(String::from)
        );
        assert_eq!(
            changes(plan, |_| false),
            ["acl@1.1.6", "keys", "acl"].map(String::from)
        );
    }

    #[test]
    fn folders_and_engine_from_sqitch_conf() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("db")).unwrap();
        let plan_path = dir.path().join("db/sqitch.plan");
        std::fs::write(&plan_path, "%project=x\n\na 2024-01-01T00:00:00Z A <a@x>\n").unwrap();
        std::fs::write(
            dir.path().join("sqitch.conf"),
            "[core]\n\tengine = pg\n\ttop_dir = db\n",
        )
        .unwrap();
        let plan = read(&plan_path).unwrap();
        assert_eq!(plan.deploy_dir, dir.path().join("db/deploy"));
        assert!(!plan.other_database);
        assert_eq!(
            plan.script_of(&dir.path().join("db/revert/a.sql")),
            Some((ScriptKind::Revert, "a".to_string()))
        );
        std::fs::write(
            dir.path().join("sqitch.conf"),
            "[core]\n\tengine = sqlite\n",
        )
        .unwrap();
        assert!(read(&plan_path).unwrap().other_database);
    }
}
