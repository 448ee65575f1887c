//! MQTT topic names and filters (MQTT 3.1.1 §4.7): validity, `+`/`#` matching, whether two
//! filters can match a common topic (used to decide a SUBSCRIBE against the ACL), and shared
//! subscription filters (`$share/{group}/{filter}`, MQTT 5 §4.8.2).

/// Whether `topic` is a valid topic name for PUBLISH: not empty, no wildcards, no NUL.
pub fn valid_topic(topic: &str) -> bool {
    !topic.is_empty() && !topic.contains(['+', '#', '\0'])
}

/// Whether `filter` is a valid topic filter: `+` and `#` only as whole levels, `#` only last;
/// a shared one (`$share/…`) needs a group name and a valid filter after it.
pub fn valid_filter(filter: &str) -> bool {
    if filter.starts_with(SHARE_PREFIX) {
        return shared(filter).is_some_and(|(_, inner)| valid_plain_filter(inner));
    }
    valid_plain_filter(filter)
}

const SHARE_PREFIX: &str = "$share/";

/// The longest group name of a shared subscription, in bytes.
pub const MAX_GROUP_BYTES: usize = 64;
/// The longest filter after a shared subscription's group, in bytes (each message that matches
/// one is routed by its group, and the turns kept per group must stay small).
pub const MAX_SHARED_FILTER_BYTES: usize = 512;

/// A shared subscription's (group, filter): `$share/{group}/{filter}`, the group 1 to
/// [`MAX_GROUP_BYTES`] bytes without `/`, `+`, `#` or control characters, the filter 1 to
/// [`MAX_SHARED_FILTER_BYTES`] bytes. `None` for any other filter.
pub fn shared(filter: &str) -> Option<(&str, &str)> {
    let (group, inner) = filter.strip_prefix(SHARE_PREFIX)?.split_once('/')?;
    let group_ok = !group.is_empty()
        && group.len() <= MAX_GROUP_BYTES
        && !group.contains(['+', '#'])
        && !group.chars().any(char::is_control);
    (group_ok && !inner.is_empty() && inner.len() <= MAX_SHARED_FILTER_BYTES)
        .then_some((group, inner))
}

/// The filter a subscription matches topics with: the one after a shared subscription's group.
pub fn effective(filter: &str) -> &str {
    shared(filter).map_or(filter, |(_, inner)| inner)
}

fn valid_plain_filter(filter: &str) -> bool {
    if filter.is_empty() || filter.contains('\0') {
        return false;
    }
    let levels: Vec<&str> = filter.split('/').collect();
    let last = levels.len() - 1;
    levels.iter().enumerate().all(|(i, level)| match *level {
        "#" => i == last,
        "+" => true,
        other => !other.contains(['+', '#']),
    })
}

/// Whether the topic name `topic` matches the filter `filter`. Topics starting with `$` are not
/// matched by a filter starting with a wildcard (MQTT 3.1.1 §4.7.2).
pub fn matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut topic_levels = topic.split('/');
    for level in filter.split('/') {
        match level {
            "#" => return true,
            "+" => {
                if topic_levels.next().is_none() {
                    return false;
                }
            }
            literal => {
                if topic_levels.next() != Some(literal) {
                    return false;
                }
            }
        }
    }
    topic_levels.next().is_none()
}

/// Whether some topic name could match both filters `a` and `b` (each may hold wildcards).
pub fn overlap(a: &str, b: &str) -> bool {
    // A `$` topic is matched only by filters that spell its `$` level out.
    if a.starts_with('$') != b.starts_with('$') {
        return false;
    }
    let mut a_levels = a.split('/');
    let mut b_levels = b.split('/');
    loop {
        match (a_levels.next(), b_levels.next()) {
            // `#` also matches its parent level, so `a/#` and `a` overlap.
            (Some("#"), _) | (_, Some("#")) => return true,
            (None, None) => return true,
            (Some(x), Some(y)) => {
                if x != "+" && y != "+" && x != y {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_filter_names_its_group_and_a_valid_filter() {
        assert_eq!(
            shared("$share/omo-cloud/omo/v1/stores/+/trace"),
            Some(("omo-cloud", "omo/v1/stores/+/trace"))
        );
        assert!(valid_filter("$share/g/#"));
        for bad in [
            "$share/",
            "$share/g",
            "$share/g/",
            "$share//a",
            "$share/g+/a",
            "$share/g/a/#/b",
            "$share/g\u{0}x/a",
            "$share/g\nx/a",
        ] {
            assert!(!valid_filter(bad), "{bad}");
        }
        let long_group = format!("$share/{}/a", "g".repeat(MAX_GROUP_BYTES + 1));
        let long_filter = format!("$share/g/{}", "a".repeat(MAX_SHARED_FILTER_BYTES + 1));
        assert!(!valid_filter(&long_group) && !valid_filter(&long_filter));
        assert!(valid_filter(&format!(
            "$share/{}/a",
            "g".repeat(MAX_GROUP_BYTES)
        )));
        assert_eq!(shared("omo/v1/#"), None);
        assert_eq!(effective("$share/g/a/+"), "a/+");
        assert_eq!(effective("a/+"), "a/+");
    }

    #[test]
    fn plus_matches_exactly_one_level() {
        assert!(matches(
            "omo/v1/riders/+/dispatch",
            "omo/v1/riders/r1/dispatch"
        ));
        assert!(!matches(
            "omo/v1/riders/+/dispatch",
            "omo/v1/riders/dispatch"
        ));
        assert!(!matches(
            "omo/v1/riders/+/dispatch",
            "omo/v1/riders/a/b/dispatch"
        ));
        assert!(matches("+", "a"));
        assert!(!matches("+", "a/b"));
        assert!(matches("a/+", "a/"));
        assert!(matches("+/+", "/a"));
    }

    #[test]
    fn hash_matches_the_parent_and_every_level_below() {
        assert!(matches("omo/v1/stores/SH-001/#", "omo/v1/stores/SH-001"));
        assert!(matches(
            "omo/v1/stores/SH-001/#",
            "omo/v1/stores/SH-001/lanes/1/state"
        ));
        assert!(!matches(
            "omo/v1/stores/SH-001/#",
            "omo/v1/stores/SH-002/lanes/1/state"
        ));
        assert!(matches("#", "a/b/c"));
        assert!(matches("omo/v1/stores/+/#", "omo/v1/stores/SH-9/trace"));
    }

    #[test]
    fn literal_filters_match_only_themselves() {
        assert!(matches("a/b", "a/b"));
        assert!(!matches("a/b", "a/b/c"));
        assert!(!matches("a/b/c", "a/b"));
        assert!(!matches("a/b", "a/B"));
    }

    #[test]
    fn wildcards_at_the_start_do_not_match_dollar_topics() {
        assert!(!matches("#", "$SYS/broker/uptime"));
        assert!(!matches("+/broker/uptime", "$SYS/broker/uptime"));
        assert!(matches("$SYS/#", "$SYS/broker/uptime"));
    }

    #[test]
    fn filters_and_topics_are_validated() {
        assert!(valid_filter("a/+/b/#"));
        assert!(valid_filter("#"));
        assert!(!valid_filter("a/#/b"));
        assert!(!valid_filter("a/b+"));
        assert!(!valid_filter(""));
        assert!(valid_topic("a/b"));
        assert!(!valid_topic("a/+"));
        assert!(!valid_topic(""));
    }

    #[test]
    fn overlapping_filters_share_a_topic() {
        assert!(overlap(
            "omo/v1/riders/+/dispatch",
            "omo/v1/riders/r1/dispatch"
        ));
        assert!(!overlap(
            "omo/v1/riders/r2/dispatch",
            "omo/v1/riders/r1/dispatch"
        ));
        assert!(overlap("omo/v1/#", "omo/v1/riders/r1/dispatch"));
        assert!(overlap(
            "omo/v1/stores/+/#",
            "omo/v1/stores/SH-001/lanes/+/state"
        ));
        assert!(!overlap("omo/v1/stores/+/#", "omo/v1/riders/#"));
        assert!(overlap("a/#", "a"));
        assert!(overlap("a", "a/#"));
        assert!(!overlap("a", "a/b"));
        assert!(!overlap("a/b/c", "a/+"));
        assert!(!overlap("#", "$SYS/x"));
        assert!(overlap("$SYS/#", "$SYS/x"));
    }
}
