//! `omo-broker`: the embedded MQTT 3.1.1 broker that `omo up` and `omo broker` run, so a store on
//! one machine needs nothing installed, with the same access rules as the shipped mosquitto
//! configuration (`deploy/mosquitto/`): a `mosquitto_passwd` password file and a mosquitto ACL
//! file.
//!
//! The caller owns the socket and the lifetime: [`serve`] takes a bound listener (tests pass
//! port 0), the [`Access`] rules, the [`State`] to start from and a shutdown token, and returns
//! a [`BrokerHandle`] whose [`BrokerHandle::stopped`] resolves once every connection has closed
//! and the state is saved.
//!
//! | module | holds |
//! | --- | --- |
//! | [`topic`] | topic names and filters: validity, `+`/`#` matching |
//! | [`acl`] | mosquitto ACL files: parsing, read/write decisions |
//! | [`passwd`] | mosquitto password files (`$7$` PBKDF2-SHA512, `$6$`) |
//! | [`limits`] | the bounds on connections, sessions, packets, queues, retained messages |
//! | [`error`] | why the broker cannot start |
//! | `link` | a connection's bounded outbox, which the server fills with what the router returns |
//! | `session` | one client's session: owner, subscriptions, QoS 1 window and queue |
//! | `router` | sessions and who owns them, subscriptions, retained messages, queues (no IO) |
//! | `output` | what a router call returns: packets to send per connection, connections to close |
//! | [`persist`] | the state file that lets persistent sessions and retained messages outlive a restart |
//! | `server` | TCP, the packet codec (rumqttc's `mqttbytes::v4`), keep-alive, shutdown |
//! | `writer` | a connection's writer task, its bounded end, refused connections' answers |
//!
//! Without a password file any client may connect (under the user name it gives); without an
//! ACL file every client may read and write every topic. An ACL without a password file is
//! refused ([`BrokerError::AclWithoutPasswords`]): user names would be whatever clients claim. A
//! client id belongs to the user whose session holds it (another user is refused with CONNACK
//! 5). QoS 2 is delivered as QoS 1 (see `router`). Persistent sessions and retained messages live
//! in memory and, given a state file, on disk too, so they outlive a restart of the broker.

pub mod acl;
pub mod error;
pub mod limits;
mod link;
mod output;
pub mod passwd;
pub mod persist;
mod router;
mod server;
mod session;
pub mod topic;
mod writer;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use acl::Acl;
pub use error::BrokerError;
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
    pub fn anonymous() -> Access {
        Access::default()
    }

    /// Reads a mosquitto password file and ACL file, each optional. A file that cannot be read
    /// or parsed is an error naming it (and the line), and so is an ACL without a password
    /// file: without one, user names are whatever clients claim, so the ACL would protect
    /// nothing.
    pub fn from_files(passwords: Option<&Path>, acl: Option<&Path>) -> Result<Access, BrokerError> {
        if let (None, Some(acl)) = (passwords, acl) {
            return Err(BrokerError::AclWithoutPasswords(acl.to_path_buf()));
        }
        Ok(Access {
            passwords: passwords.map(Passwords::load).transpose()?,
            acl: acl.map(Acl::load).transpose()?,
        })
    }
}

/// What the broker remembers and how much of it it may hold: the persistent sessions and
/// retained messages to start from, the file that keeps them across restarts, and the
/// [`Limits`].
#[derive(Debug, Clone)]
pub struct State {
    snapshot: persist::Snapshot,
    file: Option<PathBuf>,
    limits: Limits,
}

impl State {
    /// An empty state kept in memory only; the limits are checked.
    pub fn in_memory(limits: Limits) -> Result<State, BrokerError> {
        limits.validate()?;
        Ok(State {
            snapshot: persist::Snapshot::default(),
            file: None,
            limits,
        })
    }

    /// The state kept in `file`: read from it now (a missing file is an empty state), written
    /// back within [`persist::AUTOSAVE`] of every change and when the broker stops.
    pub fn from_file(file: &Path, limits: Limits) -> Result<State, BrokerError> {
        limits.validate()?;
        let snapshot = persist::load(file)?;
        tracing::info!(
            sessions = snapshot.sessions.len(),
            retained = snapshot.retained.len(),
            file = %file.display(),
            "broker state restored"
        );
        Ok(State {
            snapshot,
            file: Some(file.to_path_buf()),
            limits,
        })
    }
}

/// A running broker.
#[derive(Debug)]
pub struct BrokerHandle {
    local_addr: SocketAddr,
    task: JoinHandle<()>,
}

impl BrokerHandle {
    /// Where it listens (the port the system chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Resolves once the broker has stopped after its shutdown token was cancelled: no longer
    /// accepting, every connection closed, the state file written.
    pub async fn stopped(self) {
        if let Err(error) = self.task.await {
            tracing::error!(%error, "the MQTT broker's task failed");
        }
    }
}

/// Serves MQTT on `listener` with `access`, starting from `state`, until `shutdown` is
/// cancelled. It accepts connections as soon as this returns (the listener is already bound).
pub fn serve(
    listener: TcpListener,
    access: Access,
    state: State,
    shutdown: CancellationToken,
) -> std::io::Result<BrokerHandle> {
    let local_addr = listener.local_addr()?;
    tracing::info!(
        listen = %local_addr,
        passwords = access.passwords.is_some(),
        acl = access.acl.is_some(),
        limits = ?state.limits,
        "embedded MQTT broker listening"
    );
    let task = tokio::spawn(server::serve(listener, access, state, shutdown));
    Ok(BrokerHandle { local_addr, task })
}
