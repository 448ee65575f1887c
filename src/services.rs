//! `omo cloud` and `omo edge`: each service alone, from its config file, until Ctrl-C or SIGTERM.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use omo_cloud::config::CloudConfig;
use omo_devices::gate::{Gate, GateTiming, SimGate, Watchdog};
use omo_edge::LaneDevices;
use omo_edge::config::{EdgeConfig, GateConfig, GateDriver};
use omo_edge::exit::ExitDevices;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::cli::{CloudArgs, EdgeAction, EdgeArgs};
use crate::usage::UsageError;

/// `omo cloud --config FILE`.
pub async fn cloud(args: CloudArgs) -> anyhow::Result<()> {
    if args.print_config {
        print!("{}", CloudConfig::default_toml());
        return Ok(());
    }
    let config =
        CloudConfig::load(args.config.as_deref()).map_err(|e| UsageError(e.to_string()))?;
    omo_cloud::server::check_listen(&config, args.insecure_dev)
        .map_err(|e| UsageError(e.to_string()))?;
    if args.check {
        let origin = args
            .config
            .as_deref()
            .map_or_else(|| "the defaults".into(), |p| p.display().to_string());
        println!(
            "{origin}: valid (gRPC {}, HTTP {})",
            config.grpc_listen, config.http_listen
        );
        return Ok(());
    }
    let _lock = crate::data_lock::DataLock::sqlite_url(&config.database_url)?;
    let grpc = bind(&config.grpc_listen.to_string()).await?;
    let http = bind(&config.http_listen.to_string()).await?;
    info!(grpc = %config.grpc_listen, http = %config.http_listen, "cloud starting");
    let shutdown = shutdown_on_signal();
    omo_cloud::serve(config, grpc, http, shutdown).await?;
    Ok(())
}

/// `omo edge --config FILE`, `omo edge validate`, `omo edge generate-config`.
pub async fn edge(args: EdgeArgs) -> anyhow::Result<()> {
    if let Some(EdgeAction::HashPassword) = args.action {
        return hash_password();
    }
    if let Some(EdgeAction::GenerateConfig) = args.action {
        print!("{}", omo_edge::config::EXAMPLE_TOML);
        return Ok(());
    }
    let path = args.config.as_deref().ok_or_else(|| {
        UsageError("omo edge needs --config FILE (omo edge generate-config prints one)".into())
    })?;
    let config = load_edge_config(path)?;
    if let Some(EdgeAction::Validate) = args.action {
        println!(
            "{}: valid ({} lane(s), store {})",
            path.display(),
            config.lanes.len(),
            config.store_id
        );
        return Ok(());
    }
    let _lock = crate::data_lock::DataLock::folder(&config.data_dir)?;
    let lanes = lane_devices(&config)?;
    let exits = exit_devices(&config)?;
    let http = bind(&config.http_listen).await?;
    let shutdown = shutdown_on_signal();
    omo_edge::run(config, lanes, exits, http, shutdown).await?;
    Ok(())
}

/// `omo edge hash-password`: one line of standard input (the password) to a PHC string.
fn hash_password() -> anyhow::Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    if std::io::stdin().is_terminal() {
        eprint!("Password (shown as you type): ");
        std::io::stderr().flush()?;
    }
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err(UsageError(
            "omo edge hash-password: the password on standard input is empty".into(),
        )
        .into());
    }
    println!("{}", omo_edge::web::hash_password(password));
    Ok(())
}

/// Loads an edge config; any problem is a usage error naming the file and key.
pub fn load_edge_config(path: &Path) -> Result<EdgeConfig, UsageError> {
    let config = EdgeConfig::load(path).map_err(|e| UsageError(e.to_string()))?;
    omo_edge::preflight::check_file(&config, path).map_err(|e| UsageError(e.to_string()))?;
    Ok(config)
}

/// The devices each configured lane has.
fn lane_devices(config: &EdgeConfig) -> anyhow::Result<Vec<(String, LaneDevices)>> {
    config
        .lanes
        .iter()
        .map(|lane| {
            let gate = gate(config, &lane.gate, &format!("lane-{}-gate", lane.id))?;
            let devices = LaneDevices {
                scanner: lane.scanner.clone(),
                camera: lane.camera.clone(),
                scale: lane.scale.clone(),
                gate,
            };
            Ok((lane.id.clone(), devices))
        })
        .collect()
}

/// The devices each configured exit has.
fn exit_devices(config: &EdgeConfig) -> anyhow::Result<Vec<(String, ExitDevices)>> {
    config
        .exits
        .iter()
        .map(|exit| {
            let gate = gate(config, &exit.gate, &format!("exit-{}-gate", exit.id))?;
            let devices = ExitDevices {
                scanner: exit.scanner.clone(),
                camera: exit.camera.clone(),
                gate,
                pass_ttl: chrono::Duration::seconds(exit.pass_ttl_secs),
                lanes: exit.lanes.clone(),
            };
            Ok((exit.id.clone(), devices))
        })
        .collect()
}

/// A gate driver as configured: simulated, or GPIO through rppal (a clear error off a Pi). Either
/// way the relay belongs to an `omo gate-watchdog` process, which drives it to the safe level if
/// this process dies; the simulated relay and fire-alarm input are files under
/// `<data_dir>/gates/<name>/` (docs/GATE-SAFETY.md).
fn gate(edge: &EdgeConfig, config: &GateConfig, name: &str) -> anyhow::Result<Arc<dyn Gate>> {
    Ok(match config.driver {
        GateDriver::Sim => {
            let dir = edge.data_dir.join("gates").join(name);
            let watchdog = Watchdog::spawn(name, &crate::gate_watchdog::sim_spec(&dir)?)?;
            let gate = SimGate::with_watchdog(
                name,
                GateTiming {
                    open_ms: config.open_ms,
                    ..GateTiming::default()
                },
                watchdog,
                std::time::Duration::from_millis(config.pulse_ms),
            );
            gate.watch_fire_alarm_file(dir.join("fire_alarm"))?;
            Arc::new(gate)
        }
        GateDriver::Rppal => {
            let wiring = config.gpio.clone().ok_or_else(|| {
                UsageError(format!(
                    "{name}: driver \"rppal\" needs its [gate.gpio] wiring"
                ))
            })?;
            let spec = crate::gate_watchdog::gpio_spec(wiring.relay_pin, wiring.relay_active_high)?;
            let watchdog = Watchdog::spawn(name, &spec)
                .with_context(|| format!("{name}: the GPIO relay's watchdog"))?;
            Arc::new(
                omo_devices::gate::RppalGate::with_watchdog(name, &wiring, watchdog)
                    .with_context(|| format!("{name}: the GPIO gate"))?,
            )
        }
    })
}

/// Binds a TCP listener, naming the address when it is taken.
pub async fn bind(addr: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))
}

/// A token cancelled on Ctrl-C (SIGINT) or SIGTERM.
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(term) => term,
                    Err(_) => {
                        let _ = ctrl_c.await;
                        cancel.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        info!("stopping: finishing what is in flight");
        cancel.cancel();
    });
    token
}
