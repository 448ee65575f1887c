//! The embedded MQTT 3.1.1 broker that `omo up` and `omo broker` run, so a store on one machine
//! needs nothing installed, with the same access rules as the shipped mosquitto configuration
//! (`deploy/mosquitto/`): a `mosquitto_passwd` password file and a mosquitto ACL file.
//!
//! | module | holds |
//! | --- | --- |
//! | [`topic`] | topic names and filters: validity, `+`/`#` matching |
//! | [`acl`] | mosquitto ACL files: parsing, read/write decisions |
//! | [`passwd`] | mosquitto password files (`$7$` PBKDF2-SHA512, `$6$`) |
//! | [`router`] | sessions, subscriptions, retained messages, queues (no IO) |
//! | [`server`] | TCP, the packet codec (rumqttc's `mqttbytes::v4`), keep-alive |
//!
//! Without a password file any client may connect (under the user name it gives); without an
//! ACL file every client may read and write every topic. QoS 2 is delivered as QoS 1 (see
//! [`router`]). Sessions live in memory: they survive client reconnects, not a broker restart.

pub mod acl;
pub mod passwd;
mod router;
mod server;
pub mod topic;

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context as _;

use crate::UsageError;
use crate::cli::BrokerArgs;

pub use acl::Acl;
pub use passwd::Passwords;

/// Who may connect, and what each client may read and write.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// Checked at CONNECT; `None` lets anyone in (anonymous access).
    pub passwords: Option<Passwords>,
    /// Checked on SUBSCRIBE, PUBLISH and delivery; `None` allows everything.
    pub acl: Option<Acl>,
}

impl Access {
    /// Anyone may connect, read and write (what `omo up` runs by default).
    #[allow(dead_code)] // for `start` and callers outside the CLI
    pub fn anonymous() -> Access {
        Access::default()
    }

    /// Reads a mosquitto password file and ACL file, each optional. A file that cannot be read
    /// or parsed is a [`UsageError`] naming it (and the line).
    pub fn from_files(passwords: Option<&Path>, acl: Option<&Path>) -> anyhow::Result<Access> {
        let passwords = passwords
            .map(Passwords::load)
            .transpose()
            .map_err(|e| UsageError(format!("{e:#}")))?;
        let acl = acl
            .map(Acl::load)
            .transpose()
            .map_err(|e| UsageError(format!("{e:#}")))?;
        Ok(Access { passwords, acl })
    }
}

/// Starts the broker on `listen` with anonymous access and no ACL.
#[allow(dead_code)] // `omo up` and `omo broker` call `start_with`; kept for other callers
pub async fn start(listen: SocketAddr) -> anyhow::Result<()> {
    start_with(listen, Access::anonymous()).await
}

/// Starts the broker on `listen` with `access`; it accepts connections once this returns, and
/// runs until the process ends.
pub async fn start_with(listen: SocketAddr, access: Access) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!("the embedded MQTT broker cannot listen on {listen} (is the port taken?)")
        })?;
    tracing::info!(
        %listen,
        passwords = access.passwords.is_some(),
        acl = access.acl.is_some(),
        "embedded MQTT broker listening"
    );
    tokio::spawn(server::serve(listener, access));
    Ok(())
}

/// `omo broker`: the embedded broker alone, until Ctrl-C.
pub async fn run_cli(args: BrokerArgs) -> anyhow::Result<()> {
    let listen: SocketAddr = args
        .listen
        .parse()
        .map_err(|e| UsageError(format!("--listen {:?}: {e}", args.listen)))?;
    let access = Access::from_files(args.passwords.as_deref(), args.acl.as_deref())?;
    start_with(listen, access).await?;
    println!("MQTT broker listening on {listen}");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
