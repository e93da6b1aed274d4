//! Cleanup that survives a killed run.
//!
//! Every throwaway resource (the scratch database, the container, the local cluster's folder)
//! is *armed* under its final name before it is created: a detached copy of this binary
//! (`migration-gate __watchdog`) waits for the run to end, however it ends, and then removes
//! whatever exists under that name, several times over a few seconds so that a creation still
//! in flight when the run died is caught as well. After a normal run the resource is already
//! gone and the watchdog finds nothing. On Ctrl-C, SIGTERM or SIGHUP the run itself removes
//! what is armed, so that it can say what it removed.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::conninfo::ConnInfo;

const URL_VARIABLE: &str = "MIGRATION_GATE_WATCHDOG_URL";
const PG_CTL_VARIABLE: &str = "MIGRATION_GATE_WATCHDOG_PG_CTL";
const RUN_AS_VARIABLE: &str = "MIGRATION_GATE_WATCHDOG_RUN_AS";

/// Something the run creates and must not leave behind.
#[derive(Debug, Clone)]
pub enum Resource {
    /// A local cluster's folder (data directory, socket, log) and the tools to stop it.
    Cluster {
        root: PathBuf,
        pg_ctl: PathBuf,
        run_as: Option<String>,
    },
    Container {
        name: String,
    },
    Database {
        admin: ConnInfo,
        name: String,
    },
}

static ARMED: Mutex<Vec<(u64, Resource)>> = Mutex::new(Vec::new());
/// What was removed the normal way while the run was being interrupted (a cluster stopped as
/// the interrupted job was dropped), for the closing message.
static REMOVED: Mutex<Vec<String>> = Mutex::new(Vec::new());
static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A resource under watch; [`Armed::disarm`] once it has been removed the normal way.
#[must_use = "disarm it once the resource is removed"]
pub struct Armed(u64);

impl Armed {
    pub fn disarm(self) {
        if let Ok(mut armed) = ARMED.lock() {
            armed.retain(|(id, _)| *id != self.0);
        }
    }

    /// Disarms, remembering what was removed in case the run is being interrupted.
    pub fn removed(self, what: String) {
        if let Ok(mut removed) = REMOVED.lock() {
            removed.push(what);
        }
        self.disarm();
    }
}

/// Watches `resource` from now on: call before creating it.
pub fn arm(resource: Resource) -> Armed {
    spawn_watchdog(&resource);
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Ok(mut armed) = ARMED.lock() {
        armed.push((id, resource));
    }
    Armed(id)
}

/// Removes everything still armed (the run was interrupted) and says what was removed.
pub async fn clean_up_armed() -> Vec<String> {
    let resources: Vec<Resource> = ARMED
        .lock()
        .map(|mut armed| armed.drain(..).map(|(_, r)| r).collect())
        .unwrap_or_default();
    let mut removed = Vec::new();
    // Newest first: the database lives on the server the cluster or container provides.
    for resource in resources.iter().rev() {
        if let Some(what) = clean_up(resource).await {
            removed.push(what);
        }
    }
    if let Ok(mut earlier) = REMOVED.lock() {
        removed.append(&mut earlier);
    }
    removed
}

fn spawn_watchdog(resource: &Resource) {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    // Tests run the library inside the test binary, which has no `__watchdog` command.
    if exe
        .file_stem()
        .is_none_or(|name| name.to_string_lossy() != "migration-gate")
    {
        return;
    }
    let (action, target, env): (&str, String, Vec<(&str, String)>) = match resource {
        Resource::Cluster {
            root,
            pg_ctl,
            run_as,
        } => (
            "cluster",
            root.to_string_lossy().to_string(),
            vec![
                (PG_CTL_VARIABLE, pg_ctl.to_string_lossy().to_string()),
                (RUN_AS_VARIABLE, run_as.clone().unwrap_or_default()),
            ],
        ),
        Resource::Container { name } => ("container", name.clone(), Vec::new()),
        // The URL holds the password: it travels in the environment, never on a command line.
        Resource::Database { admin, name } => (
            "database",
            name.clone(),
            vec![(URL_VARIABLE, admin.url_with_password())],
        ),
    };
    let mut command = Command::new(exe);
    command
        .args([
            "__watchdog",
            &std::process::id().to_string(),
            action,
            &target,
        ])
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: Ctrl-C in the terminal must not take it down with the run.
        .process_group(0);
    let _ = command.spawn();
}

fn alive(pid: u32) -> bool {
    if Path::new("/proc").is_dir() {
        return Path::new(&format!("/proc/{pid}")).exists();
    }
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The `__watchdog` command: waits for `parent` to end, then removes the resource until it
/// has stayed gone for a while.
pub fn watch(parent: u32, action: &str, target: &str) -> u8 {
    while alive(parent) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let resource = match action {
        "cluster" => Resource::Cluster {
            root: PathBuf::from(target),
            pg_ctl: std::env::var(PG_CTL_VARIABLE).unwrap_or_default().into(),
            run_as: std::env::var(RUN_AS_VARIABLE)
                .ok()
                .filter(|u| !u.is_empty()),
        },
        "container" => Resource::Container {
            name: target.to_string(),
        },
        "database" => {
            let Some(admin) = std::env::var(URL_VARIABLE)
                .ok()
                .and_then(|url| ConnInfo::parse_url(&url).ok())
            else {
                return 0;
            };
            Resource::Database {
                admin,
                name: target.to_string(),
            }
        }
        _ => return 0,
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return 0;
    };
    runtime.block_on(async {
        // A creation the run had started (CREATE DATABASE, `docker create`, initdb) may still
        // complete after the run died: keep removing until nothing has been found for a while.
        let started = Instant::now();
        let mut quiet_since = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if clean_up(&resource).await.is_some() {
                quiet_since = Instant::now();
            }
            if quiet_since.elapsed() >= Duration::from_secs(5) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    0
}

/// Removes the resource if it exists; says what was removed, `None` when nothing was there.
pub async fn clean_up(resource: &Resource) -> Option<String> {
    match resource {
        Resource::Cluster {
            root,
            pg_ctl,
            run_as,
        } => remove_cluster(root, pg_ctl, run_as.as_deref()),
        Resource::Container { name } => {
            let docker = |args: &[&str]| {
                Command::new("docker")
                    .args(args)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            };
            // `docker rm -f` succeeds for a container that does not exist: ask first.
            let exists = docker(&["container", "inspect", name]);
            (exists && docker(&["rm", "-f", "-v", name]))
                .then(|| format!("removed the container {name}"))
        }
        Resource::Database { admin, name } => drop_database(admin, name).await,
    }
}

/// Stops the cluster under `root` if it runs and removes the folder; `None` when there was none.
pub fn remove_cluster(root: &Path, pg_ctl: &Path, run_as: Option<&str>) -> Option<String> {
    if !root.exists() {
        return None;
    }
    let data = root.join("data");
    if data.join("postmaster.pid").exists() {
        let mut command = match run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(pg_ctl);
                c
            }
            None => Command::new(pg_ctl),
        };
        let _ = command
            .arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "-w", "-t", "10", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = std::fs::remove_dir_all(root);
    Some(format!(
        "stopped the local cluster and removed {}",
        root.display()
    ))
}

async fn drop_database(admin: &ConnInfo, name: &str) -> Option<String> {
    let client = admin.connect().await.ok()?;
    // Sessions in the database, and a CREATE DATABASE for it still running in another
    // session (terminating that one rolls the creation back).
    let _ = client
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE pid <> pg_backend_pid() AND (datname = $1 OR strpos(query, $1) > 0)",
            &[&name],
        )
        .await;
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .ok()
        .flatten()
        .is_some();
    if !exists {
        return None;
    }
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\""))
        .await
        .ok()?;
    Some(format!("dropped the scratch database {name} on {admin}"))
}
