//! The manual lanes' local socket: `{data}/manual-lanes.sock`, mode 0600, and only callers of
//! the same user id (`SO_PEERCRED`); one JSON [`Request`] per line, one JSON reply per line.
//! [`serve`] runs in `omo up`, [`call`] in `omo lane`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::up::manual::{ManualLanes, Reply, Request, socket_path};

/// Serves the manual lanes on `{data}/manual-lanes.sock` until `stop`, then removes the socket.
pub async fn serve(lanes: ManualLanes, data: PathBuf, stop: CancellationToken) {
    let path = socket_path(&data);
    let listener = match bind_private(&path) {
        Ok(listener) => listener,
        Err(error) => {
            warn!(path = %path.display(), %error, "manual lanes cannot be driven: no socket");
            return;
        }
    };
    // The caller must be this process's own user (not whoever owns the socket's path now).
    let me = crate::data_lock::effective_uid();
    let callers = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CALLERS));
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors, say: wait a moment rather than spin.
                debug!(%error, "manual lanes' socket cannot accept");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        if !stream.peer_cred().is_ok_and(|peer| peer.uid() == me) {
            warn!("a caller of another user was refused on the manual lanes' socket");
            continue;
        }
        let Ok(permit) = callers.clone().try_acquire_owned() else {
            warn!(
                max = MAX_CALLERS,
                "too many callers on the manual lanes' socket"
            );
            continue;
        };
        let lanes = lanes.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = answer(lanes, stream) => {}
            }
            drop(permit);
        });
    }
    let _ = std::fs::remove_file(&path);
}

/// Binds the socket readable and writable by its owner only (a stale one is replaced).
fn bind_private(path: &Path) -> std::io::Result<UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// Callers served at once.
const MAX_CALLERS: usize = 16;
/// The longest request line; a longer one ends the connection.
const MAX_LINE: u64 = 64 * 1024;

/// Answers one connection: a reply per request line (each at most [`MAX_LINE`] bytes).
async fn answer(lanes: ManualLanes, stream: UnixStream) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let mut raw = Vec::new();
        match (&mut read)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut raw)
            .await
        {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if raw.len() as u64 > MAX_LINE {
            let _ = write
                .write_all(b"{\"ok\":false,\"lane\":\"\",\"message\":\"request too long\"}\n")
                .await;
            break;
        }
        let line = String::from_utf8_lossy(&raw);
        let line = line.trim_end();
        let reply = match serde_json::from_str::<Request>(line) {
            Ok(request) => serde_json::to_value(lanes.act(&request.lane, request.action).await)
                .unwrap_or(Value::Null),
            Err(error) => {
                json!({ "ok": false, "lane": "", "message": format!("bad request: {error}") })
            }
        };
        let mut bytes = reply.to_string().into_bytes();
        bytes.push(b'\n');
        if write.write_all(&bytes).await.is_err() {
            break;
        }
    }
    debug!("a manual lane client left");
}

/// Sends one request to the store whose data folder is `data`; its reply.
pub async fn call(data: &Path, request: &Request) -> anyhow::Result<Reply> {
    use anyhow::Context as _;
    let path = socket_path(data);
    let stream = UnixStream::connect(&path).await.with_context(|| {
        format!(
            "cannot reach a store with manual lanes at {} (is `omo up --manual-lanes N --data {}` running?)",
            path.display(),
            data.display()
        )
    })?;
    let (read, mut write) = stream.into_split();
    let mut line = serde_json::to_vec(request)?;
    line.push(b'\n');
    write.write_all(&line).await?;
    let mut lines = BufReader::new(read).lines();
    let reply = lines
        .next_line()
        .await?
        .context("the store closed the connection")?;
    Ok(serde_json::from_str(&reply)?)
}
