//! Access control lists in mosquitto's `acl_file` syntax, so `deploy/mosquitto/acl` works for
//! both brokers:
//!
//! ```text
//! # comment
//! topic read $SYS/#          <- before any `user` line: for anonymous clients
//! user cloud
//! topic read omo/v1/stores/+/#
//! pattern write omo/v1/riders/%u/events   <- for every client, %u = user name, %c = client id
//! ```
//!
//! Access is `read`, `write`, `readwrite` (the default when omitted) or `deny` (mosquitto 2: a
//! matching `deny` wins). Anything not granted is denied.

use std::collections::HashMap;
use std::path::Path;

use crate::error::BrokerError;
use crate::topic::{matches, overlap, valid_filter};

/// What a client wants to do with a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Read,
    Write,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    Read,
    Write,
    ReadWrite,
    Deny,
}

impl Grant {
    fn allows(self, want: Want) -> bool {
        matches!(
            (self, want),
            (Grant::ReadWrite, _) | (Grant::Read, Want::Read) | (Grant::Write, Want::Write)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    grant: Grant,
    filter: String,
}

/// A parsed ACL file.
#[derive(Debug, Clone, Default)]
pub struct Acl {
    /// `topic` lines before any `user` line: clients without a user name.
    anonymous: Vec<Rule>,
    /// `topic` lines under `user NAME`.
    users: HashMap<String, Vec<Rule>>,
    /// `pattern` lines, wherever they appear: every client, after substitution.
    patterns: Vec<Rule>,
}

/// A line of the ACL file that cannot be understood.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct AclError {
    pub line: usize,
    pub message: String,
}

impl Acl {
    /// Reads and parses an ACL file; errors name the file and line.
    pub fn load(path: &Path) -> Result<Acl, BrokerError> {
        let text = std::fs::read_to_string(path).map_err(|source| BrokerError::ReadFile {
            kind: "ACL",
            path: path.into(),
            source,
        })?;
        Acl::parse(&text).map_err(|e| BrokerError::BadFile {
            kind: "ACL",
            path: path.into(),
            message: e.to_string(),
        })
    }

    pub fn parse(text: &str) -> Result<Acl, AclError> {
        let mut acl = Acl::default();
        let mut user: Option<String> = None;
        for (index, raw) in text.lines().enumerate() {
            let error = |message: String| AclError {
                line: index + 1,
                message,
            };
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (keyword, rest) = line.split_once([' ', '\t']).unwrap_or((line, ""));
            let rest = rest.trim();
            match keyword {
                "user" => {
                    if rest.is_empty() {
                        return Err(error("`user` needs a name".into()));
                    }
                    user = Some(rest.to_string());
                }
                "topic" | "pattern" => {
                    let rule = parse_rule(rest).map_err(error)?;
                    if keyword == "pattern" {
                        acl.patterns.push(rule);
                    } else if let Some(name) = &user {
                        acl.users.entry(name.clone()).or_default().push(rule);
                    } else {
                        acl.anonymous.push(rule);
                    }
                }
                other => {
                    return Err(error(format!(
                        "unknown keyword {other:?} (expected user, topic or pattern)"
                    )));
                }
            }
        }
        Ok(acl)
    }

    /// The rules that apply to this client, patterns substituted.
    fn rules_for(&self, username: Option<&str>, client_id: &str) -> Vec<Rule> {
        let mut rules = match username {
            Some(name) => self.users.get(name).cloned().unwrap_or_default(),
            None => self.anonymous.clone(),
        };
        // As mosquitto: names that would act as wildcards or levels never fill a pattern.
        let unsafe_name = |s: &str| s.contains(['+', '#', '/']);
        for pattern in &self.patterns {
            let mut filter = pattern.filter.clone();
            if filter.contains("%u") {
                match username {
                    Some(name) if !unsafe_name(name) => filter = filter.replace("%u", name),
                    _ => continue,
                }
            }
            if filter.contains("%c") {
                if unsafe_name(client_id) {
                    continue;
                }
                filter = filter.replace("%c", client_id);
            }
            rules.push(Rule {
                grant: pattern.grant,
                filter,
            });
        }
        rules
    }

    /// Whether this client may read or write the topic name `topic`.
    pub fn allows(&self, username: Option<&str>, client_id: &str, topic: &str, want: Want) -> bool {
        let rules = self.rules_for(username, client_id);
        let matching = || rules.iter().filter(|r| matches(&r.filter, topic));
        if matching().any(|r| r.grant == Grant::Deny) {
            return false;
        }
        matching().any(|r| r.grant.allows(want))
    }

    /// Whether a subscription to `filter` could ever deliver something to this client: some
    /// readable rule overlaps it. Each message is still checked with [`Acl::allows`].
    pub fn may_subscribe(&self, username: Option<&str>, client_id: &str, filter: &str) -> bool {
        self.rules_for(username, client_id)
            .iter()
            .any(|r| r.grant.allows(Want::Read) && overlap(&r.filter, filter))
    }
}

fn parse_rule(rest: &str) -> Result<Rule, String> {
    let (first, after) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
    let (grant, filter) = match first {
        "read" => (Grant::Read, after.trim()),
        "write" => (Grant::Write, after.trim()),
        "readwrite" => (Grant::ReadWrite, after.trim()),
        "deny" => (Grant::Deny, after.trim()),
        _ => (Grant::ReadWrite, rest),
    };
    if filter.is_empty() {
        return Err("missing topic filter".into());
    }
    if !valid_filter(filter) {
        return Err(format!("invalid topic filter {filter:?}"));
    }
    Ok(Rule {
        grant,
        filter: filter.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Acl {
        let text = include_str!("../../deploy/mosquitto/acl");
        Acl::parse(text).expect("the shipped ACL parses")
    }

    #[test]
    fn a_rider_reads_only_its_own_dispatch_topic() {
        let acl = shipped();
        let r = |user, topic| acl.allows(Some(user), "c1", topic, Want::Read);
        assert!(r("rider-a", "omo/v1/riders/rider-a/dispatch"));
        assert!(!r("rider-a", "omo/v1/riders/rider-b/dispatch"));
        assert!(!r("rider-a", "omo/v1/riders/rider-a/events"));
        assert!(!r("rider-a", "omo/v1/stores/SH-001/lanes/1/state"));
    }

    #[test]
    fn a_rider_writes_only_its_own_events() {
        let acl = shipped();
        let w = |user, topic| acl.allows(Some(user), "c1", topic, Want::Write);
        assert!(w("rider-a", "omo/v1/riders/rider-a/events"));
        assert!(!w("rider-a", "omo/v1/riders/rider-b/events"));
        assert!(!w("rider-a", "omo/v1/riders/rider-a/dispatch"));
    }

    #[test]
    fn an_edge_writes_only_its_own_store_and_dispatches() {
        let acl = shipped();
        let w = |topic| acl.allows(Some("edge-SH-001"), "e", topic, Want::Write);
        assert!(w("omo/v1/stores/SH-001/lanes/1/state"));
        assert!(w("omo/v1/stores/SH-001"));
        assert!(!w("omo/v1/stores/SH-002/delivery/orders"));
        assert!(w("omo/v1/riders/rider-b/dispatch"));
        assert!(!w("omo/v1/riders/rider-b/events"));
        assert!(acl.allows(
            Some("edge-SH-001"),
            "e",
            "omo/v1/riders/x/events",
            Want::Read
        ));
        assert!(!acl.allows(
            Some("edge-SH-001"),
            "e",
            "omo/v1/stores/SH-001/x",
            Want::Read
        ));
    }

    #[test]
    fn unknown_users_and_anonymous_clients_get_nothing_but_patterns() {
        let acl = shipped();
        assert!(!acl.allows(None, "c", "omo/v1/stores/SH-001/x", Want::Read));
        assert!(!acl.allows(None, "c", "omo/v1/riders/%u/dispatch", Want::Read));
        assert!(!acl.allows(Some("nobody"), "c", "omo/v1/stores/SH-001/x", Want::Write));
        // A user name that is a wildcard does not widen a pattern.
        assert!(!acl.allows(Some("+"), "c", "omo/v1/riders/rider-b/dispatch", Want::Read));
        assert!(!acl.allows(Some("#"), "c", "omo/v1/riders/#", Want::Read));
    }

    #[test]
    fn the_cloud_and_monitor_read_but_never_write() {
        let acl = shipped();
        assert!(acl.allows(Some("cloud"), "c", "omo/v1/stores/SH-7/trace", Want::Read));
        assert!(!acl.allows(Some("cloud"), "c", "omo/v1/stores/SH-7/trace", Want::Write));
        assert!(acl.allows(
            Some("monitor"),
            "m",
            "omo/v1/stores/S/edge/state",
            Want::Read
        ));
        assert!(!acl.allows(Some("monitor"), "m", "omo/v1/stores/S/trace", Want::Read));
    }

    #[test]
    fn subscriptions_are_granted_when_some_readable_topic_overlaps() {
        let acl = shipped();
        let s = |user, filter| acl.may_subscribe(Some(user), "c", filter);
        assert!(s("rider-a", "omo/v1/riders/rider-a/dispatch"));
        assert!(s("rider-a", "omo/v1/riders/+/dispatch"));
        assert!(!s("rider-a", "omo/v1/riders/rider-b/dispatch"));
        assert!(s("cloud", "omo/v1/#"));
        assert!(!s("cloud", "omo/v1/other/#"));
        // %u patterns apply to every user, the cloud too.
        assert!(s("cloud", "omo/v1/riders/#"));
    }

    #[test]
    fn access_defaults_to_readwrite_and_deny_wins_and_client_ids_substitute() {
        let acl = Acl::parse(
            "topic public/#\nuser u\ntopic readwrite a/#\ntopic deny a/secret\npattern read c/%c/in\n",
        )
        .unwrap();
        assert!(acl.allows(None, "x", "public/news", Want::Write));
        assert!(acl.allows(Some("u"), "x", "a/b", Want::Write));
        assert!(!acl.allows(Some("u"), "x", "a/secret", Want::Read));
        assert!(acl.allows(Some("v"), "dev-1", "c/dev-1/in", Want::Read));
        assert!(!acl.allows(Some("v"), "dev-1", "c/dev-2/in", Want::Read));
    }

    #[test]
    fn a_bad_line_is_refused_with_its_number() {
        let error = Acl::parse("user a\ntopic read a/#/b\n").unwrap_err();
        assert_eq!(error.line, 2);
        let error = Acl::parse("\n\nallow a\n").unwrap_err();
        assert_eq!(error.line, 3);
        assert!(error.to_string().contains("allow"), "{error}");
    }
}
