//! Which catalog objects a step changed, told by the scratch database itself: two event
//! triggers (`ddl_command_end`, `sql_drop`) note every object a command created, altered or
//! dropped — whether the step's statements named it or a function, a trigger or a DO block
//! did — in a table migration-gate reads and empties after each step. The log is transactional:
//! a rolled-back step leaves no entry, as it leaves no change.
//!
//! Needs a superuser (event triggers); without one, every snapshot reads everything.

use std::collections::BTreeSet;

use super::{Owner, OwnerKind, Snapshot};
use crate::roundtrip::postgres::db_error;
use crate::roundtrip::{RoundtripError, fail};

/// In a `pg_` schema, which PostgreSQL reserves: no migration, no autogenerate comparison and
/// no schema snapshot sees it. GRANT and other commands without an object report NULL.
const INSTALL: &str = "
SET allow_system_table_mods = on;
-- A database restored from a checkpoint has it already.
DROP EVENT TRIGGER IF EXISTS migration_gate_command;
DROP EVENT TRIGGER IF EXISTS migration_gate_drop;
DROP SCHEMA IF EXISTS pg_migration_gate CASCADE;
CREATE SCHEMA pg_migration_gate;
CREATE UNLOGGED TABLE pg_migration_gate.changed (classid oid, objid oid);
CREATE FUNCTION pg_migration_gate.note_command() RETURNS event_trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog AS
  $$BEGIN
    INSERT INTO pg_migration_gate.changed
      SELECT classid, objid FROM pg_event_trigger_ddl_commands() WHERE objid IS NOT NULL;
  END$$;
CREATE FUNCTION pg_migration_gate.note_drop() RETURNS event_trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog AS
  $$BEGIN
    INSERT INTO pg_migration_gate.changed
      SELECT classid, objid FROM pg_event_trigger_dropped_objects() WHERE objid IS NOT NULL;
  END$$;
CREATE EVENT TRIGGER migration_gate_command ON ddl_command_end
  EXECUTE FUNCTION pg_migration_gate.note_command();
CREATE EVENT TRIGGER migration_gate_drop ON sql_drop
  EXECUTE FUNCTION pg_migration_gate.note_drop();
-- Also under session_replication_role = replica, which data migrations set to skip triggers.
ALTER EVENT TRIGGER migration_gate_command ENABLE ALWAYS;
ALTER EVENT TRIGGER migration_gate_drop ENABLE ALWAYS;
RESET allow_system_table_mods;";

/// Takes the log and resolves each entry to the relation it belongs to, where it still exists.
const TAKE: &str = "
WITH taken AS (
  DELETE FROM pg_migration_gate.changed RETURNING classid, objid
), entry AS (
  SELECT DISTINCT classid, objid FROM taken
), resolved AS (
  SELECT e.classid, e.objid,
    CASE e.classid
      WHEN 'pg_class'::regclass THEN coalesce(
        (SELECT i.indrelid FROM pg_index i WHERE i.indexrelid = e.objid),
        (SELECT c.oid FROM pg_class c WHERE c.oid = e.objid))
      WHEN 'pg_constraint'::regclass THEN (SELECT nullif(k.conrelid, 0) FROM pg_constraint k WHERE k.oid = e.objid)
      WHEN 'pg_trigger'::regclass THEN (SELECT g.tgrelid FROM pg_trigger g WHERE g.oid = e.objid)
      WHEN 'pg_rewrite'::regclass THEN (SELECT w.ev_class FROM pg_rewrite w WHERE w.oid = e.objid)
      WHEN 'pg_attrdef'::regclass THEN (SELECT d.adrelid FROM pg_attrdef d WHERE d.oid = e.objid)
    END AS relation,
    CASE e.classid
      WHEN 'pg_type'::regclass THEN (SELECT t.typtype::text FROM pg_type t WHERE t.oid = e.objid)
      WHEN 'pg_proc'::regclass THEN (SELECT p.prokind::text FROM pg_proc p WHERE p.oid = e.objid)
      WHEN 'pg_constraint'::regclass THEN (SELECT 'domain' FROM pg_constraint k WHERE k.oid = e.objid AND k.conrelid = 0)
    END AS variety
  FROM entry e
)
SELECT r.classid::regclass::text, r.objid, r.relation, c.relkind::text,
       coalesce(c.relkind = 'p' OR c.relispartition OR c.relhassubclass
                OR EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = c.oid), false),
       r.variety
FROM resolved r
-- Looked up per entry: joined, the generic plan hashed the whole of pg_class for a few entries.
LEFT JOIN LATERAL (SELECT * FROM pg_class c WHERE c.oid = r.relation OFFSET 0) c ON true";

const HEALTHY: &str = "SELECT count(*) FROM pg_event_trigger
  WHERE evtname IN ('migration_gate_command', 'migration_gate_drop') AND evtenabled = 'A'";

/// Installs the log in a fresh scratch database; false when this server does not let us
/// (not a superuser), and every snapshot then reads everything.
pub async fn install(client: &tokio_postgres::Client) -> bool {
    let installed = client.batch_execute(INSTALL).await.is_ok();
    if !installed {
        let _ = client.batch_execute("RESET allow_system_table_mods").await;
    }
    installed
}

pub struct Prepared {
    take: tokio_postgres::Statement,
    healthy: tokio_postgres::Statement,
}

pub async fn prepare(client: &tokio_postgres::Client) -> Result<Prepared, RoundtripError> {
    let prepare = |sql: &'static str| async move {
        client
            .prepare(sql)
            .await
            .map_err(|e| fail(format!("reading the change log: {}", db_error(&e))))
    };
    let (take, healthy) = futures_util::future::try_join(prepare(TAKE), prepare(HEALTHY)).await?;
    Ok(Prepared { take, healthy })
}

/// What a new snapshot must read, from the log and the snapshot before.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// The log is gone or disabled, or something other objects' descriptions name changed (a
    /// schema, a type, an extension, a collation, a partitioned table's family): everything
    /// is read again.
    Everything,
    Owners {
        /// New or changed: read again.
        changed: BTreeSet<Owner>,
        /// Gone.
        dropped: BTreeSet<Owner>,
    },
}

/// One entry of the log, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub catalog: String,
    pub objid: u32,
    /// The relation it is or belongs to, when it still exists.
    pub relation: Option<u32>,
    pub relkind: Option<String>,
    /// The relation is partitioned, a partition, or in an inheritance tree.
    pub family: bool,
    /// `pg_type.typtype`, `pg_proc.prokind`, or `domain` for a domain's constraint.
    pub variety: Option<String>,
}

/// Reads and empties the log; `None` when the log is not there to be read.
pub async fn take(
    client: &tokio_postgres::Client,
    prepared: &Prepared,
) -> Result<Option<Vec<Entry>>, RoundtripError> {
    let started = std::time::Instant::now();
    let (healthy, rows) = futures_util::future::try_join(
        client.query_one(&prepared.healthy, &[]),
        client.query(&prepared.take, &[]),
    )
    .await
    .map_err(|e| fail(format!("reading the change log: {}", db_error(&e))))?;
    crate::roundtrip::profile::add("snapshot change log", started);
    if healthy.get::<_, i64>(0) != 2 {
        return Ok(None);
    }
    Ok(Some(
        rows.iter()
            .map(|row| Entry {
                catalog: row.get(0),
                objid: row.get(1),
                relation: row.get(2),
                relkind: row.get(3),
                family: row.get(4),
                variety: row.get(5),
            })
            .collect(),
    ))
}

/// Catalogs whose objects no snapshot describes nor prints the name of.
const UNDESCRIBED: [&str; 9] = [
    "pg_policy",
    "pg_statistic_ext",
    "pg_publication",
    "pg_publication_rel",
    "pg_publication_namespace",
    "pg_default_acl",
    "pg_event_trigger",
    "pg_user_mapping",
    "pg_largeobject_metadata",
];

pub fn plan(entries: &[Entry], before: &Snapshot) -> Plan {
    let mut changed = BTreeSet::new();
    let mut dropped = BTreeSet::new();
    let existed = |owner: &Owner| before.owned.contains_key(owner);
    for entry in entries {
        let catalog = entry.catalog.as_str();
        match catalog {
            "pg_class" | "pg_constraint" | "pg_trigger" | "pg_rewrite" | "pg_attrdef" => {
                if entry.variety.as_deref() == Some("domain") {
                    return Plan::Everything;
                }
                match (entry.relation, entry.relkind.as_deref()) {
                    (Some(_), _) if entry.family => return Plan::Everything,
                    (Some(oid), Some("r" | "p" | "v" | "m" | "f" | "S")) => {
                        changed.insert(Owner::relation(oid));
                    }
                    // A composite type: named by the columns of its type.
                    (Some(_), Some("c")) => return Plan::Everything,
                    (Some(_), _) => {}
                    // Gone: a relation the snapshot before knew, or a part of one.
                    (None, _) => {
                        let relation = Owner::relation(entry.objid);
                        if catalog == "pg_class" && existed(&relation) {
                            dropped.insert(relation);
                        } else if let Some(owner) = before.owner_of_part(entry.objid) {
                            changed.insert(owner);
                        }
                        // Otherwise it was made and dropped within the step.
                    }
                }
            }
            "pg_type" => {
                let owner = Owner {
                    kind: OwnerKind::Type,
                    oid: entry.objid,
                };
                match entry.variety.as_deref() {
                    // A new enum or domain is named by nothing yet; a changed one may be
                    // printed in defaults and checks (a renamed label).
                    Some("e" | "d") if !existed(&owner) => {
                        changed.insert(owner);
                    }
                    Some(_) => return Plan::Everything,
                    None if existed(&owner) => {
                        dropped.insert(owner);
                    }
                    None => {}
                }
            }
            "pg_proc" => {
                let owner = Owner {
                    kind: OwnerKind::Function,
                    oid: entry.objid,
                };
                match entry.variety.as_deref() {
                    Some("f" | "p") => {
                        changed.insert(owner);
                    }
                    Some(_) => return Plan::Everything,
                    None if existed(&owner) => {
                        dropped.insert(owner);
                    }
                    None => {}
                }
            }
            _ if UNDESCRIBED.contains(&catalog) => {}
            // Schemas, extensions, collations, operators, casts ... and anything unforeseen.
            _ => return Plan::Everything,
        }
    }
    for owner in &dropped {
        changed.remove(owner);
    }
    Plan::Owners { changed, dropped }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn entry(catalog: &str, objid: u32, relation: Option<(u32, &str)>) -> Entry {
        Entry {
            catalog: catalog.into(),
            objid,
            relation: relation.map(|r| r.0),
            relkind: relation.map(|r| r.1.to_string()),
            family: false,
            variety: None,
        }
    }

    fn known(owners: &[(Owner, &[u32])]) -> Snapshot {
        Snapshot {
            log: true,
            owned: owners
                .iter()
                .map(|(owner, parts)| {
                    (
                        *owner,
                        Arc::new(super::super::Owned {
                            objects: Default::default(),
                            parts: parts.to_vec(),
                        }),
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn parts_resolve_to_their_table_even_once_dropped() {
        let users = Owner::relation(10);
        let teams = Owner::relation(11);
        let before = known(&[(users, &[100, 101]), (teams, &[])]);
        let entries = [
            // CREATE INDEX on users: the index still exists and names its table.
            entry("pg_class", 102, Some((10, "r"))),
            // DROP TRIGGER 101 on users: gone, known as a part of users.
            entry("pg_trigger", 101, None),
            // DROP TABLE teams.
            entry("pg_class", 11, None),
            // An index made and dropped within the step.
            entry("pg_class", 103, None),
            // GRANT, a policy: nothing described.
            entry("pg_policy", 104, None),
        ];
        assert_eq!(
            plan(&entries, &before),
            Plan::Owners {
                changed: [users].into(),
                dropped: [teams].into()
            }
        );
    }

    #[test]
    fn what_other_objects_print_reads_everything_again() {
        let before = known(&[(Owner::relation(10), &[])]);
        let mut partition = entry("pg_class", 10, Some((10, "r")));
        partition.family = true;
        let mut changed_enum = entry("pg_type", 20, None);
        changed_enum.variety = Some("e".into());
        let before_enum = known(&[(
            Owner {
                kind: OwnerKind::Type,
                oid: 20,
            },
            &[],
        )]);
        assert_eq!(plan(&[partition], &before), Plan::Everything);
        assert_eq!(
            plan(&[entry("pg_namespace", 30, None)], &before),
            Plan::Everything
        );
        assert_eq!(
            plan(&[entry("pg_extension", 31, None)], &before),
            Plan::Everything
        );
        assert_eq!(
            plan(&[changed_enum.clone()], &before_enum),
            Plan::Everything
        );
        // A new enum changes nothing printed elsewhere.
        assert!(matches!(
            plan(&[changed_enum], &before),
            Plan::Owners { .. }
        ));
    }
}
