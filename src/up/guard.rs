//! `omo up`'s house rules, kept out of `up.rs`'s story: the data folder is locked while the
//! store runs, every port is checked before anything starts, and stopping waits a bounded time.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::warn;

use crate::cli::UpArgs;
use crate::data_lock::DataLock;
use crate::up::ports::{Wanted, check_free};

/// How long `omo up` waits for its tasks after Ctrl-C or SIGTERM.
pub const STOP_GRACE: Duration = Duration::from_millis(2_500);

/// Locks `data` (`omo.lock`), the edge's folder under it and the cloud's SQLite file, so a
/// second `omo up`, `omo edge` or `omo cloud` on the same files is refused.
pub fn lock_store(data: &Path, database_url: Option<&str>) -> anyhow::Result<Vec<DataLock>> {
    let mut locks = vec![
        DataLock::folder(data)?,
        DataLock::folder(&data.join("edge"))?,
    ];
    let default_db = format!("sqlite://{}", data.join("cloud.db").display());
    if let Some(lock) = DataLock::sqlite_url(database_url.unwrap_or(&default_db))? {
        locks.push(lock);
    }
    Ok(locks)
}

/// Every port `omo up` listens on, all checked before anything starts.
pub fn check_ports(args: &UpArgs) -> anyhow::Result<()> {
    let at = |port: u16, what: &str| Wanted {
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        what: what.to_string(),
    };
    let mut wanted = Vec::new();
    if args.mqtt.is_none() {
        wanted.push(at(args.mqtt_port, "--mqtt-port, the embedded MQTT broker"));
    }
    wanted.push(at(args.grpc_port, "--grpc-port, the cloud's gRPC"));
    wanted.push(at(
        args.cloud_http_port,
        "--cloud-http-port, the cloud's HTTP",
    ));
    wanted.push(at(
        args.http_port,
        "--http-port, the edge's dashboard and API",
    ));
    check_free(&wanted)?;
    Ok(())
}

/// Waits for `tasks` at most [`STOP_GRACE`]; true when they all finished. Either way no
/// simulator link is left in the temporary folder.
pub async fn stop(tasks: &TaskTracker) -> bool {
    if tokio::time::timeout(STOP_GRACE, tasks.wait()).await.is_ok() {
        return true;
    }
    warn!(
        left = tasks.len(),
        "some tasks did not finish within {} ms; exiting anyway",
        STOP_GRACE.as_millis()
    );
    // Their simulators will not be dropped: remove the links they made in the temp folder.
    omo_devices::sim::remove_leftover_links();
    false
}

/// Runs `task` until it ends or `stop` is cancelled, whichever is first. For simulated
/// shoppers: one waiting up to 20 s for a gate mid-checkout is let go when the store closes,
/// instead of holding the stop up (the edge and the cloud finish their own work themselves).
pub async fn or_stop(stop: CancellationToken, task: impl Future<Output = ()>) {
    tokio::select! {
        () = task => {}
        () = stop.cancelled() => {}
    }
}
