//! Every port a command will listen on, checked before anything starts: one message lists all
//! the busy ones (and ports given twice), with the flag that moves each.

use std::net::{SocketAddr, TcpListener};

/// A port to check: where it would listen and what it is for (e.g. `--http-port, the edge`).
#[derive(Debug, Clone)]
pub struct Wanted {
    pub addr: SocketAddr,
    pub what: String,
}

/// Ports that cannot be used, all of them in one message.
#[derive(Debug, thiserror::Error)]
#[error("cannot start: {}", .0.join("; "))]
pub struct PortsBusy(pub Vec<String>);

/// Binds each wanted address once (and lets it go), listing every one that is busy or wanted
/// twice. Port 0 (any free port) is never busy.
pub fn check_free(wanted: &[Wanted]) -> Result<(), PortsBusy> {
    let mut problems = Vec::new();
    for (i, w) in wanted.iter().enumerate() {
        if w.addr.port() == 0 {
            continue;
        }
        if let Some(first) = wanted[..i].iter().find(|o| o.addr == w.addr) {
            problems.push(format!(
                "{} is given both to {} and to {}",
                w.addr, first.what, w.what
            ));
            continue;
        }
        if let Err(error) = TcpListener::bind(w.addr) {
            problems.push(format!("{} ({}) is in use: {error}", w.addr, w.what));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PortsBusy(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_busy_port_is_named_in_one_message() {
        let a = TcpListener::bind("127.0.0.1:0").unwrap();
        let b = TcpListener::bind("127.0.0.1:0").unwrap();
        let free = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let wanted = [
            Wanted {
                addr: a.local_addr().unwrap(),
                what: "--a".into(),
            },
            Wanted {
                addr: free,
                what: "--free".into(),
            },
            Wanted {
                addr: b.local_addr().unwrap(),
                what: "--b".into(),
            },
        ];
        let message = check_free(&wanted).unwrap_err().to_string();
        assert!(
            message.contains("--a") && message.contains("--b"),
            "{message}"
        );
        assert!(!message.contains("--free"), "{message}");
        let twice = [
            Wanted {
                addr: free,
                what: "--x".into(),
            },
            Wanted {
                addr: free,
                what: "--y".into(),
            },
        ];
        assert!(check_free(&twice).unwrap_err().to_string().contains("both"));
    }
}
