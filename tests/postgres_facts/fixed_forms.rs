//! The forms the fixes write (`check --fix`), observed on PostgreSQL 15 while they run: an index
//! built CONCURRENTLY holds SHARE UPDATE EXCLUSIVE on its table, not SHARE, and writes go on
//! meanwhile; a VALIDATE CONSTRAINT holds SHARE UPDATE EXCLUSIVE, not the SHARE ROW EXCLUSIVE /
//! ACCESS EXCLUSIVE of a constraint validated as it is added. (That they scan or rewrite
//! nothing their rules warn of is the claims test's, on each rule's good fixture.)

use std::time::{Duration, Instant};

use tokio_postgres::Client;

use super::server::Server;

/// The relation locks `pid` holds on `table`, granted.
async fn locks_on(watcher: &Client, pid: i32, table: &str) -> Vec<String> {
    watcher
        .query(
            "SELECT mode FROM pg_locks
             WHERE pid = $1 AND granted AND locktype = 'relation' AND relation = $2::text::regclass
             ORDER BY mode",
            &[&pid, &table],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[test]
fn the_forms_the_fixes_write_take_only_the_locks_they_claim() {
    if !super::server_available() {
        return;
    }
    let server = Server::start();
    let database = server.database(true);
    server.runtime.block_on(async {
        let holder = database.connect().await.unwrap();
        let builder = database.connect().await.unwrap();
        let watcher = database.connect().await.unwrap();

        // A transaction with an old snapshot: the concurrent build waits for it at its end,
        // holding its table lock, long enough to be seen.
        holder
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM users")
            .await
            .unwrap();
        let pid: i32 = builder
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0);
        // What the index fix sends: the drop of a failed build's leftover, then the build, each
        // a statement of its own outside any transaction block.
        let build = tokio::spawn(async move {
            builder
                .batch_execute("DROP INDEX CONCURRENTLY IF EXISTS ix_users_email_fixed")
                .await?;
            builder
                .batch_execute("CREATE INDEX CONCURRENTLY ix_users_email_fixed ON users (email)")
                .await
        });
        let started = Instant::now();
        let held = loop {
            let held = locks_on(&watcher, pid, "users").await;
            if !held.is_empty() || started.elapsed() > Duration::from_secs(20) {
                break held;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(held, ["ShareUpdateExclusiveLock"], "the concurrent build's lock");
        // Writes go on while it builds.
        watcher
            .batch_execute(
                "SET lock_timeout = '2s'; INSERT INTO users (id, email) VALUES (987654321, 'during@example.com')",
            )
            .await
            .expect("a write during the concurrent build");
        holder.batch_execute("COMMIT").await.unwrap();
        build.await.unwrap().expect("the concurrent build completes");

        // What the NOT VALID fix sends: the constraint added NOT VALID, then validated in a
        // transaction of its own (the autocommit block).
        watcher
            .batch_execute(
                "ALTER TABLE orders ADD CONSTRAINT ck_orders_id_fixed CHECK (id IS NOT NULL) NOT VALID",
            )
            .await
            .unwrap();
        watcher
            .batch_execute("BEGIN; ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_id_fixed")
            .await
            .unwrap();
        let own: i32 = watcher
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap()
            .get(0);
        let held = locks_on(&holder, own, "orders").await;
        assert_eq!(held, ["ShareUpdateExclusiveLock"], "VALIDATE CONSTRAINT's lock");
        watcher.batch_execute("COMMIT").await.unwrap();
    });
}
