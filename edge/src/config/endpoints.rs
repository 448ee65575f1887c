//! Where the edge listens and what it connects to, checked as start-up would use them (no IO):
//! `http_listen` is `host:port`, `mqtt.url` is `mqtt://host:port`, `cloud_url` is an
//! `http://` or `https://` URL with a host. `omo edge validate` and `omo edge` both run these
//! through [`super::EdgeConfig::validate`].

use super::EdgeConfig;

pub(super) fn check(config: &EdgeConfig) -> Result<(), String> {
    check_listen(&config.http_listen)?;
    crate::outbox::parse_mqtt_url(&config.mqtt.url).map_err(|_| {
        format!(
            "key `mqtt.url`: {:?} is not of the form mqtt://host:port",
            config.mqtt.url
        )
    })?;
    check_cloud_url(&config.cloud_url)
}

/// `host:port` with a port the edge can bind: an IP address (`127.0.0.1:8080`, `[::1]:8080`)
/// or a host name (`localhost:8080`).
fn check_listen(listen: &str) -> Result<(), String> {
    let bad = |why: &str| {
        format!("key `http_listen`: {listen:?} {why} (expected host:port, e.g. 127.0.0.1:8080)")
    };
    if listen.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(());
    }
    let Some((host, port)) = listen.rsplit_once(':') else {
        return Err(bad("has no port"));
    };
    if port.parse::<u16>().is_err() {
        return Err(bad("has no valid port"));
    }
    let name_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !name_ok {
        return Err(bad("has no valid host"));
    }
    Ok(())
}

/// `http://host[:port][/]` or `https://...`.
fn check_cloud_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| {
            format!(
                "key `cloud_url`: {url:?} needs a scheme: http://host:port, or https:// with [cloud_tls]"
            )
        })?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() || authority.ends_with(':') {
        return Err(format!("key `cloud_url`: {url:?} names no host"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_need_a_host_and_a_port() {
        for ok in [
            "127.0.0.1:8080",
            "[::1]:8080",
            "localhost:8080",
            "0.0.0.0:0",
        ] {
            assert!(check_listen(ok).is_ok(), "{ok}");
        }
        for bad in [
            "localhost",
            ":8080",
            "127.0.0.1:",
            "127.0.0.1:99999",
            "a b:1",
            "",
        ] {
            let e = check_listen(bad).unwrap_err();
            assert_eq!(e.matches("http_listen").count(), 1, "{e}");
        }
    }

    #[test]
    fn the_cloud_url_needs_a_scheme_and_a_host() {
        for ok in [
            "http://127.0.0.1:50051",
            "https://cloud.omo.example",
            "http://h:1/",
        ] {
            assert!(check_cloud_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "127.0.0.1:50051",
            "cloud:50051",
            "http://",
            "https://:1/x",
            "ftp://h",
        ] {
            assert!(check_cloud_url(bad).is_err(), "{bad}");
        }
    }
}
