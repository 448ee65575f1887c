//! The broker's state on disk, so persistent sessions and retained messages outlive a restart
//! (what mosquitto's `persistence true` does): every persistent session's subscriptions and its
//! unacknowledged and queued QoS 1 messages, and every retained message.
//!
//! The file is a JSON snapshot (payloads in base64), written whole to a temporary file, synced,
//! then renamed over the old one, so a crash mid-write leaves the previous snapshot. It is
//! written within [`AUTOSAVE`] of any change and when the broker stops, so a crash of the
//! broker's process loses at most that last moment (mosquitto's `autosave_interval` trades the
//! same way); a publisher that saw no PUBACK sends again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use data_encoding::BASE64;
use serde::{Deserialize, Serialize};

/// How soon after a change the snapshot is written.
pub const AUTOSAVE: Duration = Duration::from_millis(500);

/// The snapshot format's version.
const VERSION: u32 = 1;

/// Everything the broker keeps across a restart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub version: u32,
    pub sessions: Vec<SavedSession>,
    pub retained: Vec<SavedMessage>,
}

/// One persistent session (`clean_session = false`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedSession {
    pub client_id: String,
    pub username: Option<String>,
    /// Filters and granted QoS (0 or 1).
    pub subscriptions: Vec<(String, u8)>,
    /// Unacknowledged, then queued messages, in the order they are to be delivered.
    pub messages: Vec<SavedMessage>,
}

/// One message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedMessage {
    pub topic: String,
    /// Base64 of the payload.
    pub payload: String,
    pub qos: u8,
}

impl SavedMessage {
    pub fn new(topic: &str, payload: &[u8], qos: u8) -> SavedMessage {
        SavedMessage {
            topic: topic.to_string(),
            payload: BASE64.encode(payload),
            qos,
        }
    }

    /// The payload's bytes (empty if the file held something that is not base64).
    pub fn bytes(&self) -> Vec<u8> {
        BASE64.decode(self.payload.as_bytes()).unwrap_or_default()
    }
}

/// Why the state file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("cannot read the broker's state file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the broker's state file {path} is not a snapshot ({message}); move it away to start empty"
    )]
    Corrupt { path: PathBuf, message: String },
    #[error("cannot write the broker's state file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Reads the snapshot at `path`; a missing file is an empty state.
pub fn load(path: &Path) -> Result<Snapshot, PersistError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Snapshot::default()),
        Err(source) => {
            return Err(PersistError::Read {
                path: path.into(),
                source,
            });
        }
    };
    parse(&bytes).map_err(|message| PersistError::Corrupt {
        path: path.into(),
        message,
    })
}

/// Parses a snapshot. Pure.
pub fn parse(bytes: &[u8]) -> Result<Snapshot, String> {
    let snapshot: Snapshot = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if snapshot.version != VERSION {
        return Err(format!(
            "version {} (this broker reads {VERSION})",
            snapshot.version
        ));
    }
    Ok(snapshot)
}

/// Writes `snapshot` to `path` atomically (temporary file, fsync, rename).
pub fn save(path: &Path, snapshot: &Snapshot) -> Result<(), PersistError> {
    let error = |source| PersistError::Write {
        path: path.into(),
        source,
    };
    let mut snapshot_text = serde_json::to_vec(&Snapshot {
        version: VERSION,
        ..snapshot.clone()
    })
    .map_err(|e| error(std::io::Error::other(e)))?;
    snapshot_text.push(b'\n');
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(error)?;
    }
    let temporary = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&temporary).map_err(error)?;
        file.write_all(&snapshot_text).map_err(error)?;
        file.sync_all().map_err(error)?;
    }
    std::fs::rename(&temporary, path).map_err(error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_round_trips_through_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/broker.json");
        assert_eq!(load(&path).unwrap(), Snapshot::default());
        let snapshot = Snapshot {
            version: VERSION,
            sessions: vec![SavedSession {
                client_id: "omo-cloud-trace".into(),
                username: Some("cloud".into()),
                subscriptions: vec![("omo/v1/stores/+/trace".into(), 1)],
                messages: vec![SavedMessage::new("omo/v1/stores/S/trace", b"\x00{}", 1)],
            }],
            retained: vec![SavedMessage::new(
                "omo/v1/stores/S/edge/state",
                b"online",
                1,
            )],
        };
        save(&path, &snapshot).unwrap();
        let loaded = load(&path).unwrap();
        assert_eq!(loaded, snapshot);
        assert_eq!(loaded.sessions[0].messages[0].bytes(), b"\x00{}");
    }

    #[test]
    fn a_broken_file_is_named_and_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broker.json");
        std::fs::write(&path, b"{\"version\": 1, \"sessions\": [").unwrap();
        let error = load(&path).unwrap_err().to_string();
        assert!(
            error.contains("broker.json") && error.contains("move it away"),
            "{error}"
        );
        assert!(parse(b"{\"version\":9,\"sessions\":[],\"retained\":[]}").is_err());
        for bytes in [&b""[..], b"null", b"\xff", b"[]"] {
            assert!(parse(bytes).is_err());
        }
    }
}
