//! The chain's example files are what they claim: each `deploy/chain/cloud-*.toml` passes
//! `omo cloud --check` (the unit's ExecStartPre), the processes share a database, a broker, a
//! share group and store tokens but not a client id or a port, and the systemd template starts
//! `/etc/omo/cloud-%i.toml`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

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
