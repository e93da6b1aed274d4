//! Cleanup that survives a killed run. For every throwaway resource a detached copy of this
//! binary (`migration-gate __watchdog`) waits for the run to end, however it ends, then stops
//! the cluster, removes the container or drops the scratch database. After a normal run the
//! resource is already gone and the watchdog's cleanup does nothing.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::conninfo::ConnInfo;

const URL_VARIABLE: &str = "MIGRATION_GATE_WATCHDOG_URL";
const RUN_AS_VARIABLE: &str = "MIGRATION_GATE_WATCHDOG_RUN_AS";

fn spawn(action: &str, target: &str, env: &[(&str, String)]) {
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
    let mut command = Command::new(exe);
    command
        .args([
            "__watchdog",
            &std::process::id().to_string(),
            action,
            target,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: Ctrl-C in the terminal must not take it down with the run.
        .process_group(0);
    for (key, value) in env {
        command.env(key, value);
    }
    let _ = command.spawn();
}

pub fn guard_cluster(pg_ctl: &Path, root: &Path, run_as: Option<&str>) {
    spawn(
        "cluster",
        &root.to_string_lossy(),
        &[
            (
                "MIGRATION_GATE_WATCHDOG_PG_CTL",
                pg_ctl.to_string_lossy().to_string(),
            ),
            (RUN_AS_VARIABLE, run_as.unwrap_or_default().to_string()),
        ],
    );
}

pub fn guard_container(id: &str) {
    spawn("container", id, &[]);
}

pub fn guard_database(admin: &ConnInfo, name: &str) {
    // The URL holds the password: it travels in the environment, not on the command line.
    spawn("database", name, &[(URL_VARIABLE, admin.url())]);
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

/// The `__watchdog` command.
pub fn watch(parent: u32, action: &str, target: &str) -> u8 {
    while alive(parent) {
        std::thread::sleep(Duration::from_millis(300));
    }
    match action {
        "cluster" => {
            let root = Path::new(target);
            let data = root.join("data");
            if data.is_dir() {
                let pg_ctl = std::env::var("MIGRATION_GATE_WATCHDOG_PG_CTL").unwrap_or_default();
                let run_as = std::env::var(RUN_AS_VARIABLE).unwrap_or_default();
                let mut command = if run_as.is_empty() {
                    Command::new(&pg_ctl)
                } else {
                    let mut c = Command::new("runuser");
                    c.args(["-u", &run_as, "--", &pg_ctl]);
                    c
                };
                let _ = command
                    .args([
                        "-D",
                        &data.to_string_lossy(),
                        "-m",
                        "immediate",
                        "-w",
                        "stop",
                    ])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
            let _ = std::fs::remove_dir_all(root);
        }
        "container" => {
            let _ = Command::new("docker")
                .args(["rm", "-f", "-v", target])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        "database" => {
            let Ok(url) = std::env::var(URL_VARIABLE) else {
                return 0;
            };
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return 0;
            };
            runtime.block_on(async {
                let Ok(admin) = ConnInfo::parse_url(&url) else {
                    return;
                };
                if let Ok(client) = admin.connect().await {
                    let _ = client
                        .execute(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                            &[&target],
                        )
                        .await;
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{target}\""))
                        .await;
                }
            });
        }
        _ => {}
    }
    0
}
