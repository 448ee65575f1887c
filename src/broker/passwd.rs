//! Password files as `mosquitto_passwd` writes them (`deploy/mosquitto/make-passwd.sh`), one
//! `user:hash` a line, so one file serves mosquitto and the embedded broker. Hashes:
//! - `$7$ITERATIONS$SALT$HASH`: PBKDF2-HMAC-SHA512 (mosquitto 2's default), base64 salt and hash;
//! - `$6$SALT$HASH`: SHA-512 of password then salt (mosquitto 1.x files).

use std::collections::HashMap;
use std::path::Path;

use data_encoding::BASE64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha512};

/// A parsed password file: user name -> hash.
#[derive(Debug, Clone, Default)]
pub struct Passwords {
    users: HashMap<String, Hash>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Hash {
    Pbkdf2Sha512 {
        iterations: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    Sha512 {
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
}

impl Passwords {
    /// Reads and parses a password file; errors name the file and line.
    pub fn load(path: &Path) -> anyhow::Result<Passwords> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!("cannot read the password file {}: {e}", path.display())
        })?;
        Passwords::parse(&text)
            .map_err(|e| anyhow::anyhow!("password file {}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Passwords, String> {
        let mut users = HashMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let (user, hash) = line
                .split_once(':')
                .ok_or_else(|| format!("line {}: expected USER:HASH", index + 1))?;
            let hash = parse_hash(hash).map_err(|e| format!("line {} ({user}): {e}", index + 1))?;
            users.insert(user.to_string(), hash);
        }
        Ok(Passwords { users })
    }

    /// Adds (or replaces) `user` with `password`, hashed as mosquitto 2 would (`$7$`, 101
    /// PBKDF2-SHA512 iterations, a random 12-byte salt). `omo up` gives its own clients
    /// credentials this way, in memory only.
    pub fn insert(&mut self, user: &str, password: &str) {
        let salt: [u8; 12] = rand::random();
        let mut hash = vec![0u8; 64];
        pbkdf2_sha512(password.as_bytes(), &salt, 101, &mut hash);
        self.users.insert(
            user.to_string(),
            Hash::Pbkdf2Sha512 {
                iterations: 101,
                salt: salt.to_vec(),
                hash,
            },
        );
    }

    /// Whether `user` is in the file and `password` is theirs.
    pub fn verify(&self, user: &str, password: &[u8]) -> bool {
        let Some(hash) = self.users.get(user) else {
            return false;
        };
        match hash {
            Hash::Pbkdf2Sha512 {
                iterations,
                salt,
                hash,
            } => {
                let mut derived = vec![0u8; hash.len()];
                pbkdf2_sha512(password, salt, *iterations, &mut derived);
                same(&derived, hash)
            }
            Hash::Sha512 { salt, hash } => {
                let digest = Sha512::new()
                    .chain_update(password)
                    .chain_update(salt)
                    .finalize();
                same(&digest, hash)
            }
        }
    }
}

fn parse_hash(text: &str) -> Result<Hash, String> {
    let parts: Vec<&str> = text.split('$').collect();
    let b64 = |s: &str| {
        BASE64
            .decode(s.as_bytes())
            .map_err(|e| format!("bad base64: {e}"))
    };
    match parts.as_slice() {
        ["", "7", iterations, salt, hash] => Ok(Hash::Pbkdf2Sha512 {
            iterations: iterations
                .parse()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("bad iteration count {iterations:?}"))?,
            salt: b64(salt)?,
            hash: b64(hash)?,
        }),
        ["", "6", salt, hash] => Ok(Hash::Sha512 {
            salt: b64(salt)?,
            hash: b64(hash)?,
        }),
        _ => Err(
            "unsupported hash (expected $7$ or $6$ from mosquitto_passwd; plain text is refused)"
                .into(),
        ),
    }
}

/// PBKDF2 (RFC 8018 §5.2) with HMAC-SHA512, filling `out`.
fn pbkdf2_sha512(password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    let prf = Hmac::<Sha512>::new_from_slice(password).expect("HMAC takes any key length");
    for (block, chunk) in out.chunks_mut(64).enumerate() {
        let index = u32::try_from(block + 1).expect("few blocks");
        let mut u = prf
            .clone()
            .chain_update(salt)
            .chain_update(index.to_be_bytes())
            .finalize()
            .into_bytes();
        let mut t = u;
        for _ in 1..iterations {
            u = prf.clone().chain_update(u).finalize().into_bytes();
            t.iter_mut().zip(u.iter()).for_each(|(t, u)| *t ^= u);
        }
        chunk.copy_from_slice(&t[..chunk.len()]);
    }
}

/// Equality in time independent of where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pbkdf2_sha512_matches_the_published_test_vector() {
        // The common PBKDF2-HMAC-SHA512 vector: "password", "salt", 1 iteration.
        let mut out = [0u8; 64];
        pbkdf2_sha512(b"password", b"salt", 1, &mut out);
        assert_eq!(
            data_encoding::HEXLOWER.encode(&out[..16]),
            "867f70cf1ade02cff3752599a3a53dc4"
        );
    }

    #[test]
    fn a_hash_made_by_mosquitto_passwd_verifies() {
        let Some(tool) = ["/usr/bin/mosquitto_passwd", "/usr/sbin/mosquitto_passwd"]
            .into_iter()
            .find(|p| Path::new(p).exists())
        else {
            eprintln!(
                "\n!!! SKIPPED: mosquitto_passwd is not installed (apt-get install mosquitto); \
                 the $7$ password check is not tested against the real tool !!!\n"
            );
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("passwd");
        std::fs::write(&file, "").unwrap();
        for (user, password) in [("edge-SH-001", "s3cret pass"), ("rider-a", "é-ü")] {
            let status = std::process::Command::new(tool)
                .args(["-b", file.to_str().unwrap(), user, password])
                .status()
                .unwrap();
            assert!(status.success());
        }
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(":$7$"), "expected PBKDF2 hashes: {text}");
        let passwords = Passwords::load(&file).unwrap();
        assert!(passwords.verify("edge-SH-001", b"s3cret pass"));
        let mut added = passwords.clone();
        added.insert("cloud", "fresh");
        assert!(added.verify("cloud", b"fresh"));
        assert!(!added.verify("cloud", b"stale"));
        assert!(passwords.verify("rider-a", "é-ü".as_bytes()));
        assert!(!passwords.verify("edge-SH-001", b"s3cret pas"));
        assert!(!passwords.verify("rider-a", b"s3cret pass"));
        assert!(!passwords.verify("nobody", b"s3cret pass"));
    }

    #[test]
    fn legacy_sha512_hashes_verify() {
        let salt = b"0123456789ab";
        let digest = Sha512::new()
            .chain_update(b"pw")
            .chain_update(salt)
            .finalize();
        let line = format!("u:$6${}${}\n", BASE64.encode(salt), BASE64.encode(&digest));
        let passwords = Passwords::parse(&line).unwrap();
        assert!(passwords.verify("u", b"pw"));
        assert!(!passwords.verify("u", b"px"));
    }

    #[test]
    fn plain_text_and_malformed_lines_are_refused() {
        assert!(
            Passwords::parse("u:plain\n")
                .unwrap_err()
                .contains("line 1")
        );
        assert!(
            Passwords::parse("\nnocolon\n")
                .unwrap_err()
                .contains("line 2")
        );
        assert!(Passwords::parse("u:$7$x$AA==$AA==\n").is_err());
    }
}
