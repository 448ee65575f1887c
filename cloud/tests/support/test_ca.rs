//! A certificate authority made at test time (rcgen) that issues leaf certificates for the
//! cloud (server) and for stores (clients). Shared by the cloud's TLS tests and the end-to-end
//! test of an edge proving its store (which includes this file by path).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A PEM certificate and its key.
pub struct Pem {
    pub cert: String,
    pub key: String,
}

impl Pem {
    /// Writes `<file>.pem` and `<file>-key.pem` into `dir`; their paths.
    pub fn write(&self, dir: &Path, file: &str) -> (PathBuf, PathBuf) {
        let cert_path = dir.join(format!("{file}.pem"));
        let key_path = dir.join(format!("{file}-key.pem"));
        std::fs::write(&cert_path, &self.cert).unwrap();
        std::fs::write(&key_path, &self.key).unwrap();
        (cert_path, key_path)
    }
}

/// A test CA that issues leaf certificates (not CAs, with a subjectAltName).
pub struct TestCa {
    /// The CA's own certificate, PEM.
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    pub fn new() -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "Omo test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        TestCa {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf for `common_name` with `dns_names` as subjectAltNames, for `usage`.
    pub fn leaf(
        &self,
        common_name: &str,
        dns_names: &[&str],
        usage: ExtendedKeyUsagePurpose,
    ) -> Pem {
        let names: Vec<String> = dns_names.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.is_ca = IsCa::ExplicitNoCa;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Pem {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }
}
