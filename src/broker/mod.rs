//! The embedded MQTT 3.1.1 broker that `omo up` and `omo broker` run, so a store on one machine
//! needs nothing installed, with the same access rules as the shipped mosquitto configuration
//! (`deploy/mosquitto/`): a `mosquitto_passwd` password file and a mosquitto ACL file.
//!
//! | module | holds |
//! | --- | --- |
//! | [`topic`] | topic names and filters: validity, `+`/`#` matching |
//! | [`acl`] | mosquitto ACL files: parsing, read/write decisions |
//! | [`passwd`] | mosquitto password files (`$7$` PBKDF2-SHA512, `$6$`) |
//! | [`limits`] | the bounds on connections, sessions, packets, queues, retained messages |
//! | [`link`] | a connection's bounded outbox, as the router sees it |
//! | [`session`] | one client's session: owner, subscriptions, QoS 1 window and queue |
//! | [`router`] | sessions and who owns them, subscriptions, retained messages, queues (no IO) |
//! | [`persist`] | the state file that lets persistent sessions and retained messages outlive a restart |
//! | [`server`] | TCP, the packet codec (rumqttc's `mqttbytes::v4`), keep-alive |
//!
//! Without a password file any client may connect (under the user name it gives); without an
//! ACL file every client may read and write every topic. An ACL without a password file is
//! refused at start: user names would be whatever clients claim. A client id belongs to the user
//! whose session holds it (another user is refused with CONNACK 5). QoS 2 is delivered as QoS 1 (see
//! [`router`]). Persistent sessions and retained messages live in memory and, given a state file,
//! on disk too, so they outlive a restart of the broker (`omo up` keeps it in its data
//! directory, `omo broker --state FILE`).

pub mod acl;
pub mod limits;
mod link;
pub mod passwd;
pub mod persist;
mod router;
mod server;
mod session;
pub mod topic;

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context as _;

use crate::UsageError;
use crate::cli::BrokerArgs;

pub use acl::Acl;
pub use limits::Limits;
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
    /// or parsed is a [`UsageError`] naming it (and the line), and so is an ACL without a
    /// password file: without one, user names are whatever clients claim, so the ACL would
    /// protect nothing.
    pub fn from_files(passwords: Option<&Path>, acl: Option<&Path>) -> anyhow::Result<Access> {
        if let (None, Some(acl)) = (passwords, acl) {
            return Err(UsageError(format!(
                "the ACL file {} is given without a password file: without one any client can \
                 claim any user name, so the ACL would protect nothing; give the mosquitto_passwd \
                 file too (omo broker --passwords FILE, omo up --mqtt-passwords FILE)",
                acl.display()
            ))
            .into());
        }
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

/// Starts the broker on `listen` with anonymous access, no ACL and no state file.
#[allow(dead_code)] // `omo up` and `omo broker` call `start_with`; kept for other callers
pub async fn start(listen: SocketAddr) -> anyhow::Result<()> {
    start_with(listen, Access::anonymous(), None).await
}

/// [`start_with_limits`] with the default [`Limits`].
pub async fn start_with(
    listen: SocketAddr,
    access: Access,
    state_file: Option<&Path>,
) -> anyhow::Result<()> {
    start_with_limits(listen, access, state_file, Limits::default()).await
}

/// Starts the broker on `listen` with `access` and `limits`, its state kept in `state_file` if
/// given (a state file that cannot be read, or limits out of range, are errors naming them); it
/// accepts connections once this returns, and runs until the process ends.
pub async fn start_with_limits(
    listen: SocketAddr,
    access: Access,
    state_file: Option<&Path>,
    limits: Limits,
) -> anyhow::Result<()> {
    limits
        .validate()
        .map_err(|e| UsageError(format!("embedded MQTT broker: {e}")))?;
    let restored = match state_file {
        Some(path) => persist::load(path).map_err(|e| UsageError(e.to_string()))?,
        None => persist::Snapshot::default(),
    };
    if state_file.is_some() {
        tracing::info!(
            sessions = restored.sessions.len(),
            retained = restored.retained.len(),
            "broker state restored"
        );
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!("the embedded MQTT broker cannot listen on {listen} (is the port taken?)")
        })?;
    tracing::info!(
        %listen,
        passwords = access.passwords.is_some(),
        acl = access.acl.is_some(),
        ?limits,
        "embedded MQTT broker listening"
    );
    tokio::spawn(server::serve(
        listener,
        access,
        restored,
        state_file.map(Path::to_path_buf),
        limits,
    ));
    Ok(())
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
    let access = Access::from_files(args.passwords.as_deref(), args.acl.as_deref())?;
    start_with_limits(listen, access, args.state.as_deref(), limits).await?;
    println!("MQTT broker listening on {listen}");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
