//! The schema as the catalogs tell it. A round trip takes three snapshots per revision; each
//! reads again only the catalog objects the step changed (the scratch database logs them, see
//! [`changes`]) and keeps the rest by reference, so a snapshot and a comparison cost what the
//! step changed rather than what the schema holds.

mod changes;
mod describe;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::roundtrip::RoundtripError;

pub use changes::install as install_change_log;

/// The catalog object a described object belongs to: columns, indexes, constraints and
/// triggers belong to their table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Owner {
    pub kind: OwnerKind,
    pub oid: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OwnerKind {
    Relation,
    /// An enum or a domain.
    Type,
    Function,
    Namespace,
    Extension,
    /// Not described, but named in descriptions: composite and base types, collations,
    /// aggregates.
    Other,
}

impl Owner {
    pub fn relation(oid: u32) -> Owner {
        Owner {
            kind: OwnerKind::Relation,
            oid,
        }
    }
}

/// Object ("column users.email") → what it is ("character varying(50) NOT NULL").
pub type Objects = BTreeMap<String, String>;

/// An owner's objects, and for a relation the oids of its parts (indexes, constraints,
/// triggers, rules, defaults), by which the change log names them once they are dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owned {
    pub objects: Objects,
    pub parts: Vec<u32>,
}

#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Taken with the scratch database's change log emptied: the next snapshot of the same
    /// database may read only what the log lists.
    log: bool,
    /// Shared with the snapshot it was derived from wherever the owner did not change: two
    /// snapshots holding the same `Arc` agree on that owner without comparing it.
    owned: BTreeMap<Owner, Arc<Owned>>,
}

impl Snapshot {
    /// A snapshot of given objects, all of one owner.
    pub fn of(objects: Objects) -> Snapshot {
        let owner = Owner {
            kind: OwnerKind::Other,
            oid: 0,
        };
        Snapshot {
            log: false,
            owned: [(
                owner,
                Arc::new(Owned {
                    objects,
                    parts: Vec::new(),
                }),
            )]
            .into(),
        }
    }

    fn from_described(described: describe::Described, log: bool) -> Snapshot {
        Snapshot {
            log,
            owned: described
                .into_iter()
                .map(|(owner, owned)| (owner, Arc::new(owned)))
                .collect(),
        }
    }

    /// The relation a dropped index, constraint, trigger, rule or default belonged to.
    fn owner_of_part(&self, oid: u32) -> Option<Owner> {
        self.owned
            .iter()
            .find(|(_, owned)| owned.parts.contains(&oid))
            .map(|(owner, _)| *owner)
    }

    /// The objects where two snapshots may differ: every owner but those both hold the same
    /// description of. Objects of one name from different owners: the later owner's wins.
    pub fn differing(&self, other: &Snapshot) -> (Objects, Objects) {
        let shared = |owner: &Owner, owned: &Arc<Owned>, other: &Snapshot| {
            other
                .owned
                .get(owner)
                .is_some_and(|theirs| Arc::ptr_eq(owned, theirs))
        };
        let flatten = |from: &Snapshot, against: &Snapshot| {
            let mut flat = Objects::new();
            for (owner, owned) in &from.owned {
                if !shared(owner, owned, against) {
                    flat.extend(owned.objects.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
            flat
        };
        (flatten(self, other), flatten(other, self))
    }
}

/// The statements a session's snapshots run, prepared on its connection.
pub struct Prepared {
    describe: describe::Prepared,
    /// `None` where the change log could not be installed.
    changes: Option<changes::Prepared>,
}

/// Prepares a session's snapshots; `with_log` after the change log was installed.
pub async fn prepare(
    client: &tokio_postgres::Client,
    with_log: bool,
) -> Result<Prepared, RoundtripError> {
    let log = async {
        if with_log {
            changes::prepare(client).await.map(Some)
        } else {
            Ok(None)
        }
    };
    let (describe, changes) =
        futures_util::future::try_join(describe::prepare(client), log).await?;
    Ok(Prepared { describe, changes })
}

/// One whole snapshot on a connection that takes no other (a live database).
pub async fn take(client: &tokio_postgres::Client) -> Result<Snapshot, RoundtripError> {
    let prepared = describe::prepare(client).await?;
    let described = describe::describe(client, &prepared, None).await?;
    Ok(Snapshot::from_described(described, false))
}

/// The schema now; with the previous snapshot of the same database, only the owners the
/// change log lists since are read again.
pub async fn take_after(
    client: &tokio_postgres::Client,
    prepared: &Prepared,
    previous: Option<&Snapshot>,
) -> Result<Snapshot, RoundtripError> {
    let entries = match &prepared.changes {
        Some(log) => changes::take(client, log).await?,
        None => None,
    };
    let Some(entries) = entries else {
        return everything(client, prepared, false).await;
    };
    let Some(previous) = previous.filter(|p| p.log) else {
        return everything(client, prepared, true).await;
    };
    let (changed, dropped) = match changes::plan(&entries, previous) {
        changes::Plan::Everything => return everything(client, prepared, true).await,
        changes::Plan::Owners { changed, dropped } => (changed, dropped),
    };
    let mut owned = previous.owned.clone();
    for owner in &dropped {
        owned.remove(owner);
    }
    if !changed.is_empty() {
        let mut wanted: BTreeMap<OwnerKind, Vec<u32>> = BTreeMap::new();
        for owner in &changed {
            wanted.entry(owner.kind).or_default().push(owner.oid);
        }
        let mut described = describe::describe(client, &prepared.describe, Some(&wanted)).await?;
        for owner in &changed {
            let now = described.remove(owner).unwrap_or_default();
            if renamed(previous.owned.get(owner).map(|o| &o.objects), &now.objects) {
                // Other owners' descriptions print the old name (a foreign key to a renamed
                // table or column, a trigger calling a renamed function).
                return everything(client, prepared, true).await;
            }
            if now == Owned::default() {
                owned.remove(owner);
            } else {
                owned.insert(*owner, Arc::new(now));
            }
        }
    }
    let taken = Snapshot { log: true, owned };
    if std::env::var_os(CHECK_VARIABLE).is_some() {
        check_against_everything(client, prepared, &taken, &entries).await?;
    }
    Ok(taken)
}

/// Set, every snapshot read in part is checked against one read whole (the test suite runs
/// the round-trip fixtures this way): a change the log missed is an error, not a drift
/// silently passed.
const CHECK_VARIABLE: &str = "MIGRATION_GATE_CHECK_SNAPSHOTS";

async fn check_against_everything(
    client: &tokio_postgres::Client,
    prepared: &Prepared,
    taken: &Snapshot,
    entries: &[changes::Entry],
) -> Result<(), RoundtripError> {
    let whole = everything(client, prepared, true).await?;
    let flat = |snapshot: &Snapshot| -> Objects {
        snapshot
            .owned
            .values()
            .flat_map(|owned| owned.objects.clone())
            .collect()
    };
    let (part, all) = (flat(taken), flat(&whole));
    if part == all {
        return Ok(());
    }
    let differing: Vec<String> = all
        .iter()
        .filter(|(k, v)| part.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k}: {v}"))
        .chain(
            part.iter()
                .filter(|(k, _)| !all.contains_key(*k))
                .map(|(k, v)| format!("{k} (only in the partial snapshot): {v}")),
        )
        .collect();
    Err(crate::roundtrip::fail(format!(
        "a snapshot read in part differs from the whole schema (the change log listed {entries:?}): {}",
        differing.join("; ")
    )))
}

async fn everything(
    client: &tokio_postgres::Client,
    prepared: &Prepared,
    log: bool,
) -> Result<Snapshot, RoundtripError> {
    let described = describe::describe(client, &prepared.describe, None).await?;
    Ok(Snapshot::from_described(described, log))
}

/// Whether an owner's objects that others can name (the relation, its columns, a function's
/// signature) lost one name and gained another: a rename, or a drop and an add that may be one.
fn renamed(before: Option<&Objects>, after: &Objects) -> bool {
    let Some(before) = before else {
        return false;
    };
    const NAMED_ELSEWHERE: [&str; 5] = ["table ", "view ", "sequence ", "column ", "function "];
    let names = |objects: &Objects| -> Vec<String> {
        objects
            .keys()
            .filter(|key| NAMED_ELSEWHERE.iter().any(|kind| key.starts_with(kind)))
            .cloned()
            .collect()
    };
    let (old, new) = (names(before), names(after));
    old.iter().any(|name| !new.contains(name)) && new.iter().any(|name| !old.contains(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(items: &[(&str, &str)]) -> Objects {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_rename_is_a_name_lost_and_another_gained() {
        let before = objects(&[("table users", "table"), ("column users.email", "text")]);
        let renamed_column = objects(&[("table users", "table"), ("column users.mail", "text")]);
        let added_column = objects(&[
            ("table users", "table"),
            ("column users.email", "text"),
            ("column users.name", "text"),
        ]);
        let dropped_column = objects(&[("table users", "table")]);
        let renamed_index = objects(&[
            ("table users", "table"),
            ("column users.email", "text"),
            ("index ix_new", "CREATE INDEX ..."),
        ]);
        assert!(renamed(Some(&before), &renamed_column));
        assert!(!renamed(Some(&before), &added_column));
        assert!(!renamed(Some(&before), &dropped_column));
        assert!(!renamed(Some(&before), &renamed_index));
        assert!(!renamed(None, &renamed_column));
    }

    #[test]
    fn snapshots_differ_only_where_they_do_not_share_an_owner() {
        let owned = |items: &[(&str, &str)]| {
            Arc::new(Owned {
                objects: objects(items),
                parts: Vec::new(),
            })
        };
        let shared = owned(&[("table users", "table")]);
        let owner = |oid| Owner {
            kind: OwnerKind::Relation,
            oid,
        };
        let before = Snapshot {
            log: false,
            owned: [
                (owner(1), shared.clone()),
                (owner(2), owned(&[("table teams", "table")])),
            ]
            .into(),
        };
        let after = Snapshot {
            log: false,
            owned: [
                (owner(1), shared),
                (owner(3), owned(&[("table teams", "table")])),
            ]
            .into(),
        };
        let (mine, theirs) = before.differing(&after);
        assert_eq!(mine, objects(&[("table teams", "table")]));
        assert_eq!(theirs, objects(&[("table teams", "table")]));
    }
}
