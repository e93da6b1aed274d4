//! What a rule's documentation claims PostgreSQL does.

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Lock,
    Scan,
    Rewrite,
    /// The table keeps its file: no rewrite (its indexes may still be built again).
    KeepsRows,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    Takes {
        /// `pg_locks.mode`: `AccessExclusiveLock`.
        mode: String,
        effect: Effect,
    },
    FailsWithRows,
    /// `drops columns, constraints or defaults of other tables.`: what depends on the dropped
    /// object.
    DropsDependents,
    /// `takes no lock on the table.`: it changes what describes a table behind its back.
    TakesNoLock,
}

#[derive(Debug, Clone)]
pub struct Stated {
    pub prefix: Option<String>,
    pub claim: Claim,
    pub line: String,
}

/// The claims a rule's documentation makes.
pub fn claims(doc: &str) -> Vec<Stated> {
    doc.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("Verified on PostgreSQL 15")?;
            let (prefix, rest) = match rest.strip_prefix(" (`") {
                Some(inner) => {
                    let (prefix, rest) = inner.split_once("`)").expect("closing `) of the prefix");
                    (Some(prefix.to_ascii_uppercase()), rest)
                }
                None => (None, rest),
            };
            let said = rest
                .strip_prefix(": ")
                .expect("`: ` after the version")
                .trim();
            let claim = if said == "fails on a table with rows." {
                Claim::FailsWithRows
            } else if said == "drops columns, constraints or defaults of other tables." {
                Claim::DropsDependents
            } else if said == "takes no lock on the table." {
                Claim::TakesNoLock
            } else {
                let said = said
                    .strip_prefix("takes ")
                    .expect("`takes MODE on the table`");
                let (mode, effect) = said.split_once(" on the table").expect("`on the table`");
                let effect = match effect {
                    "." => Effect::Lock,
                    " and scans it." => Effect::Scan,
                    " and rewrites it." => Effect::Rewrite,
                    " and keeps its rows." => Effect::KeepsRows,
                    other => panic!("unknown effect `{other}` in `{line}`"),
                };
                Claim::Takes {
                    mode: lock_mode(mode),
                    effect,
                }
            };
            Some(Stated {
                prefix,
                claim,
                line: line.to_string(),
            })
        })
        .collect()
}

/// `SHARE ROW EXCLUSIVE` → `ShareRowExclusiveLock`, as `pg_locks` names modes.
fn lock_mode(words: &str) -> String {
    let known = [
        "ACCESS SHARE",
        "ROW SHARE",
        "ROW EXCLUSIVE",
        "SHARE UPDATE EXCLUSIVE",
        "SHARE",
        "SHARE ROW EXCLUSIVE",
        "EXCLUSIVE",
        "ACCESS EXCLUSIVE",
    ];
    assert!(known.contains(&words), "`{words}` is not a table lock mode");
    let mut mode: String = words
        .split(' ')
        .map(|w| w[..1].to_string() + &w[1..].to_ascii_lowercase())
        .collect();
    mode.push_str("Lock");
    mode
}
