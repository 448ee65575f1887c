//! `omo broker`: the embedded MQTT broker ([`omo_broker`]) alone, until Ctrl-C; and the flags
//! that set its bounds, shared with `omo up`.

use std::net::SocketAddr;

use anyhow::Context as _;
use omo_broker::limits::LimitError;
use omo_broker::{Access, BrokerError, BrokerHandle, Limits, State};
use tokio_util::sync::CancellationToken;

use crate::cli::BrokerArgs;
use crate::cli::LimitArgs;
use crate::usage::UsageError;

impl LimitArgs {
    /// The defaults with these flags applied, validated.
    pub fn limits(&self) -> Result<Limits, LimitError> {
        let d = Limits::default();
        let limits = Limits {
            max_connections: self.max_connections.unwrap_or(d.max_connections),
            max_sessions: self.max_sessions.unwrap_or(d.max_sessions),
            max_subscriptions: self.max_subscriptions.unwrap_or(d.max_subscriptions),
            max_packet_bytes: self.max_packet_bytes.unwrap_or(d.max_packet_bytes),
            max_inflight: self.max_inflight.unwrap_or(d.max_inflight),
            max_queued: self.max_queued.unwrap_or(d.max_queued),
            max_queued_bytes: self.max_queued_bytes.unwrap_or(d.max_queued_bytes),
            max_queued_bytes_total: self
                .max_queued_bytes_total
                .unwrap_or(d.max_queued_bytes_total),
            max_outgoing_bytes: self.max_outgoing_bytes.unwrap_or(d.max_outgoing_bytes),
            max_retained: self.max_retained.unwrap_or(d.max_retained),
            max_retained_bytes: self.max_retained_bytes.unwrap_or(d.max_retained_bytes),
        };
        limits.validate()?;
        Ok(limits)
    }
}

/// A broker that cannot start for its files or bounds: a usage error (exit 64).
pub fn usage(error: BrokerError) -> anyhow::Error {
    UsageError(error.to_string()).into()
}

/// Binds `listen` and serves the broker there until `shutdown` (what `omo up` and `omo broker`
/// do); a port that is taken is named.
pub async fn start(
    listen: SocketAddr,
    access: Access,
    state: State,
    shutdown: CancellationToken,
) -> anyhow::Result<BrokerHandle> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!("the embedded MQTT broker cannot listen on {listen} (is the port taken?)")
        })?;
    Ok(omo_broker::serve(listener, access, state, shutdown)?)
}

/// `omo broker`: the embedded broker alone, until Ctrl-C.
pub async fn run_cli(args: BrokerArgs) -> anyhow::Result<()> {
    let listen: SocketAddr = args
        .listen
        .parse()
        .map_err(|e| UsageError(format!("--listen {:?}: {e}", args.listen)))?;
    let limits = args
        .limits
        .limits()
        .map_err(|e| UsageError(e.to_string()))?;
    let access =
        Access::from_files(args.passwords.as_deref(), args.acl.as_deref()).map_err(usage)?;
    let state = match args.state.as_deref() {
        Some(file) => State::from_file(file, limits),
        None => State::in_memory(limits),
    }
    .map_err(usage)?;
    let shutdown = CancellationToken::new();
    let broker = start(listen, access, state, shutdown.clone()).await?;
    println!("MQTT broker listening on {}", broker.local_addr());
    tokio::signal::ctrl_c().await?;
    shutdown.cancel();
    broker.stopped().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_flags_are_the_defaults() {
        assert_eq!(LimitArgs::default().limits(), Ok(Limits::default()));
    }

    #[test]
    fn absurd_values_are_refused_by_name() {
        let cases = [
            (
                LimitArgs {
                    max_inflight: Some(0),
                    ..LimitArgs::default()
                },
                "--max-inflight 0",
            ),
            (
                LimitArgs {
                    max_packet_bytes: Some(1 << 30),
                    ..LimitArgs::default()
                },
                "--max-packet-bytes",
            ),
            (
                LimitArgs {
                    max_connections: Some(usize::MAX),
                    ..LimitArgs::default()
                },
                "--max-connections",
            ),
            (
                LimitArgs {
                    max_outgoing_bytes: Some(4096),
                    ..LimitArgs::default()
                },
                "--max-outgoing-bytes 4096: must be at least twice",
            ),
            (
                LimitArgs {
                    max_queued_bytes: Some(1 << 30),
                    ..LimitArgs::default()
                },
                "--max-queued-bytes 1073741824: must not exceed",
            ),
        ];
        for (args, expected) in cases {
            let error = args.limits().unwrap_err().to_string();
            assert!(error.starts_with(expected), "{error}");
        }
    }
}
