//! The edge's one connection to the cloud, and how the store proves who it is.
//!
//! [`connect`] makes a lazily connecting gRPC channel, a [`CloudChannel`], that carries every call
//! the edge makes to the cloud: payments, the wallet's coupons, catalog replication. The store
//! proves its identity the way the cloud checks it (`omo_cloud::identity`):
//! - by **TLS client certificate** (`[cloud_tls] cert` and `key`): the certificate names the store
//!   in its subject CN or a DNS subjectAltName, and the cloud trusts the CA that signed it;
//! - by **bearer token** (`cloud_token`, or `cloud_token_file`): every call carries
//!   `authorization: Bearer <token>`.
//!
//! `[cloud_tls] ca` is the CA the cloud's own certificate must chain to, and `domain` the name it
//! must carry when that is not `cloud_url`'s host. Files are read when the config is validated and
//! again when the edge starts; a missing or unreadable one is an error naming its key and path.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Request, Status};
use tracing::{info, warn};

use crate::config::{CloudTlsConfig, EdgeConfig};

/// The channel to the cloud, with the store's credentials on every call. Cheap to clone; make any
/// generated client over it (`PaymentServiceClient::new(channel.clone())`).
pub type CloudChannel = InterceptedService<Channel, StoreCredentials>;

/// Adds the store's bearer token, when one is configured, to every call.
#[derive(Clone, Default)]
pub struct StoreCredentials {
    authorization: Option<MetadataValue<Ascii>>,
}

impl StoreCredentials {
    /// Credentials that send `authorization: Bearer <token>`.
    pub fn bearer(token: &str) -> Result<StoreCredentials, CloudLinkError> {
        let value = format!("Bearer {token}")
            .parse()
            .map_err(|_| CloudLinkError::Invalid {
                key: "cloud_token",
                message: "the token must be printable ASCII".into(),
            })?;
        Ok(StoreCredentials {
            authorization: Some(value),
        })
    }

    /// Whether a token is sent.
    pub fn has_token(&self) -> bool {
        self.authorization.is_some()
    }
}

/// Never prints the token.
impl fmt::Debug for StoreCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreCredentials")
            .field("token", &self.authorization.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Interceptor for StoreCredentials {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.authorization {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// Why the connection to the cloud cannot be set up as configured. Each names the config key.
#[derive(Debug, thiserror::Error)]
pub enum CloudLinkError {
    /// `cloud_url` is not a URL a gRPC channel can use.
    #[error("key `cloud_url`: {url:?} is not a valid gRPC endpoint: {message}")]
    Url { url: String, message: String },
    /// A file the config names is missing or unreadable.
    #[error("key `{key}`: cannot read {}: {source}", path.display())]
    Unreadable {
        key: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// A value, or a file's content, cannot be used.
    #[error("key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

/// The channel to the cloud that `config` describes. It connects on first use and reconnects by
/// itself: the cloud may be down when the edge starts.
pub fn connect(config: &EdgeConfig) -> Result<CloudChannel, CloudLinkError> {
    let (endpoint, credentials) = prepare(config)?;
    if credentials.has_token() && config.cloud_tls.is_none() {
        warn!(cloud_url = %config.cloud_url, "the store's token goes to the cloud unencrypted; use an https:// cloud_url with [cloud_tls]");
    }
    info!(
        cloud_url = %config.cloud_url,
        tls = config.cloud_tls.is_some(),
        client_certificate = config.cloud_tls.as_ref().is_some_and(|t| t.cert.is_some()),
        token = credentials.has_token(),
        "connection to the cloud configured"
    );
    Ok(InterceptedService::new(
        endpoint.connect_lazy(),
        credentials,
    ))
}

/// The endpoint and credentials `config` asks for, with every file read and checked. Touches no
/// network, so `omo edge validate` runs it too.
pub fn prepare(config: &EdgeConfig) -> Result<(Endpoint, StoreCredentials), CloudLinkError> {
    let url = &config.cloud_url;
    let mut endpoint = Endpoint::from_shared(url.clone())
        .map_err(|e| CloudLinkError::Url {
            url: url.clone(),
            message: e.to_string(),
        })?
        .connect_timeout(Duration::from_secs(3))
        .tcp_nodelay(true);
    let https = endpoint.uri().scheme_str() == Some("https");
    match (&config.cloud_tls, https) {
        (Some(tls), true) => {
            let tls = client_tls(tls)?;
            endpoint = endpoint
                .tls_config(tls)
                .map_err(|e| CloudLinkError::Invalid {
                    key: "cloud_tls",
                    message: format!("the certificates cannot be used: {}", error_chain(&e)),
                })?;
        }
        // tonic would quietly skip TLS on an http:// URL.
        (Some(_), false) => {
            return Err(CloudLinkError::Invalid {
                key: "cloud_url",
                message: format!("{url:?} must be https:// when [cloud_tls] is configured"),
            });
        }
        (None, true) => {
            return Err(CloudLinkError::Invalid {
                key: "cloud_tls",
                message: format!(
                    "the https:// cloud_url {url:?} needs [cloud_tls] with `ca`, the CA that signed the cloud's certificate"
                ),
            });
        }
        (None, false) => {}
    }
    Ok((endpoint, credentials(config)?))
}

/// The bearer token from `cloud_token` or `cloud_token_file` (at most one of them).
fn credentials(config: &EdgeConfig) -> Result<StoreCredentials, CloudLinkError> {
    let (token, key) = match (&config.cloud_token, &config.cloud_token_file) {
        (Some(_), Some(_)) => {
            return Err(CloudLinkError::Invalid {
                key: "cloud_token_file",
                message: "set either cloud_token or cloud_token_file, not both".into(),
            });
        }
        (Some(token), None) => (token.clone(), "cloud_token"),
        (None, Some(path)) => (read_text("cloud_token_file", path)?, "cloud_token_file"),
        (None, None) => return Ok(StoreCredentials::default()),
    };
    let token = token.trim();
    if token.is_empty() {
        return Err(CloudLinkError::Invalid {
            key,
            message: "the token is empty".into(),
        });
    }
    StoreCredentials::bearer(token).map_err(|e| match e {
        CloudLinkError::Invalid { message, .. } => CloudLinkError::Invalid { key, message },
        other => other,
    })
}

/// rustls settings from `[cloud_tls]`: the CA to trust, the store's identity, the name to check.
fn client_tls(tls: &CloudTlsConfig) -> Result<ClientTlsConfig, CloudLinkError> {
    let mut config = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read_pem("cloud_tls.ca", &tls.ca)?));
    match (&tls.cert, &tls.key) {
        (Some(cert), Some(key)) => {
            config = config.identity(Identity::from_pem(
                read_pem("cloud_tls.cert", cert)?,
                read_pem("cloud_tls.key", key)?,
            ));
        }
        (None, None) => {}
        (Some(_), None) | (None, Some(_)) => {
            return Err(CloudLinkError::Invalid {
                key: if tls.key.is_none() {
                    "cloud_tls.key"
                } else {
                    "cloud_tls.cert"
                },
                message: "the store's certificate and its key go together: set both or neither"
                    .into(),
            });
        }
    }
    if let Some(domain) = &tls.domain {
        config = config.domain_name(domain.clone());
    }
    Ok(config)
}

/// A PEM file's bytes; a file without a PEM block is refused by name.
fn read_pem(key: &'static str, path: &Path) -> Result<String, CloudLinkError> {
    let text = read_text(key, path)?;
    if !text.contains("-----BEGIN ") {
        return Err(CloudLinkError::Invalid {
            key,
            message: format!("{} holds no PEM block (-----BEGIN ...)", path.display()),
        });
    }
    Ok(text)
}

fn read_text(key: &'static str, path: &Path) -> Result<String, CloudLinkError> {
    std::fs::read_to_string(path).map_err(|source| CloudLinkError::Unreadable {
        key,
        path: path.to_path_buf(),
        source,
    })
}

/// An error and its sources, as one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra_top: &str, extra_tables: &str) -> EdgeConfig {
        let text =
            format!("store_id = \"SH-001\"\nlat = 0.0\nlon = 0.0\n{extra_top}\n{extra_tables}");
        toml::from_str(&text).expect("a config")
    }

    fn message(result: Result<(Endpoint, StoreCredentials), CloudLinkError>) -> String {
        result.map(|_| ()).unwrap_err().to_string()
    }

    #[test]
    fn without_credentials_the_channel_is_plain() {
        let (_, credentials) = prepare(&config("", "")).unwrap();
        assert!(!credentials.has_token());
    }

    #[test]
    fn a_token_goes_on_every_call_and_never_into_logs() {
        let (_, mut credentials) = prepare(&config("cloud_token = \" s3cret \"", "")).unwrap();
        assert!(!format!("{credentials:?}").contains("s3cret"));
        let request = credentials.call(Request::new(())).unwrap();
        assert_eq!(
            request.metadata().get("authorization").unwrap(),
            "Bearer s3cret"
        );
    }

    #[test]
    fn the_token_is_read_from_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "from-a-file\n").unwrap();
        let (_, mut credentials) = prepare(&config(
            &format!("cloud_token_file = \"{}\"", path.display()),
            "",
        ))
        .unwrap();
        let request = credentials.call(Request::new(())).unwrap();
        assert_eq!(
            request.metadata().get("authorization").unwrap(),
            "Bearer from-a-file"
        );
    }

    #[test]
    fn token_mistakes_name_the_key() {
        let both = message(prepare(&config(
            "cloud_token = \"a\"\ncloud_token_file = \"/nonexistent\"",
            "",
        )));
        assert!(
            both.contains("cloud_token_file") && both.contains("not both"),
            "{both}"
        );
        let missing = message(prepare(&config(
            "cloud_token_file = \"/nonexistent/token\"",
            "",
        )));
        assert!(
            missing.contains("cloud_token_file") && missing.contains("/nonexistent/token"),
            "{missing}"
        );
        let empty = message(prepare(&config("cloud_token = \"  \"", "")));
        assert!(
            empty.contains("cloud_token") && empty.contains("empty"),
            "{empty}"
        );
        let spaced = message(prepare(&config("cloud_token = \"a\\nb\"", "")));
        assert!(spaced.contains("printable"), "{spaced}");
    }

    #[test]
    fn tls_mistakes_name_the_key_and_the_file() {
        let tls = "[cloud_tls]\nca = \"/nonexistent/ca.pem\"\n";
        let plain = message(prepare(&config("", tls)));
        assert!(
            plain.contains("cloud_url") && plain.contains("https://"),
            "{plain}"
        );
        let https = "cloud_url = \"https://cloud.example:50051\"";
        let missing = message(prepare(&config(https, tls)));
        assert!(
            missing.contains("cloud_tls.ca") && missing.contains("/nonexistent/ca.pem"),
            "{missing}"
        );
        let no_tls = message(prepare(&config(https, "")));
        assert!(
            no_tls.contains("cloud_tls") && no_tls.contains("ca"),
            "{no_tls}"
        );

        let dir = tempfile::tempdir().unwrap();
        let not_pem = dir.path().join("ca.pem");
        std::fs::write(&not_pem, "not a certificate").unwrap();
        let tls = format!("[cloud_tls]\nca = \"{}\"\n", not_pem.display());
        let garbage = message(prepare(&config(https, &tls)));
        assert!(
            garbage.contains("cloud_tls.ca") && garbage.contains("PEM"),
            "{garbage}"
        );
        let pem = dir.path().join("fake.pem");
        std::fs::write(
            &pem,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let half = format!("[cloud_tls]\nca = \"{0}\"\ncert = \"{0}\"\n", pem.display());
        let half = message(prepare(&config(https, &half)));
        assert!(half.contains("cloud_tls.key"), "{half}");
    }
}
