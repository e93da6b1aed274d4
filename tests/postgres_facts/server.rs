//! A local PostgreSQL with the populated tables as a template database.

use std::path::Path;

use migration_gate::roundtrip::postgres::{ConnInfo, LocalCluster};

use super::fixtures::{migration_files, upgrade_statements};
use super::repo;

pub struct Server {
    _cluster: LocalCluster,
    admin: ConnInfo,
    pub runtime: tokio::runtime::Runtime,
    databases: std::cell::Cell<usize>,
}

impl Server {
    pub fn start() -> Server {
        let cluster = LocalCluster::start().unwrap();
        let admin = cluster.conninfo();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let server = Server {
            _cluster: cluster,
            admin,
            runtime,
            databases: std::cell::Cell::new(0),
        };
        let setup = std::fs::read_to_string(repo().join("fixtures/pg_facts/setup.sql")).unwrap();
        server.runtime.block_on(async {
            let admin = server.admin.connect().await.unwrap();
            admin
                .batch_execute("CREATE DATABASE facts_template")
                .await
                .unwrap();
            let template = server
                .admin
                .with_database("facts_template")
                .connect()
                .await
                .unwrap();
            template.batch_execute(&setup).await.unwrap();
        });
        server
    }

    /// A fresh database: an empty one, or a copy of the populated template.
    pub fn database(&self, populated: bool) -> ConnInfo {
        let n = self.databases.get() + 1;
        self.databases.set(n);
        let name = format!("facts_{n}");
        let template = if populated {
            "facts_template"
        } else {
            "template0"
        };
        self.runtime.block_on(async {
            let admin = self.admin.connect().await.unwrap();
            admin
                .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                .await
                .unwrap();
        });
        self.admin.with_database(&name)
    }
}

impl Server {
    /// A copy of the populated tables without those the fixture creates itself: a folder is a
    /// history of its own and may start by creating a table the setup has too.
    pub fn database_for(&self, fixture: &Path) -> ConnInfo {
        let database = self.database(true);
        let created: Vec<String> = migration_files(fixture)
            .iter()
            .flat_map(|file| {
                let text = std::fs::read_to_string(file).unwrap();
                upgrade_statements(&text)
                    .into_iter()
                    .filter_map(|statement| {
                        let words: Vec<String> = statement
                            .sql
                            .split_whitespace()
                            .map(|w| w.to_ascii_uppercase())
                            .collect();
                        let at = match words.get(..5) {
                            Some([c, t, i, n, e])
                                if c == "CREATE"
                                    && t == "TABLE"
                                    && i == "IF"
                                    && n == "NOT"
                                    && e == "EXISTS" =>
                            {
                                5
                            }
                            _ if words.get(..2) == Some(&["CREATE".into(), "TABLE".into()]) => 2,
                            _ => return None,
                        };
                        let name = statement.sql.split_whitespace().nth(at)?;
                        Some(name.split('(').next().unwrap_or(name).to_string())
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        if fixture.is_dir() && !created.is_empty() {
            self.runtime.block_on(async {
                let client = database.connect().await.unwrap();
                for table in created {
                    client
                        .batch_execute(&format!("DROP TABLE IF EXISTS {table} CASCADE"))
                        .await
                        .unwrap();
                }
            });
        }
        database
    }
}
