//! Throwaway PostgreSQL servers (a local temporary cluster, a Docker container, or a server the
//! user names) and the scratch database the round trip works in.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

pub use super::conninfo::{ConnInfo, redact_url};
use super::watchdog;
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
    Docker(Option<Box<ContainerAsync<GenericImage>>>),
    External,
}

impl Server {
    /// Stops what was started (nothing for a given server).
    pub async fn shut_down(mut self) {
        match &mut self.keeper {
            Keeper::Local(cluster) => cluster.stop(),
            Keeper::Docker(container) => {
                if let Some(container) = container.take() {
                    let _ = container.rm().await;
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
            let admin = ConnInfo::parse_url(url)?;
            wait_until_ready(&admin, Duration::from_secs(10)).await?;
            Ok(finish(admin, "url", Keeper::External))
        }
        Provider::Local => {
            let cluster = LocalCluster::start()?;
            let admin = cluster.conninfo();
            wait_until_ready(&admin, Duration::from_secs(30)).await?;
            Ok(finish(admin, "local", Keeper::Local(cluster)))
        }
        Provider::Docker => {
            let container = start_container(request.image).await?;
            let admin = ConnInfo {
                host: container
                    .get_host()
                    .await
                    .map_err(|e| fail(format!("docker: {e}")))?
                    .to_string(),
                port: container
                    .get_host_port_ipv4(5432.tcp())
                    .await
                    .map_err(|e| fail(format!("docker: {e}")))?,
                user: "postgres".into(),
                password: Some("postgres".into()),
                dbname: "postgres".into(),
            };
            watchdog::guard_container(container.id());
            let ready = wait_until_ready(&admin, Duration::from_secs(60)).await;
            if let Err(error) = ready {
                let _ = container.rm().await;
                return Err(error);
            }
            Ok(finish(
                admin,
                "docker",
                Keeper::Docker(Some(Box::new(container))),
            ))
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

async fn start_container(image: &str) -> Result<ContainerAsync<GenericImage>, RoundtripError> {
    let (name, tag) = image.rsplit_once(':').unwrap_or((image, "latest"));
    GenericImage::new(name, tag)
        .with_exposed_port(5432.tcp())
        .with_wait_for(WaitFor::Nothing)
        .with_env_var("POSTGRES_PASSWORD", "postgres")
        .with_env_var("POSTGRES_HOST_AUTH_METHOD", "trust")
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

/// Ready means a connection succeeds, not a line in a log.
async fn wait_until_ready(conninfo: &ConnInfo, limit: Duration) -> Result<(), RoundtripError> {
    let started = Instant::now();
    loop {
        match conninfo.connect().await {
            Ok(client) => {
                drop(client);
                return Ok(());
            }
            Err(error) if started.elapsed() > limit => {
                return Err(fail(format!(
                    "PostgreSQL at {} does not accept connections: {error}",
                    conninfo.describe()
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

/// The directory with initdb and pg_ctl: PATH, `pg_config --bindir`, then the newest
/// `/usr/lib/postgresql/*/bin`.
pub fn find_postgres_bin() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).find(|d| has_tools(d)))
    {
        return Some(dir);
    }
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if has_tools(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, dir)| has_tools(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}

/// A cluster in a temporary folder, listening on a unix socket only, with fsync off.
pub struct LocalCluster {
    bin: PathBuf,
    dir: Option<tempfile::TempDir>,
    /// As root, initdb and postgres run as this user (initdb refuses to run as root).
    run_as: Option<String>,
    stopped: bool,
}

impl LocalCluster {
    pub fn start() -> Result<LocalCluster, RoundtripError> {
        let bin = find_postgres_bin().ok_or_else(|| {
            fail("--postgres local: no initdb/pg_ctl found on PATH, through `pg_config --bindir`, or under /usr/lib/postgresql/*/bin; install PostgreSQL's server package")
        })?;
        let run_as = if running_as_root() {
            let exists = Command::new("id")
                .arg("postgres")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !exists {
                return Err(fail(
                    "--postgres local: running as root, and initdb refuses to run as root; create an unprivileged `postgres` user, run as a normal user, or use --postgres docker / --database-url",
                ));
            }
            Some("postgres".to_string())
        } else {
            None
        };
        let dir = tempfile::Builder::new()
            .prefix("migration-gate-pg-")
            .tempdir()
            .map_err(|e| {
                fail(format!(
                    "--postgres local: cannot create a temporary folder: {e}"
                ))
            })?;
        let cluster = LocalCluster {
            bin,
            dir: Some(dir),
            run_as,
            stopped: false,
        };
        if let Some(user) = &cluster.run_as {
            let status = Command::new("chown")
                .args(["-R", user])
                .arg(cluster.root())
                .status();
            if !status.is_ok_and(|s| s.success()) {
                return Err(fail(format!(
                    "--postgres local: cannot hand {} to the `{user}` user",
                    cluster.root().display()
                )));
            }
        }
        let data = cluster.root().join("data");
        let data = data.to_string_lossy().to_string();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )?;
        watchdog::guard_cluster(
            &cluster.bin.join("pg_ctl"),
            cluster.root(),
            cluster.run_as.as_deref(),
        );
        let socket = cluster.root().to_string_lossy().to_string();
        let log = cluster.root().join("server.log");
        let options = format!(
            "-c listen_addresses='' -k {socket} -p 5432 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40"
        );
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                &data,
                "-l",
                &log.to_string_lossy(),
                "-w",
                "-t",
                "60",
                "-o",
                &options,
                "start",
            ],
        )?;
        Ok(cluster)
    }

    fn root(&self) -> &Path {
        self.dir.as_ref().expect("cluster folder").path()
    }

    pub fn conninfo(&self) -> ConnInfo {
        ConnInfo {
            host: self.root().to_string_lossy().to_string(),
            port: 5432,
            user: "postgres".into(),
            password: None,
            dbname: "postgres".into(),
        }
    }

    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(program);
                command
            }
            None => Command::new(program),
        }
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), RoundtripError> {
        let output = self
            .command(tool)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| fail(format!("--postgres local: cannot run {tool}: {e}")))?;
        if output.status.success() {
            Ok(())
        } else {
            let log = std::fs::read_to_string(self.root().join("server.log")).unwrap_or_default();
            Err(fail(format!(
                "--postgres local: {tool} failed: {}{}",
                String::from_utf8_lossy(&output.stderr).trim(),
                if log.is_empty() {
                    String::new()
                } else {
                    format!("\n{log}")
                }
            )))
        }
    }

    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let data = self.root().join("data").to_string_lossy().to_string();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The database the round trip works in: created with a unique name, dropped at the end.
pub struct ScratchDatabase {
    pub conninfo: ConnInfo,
    admin: ConnInfo,
}

impl ScratchDatabase {
    pub async fn create(admin: &ConnInfo) -> Result<ScratchDatabase, RoundtripError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name = format!("migration_gate_{}_{nanos:x}", std::process::id());
        let client = admin
            .connect()
            .await
            .map_err(|e| fail(format!("cannot connect to {}: {e}", admin.describe())))?;
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .map_err(|e| {
                fail(format!(
                    "cannot create the scratch database on {}: {}",
                    admin.describe(),
                    db_error(&e)
                ))
            })?;
        watchdog::guard_database(admin, &name);
        Ok(ScratchDatabase {
            conninfo: admin.with_database(&name),
            admin: admin.clone(),
        })
    }

    /// Drops the database, ending any session still in it.
    pub async fn drop_database(&self) -> Result<(), RoundtripError> {
        let client = self
            .admin
            .connect()
            .await
            .map_err(|e| fail(format!("cannot connect to {}: {e}", self.admin.describe())))?;
        let name = &self.conninfo.dbname;
        let _ = client
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[name],
            )
            .await;
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\""))
            .await
            .map_err(|e| {
                fail(format!(
                    "cannot drop the scratch database {name}: {}",
                    db_error(&e)
                ))
            })
    }

    /// Drops and creates the database again under the same name, so that a running driver
    /// keeps its URL.
    pub async fn recreate(&self) -> Result<(), RoundtripError> {
        self.drop_database().await?;
        let client = self
            .admin
            .connect()
            .await
            .map_err(|e| fail(format!("cannot connect to {}: {e}", self.admin.describe())))?;
        client
            .batch_execute(&format!("CREATE DATABASE \"{}\"", self.conninfo.dbname))
            .await
            .map_err(|e| {
                fail(format!(
                    "cannot create the scratch database again: {}",
                    db_error(&e)
                ))
            })
    }

    /// Ends every session in the scratch database (a hung statement after a timeout).
    pub async fn terminate_sessions(&self) {
        if let Ok(client) = self.admin.connect().await {
            let _ = client
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                    &[&self.conninfo.dbname],
                )
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
