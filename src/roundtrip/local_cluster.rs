//! `--postgres local`: a PostgreSQL cluster made for the run in a temporary folder, listening
//! on a unix socket only (or, for env.py files that assemble a URL from a host name, also on
//! 127.0.0.1 with a password of the run's own), with fsync off, removed at the end.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::postgres::{ConnInfo, DEFAULT_CONNECT_TIMEOUT, random_suffix};
use super::watchdog::{self, Armed, Resource};
use super::{RoundtripError, fail};

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

/// Where a local cluster's folder goes: TMPDIR when it is set; else a memory file system with
/// room to spare, where initdb's thousand files are written in half the time (0.76 s against
/// 1.7 s on a runner's disk, measured); else the temporary folder.
fn cluster_parent() -> PathBuf {
    const ROOM: u64 = 1 << 30;
    let memory = Path::new("/dev/shm");
    let has_room = || {
        rustix::fs::statvfs(memory).is_ok_and(|fs| fs.f_bavail.saturating_mul(fs.f_frsize) >= ROOM)
    };
    if std::env::var_os("TMPDIR").is_none() && memory.is_dir() && has_room() {
        return memory.to_path_buf();
    }
    std::env::temp_dir()
}

/// A cluster in a temporary folder, listening on a unix socket only, with fsync off.
pub struct LocalCluster {
    bin: PathBuf,
    root: PathBuf,
    /// As root, initdb and postgres run as this user (initdb refuses to run as root).
    run_as: Option<String>,
    armed: Option<Armed>,
    /// Listening on 127.0.0.1 too: the port and the password TCP connections need.
    tcp: Option<(u16, String)>,
}

impl LocalCluster {
    /// A cluster listening on a unix socket only.
    pub fn start() -> Result<LocalCluster, RoundtripError> {
        Self::start_listening(false)
    }

    /// With `tcp`, the cluster also listens on 127.0.0.1, on a free port, where connections
    /// must give the run's password (the socket stays in a folder only this user can open):
    /// `{host}` in a URL template is then a host name, as env.py files that assemble their URL
    /// from parts expect, and every connection of the run goes that way.
    pub fn start_listening(tcp: bool) -> Result<LocalCluster, RoundtripError> {
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
        // Named and watched before it exists: a run killed during initdb leaves nothing.
        let root = cluster_parent().join(format!("migration-gate-pg-{}", random_suffix()));
        let armed = watchdog::arm(Resource::Cluster {
            root: root.clone(),
            pg_ctl: bin.join("pg_ctl"),
            run_as: run_as.clone(),
        });
        let tcp = if tcp {
            Some((free_port()?, random_suffix()))
        } else {
            None
        };
        let cluster = LocalCluster {
            bin,
            root,
            run_as,
            armed: Some(armed),
            tcp,
        };
        {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&cluster.root)
                .map_err(|e| {
                    fail(format!(
                        "--postgres local: cannot create {}: {e}",
                        cluster.root.display()
                    ))
                })?;
        }
        cluster.hand_over(&cluster.root)?;
        let data = cluster.root.join("data");
        let data = data.to_string_lossy().to_string();
        let mut initdb: Vec<String> = [
            "-D",
            &data,
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--auth-local=trust",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if let Some((_, password)) = &cluster.tcp {
            let file = cluster.root.join("password");
            std::fs::write(&file, password)
                .map_err(|e| fail(format!("--postgres local: cannot write the password: {e}")))?;
            cluster.hand_over(&file)?;
            initdb.push("--auth-host=scram-sha-256".into());
            initdb.push(format!("--pwfile={}", file.display()));
        } else {
            initdb.push("--auth-host=trust".into());
        }
        let initdb: Vec<&str> = initdb.iter().map(String::as_str).collect();
        cluster.run("initdb", &initdb)?;
        let _ = std::fs::remove_file(cluster.root.join("password"));
        let socket = cluster.root.to_string_lossy().to_string();
        let log = cluster.root.join("server.log");
        let (listen, port) = match &cluster.tcp {
            Some((port, _)) => ("127.0.0.1", *port),
            None => ("", 5432),
        };
        let options = format!(
            "-c listen_addresses='{listen}' -k {socket} -p {port} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40"
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

    pub fn conninfo(&self) -> ConnInfo {
        let (host, port, password) = match &self.tcp {
            Some((port, password)) => (
                "127.0.0.1".to_string(),
                *port,
                Some(super::conninfo::Secret::new(password)),
            ),
            None => (self.root.to_string_lossy().to_string(), 5432, None),
        };
        ConnInfo {
            host,
            port,
            user: "postgres".into(),
            password,
            dbname: "postgres".into(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// As root, the cluster's files belong to the user the server runs as.
    fn hand_over(&self, path: &Path) -> Result<(), RoundtripError> {
        let Some(user) = &self.run_as else {
            return Ok(());
        };
        let status = Command::new("chown").args(["-R", user]).arg(path).status();
        if status.is_ok_and(|s| s.success()) {
            Ok(())
        } else {
            Err(fail(format!(
                "--postgres local: cannot hand {} to the `{user}` user",
                path.display()
            )))
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
            let log = std::fs::read_to_string(self.root.join("server.log")).unwrap_or_default();
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
        let Some(armed) = self.armed.take() else {
            return;
        };
        let removed =
            watchdog::remove_cluster(&self.root, &self.bin.join("pg_ctl"), self.run_as.as_deref());
        match removed {
            Some(what) if !self.root.exists() => armed.removed(what),
            None => armed.disarm(),
            // Left in place: the watchdog tries again once the run is over.
            Some(_) => {}
        }
    }
}

/// A port nothing listens on at 127.0.0.1 now (the system's pick for a socket bound to 0).
fn free_port() -> Result<u16, RoundtripError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| fail(format!("--postgres local: no free port on 127.0.0.1: {e}")))
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.stop();
    }
}
