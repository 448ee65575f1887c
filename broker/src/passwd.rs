//! Password files as `mosquitto_passwd` writes them (`deploy/mosquitto/make-passwd.sh`), one
//! `user:hash` a line, so one file serves mosquitto and the embedded broker. Hashes:
//! - `$7$ITERATIONS$SALT$HASH`: PBKDF2-HMAC-SHA512 (mosquitto 2's default), base64 salt and hash;
//! - `$6$SALT$HASH`: SHA-512 of password then salt (mosquitto 1.x files).
//!
//! An entry whose hash is empty or malformed (no salt, a hash that is not the 64 bytes of
//! SHA-512, an iteration count of 0 or above [`MAX_ITERATIONS`], plain text) lets no one in:
//! the whole file is refused when read, naming the line, and [`Passwords::verify`] refuses any
//! hash that is not 64 bytes, so no entry can ever match every password.

use std::collections::HashMap;
use std::path::Path;

use data_encoding::BASE64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha512};

use crate::error::BrokerError;

/// The most PBKDF2 iterations accepted (mosquitto uses 101; a huge count would make every
/// CONNECT cost seconds of CPU).
pub const MAX_ITERATIONS: u32 = 1_000_000;

/// SHA-512's output: the length of every valid hash.
const HASH_BYTES: usize = 64;

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
    pub fn load(path: &Path) -> Result<Passwords, BrokerError> {
        let text = std::fs::read_to_string(path).map_err(|source| BrokerError::ReadFile {
            kind: "password",
            path: path.into(),
            source,
        })?;
        Passwords::parse(&text).map_err(|message| BrokerError::BadFile {
            kind: "password",
            path: path.into(),
            message,
        })
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
            if user.is_empty() {
                return Err(format!("line {}: empty user name", index + 1));
            }
            let hash = parse_hash(hash).map_err(|e| {
                format!(
                    "line {} ({user}): {e}; such an entry lets no one in, so the file is refused",
                    index + 1
                )
            })?;
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

    /// Whether `user` is in the file and `password` is theirs. A hash that is not the 64 bytes
    /// of SHA-512 matches no password (the parser refuses one; this holds whatever was built).
    pub fn verify(&self, user: &str, password: &[u8]) -> bool {
        let Some(hash) = self.users.get(user) else {
            return false;
        };
        let (Hash::Pbkdf2Sha512 { hash: bytes, .. } | Hash::Sha512 { hash: bytes, .. }) = hash;
        if bytes.len() != HASH_BYTES {
            return false;
        }
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

/// Parses one entry's hash, refusing anything that is not a complete `$7$` or `$6$` hash.
/// Pure.
fn parse_hash(text: &str) -> Result<Hash, String> {
    if text.trim().is_empty() {
        return Err("empty hash".into());
    }
    let parts: Vec<&str> = text.split('$').collect();
    let b64 = |s: &str| {
        BASE64
            .decode(s.as_bytes())
            .map_err(|e| format!("bad base64: {e}"))
    };
    let salt = |s: &str| {
        let salt = b64(s)?;
        if salt.is_empty() {
            return Err("empty salt".to_string());
        }
        Ok(salt)
    };
    let hash = |s: &str| {
        let hash = b64(s)?;
        if hash.len() != HASH_BYTES {
            return Err(format!(
                "the hash is {} bytes, not the {HASH_BYTES} of SHA-512",
                hash.len()
            ));
        }
        Ok(hash)
    };
    match parts.as_slice() {
        ["", "7", iterations, s, h] => Ok(Hash::Pbkdf2Sha512 {
            iterations: iterations
                .parse()
                .ok()
                .filter(|n| (1..=MAX_ITERATIONS).contains(n))
                .ok_or_else(|| {
                    format!("bad iteration count {iterations:?} (1 to {MAX_ITERATIONS})")
                })?,
            salt: salt(s)?,
            hash: hash(h)?,
        }),
        ["", "6", s, h] => Ok(Hash::Sha512 {
            salt: salt(s)?,
            hash: hash(h)?,
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

    #[test]
    fn an_empty_or_malformed_hash_is_refused_and_never_matches() {
        let salt = BASE64.encode(b"0123456789ab");
        let full = BASE64.encode(&[7u8; 64]);
        let short = BASE64.encode(&[7u8; 1]);
        for line in [
            "u:".to_string(),
            "u: ".to_string(),
            format!("u:$7$101${salt}$"),
            format!("u:$7$101$${full}"),
            format!("u:$7$101${salt}${short}"),
            format!("u:$7$0${salt}${full}"),
            format!("u:$7$4294967295${salt}${full}"),
            "u:$6$$".to_string(),
            format!("u:$6${salt}$"),
            format!("u:$6${salt}${short}"),
            format!(":$6${salt}${full}"),
        ] {
            let error = Passwords::parse(&line).unwrap_err();
            assert!(error.contains("line 1"), "{line}: {error}");
        }
        // Built around the parser: an empty hash still matches nothing.
        let mut users = HashMap::new();
        users.insert(
            "u".to_string(),
            Hash::Pbkdf2Sha512 {
                iterations: 1,
                salt: vec![1],
                hash: Vec::new(),
            },
        );
        let passwords = Passwords { users };
        assert!(!passwords.verify("u", b""));
        assert!(!passwords.verify("u", b"anything"));
    }

    #[test]
    fn random_lines_never_panic_and_never_match_every_password() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(12);
        let alphabet = b"$67:AZaz09+/=\n \r#";
        let valid = format!(
            "u:$7$101${}${}",
            BASE64.encode(b"0123456789ab"),
            BASE64.encode(&[7u8; 64])
        );
        for round in 0..5000 {
            let mut text: Vec<u8> = if round % 2 == 0 {
                let len = rng.random_range(0..80);
                (0..len)
                    .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                    .collect()
            } else {
                valid.clone().into_bytes()
            };
            // Mutations of a valid line: changed characters, and a cut.
            for _ in 0..rng.random_range(1..4) {
                if !text.is_empty() {
                    let at = rng.random_range(0..text.len());
                    text[at] = alphabet[rng.random_range(0..alphabet.len())];
                }
            }
            text.truncate(rng.random_range(0..=text.len()));
            let text = String::from_utf8(text).expect("ASCII");
            if let Ok(passwords) = Passwords::parse(&text) {
                for user in passwords.users.keys() {
                    assert!(!passwords.verify(user, b"guess"), "{text:?}");
                }
            }
        }
    }
}
