//! Throwaway PostgreSQL servers (a local temporary cluster, a Docker container, or a server the
//! user names) and the scratch database the round trip works in.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

use super::conninfo::ConnectError;
pub use super::conninfo::{ConnInfo, DEFAULT_CONNECT_TIMEOUT, Secret, redact_url, scrub};
pub use super::local_cluster::{LocalCluster, find_postgres_bin};
use super::watchdog::{self, Armed, Resource};
use super::{RoundtripError, fail};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Auto,
    Local,
    Docker,
    Url,
}

/// A running server and what must happen to it at the end.
pub struct Server {
    pub admin: ConnInfo,
    pub kind: &'static str,
    /// Time from asking to a server that accepts connections.
    pub ready_in: Duration,
    keeper: Keeper,
}

enum Keeper {
    Local(LocalCluster),
    Docker(Option<(Box<ContainerAsync<GenericImage>>, Armed)>),
    External,
}

impl Server {
    /// Stops what was started (nothing for a given server).
    pub async fn shut_down(mut self) {
        match &mut self.keeper {
            Keeper::Local(cluster) => cluster.stop(),
            Keeper::Docker(container) => {
                if let Some((container, armed)) = container.take()
                    && container.rm().await.is_ok()
                {
                    armed.disarm();
                }
            }
            Keeper::External => {}
        }
    }
}

pub struct ProviderRequest<'a> {
    pub provider: Provider,
    pub database_url: Option<&'a str>,
    pub image: &'a str,
    /// For every connection: handshake and authentication included.
    pub connect_timeout: Duration,
    /// A local cluster listens on 127.0.0.1 too (`{host}` in `[roundtrip.env]` values).
    pub local_tcp: bool,
}

pub async fn provide(request: &ProviderRequest<'_>) -> Result<Server, RoundtripError> {
    let started = Instant::now();
    let finish = |admin: ConnInfo, kind, keeper| Server {
        admin,
        kind,
        ready_in: started.elapsed(),
        keeper,
    };
    match request.provider {
        Provider::Url => {
            let url = request.database_url.ok_or_else(|| {
                fail("--postgres url needs --database-url (or the environment variable named by `database_url_env`)")
            })?;
            let mut admin = ConnInfo::parse_url(url)?;
            admin.connect_timeout = request.connect_timeout;
            // A server named by URL is running already: nothing listening there is an answer.
            wait_until_ready(&admin, Duration::ZERO).await?;
            Ok(finish(admin, "url", Keeper::External))
        }
        Provider::Local => {
            let cluster = LocalCluster::start_listening(request.local_tcp)?;
            let mut admin = cluster.conninfo();
            admin.connect_timeout = request.connect_timeout;
            wait_until_ready(&admin, Duration::from_secs(30)).await?;
            Ok(finish(admin, "local", Keeper::Local(cluster)))
        }
        Provider::Docker => {
            let name = format!("migration-gate-{}", random_suffix());
            let password = random_suffix();
            let armed = watchdog::arm(Resource::Container { name: name.clone() });
            let container = match start_container(request.image, &name, &password).await {
                Ok(container) => container,
                Err(error) => {
                    // It may exist half made (created, not started).
                    watchdog::clean_up(&Resource::Container { name }).await;
                    armed.disarm();
                    return Err(error);
                }
            };
            let port = container
                .get_host_port_ipv4(5432.tcp())
                .await
                .map_err(|e| fail(format!("docker: {e}")));
            let admin = port.map(|port| ConnInfo {
                host: "127.0.0.1".into(),
                port,
                user: "postgres".into(),
                password: Some(Secret::new(password)),
                dbname: "postgres".into(),
                connect_timeout: request.connect_timeout,
            });
            let ready = match &admin {
                Ok(admin) => wait_until_ready(admin, Duration::from_secs(60)).await,
                Err(error) => Err(fail(error.to_string())),
            };
            match (admin, ready) {
                (Ok(admin), Ok(())) => Ok(finish(
                    admin,
                    "docker",
                    Keeper::Docker(Some((Box::new(container), armed))),
                )),
                (_, Err(error)) | (Err(error), _) => {
                    if container.rm().await.is_ok() {
                        armed.disarm();
                    }
                    Err(error)
                }
            }
        }
        Provider::Auto => {
            if request.database_url.is_some() {
                return Box::pin(provide(&ProviderRequest {
                    provider: Provider::Url,
                    ..*request
                }))
                .await;
            }
            let local_error = match find_postgres_bin() {
                Some(_) => match Box::pin(provide(&ProviderRequest {
                    provider: Provider::Local,
                    ..*request
                }))
                .await
                {
                    Ok(server) => return Ok(server),
                    Err(error) => Some(error),
                },
                None => None,
            };
            if docker_answers() {
                return Box::pin(provide(&ProviderRequest {
                    provider: Provider::Docker,
                    ..*request
                }))
                .await;
            }
            Err(fail(format!(
                "no PostgreSQL to run on: {}no Docker engine answers, and no --database-url was given. Install PostgreSQL (`apt-get install postgresql`, `brew install postgresql`), start Docker, or pass --database-url for a server where a scratch database may be created",
                match local_error {
                    Some(error) => format!("the local cluster failed ({error}); "),
                    None => "no initdb/pg_ctl found (PATH, `pg_config --bindir`, /usr/lib/postgresql/*/bin); ".to_string(),
                }
            )))
        }
    }
}

/// 32 hex digits from the system's random source: names nobody else uses, passwords nobody
/// guesses.
pub(super) fn random_suffix() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        // No /dev/urandom: the clock and the process id still make a name unique.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes = (nanos ^ (u128::from(std::process::id()) << 96)).to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The official image's server, reachable on 127.0.0.1 only, with a password made for this run
/// (the image authenticates TCP connections by password unless told to trust them).
async fn start_container(
    image: &str,
    name: &str,
    password: &str,
) -> Result<ContainerAsync<GenericImage>, RoundtripError> {
    use testcontainers::bollard::models::{HostConfig, PortBinding};
    let (image_name, tag) = image.rsplit_once(':').unwrap_or((image, "latest"));
    GenericImage::new(image_name, tag)
        .with_exposed_port(5432.tcp())
        .with_wait_for(WaitFor::Nothing)
        .with_container_name(name)
        .with_env_var("POSTGRES_PASSWORD", password)
        .with_host_config_modifier(|config: &mut HostConfig| {
            let loopback = PortBinding {
                host_ip: Some("127.0.0.1".into()),
                host_port: Some(String::new()),
            };
            config.publish_all_ports = Some(false);
            config.port_bindings = Some(
                [("5432/tcp".to_string(), Some(vec![loopback]))]
                    .into_iter()
                    .collect(),
            );
        })
        .with_cmd([
            "postgres",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ])
        .start()
        .await
        .map_err(|e| {
            fail(format!(
                "docker: cannot start {image}: {e} (pull it first, or pass --postgres-image)"
            ))
        })
}

/// Ready means a connection succeeds, not a line in a log. A server that refuses the
/// credentials or the database fails at once; one that is not up yet (still starting, it
/// refuses connections for a while) is asked again until `limit`; with no limit, the first
/// refusal is the answer.
async fn wait_until_ready(conninfo: &ConnInfo, limit: Duration) -> Result<(), RoundtripError> {
    let started = Instant::now();
    loop {
        match conninfo.connect().await {
            Ok(client) => {
                drop(client);
                return Ok(());
            }
            Err(ConnectError::Refused(reason)) => {
                return Err(fail(format!(
                    "PostgreSQL at {conninfo} refuses the connection: {reason}; check the user, password and database in --database-url"
                )));
            }
            Err(error @ ConnectError::TimedOut(_)) => {
                return Err(fail(format!(
                    "PostgreSQL at {conninfo} does not accept connections: {error}"
                )));
            }
            Err(error) if started.elapsed() >= limit => {
                let hint = if limit.is_zero() {
                    "; is the server running, and are the host and port in --database-url right?"
                } else {
                    ""
                };
                return Err(fail(format!(
                    "PostgreSQL at {conninfo} does not accept connections: {error}{hint}"
                )));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

fn docker_answers() -> bool {
    Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Ends every other session in the database named by `$1`.
const TERMINATE_SESSIONS: &str = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()";

/// The database the round trip works in: created with a unique name, dropped at the end.
pub struct ScratchDatabase {
    pub conninfo: ConnInfo,
    admin: ConnInfo,
    /// How long creating or dropping it may wait (locks included).
    limit: Duration,
    armed: Option<Armed>,
}

/// A connection for creating and dropping databases: every statement bounded by `limit`, on
/// the server (statement and lock timeouts) and here (a server that stops answering).
async fn admin_session(
    admin: &ConnInfo,
    limit: Duration,
) -> Result<tokio_postgres::Client, RoundtripError> {
    let client = admin
        .connect()
        .await
        .map_err(|e| fail(format!("cannot connect to {admin}: {e}")))?;
    let millis = limit.as_millis();
    client
        .batch_execute(&format!(
            "SET statement_timeout = {millis}; SET lock_timeout = {millis}"
        ))
        .await
        .map_err(|e| {
            fail(format!(
                "cannot set up the session on {admin}: {}",
                db_error(&e)
            ))
        })?;
    Ok(client)
}

async fn bounded<T>(
    limit: Duration,
    what: &str,
    work: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, RoundtripError> {
    match tokio::time::timeout(limit + Duration::from_secs(1), work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(fail(format!("{what}: {}", db_error(&error)))),
        Err(_) => Err(fail(format!(
            "{what}: no answer within {} s (--timeout)",
            limit.as_secs()
        ))),
    }
}

impl ScratchDatabase {
    pub async fn create(
        admin: &ConnInfo,
        limit: Duration,
    ) -> Result<ScratchDatabase, RoundtripError> {
        let scratch = ScratchDatabase::named(admin, limit);
        scratch.create_on_server().await?;
        Ok(scratch)
    }

    /// A name for the database, watched from now on: a run killed while CREATE DATABASE runs
    /// leaves nothing. Its URL can be handed out before the database exists.
    pub fn named(admin: &ConnInfo, limit: Duration) -> ScratchDatabase {
        let name = format!("migration_gate_{}", random_suffix());
        let armed = watchdog::arm(Resource::Database {
            admin: admin.clone(),
            name: name.clone(),
        });
        ScratchDatabase {
            conninfo: admin.with_database(&name),
            admin: admin.clone(),
            limit,
            armed: Some(armed),
        }
    }

    pub async fn create_on_server(&self) -> Result<(), RoundtripError> {
        let admin = &self.admin;
        let client = admin_session(admin, self.limit).await?;
        bounded(
            self.limit,
            &format!("cannot create the scratch database on {admin}"),
            client.batch_execute(&format!("CREATE DATABASE \"{}\"", self.conninfo.dbname)),
        )
        .await
    }

    /// Drops the database, ending any session still in it.
    pub async fn drop_database(&mut self) -> Result<(), RoundtripError> {
        self.drop_only().await?;
        if let Some(armed) = self.armed.take() {
            armed.disarm();
        }
        Ok(())
    }

    async fn drop_only(&self) -> Result<(), RoundtripError> {
        let client = admin_session(&self.admin, self.limit).await?;
        let name = &self.conninfo.dbname;
        let _ = client.execute(TERMINATE_SESSIONS, &[name]).await;
        bounded(
            self.limit,
            &format!("cannot drop the scratch database {name}"),
            client.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\"")),
        )
        .await
    }

    /// Drops and creates the database again under the same name, so that a running driver
    /// keeps its URL.
    pub async fn recreate(&self) -> Result<(), RoundtripError> {
        self.drop_only().await?;
        let client = admin_session(&self.admin, self.limit).await?;
        bounded(
            self.limit,
            "cannot create the scratch database again",
            client.batch_execute(&format!("CREATE DATABASE \"{}\"", self.conninfo.dbname)),
        )
        .await
    }

    /// Another database on the same server, named and watched like this one.
    pub fn sibling(&self) -> ScratchDatabase {
        ScratchDatabase::named(&self.admin, self.limit)
    }

    /// Makes `copy` a copy of this database as it is now (`CREATE DATABASE … TEMPLATE`), which
    /// ends every session in it first: PostgreSQL copies only a database nobody is in.
    pub async fn copy_to(&self, copy: &ScratchDatabase) -> Result<(), RoundtripError> {
        let client = admin_session(&self.admin, self.limit).await?;
        let _ = client
            .execute(TERMINATE_SESSIONS, &[&self.conninfo.dbname])
            .await;
        self.create_from_template(
            &client,
            &copy.conninfo.dbname,
            &self.conninfo.dbname,
            "cannot copy the scratch database",
        )
        .await
    }

    /// Drops the database and creates it again as a copy of `template`, under the same name.
    pub async fn recreate_from(&self, template: &ScratchDatabase) -> Result<(), RoundtripError> {
        self.drop_only().await?;
        let client = admin_session(&self.admin, self.limit).await?;
        self.create_from_template(
            &client,
            &self.conninfo.dbname,
            &template.conninfo.dbname,
            "cannot restore the scratch database from its checkpoint",
        )
        .await
    }

    async fn create_from_template(
        &self,
        client: &tokio_postgres::Client,
        name: &str,
        template: &str,
        context: &str,
    ) -> Result<(), RoundtripError> {
        bounded(
            self.limit,
            context,
            client.batch_execute(&format!(
                "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
            )),
        )
        .await
    }

    /// Ends every session in the scratch database (a hung statement after a timeout).
    pub async fn terminate_sessions(&self) {
        if let Ok(client) = self.admin.connect().await {
            let _ = client
                .execute(TERMINATE_SESSIONS, &[&self.conninfo.dbname])
                .await;
        }
    }
}

pub fn db_error(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => error.to_string(),
    }
}
