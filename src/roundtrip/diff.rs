//! Differences between two snapshots, phrased like a review comment.

use super::snapshot::Snapshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// After the downgrade, against the schema before the upgrade.
    AfterDowngrade,
    /// After upgrade → downgrade → upgrade, against the schema after the first upgrade.
    AfterReupgrade,
    /// A live database, against the schema its applied revisions produce.
    Live,
}

/// In proportion to what differs: owners both snapshots share unchanged are not looked at.
pub fn differences(expected: &Snapshot, actual: &Snapshot, comparison: Comparison) -> Vec<String> {
    let (expected, actual) = expected.differing(actual);
    let mut found = Vec::new();
    for (object, description) in &actual {
        match expected.get(object) {
            None => found.push(match comparison {
                Comparison::AfterDowngrade => format!("{object} still exists"),
                Comparison::AfterReupgrade => {
                    format!("{object} exists only after the second upgrade")
                }
                Comparison::Live => format!("{object} exists only in the live database"),
            }),
            Some(wanted) if wanted != description && comparison == Comparison::Live => {
                found.push(format!("{object}: live {description}, expected {wanted}"))
            }
            Some(wanted) if wanted != description => {
                found.push(format!("{object}: {description}, expected {wanted}"))
            }
            Some(_) => {}
        }
    }
    for object in expected.keys() {
        if !actual.contains_key(object) {
            found.push(match comparison {
                Comparison::AfterDowngrade => format!("{object} was not restored"),
                Comparison::AfterReupgrade => {
                    format!("{object} is missing after the second upgrade")
                }
                Comparison::Live => format!("{object} is missing in the live database"),
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(items: &[(&str, &str)]) -> Snapshot {
        Snapshot::of(
            items
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn reads_like_a_review_comment() {
        let before = snapshot(&[
            ("column users.email", "character varying(50)"),
            ("table users", "table"),
            ("index ix_gone", "CREATE INDEX ..."),
        ]);
        let after = snapshot(&[
            ("column users.email", "character varying(100)"),
            ("table users", "table"),
            ("index ix_users_team", "CREATE INDEX ..."),
        ]);
        assert_eq!(
            differences(&before, &after, Comparison::AfterDowngrade),
            vec![
                "column users.email: character varying(100), expected character varying(50)",
                "index ix_users_team still exists",
                "index ix_gone was not restored",
            ]
        );
        assert!(differences(&before, &before, Comparison::AfterReupgrade).is_empty());
    }
}
