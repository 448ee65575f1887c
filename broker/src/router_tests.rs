//! The router's rules, without sockets: each call's [`Output`] is collected per connection, as
//! the server would queue it.

use std::collections::{HashMap, HashSet};
use std::ops::{Deref, DerefMut};

use super::*;

/// A router and what it asked to send on each connection, and to close.
struct Wires {
    router: Router,
    sent: HashMap<u64, Vec<Packet>>,
    closed: HashSet<u64>,
}

impl Deref for Wires {
    type Target = Router;
    fn deref(&self) -> &Router {
        &self.router
    }
}

impl DerefMut for Wires {
    fn deref_mut(&mut self) -> &mut Router {
        &mut self.router
    }
}

impl Wires {
    fn new(acl: Option<Acl>, limits: Limits) -> Wires {
        Wires {
            router: Router::new(acl, limits),
            sent: HashMap::new(),
            closed: HashSet::new(),
        }
    }

    fn feed(&mut self, outputs: Vec<Output>) {
        for output in outputs {
            match output {
                Output::Send { link, packet } => self.sent.entry(link).or_default().push(packet),
                Output::Close { link } => {
                    self.closed.insert(link);
                }
            }
        }
    }

    fn connect(
        &mut self,
        client_id: &str,
        username: Option<String>,
        clean: bool,
        will: Option<LastWill>,
        link: u64,
    ) -> Result<(), ConnectReturnCode> {
        let outputs = self
            .router
            .connect(client_id, username, clean, will, link)?;
        self.feed(outputs);
        Ok(())
    }

    fn disconnected(&mut self, client_id: &str, link: u64, graceful: bool) {
        let outputs = self.router.disconnected(client_id, link, graceful);
        self.feed(outputs);
    }

    fn publish(&mut self, client_id: &str, username: Option<&str>, publish: Publish) -> bool {
        match self.router.publish(client_id, username, publish) {
            Ok(outputs) => {
                self.feed(outputs);
                true
            }
            Err(Denied) => false,
        }
    }

    fn puback(&mut self, client_id: &str, pkid: u16) {
        let outputs = self.router.puback(client_id, pkid);
        self.feed(outputs);
    }

    fn subscribe(&mut self, client_id: &str, subscribe: Subscribe) {
        let outputs = self.router.subscribe(client_id, subscribe);
        self.feed(outputs);
    }

    /// What was sent on `link` since the last call.
    fn drain(&mut self, link: u64) -> Vec<Packet> {
        self.sent.remove(&link).unwrap_or_default()
    }
}

fn publishes(packets: &[Packet]) -> Vec<&Publish> {
    packets
        .iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p),
            _ => None,
        })
        .collect()
}

fn publish(topic: &str, qos: QoS, retain: bool, payload: &str) -> Publish {
    let mut p = Publish::new(topic, qos, payload.as_bytes().to_vec());
    p.retain = retain;
    p
}

#[test]
fn a_restored_router_delivers_what_the_old_one_held() {
    let mut router = Wires::new(None, Limits::default());
    router
        .connect("cloud", Some("cloud".into()), false, None, 1)
        .unwrap();
    router.subscribe("cloud", Subscribe::new("t/#", QoS::AtLeastOnce));
    router.connect("passer-by", None, true, None, 2).unwrap();
    router.publish("p", None, publish("t/1", QoS::AtLeastOnce, false, "sent"));
    router.disconnected("cloud", 1, false);
    router.publish("p", None, publish("t/2", QoS::AtLeastOnce, false, "queued"));
    router.publish(
        "p",
        None,
        publish("s/state", QoS::AtLeastOnce, true, "online"),
    );
    router.drain(1);
    let before = router.changes();
    let snapshot = router.snapshot();
    assert_eq!(router.changes(), before, "a snapshot changes nothing");
    assert_eq!(snapshot.sessions.len(), 1, "clean sessions are not kept");

    let mut restored = Wires::new(None, Limits::default());
    restored.restore(snapshot);
    restored
        .connect("cloud", Some("cloud".into()), false, None, 3)
        .unwrap();
    let got = restored.drain(3);
    assert!(matches!(
        got[0],
        Packet::ConnAck(ConnAck {
            session_present: true,
            ..
        })
    ));
    let payloads: Vec<&[u8]> = publishes(&got).iter().map(|p| &p.payload[..]).collect();
    assert_eq!(
        payloads,
        vec![&b"sent"[..], b"queued"],
        "unacked first, then queued"
    );
    // The subscription came back too, and retained messages with it.
    restored.publish("p", None, publish("t/3", QoS::AtLeastOnce, false, "later"));
    assert_eq!(publishes(&restored.drain(3)).len(), 1);
    restored.connect("monitor", None, true, None, 4).unwrap();
    restored.subscribe("monitor", Subscribe::new("s/#", QoS::AtLeastOnce));
    let retained = restored.drain(4);
    assert_eq!(publishes(&retained)[0].payload, &b"online"[..]);
}

#[test]
fn a_persistent_session_queues_while_offline_and_resends_unacked_with_dup() {
    let mut router = Wires::new(None, Limits::default());
    router.connect("edge", None, false, None, 1).unwrap();
    router.subscribe("edge", Subscribe::new("a/#", QoS::AtLeastOnce));
    router.publish("p", None, publish("a/1", QoS::AtLeastOnce, false, "one"));
    let got = router.drain(1);
    assert!(matches!(
        got[0],
        Packet::ConnAck(ConnAck {
            session_present: false,
            ..
        })
    ));
    assert_eq!(publishes(&got).len(), 1);
    router.disconnected("edge", 1, false);
    router.publish("p", None, publish("a/2", QoS::AtLeastOnce, false, "two"));
    router.publish("p", None, publish("a/3", QoS::AtMostOnce, false, "lost"));

    router.connect("edge", None, false, None, 2).unwrap();
    let got = router.drain(2);
    assert!(matches!(
        got[0],
        Packet::ConnAck(ConnAck {
            session_present: true,
            ..
        })
    ));
    let p = publishes(&got);
    assert_eq!(p.len(), 2, "{got:?}");
    assert_eq!((p[0].topic.as_str(), p[0].dup), ("a/1", true));
    assert_eq!((p[1].topic.as_str(), p[1].dup), ("a/2", false));
}

#[test]
fn a_clean_session_forgets_everything() {
    let mut router = Wires::new(None, Limits::default());
    router.connect("c", None, false, None, 1).unwrap();
    router.subscribe("c", Subscribe::new("a", QoS::AtLeastOnce));
    router.disconnected("c", 1, true);
    router.connect("c", None, true, None, 2).unwrap();
    router.publish("p", None, publish("a", QoS::AtLeastOnce, false, "x"));
    let got = router.drain(2);
    assert!(matches!(
        got[0],
        Packet::ConnAck(ConnAck {
            session_present: false,
            ..
        })
    ));
    assert!(publishes(&got).is_empty());
}

#[test]
fn retained_messages_are_replaced_cleared_and_sent_on_subscribe() {
    let mut router = Wires::new(None, Limits::default());
    router.publish("p", None, publish("s/1", QoS::AtLeastOnce, true, "old"));
    router.publish("p", None, publish("s/1", QoS::AtLeastOnce, true, "new"));
    router.publish("p", None, publish("s/2", QoS::AtLeastOnce, true, "gone"));
    router.publish("p", None, publish("s/2", QoS::AtLeastOnce, true, ""));
    router.connect("c", None, true, None, 1).unwrap();
    router.subscribe("c", Subscribe::new("s/+", QoS::AtMostOnce));
    let got = router.drain(1);
    let p = publishes(&got);
    assert_eq!(p.len(), 1, "{got:?}");
    assert_eq!(
        (&p[0].payload[..], p[0].retain, p[0].qos),
        (&b"new"[..], true, QoS::AtMostOnce)
    );
}

#[test]
fn the_will_is_published_on_abnormal_disconnect_only() {
    let mut router = Wires::new(None, Limits::default());
    router.connect("w", None, true, None, 9).unwrap();
    router.subscribe("w", Subscribe::new("state", QoS::AtLeastOnce));
    let will = LastWill::new("state", "offline", QoS::AtLeastOnce, true);
    router
        .connect("edge", None, true, Some(will.clone()), 1)
        .unwrap();
    router.disconnected("edge", 1, true);
    router.connect("edge", None, true, Some(will), 2).unwrap();
    router.disconnected("edge", 2, false);
    let got = router.drain(9);
    let p = publishes(&got);
    assert_eq!(p.len(), 1, "{got:?}");
    assert_eq!(&p[0].payload[..], b"offline");
}

#[test]
fn the_acl_filters_subscriptions_publishes_and_delivery() {
    let acl = Acl::parse(include_str!("../../deploy/mosquitto/acl")).unwrap();
    let mut router = Wires::new(Some(acl), Limits::default());
    router
        .connect("a", Some("rider-a".into()), true, None, 1)
        .unwrap();
    let mut subscribe = Subscribe::new("omo/v1/riders/+/dispatch", QoS::AtLeastOnce);
    subscribe.add("omo/v1/riders/rider-b/dispatch".into(), QoS::AtLeastOnce);
    router.subscribe("a", subscribe);
    let edge = Some("edge-SH-001");
    assert!(router.publish(
        "e",
        edge,
        publish(
            "omo/v1/riders/rider-b/dispatch",
            QoS::AtLeastOnce,
            false,
            "b"
        )
    ));
    assert!(router.publish(
        "e",
        edge,
        publish(
            "omo/v1/riders/rider-a/dispatch",
            QoS::AtLeastOnce,
            false,
            "a"
        )
    ));
    assert!(!router.publish(
        "e",
        edge,
        publish("omo/v1/stores/SH-002/x", QoS::AtLeastOnce, false, "x")
    ));
    let got = router.drain(1);
    let Packet::SubAck(ack) = &got[1] else {
        panic!("{got:?}")
    };
    assert_eq!(
        ack.return_codes,
        [
            SubscribeReasonCode::Success(QoS::AtLeastOnce),
            SubscribeReasonCode::Failure
        ]
    );
    let p = publishes(&got);
    assert_eq!(p.len(), 1, "{got:?}");
    assert_eq!(&p[0].payload[..], b"a");
}

#[test]
fn a_slow_client_gets_a_bounded_window_and_a_bounded_queue() {
    let limits = Limits {
        max_inflight: 2,
        max_queued: 3,
        ..Limits::default()
    };
    let mut router = Wires::new(None, limits);
    router.connect("c", None, true, None, 1).unwrap();
    router.subscribe("c", Subscribe::new("t", QoS::AtLeastOnce));
    for i in 0..10 {
        router.publish(
            "p",
            None,
            publish("t", QoS::AtLeastOnce, false, &i.to_string()),
        );
    }
    let got = router.drain(1);
    let p = publishes(&got);
    assert_eq!(p.len(), 2);
    let first = p[0].pkid;
    router.puback("c", first);
    let got = router.drain(1);
    let p = publishes(&got);
    assert_eq!(p.len(), 1);
    assert_eq!(&p[0].payload[..], b"2");
}

#[test]
fn a_client_id_stays_with_the_user_whose_session_it_is() {
    let mut router = Wires::new(None, Limits::default());
    router
        .connect("omo-cloud", Some("cloud".into()), false, None, 1)
        .unwrap();
    router.subscribe("omo-cloud", Subscribe::new("t/#", QoS::AtLeastOnce));
    // Connected: another user, or nobody, cannot take the id over.
    for user in [Some("rider-a".to_string()), None] {
        assert_eq!(
            router.connect("omo-cloud", user, true, None, 2),
            Err(ConnectReturnCode::NotAuthorized)
        );
    }
    router.publish(
        "p",
        None,
        publish("t/1", QoS::AtLeastOnce, false, "still here"),
    );
    assert_eq!(publishes(&router.drain(1)).len(), 1);
    // Offline, and after a restart: still bound, and the session is left alone.
    router.disconnected("omo-cloud", 1, false);
    let mut restored = Wires::new(None, Limits::default());
    restored.restore(router.snapshot());
    assert_eq!(
        restored.connect("omo-cloud", Some("rider-a".into()), true, None, 3),
        Err(ConnectReturnCode::NotAuthorized)
    );
    // The owner takes over (twice: the second connection closes the first).
    restored
        .connect("omo-cloud", Some("cloud".into()), false, None, 4)
        .unwrap();
    let got = restored.drain(4);
    assert!(matches!(
        got[0],
        Packet::ConnAck(ConnAck {
            session_present: true,
            ..
        })
    ));
    restored
        .connect("omo-cloud", Some("cloud".into()), false, None, 5)
        .unwrap();
    assert!(restored.closed.contains(&4));
}

#[test]
fn sessions_retained_messages_and_held_bytes_are_bounded() {
    let limits = Limits {
        max_sessions: 2,
        max_retained: 2,
        max_retained_bytes: 100,
        max_queued_bytes: 1000,
        max_queued_bytes_total: 1500,
        max_subscriptions: 2,
        ..Limits::default()
    };
    let mut router = Wires::new(None, limits);
    router.connect("a", None, false, None, 1).unwrap();
    router.connect("b", None, false, None, 2).unwrap();
    assert_eq!(
        router.connect("c", None, true, None, 3),
        Err(ConnectReturnCode::ServiceUnavailable)
    );

    let mut subscribe = Subscribe::new("q/#", QoS::AtLeastOnce);
    subscribe.add("r/#".into(), QoS::AtMostOnce);
    subscribe.add("s/#".into(), QoS::AtMostOnce);
    router.subscribe("a", subscribe);
    router.subscribe("b", Subscribe::new("q/#", QoS::AtLeastOnce));
    let got = router.drain(1);
    let Some(Packet::SubAck(ack)) = got.get(1) else {
        panic!("{got:?}")
    };
    assert_eq!(ack.return_codes[2], SubscribeReasonCode::Failure);

    // Both offline: each session holds at most 1000 bytes, and both together 1500.
    router.disconnected("a", 1, true);
    router.disconnected("b", 2, true);
    let payload = "x".repeat(100);
    for _ in 0..20 {
        router.publish("p", None, publish("q/1", QoS::AtLeastOnce, false, &payload));
    }
    let held: Vec<usize> = ["a", "b"].map(|id| router.sessions[id].bytes).to_vec();
    let cost = 64 + 3 + 100;
    assert!(held.iter().all(|&h| h <= 1000), "{held:?}");
    assert!(
        (1500 - 2 * cost..=1500).contains(&(held[0] + held[1])),
        "{held:?}"
    );
    assert_eq!(router.held, held[0] + held[1]);

    // Retained: two topics, 100 bytes.
    assert!(router.retain("r/1", Bytes::from_static(b"one"), QoS::AtLeastOnce));
    assert!(router.retain("r/2", Bytes::from_static(b"two"), QoS::AtLeastOnce));
    assert!(!router.retain("r/3", Bytes::from_static(b"three"), QoS::AtLeastOnce));
    assert!(router.retain("r/2", Bytes::from_static(b""), QoS::AtLeastOnce));
    assert!(!router.retain("r/3", Bytes::from(vec![1u8; 100]), QoS::AtLeastOnce));
    assert!(router.retain("r/3", Bytes::from_static(b"three"), QoS::AtLeastOnce));
    assert_eq!(router.retained_bytes, 3 + 3 + 3 + 5);
}

/// The payloads published on `link` since the last call.
fn payloads(router: &mut Wires, link: u64) -> Vec<String> {
    publishes(&router.drain(link))
        .iter()
        .map(|p| String::from_utf8_lossy(&p.payload).into_owned())
        .collect()
}

#[test]
fn a_shared_subscription_gives_each_message_to_one_member_in_turn() {
    let mut router = Wires::new(None, Limits::default());
    for (id, link) in [("cloud-a", 1), ("cloud-b", 2), ("watcher", 3)] {
        router.connect(id, None, true, None, link).unwrap();
    }
    let shared = "$share/omo-cloud/omo/v1/stores/+/trace";
    router.subscribe("cloud-a", Subscribe::new(shared, QoS::AtLeastOnce));
    router.subscribe("cloud-b", Subscribe::new(shared, QoS::AtLeastOnce));
    router.subscribe("watcher", Subscribe::new("omo/v1/#", QoS::AtLeastOnce));
    for link in 1..=3 {
        router.drain(link);
    }
    for n in 0..10 {
        let p = publish(
            "omo/v1/stores/S1/trace",
            QoS::AtMostOnce,
            false,
            &n.to_string(),
        );
        assert!(router.publish("edge", None, p));
    }
    let a = payloads(&mut router, 1);
    let b = payloads(&mut router, 2);
    assert_eq!(a, ["0", "2", "4", "6", "8"]);
    assert_eq!(b, ["1", "3", "5", "7", "9"]);
    assert_eq!(
        payloads(&mut router, 3).len(),
        10,
        "a plain subscriber gets them all"
    );
    // Another topic, not matched by the shared filter: nobody in the group gets it.
    router.publish(
        "edge",
        None,
        publish(
            "omo/v1/stores/S1/lanes/1/state",
            QoS::AtMostOnce,
            false,
            "x",
        ),
    );
    assert!(payloads(&mut router, 1).is_empty() && payloads(&mut router, 2).is_empty());
}

#[test]
fn a_member_that_goes_away_hands_its_unacknowledged_messages_to_the_others() {
    let mut router = Wires::new(None, Limits::default());
    router.connect("cloud-a", None, true, None, 1).unwrap();
    router.connect("cloud-b", None, true, None, 2).unwrap();
    let shared = "$share/g/t/#";
    router.subscribe("cloud-a", Subscribe::new(shared, QoS::AtLeastOnce));
    router.subscribe("cloud-b", Subscribe::new(shared, QoS::AtLeastOnce));
    router.drain(1);
    router.drain(2);
    for n in 0..6 {
        router.publish(
            "p",
            None,
            publish("t/x", QoS::AtLeastOnce, false, &n.to_string()),
        );
    }
    let to_a = publishes(&router.drain(1))
        .iter()
        .map(|p| p.pkid)
        .collect::<Vec<_>>();
    assert_eq!(to_a.len(), 3);
    // cloud-a acknowledges its first message, then dies.
    router.puback("cloud-a", to_a[0]);
    let to_b = payloads(&mut router, 2);
    assert_eq!(to_b, ["1", "3", "5"]);
    router.disconnected("cloud-a", 1, false);
    assert_eq!(
        payloads(&mut router, 2),
        ["2", "4"],
        "cloud-a's unacknowledged share"
    );
    // Only cloud-b is left: it gets everything now.
    router.publish("p", None, publish("t/x", QoS::AtLeastOnce, false, "6"));
    assert_eq!(payloads(&mut router, 2), ["6"]);
}

#[test]
fn a_member_replaced_by_a_clean_session_hands_its_share_on() {
    let mut router = Wires::new(None, Limits::default());
    router.connect("cloud-a", None, false, None, 1).unwrap();
    router.connect("cloud-b", None, true, None, 2).unwrap();
    for id in ["cloud-a", "cloud-b"] {
        router.subscribe(id, Subscribe::new("$share/g/t", QoS::AtLeastOnce));
    }
    router.drain(1);
    router.drain(2);
    for n in 0..4 {
        router.publish(
            "p",
            None,
            publish("t", QoS::AtLeastOnce, false, &n.to_string()),
        );
    }
    assert_eq!(payloads(&mut router, 1), ["0", "2"]);
    assert_eq!(payloads(&mut router, 2), ["1", "3"]);
    // cloud-a comes back under its id with a clean session: its old session ends, unacknowledged.
    router.connect("cloud-a", None, true, None, 3).unwrap();
    assert_eq!(
        payloads(&mut router, 2),
        ["0", "2"],
        "cloud-a's share goes on"
    );
    assert!(payloads(&mut router, 3).is_empty());
}

#[test]
fn with_no_member_connected_a_persistent_one_keeps_its_turns() {
    let mut router = Wires::new(None, Limits::default());
    router.connect("cloud-a", None, false, None, 1).unwrap();
    router.subscribe("cloud-a", Subscribe::new("$share/g/t", QoS::AtLeastOnce));
    router.disconnected("cloud-a", 1, false);
    router.publish(
        "p",
        None,
        publish("t", QoS::AtLeastOnce, false, "while away"),
    );
    router.connect("cloud-a", None, false, None, 2).unwrap();
    assert_eq!(payloads(&mut router, 2), ["while away"]);
}

#[test]
fn a_shared_subscription_is_checked_against_the_acl_by_its_filter() {
    let acl = Acl::parse("user cloud\ntopic read omo/v1/stores/+/trace\n").unwrap();
    let mut router = Wires::new(Some(acl), Limits::default());
    router
        .connect("c", Some("cloud".into()), true, None, 1)
        .unwrap();
    router.subscribe(
        "c",
        Subscribe::new("$share/g/omo/v1/stores/+/trace", QoS::AtLeastOnce),
    );
    router.subscribe(
        "c",
        Subscribe::new("$share/g/omo/v1/riders/#", QoS::AtLeastOnce),
    );
    let codes: Vec<_> = router
        .drain(1)
        .into_iter()
        .filter_map(|p| match p {
            Packet::SubAck(ack) => Some(ack.return_codes),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(
        codes,
        [
            SubscribeReasonCode::Success(QoS::AtLeastOnce),
            SubscribeReasonCode::Failure
        ]
    );
}

#[test]
fn another_user_naming_the_clouds_group_gets_its_own_copy_and_takes_nothing() {
    let acl = Acl::parse(
        "user cloud\ntopic read t/#\nuser observer\ntopic read t/#\nuser edge\ntopic write t/#\n",
    )
    .unwrap();
    let mut router = Wires::new(Some(acl), Limits::default());
    router
        .connect("cloud-1", Some("cloud".into()), true, None, 1)
        .unwrap();
    router
        .connect("thief", Some("observer".into()), true, None, 2)
        .unwrap();
    router.subscribe(
        "cloud-1",
        Subscribe::new("$share/omo-cloud/t/#", QoS::AtLeastOnce),
    );
    router.subscribe(
        "thief",
        Subscribe::new("$share/omo-cloud/t/#", QoS::AtLeastOnce),
    );
    router.drain(1);
    router.drain(2);
    for n in 0..4 {
        let p = publish("t/x", QoS::AtMostOnce, false, &n.to_string());
        assert!(router.publish("e", Some("edge"), p));
    }
    assert_eq!(
        payloads(&mut router, 1),
        ["0", "1", "2", "3"],
        "the cloud lost a share"
    );
    assert_eq!(
        payloads(&mut router, 2).len(),
        4,
        "a group of its own, read as the ACL allows"
    );
}
