//! The chain's deployment files in `deploy/chain/` are what they claim.
//!
//! For systemd: each `cloud-*.toml` passes `omo cloud --check` (the unit's ExecStartPre), the
//! processes share a database, a broker, a share group and store tokens but not a client id or a
//! port, and the template `omo-cloud@.service` starts `/etc/omo/cloud-%i.toml` with
//! `Restart=always`.
//!
//! For Docker Compose, `compose.yaml`, read with python3-yaml (there is no Docker here, so it is
//! never started): it has postgres (health-checked by pg_isready, its data in a named volume),
//! mosquitto, two cloud processes and the store edge-sh-001; every `omo` service has the one build
//! (`deploy/chain/Dockerfile`) and restarts `always`. Each cloud's mounted config exists and
//! passes `omo cloud --check`; its `database_url` and `mqtt_url` name the postgres and mosquitto
//! services (with postgres's user, password and database); the clouds share database, broker,
//! share group and `[tls]` but not a client id; each waits for a healthy postgres and finds its
//! `[tls]` files among its secrets and its ports among the published ones. The edge's config
//! names the broker, and on the clouds' gRPC port a name every cloud answers to; keeps `data_dir`
//! in a named volume; finds `[cloud_tls]` among its secrets, with the CA the clouds check stores
//! by; and passes `omo edge validate` once those files exist, which only a deployment has: the
//! test makes them (a CA and the store's certificate, by rcgen) and points a copy of the config at
//! them. The broker's config is `deploy/mosquitto/omo.conf` but for its listener and persistence
//! folder, its ACL the shipped one, which has the clouds' and the edge's users. No two services
//! publish one host port, and `compose/secrets/` commits nothing but its `.gitignore`.

#[path = "../cloud/tests/support/test_ca.rs"]
mod test_ca;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

#[test]
fn the_chain_deployment_files_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/chain");
    let mut configs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    configs.sort();
    assert!(
        configs.len() >= 2,
        "a chain has two cloud processes at least"
    );
    let (mut ids, mut ports, mut shared) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for path in &configs {
        let out = Command::new(env!("CARGO_BIN_EXE_omo"))
            .args(["cloud", "--check", "--config", path.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let config = omo_cloud::CloudConfig::load(Some(path)).unwrap();
        assert!(
            ids.insert(config.mqtt_client_id.clone()),
            "{}: client id reused",
            path.display()
        );
        assert!(
            ports.insert(config.grpc_listen.port()),
            "{}",
            path.display()
        );
        assert!(
            ports.insert(config.http_listen.port()),
            "{}",
            path.display()
        );
        shared.insert(format!(
            "{} {:?} {:?} {:?}",
            config.database_url,
            config.mqtt_url,
            config.mqtt_share_group,
            config.store_token_sha256
        ));
        assert!(
            config.database_url.starts_with("postgres://"),
            "{}",
            path.display()
        );
        assert!(config.mqtt_share_group.is_some(), "{}", path.display());
    }
    assert_eq!(
        shared.len(),
        1,
        "the processes must share database, broker, group and tokens"
    );
    let unit = std::fs::read_to_string(dir.join("../systemd/omo-cloud@.service")).unwrap();
    assert!(unit.contains("--config /etc/omo/cloud-%i.toml"), "{unit}");
    assert!(unit.contains("Restart=always"), "{unit}");
}

#[test]
fn the_compose_file_runs_the_chain_from_configs_that_pass_their_checks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chain = root.join("deploy/chain");
    let compose = yaml(&chain.join("compose.yaml"));
    let services = compose["services"].as_object().expect("services");
    for name in ["postgres", "mosquitto", "cloud-1", "cloud-2", "edge-sh-001"] {
        assert!(services.contains_key(name), "no service {name}");
    }
    let (postgres, mosquitto) = (&services["postgres"], &services["mosquitto"]);
    assert!(postgres["image"].as_str().unwrap().starts_with("postgres:"));
    assert_eq!(mosquitto["image"], "eclipse-mosquitto:2");
    let health = postgres["healthcheck"]["test"].to_string();
    assert!(health.contains("pg_isready"), "{health}");
    // Whether `path` lies in one of `service`'s named volumes.
    let in_volume = |service: &Value, path: &str| {
        let volumes = compose["volumes"].as_object().unwrap();
        let mut all = mounts(service).into_iter();
        all.any(|(from, to)| volumes.contains_key(&from) && Path::new(path).starts_with(to))
    };
    assert!(in_volume(postgres, "/var/lib/postgresql/data"));

    // The `omo` services: one build, of deploy/chain/Dockerfile; each restarts always.
    let omo: Vec<(&String, &Value)> = services
        .iter()
        .filter(|(_, s)| command(s).first().is_some_and(|w| w == "omo"))
        .collect();
    let build = &services["cloud-1"]["build"];
    for (name, service) in &omo {
        assert_eq!(&service["build"], build, "{name}");
        assert_eq!(service["restart"], "always", "{name}");
    }
    let dockerfile = build["dockerfile"].as_str().unwrap();
    let context = chain.join(build["context"].as_str().unwrap());
    assert!(context.join(dockerfile).is_file(), "{dockerfile}");

    // The broker: omo.conf but for two lines, the shipped ACL, its sessions in a volume.
    let conf_file = bind_source(&chain, mosquitto, after(&command(mosquitto), "-c"));
    let conf = settings(&conf_file);
    let shipped = settings(&root.join("deploy/mosquitto/omo.conf"));
    let kept = |l: &&String| !l.starts_with("listener ") && !l.starts_with("persistence_location ");
    let ours: Vec<_> = conf.iter().filter(kept).collect();
    let theirs: Vec<_> = shipped.iter().filter(kept).collect();
    assert_eq!(ours, theirs, "compose/mosquitto.conf is not omo.conf");
    let acl_file = bind_source(&chain, mosquitto, setting(&conf, "acl_file"));
    let shipped_acl = root.join("deploy/mosquitto/acl");
    let same = acl_file.canonicalize().unwrap() == shipped_acl.canonicalize().unwrap();
    assert!(same, "not the shipped ACL");
    let passwd = source_of(mosquitto, setting(&conf, "password_file"));
    assert!(passwd.starts_with("./compose/secrets/"), "{passwd}");
    assert!(in_volume(mosquitto, setting(&conf, "persistence_location")));
    let acl = std::fs::read_to_string(&shipped_acl).unwrap();
    let acl_user = |name: &str| acl.lines().any(|l| l.trim() == format!("user {name}"));

    // The clouds.
    let clouds: Vec<_> = omo
        .iter()
        .filter(|(_, s)| command(s)[1] == "cloud")
        .collect();
    assert!(clouds.len() >= 2, "a chain has two clouds at least");
    let [mut ids, mut shared, mut cas, mut grpc] = <[BTreeSet<String>; 4]>::default();
    let mut names: Option<BTreeSet<String>> = None;
    let env = |key: &str| postgres["environment"][key].as_str();
    for (name, service) in &clouds {
        let path = bind_source(&chain, service, after(&command(service), "--config"));
        omo_ok(&["cloud", "--check", "--config", path.to_str().unwrap()]);
        let config = omo_cloud::CloudConfig::load(Some(&path)).unwrap();
        let id = config.mqtt_client_id.clone();
        assert!(ids.insert(id), "{name}: client id reused");
        let database = &config.database_url;
        let mqtt_url = config.mqtt_url.clone().expect("mqtt_url");
        let group = config.mqtt_share_group.clone().expect("mqtt_share_group");
        let tls = config.tls.clone().expect("[tls] (stores' certificates)");
        shared.insert(format!("{database} {mqtt_url} {group} {tls:?}"));
        assert_eq!(host_port(database).0, "postgres", "{name}");
        let (broker, broker_port) = host_port(&mqtt_url);
        assert_eq!(broker, "mosquitto", "{name}");
        let listener = format!("listener {}", broker_port.unwrap());
        assert!(conf.contains(&listener), "{name}");
        assert!(acl_user(config.mqtt_username.as_deref().unwrap()), "{name}");
        let (user, password, db) = credentials(database);
        assert_eq!(env("POSTGRES_USER"), Some(user), "{name}");
        assert_eq!(env("POSTGRES_PASSWORD"), Some(password), "{name}");
        assert_eq!(env("POSTGRES_DB"), Some(db), "{name}");
        let depends_on = &service["depends_on"];
        let healthy = &depends_on["postgres"]["condition"];
        assert_eq!(healthy, "service_healthy", "{name}");
        assert!(depends_on.get("mosquitto").is_some(), "{name}");
        secret(&compose, service, &tls.cert);
        secret(&compose, service, &tls.key);
        let client_ca = tls.client_ca.expect("[tls] client_ca");
        cas.insert(secret(&compose, service, &client_ca));
        let published = container_ports(service);
        let ports = [config.grpc_listen.port(), config.http_listen.port()];
        assert!(ports.iter().all(|p| published.contains(p)), "{name}");
        grpc.insert(config.grpc_listen.port().to_string());
        // The names this process answers to: its service's and its network aliases.
        let mut own = aliases_of(service);
        own.insert(name.to_string());
        names = Some(names.map_or(own.clone(), |all| &all & &own));
    }
    assert_eq!(shared.len(), 1, "one database, broker, group, TLS");
    let names = names.unwrap();

    // The edge.
    let edge = &services["edge-sh-001"];
    let path = bind_source(&chain, edge, after(&command(edge), "--config"));
    let config = omo_edge::config::EdgeConfig::load(&path).unwrap();
    assert_eq!(host_port(&config.mqtt.url).0, "mosquitto");
    let edge_user = config.mqtt.username.clone().expect("mqtt.username");
    assert!(acl_user(edge_user.as_str()), "{edge_user}");
    let (cloud, cloud_port) = host_port(&config.cloud_url);
    assert!(names.contains(cloud), "{cloud}: not {names:?}");
    assert_eq!(grpc, BTreeSet::from([cloud_port.unwrap().to_owned()]));
    let data_dir = config.data_dir.to_str().unwrap();
    assert!(in_volume(edge, data_dir), "{data_dir}");
    let tls = config.cloud_tls.clone().expect("[cloud_tls]");
    let ca_secret = secret(&compose, edge, &tls.ca);
    assert!(cas.contains(&ca_secret), "{ca_secret}: not the clouds' CA");
    let (cert, key) = (tls.cert.expect("cert"), tls.key.expect("key"));

    // `omo edge validate` reads the certificates, which only a deployment has: made here in
    // their place (a CA and the store's certificate), the config passes.
    let dir = tempfile::tempdir().unwrap();
    let ca = test_ca::TestCa::new();
    let id = config.store_id.as_str();
    let leaf = ca.leaf(id, &[id], rcgen::ExtendedKeyUsagePurpose::ClientAuth);
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (file, pem) in [(&tls.ca, &ca.pem), (&cert, &leaf.cert), (&key, &leaf.key)] {
        secret(&compose, edge, file);
        let here = dir.path().join(file.file_name().unwrap());
        std::fs::write(&here, pem).unwrap();
        let (from, to) = (quoted(file), quoted(&here));
        assert!(text.contains(&from), "{from}");
        text = text.replace(&from, &to);
    }
    let copy = dir.path().join("edge.toml");
    std::fs::write(&copy, text).unwrap();
    omo_ok(&["edge", "validate", "--config", copy.to_str().unwrap()]);

    // No host port twice; nothing under compose/secrets/ but its .gitignore is committed.
    let mut host_ports = BTreeSet::new();
    let ports = services
        .values()
        .flat_map(|s| s["ports"].as_array().into_iter().flatten());
    for published in ports {
        let published = published.as_str().expect("ports as \"HOST:CONTAINER\"");
        let host_port = published.rsplit(':').nth(1).expect("a host port");
        assert!(host_ports.insert(host_port), "{published}: taken twice");
    }
    let ignore = std::fs::read_to_string(chain.join("compose/secrets/.gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "*"), "{ignore}");
}

/// A YAML file as JSON, by python3-yaml (`.ci/run` installs it).
fn yaml(path: &Path) -> Value {
    let script = "import sys,yaml,json; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("python3 (and python3-yaml: see .ci/run)");
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}: {error}", path.display());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `omo ARGS`, which must succeed.
fn omo_ok(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_omo"))
        .args(args)
        .output()
        .unwrap();
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "omo {args:?}: {error}");
}

/// A service's command as words (compose takes a list or one string).
fn command(service: &Value) -> Vec<String> {
    match &service["command"] {
        Value::Array(words) => words
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        Value::String(line) => line.split_whitespace().map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// The word after `flag`.
fn after<'a>(words: &'a [String], flag: &str) -> &'a str {
    let at = words.iter().position(|w| w == flag);
    &words[at.unwrap_or_else(|| panic!("no {flag} in {words:?}")) + 1]
}

/// A service's volumes as (source, target): `SOURCE:TARGET[:MODE]` or the long syntax.
fn mounts(service: &Value) -> Vec<(String, String)> {
    let mount = |m: &Value| match m.as_str() {
        Some(short) => {
            let mut parts = short.split(':').map(str::to_owned);
            (parts.next().unwrap(), parts.next().unwrap_or_default())
        }
        None => (text(&m["source"]), text(&m["target"])),
    };
    let volumes = service["volumes"].as_array().into_iter().flatten();
    volumes.map(mount).collect()
}

/// A JSON string's text ("" if it is none).
fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// What is mounted at `target` in `service`.
fn source_of(service: &Value, target: &str) -> String {
    let mount = mounts(service).into_iter().find(|(_, t)| t == target);
    mount
        .unwrap_or_else(|| panic!("nothing at {target}: {service}"))
        .0
}

/// The file of this repository mounted at `target` (a path relative to deploy/chain).
fn bind_source(chain: &Path, service: &Value, target: &str) -> PathBuf {
    let source = source_of(service, target);
    assert!(
        source.starts_with('.'),
        "{target}: {source} is not in the repository"
    );
    let path = chain.join(&source);
    assert!(path.is_file(), "{}", path.display());
    path
}

/// The secret `service` finds at `file`, whose file compose/secrets/ holds on a deployment.
fn secret(compose: &Value, service: &Value, file: &Path) -> String {
    let file = file.to_str().unwrap();
    let name = file
        .strip_prefix("/run/secrets/")
        .expect("under /run/secrets/");
    let mut granted = service["secrets"].as_array().into_iter().flatten();
    let granted = granted.any(|s| s.as_str().or(s["source"].as_str()) == Some(name));
    assert!(granted, "{file}: the service has no secret {name}");
    let source = compose["secrets"][name]["file"]
        .as_str()
        .unwrap_or_default();
    assert!(source.starts_with("./compose/secrets/"), "{name}: {source}");
    name.to_owned()
}

/// A service's network aliases on the default network.
fn aliases_of(service: &Value) -> BTreeSet<String> {
    let aliases = service["networks"]["default"]["aliases"].as_array();
    let aliases = aliases.into_iter().flatten().filter_map(Value::as_str);
    aliases.map(str::to_owned).collect()
}

/// The container ports a service publishes (`[IP:]HOST:CONTAINER`).
fn container_ports(service: &Value) -> BTreeSet<u16> {
    let ports = service["ports"].as_array().into_iter().flatten();
    ports
        .filter_map(|p| p.as_str()?.rsplit(':').next()?.parse().ok())
        .collect()
}

/// A path as a TOML string.
fn quoted(path: &Path) -> String {
    format!("\"{}\"", path.display())
}

/// Host and port of `scheme://[USER[:PASSWORD]@]HOST[:PORT][/...]`.
fn host_port(url: &str) -> (&str, Option<&str>) {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let mut parts = authority.splitn(2, ':');
    (parts.next().unwrap_or_default(), parts.next())
}

/// User, password and database of `postgres://USER:PASSWORD@HOST:PORT/DB`.
fn credentials(url: &str) -> (&str, &str, &str) {
    let rest = url.split_once("://").unwrap().1;
    let (authority, db) = rest.split_once('/').expect("a database");
    let (user, _) = authority.rsplit_once('@').expect("USER:PASSWORD@");
    let (user, password) = user.split_once(':').unwrap_or((user, ""));
    (user, password, db.split('?').next().unwrap())
}

/// A mosquitto config's settings: its lines, blanks and comments left out, spaces collapsed.
fn settings(path: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines = text.lines().map(str::trim);
    let lines = lines.filter(|l| !l.is_empty() && !l.starts_with('#'));
    lines
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// The value of the `key value` line among `settings`.
fn setting<'a>(settings: &'a BTreeSet<String>, key: &str) -> &'a str {
    let line = settings.iter().find(|l| l.split(' ').next() == Some(key));
    line.unwrap_or_else(|| panic!("no {key}"))[key.len()..].trim()
}
