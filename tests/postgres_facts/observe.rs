//! What running one statement did to the tables, read from the session that ran it.

use std::collections::{BTreeMap, BTreeSet};

use tokio_postgres::Client;

use super::claims::{Claim, Effect};

/// One table as the session running the statement sees it.
#[derive(Debug, Clone, Default)]
pub struct TableState {
    name: String,
    filenode: Option<u32>,
    seq_scans: i64,
    /// Live columns, constraints and column defaults: what a CASCADE may take away.
    parts: i64,
    locks: BTreeSet<String>,
}

pub async fn table_states(client: &Client) -> BTreeMap<u32, TableState> {
    let mut states = BTreeMap::new();
    for row in client
        .query(
            "SELECT c.oid, c.relname::text, c.relfilenode, coalesce(s.seq_scan, 0),
                    (SELECT count(*) FROM pg_attribute a
                     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
                    + (SELECT count(*) FROM pg_constraint k WHERE k.conrelid = c.oid)
                    + (SELECT count(*) FROM pg_attrdef d WHERE d.adrelid = c.oid)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_stat_xact_user_tables s ON s.relid = c.oid
             WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')",
            &[],
        )
        .await
        .unwrap()
    {
        let oid: u32 = row.get(0);
        let filenode: u32 = row.get(2);
        states.insert(
            oid,
            TableState {
                name: row.get(1),
                filenode: Some(filenode),
                seq_scans: row.get(3),
                parts: row.get(4),
                locks: BTreeSet::new(),
            },
        );
    }
    for row in client
        .query(
            "SELECT relation, mode FROM pg_locks
             WHERE pid = pg_backend_pid() AND granted AND locktype = 'relation'",
            &[],
        )
        .await
        .unwrap()
    {
        let oid: u32 = row.get(0);
        let mode: String = row.get(1);
        states.entry(oid).or_default().locks.insert(mode);
    }
    states
}

/// What running one statement did.
#[derive(Debug)]
pub enum Observed {
    /// Run in a transaction: the tables before it, and after it before the commit.
    Ran {
        before: BTreeMap<u32, TableState>,
        after: BTreeMap<u32, TableState>,
    },
    /// PostgreSQL runs it only outside a transaction block; it ran that way, unobserved.
    OutsideTransaction,
    Failed(String),
}

pub async fn observe(client: &Client, sql: &str) -> Observed {
    client.batch_execute("BEGIN").await.unwrap();
    let before = table_states(client).await;
    match client.batch_execute(sql).await {
        Ok(()) => {
            let after = table_states(client).await;
            client.batch_execute("COMMIT").await.unwrap();
            Observed::Ran { before, after }
        }
        Err(error) => {
            client.batch_execute("ROLLBACK").await.unwrap();
            let outside_only =
                error.code() == Some(&tokio_postgres::error::SqlState::ACTIVE_SQL_TRANSACTION);
            if outside_only {
                client
                    .batch_execute(sql)
                    .await
                    .unwrap_or_else(|e| panic!("`{sql}`: {e}"));
                Observed::OutsideTransaction
            } else {
                Observed::Failed(migration_gate::roundtrip::postgres::db_error(&error))
            }
        }
    }
}

impl Observed {
    /// The tables among `existing` (populated, there before the fixture ran: rules leave the
    /// fixture's own new tables alone) that show the claim, by name.
    pub fn shows(&self, claim: &Claim, existing: &BTreeSet<u32>) -> Vec<String> {
        match (self, claim) {
            (Observed::Failed(_), Claim::FailsWithRows) => vec!["(the statement failed)".into()],
            (Observed::Ran { before, after }, Claim::Takes { mode, effect }) => before
                .iter()
                .filter(|(oid, was)| {
                    if !existing.contains(oid) {
                        return false;
                    }
                    let Some(now) = after.get(oid) else {
                        return false;
                    };
                    let rewritten = now.filenode != was.filenode;
                    now.locks.contains(mode)
                        && match effect {
                            Effect::Lock => true,
                            Effect::Rewrite => rewritten,
                            Effect::KeepsRows => !rewritten,
                            Effect::Scan => rewritten || now.seq_scans > was.seq_scans,
                        }
                })
                .map(|(_, was)| was.name.clone())
                .collect(),
            // Existing tables that lost columns or constraints, or went altogether.
            (Observed::Ran { before, after }, Claim::DropsDependents) => before
                .iter()
                .filter(|(oid, was)| {
                    existing.contains(oid) && after.get(oid).is_none_or(|now| now.parts < was.parts)
                })
                .map(|(_, was)| was.name.clone())
                .collect(),
            // Shown when the statement ran and no existing table holds a lock it did not hold.
            (Observed::Ran { before, after }, Claim::TakesNoLock) => {
                let locked = after.iter().any(|(oid, now)| {
                    existing.contains(oid)
                        && now
                            .locks
                            .iter()
                            .any(|l| !before.get(oid).is_some_and(|was| was.locks.contains(l)))
                });
                if locked {
                    Vec::new()
                } else {
                    vec!["(no table locked)".into()]
                }
            }
            _ => Vec::new(),
        }
    }
}
