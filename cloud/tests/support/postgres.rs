//! A real PostgreSQL server for the tests, started once per test binary.
//!
//! `initdb` refuses root, so as root the server runs as the `postgres` user (runuser) in a
//! temporary directory it owns, on a free port. A small watchdog stops it and removes the
//! directory when this test process exits. Without PostgreSQL binaries the PostgreSQL variants
//! are skipped with a loud message.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use sqlx::{Connection, Executor};

struct Server {
    url_base: String,
}

static SERVER: OnceLock<Option<Server>> = OnceLock::new();

fn bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("OMO_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists() && p.join("pg_ctl").exists())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

fn run(bin: &std::path::Path, args: &[&str], as_postgres: bool) -> bool {
    let mut cmd = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    cmd.status().map(|s| s.success()).unwrap_or(false)
}

fn start() -> Option<Server> {
    let Some(bin) = bin_dir() else {
        eprintln!(
            "\n!!!!! PostgreSQL binaries not found (/usr/lib/postgresql/*/bin): SKIPPING the PostgreSQL variants !!!!!\n"
        );
        return None;
    };
    let root = is_root();
    let dir = tempfile::Builder::new()
        .prefix("omo-pg-")
        .tempdir()
        .ok()?
        .keep();
    if root {
        let _ = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status();
    }
    let data = dir.join("data");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let data_s = data.display().to_string();
    let dir_s = dir.display().to_string();
    assert!(
        run(
            &bin.join("initdb"),
            &[
                "-D",
                &data_s,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync"
            ],
            root
        ),
        "initdb failed"
    );
    let opts = format!(
        "-p {port} -k {dir_s} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    );
    let log = format!("{dir_s}/pg.log");
    assert!(
        run(
            &bin.join("pg_ctl"),
            &["-D", &data_s, "-l", &log, "-o", &opts, "-w", "start"],
            root
        ),
        "pg_ctl start failed; see {log}"
    );
    // Watchdog: stop the server and remove its directory when this process is gone.
    let pg_ctl = bin.join("pg_ctl").display().to_string();
    let stop = if root {
        format!("runuser -u postgres -- {pg_ctl} -D {data_s} -m immediate stop")
    } else {
        format!("{pg_ctl} -D {data_s} -m immediate stop")
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf {dir_s}",
        pid = std::process::id()
    );
    let _ = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    Some(Server {
        url_base: format!("postgres://postgres@127.0.0.1:{port}"),
    })
}

/// Whether PostgreSQL tests can run here (starting the server on first use).
pub fn available() -> bool {
    SERVER.get_or_init(start).is_some()
}

/// The URL of the server's `postgres` database.
pub fn admin_url() -> String {
    format!(
        "{}/postgres",
        SERVER
            .get_or_init(start)
            .as_ref()
            .expect("PostgreSQL available")
            .url_base
    )
}

/// A new, empty database on the shared server; its URL.
pub async fn fresh_database() -> String {
    let server = SERVER
        .get_or_init(start)
        .as_ref()
        .expect("PostgreSQL available");
    let name = format!("omo_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&admin_url())
        .await
        .expect("connect to PostgreSQL");
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create database");
    admin.close().await.ok();
    format!("{}/{name}", server.url_base)
}
