//! Why the broker cannot start: an access file, its bounds or its state file. Each names the
//! file (and line) or the bound; to the operator they are all usage errors (exit 64).

use std::path::PathBuf;

use crate::limits::LimitError;
use crate::persist::PersistError;

/// What keeps the broker from starting.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// A password or ACL file cannot be read.
    #[error("cannot read the {kind} file {}: {source}", path.display())]
    ReadFile {
        kind: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// A password or ACL file holds a line that cannot be understood.
    #[error("{kind} file {}: {message}", path.display())]
    BadFile {
        kind: &'static str,
        path: PathBuf,
        message: String,
    },
    /// An ACL without a password file: user names would be whatever clients claim.
    #[error(
        "the ACL file {} is given without a password file: without one any client can claim any \
         user name, so the ACL would protect nothing; give the mosquitto_passwd file too \
         (omo broker --passwords FILE, omo up --mqtt-passwords FILE)",
        .0.display()
    )]
    AclWithoutPasswords(PathBuf),
    /// A bound out of its range.
    #[error("embedded MQTT broker: {0}")]
    Limits(#[from] LimitError),
    /// The state file cannot be read, or is not a snapshot.
    #[error(transparent)]
    State(#[from] PersistError),
}
