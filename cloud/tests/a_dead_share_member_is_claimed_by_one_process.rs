//! The members of a share group, as the database settles them (`omo_cloud::mqtt::members`): a
//! member whose beat stopped is claimed by exactly one of four live members claiming at once;
//! nobody claims a live member, a member of another group or role, or one already claimed; a
//! claim whose adopter vanished is claimed again once it lapses; a drained member is left alone
//! until it comes back and dies again; and a member that beats again clears the claim. On
//! SQLite and on a real PostgreSQL server.

mod support;

use std::collections::BTreeMap;

use chrono::Duration;
use omo_cloud::mqtt::members::{CLAIM_LAPSES, DEAD_AFTER, Members};
use support::{Db, TestCloud};

const GROUP: &str = "omo-cloud";

fn member(c: &TestCloud, id: &str, group: &str, role: &str) -> Members {
    Members::new(c.cloud.context().db.clone(), id, group, role)
}

fn seconds(d: std::time::Duration) -> Duration {
    Duration::from_std(d).unwrap()
}

/// Four live trace members claim at once; who got which dead member.
async fn claim_at_once(c: &TestCloud) -> BTreeMap<String, Vec<String>> {
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(4));
    let mut claimers = Vec::new();
    for n in 1..=4 {
        let me = member(c, &format!("live-{n}-trace"), GROUP, "trace");
        let (start, now) = (start.clone(), c.cloud.context().now());
        claimers.push(tokio::spawn(async move {
            start.wait().await;
            me.claim_dead(now).await.unwrap()
        }));
    }
    let mut claims: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (n, claimer) in claimers.into_iter().enumerate() {
        for dead in claimer.await.unwrap() {
            claims
                .entry(dead)
                .or_default()
                .push(format!("live-{}", n + 1));
        }
    }
    claims
}

async fn beat_live(c: &TestCloud) {
    for n in 1..=4 {
        member(c, &format!("live-{n}-trace"), GROUP, "trace")
            .beat(c.cloud.context().now())
            .await
            .unwrap();
    }
}

async fn a_dead_member_is_claimed_once(db: Db) {
    let c = TestCloud::start(db).await;
    let now = c.cloud.context().now();
    let dead = member(&c, "gone-trace", GROUP, "trace");
    dead.beat(now).await.unwrap();
    // Members nobody of ("omo-cloud", "trace") may take.
    member(&c, "other-group-trace", "another", "trace")
        .beat(now)
        .await
        .unwrap();
    member(&c, "gone-delivery", GROUP, "delivery")
        .beat(now)
        .await
        .unwrap();
    beat_live(&c).await;
    assert!(claim_at_once(&c).await.is_empty(), "nobody is dead yet");

    c.clock.advance(seconds(DEAD_AFTER) + Duration::seconds(1));
    beat_live(&c).await;
    let claims = claim_at_once(&c).await;
    assert_eq!(claims.len(), 1, "only the dead trace member: {claims:?}");
    assert_eq!(claims["gone-trace"].len(), 1, "claimed once: {claims:?}");
    assert!(claim_at_once(&c).await.is_empty(), "a claim holds");

    // Its adopter vanished without finishing: the claim lapses and it is claimed once more.
    c.clock
        .advance(seconds(CLAIM_LAPSES) + Duration::seconds(1));
    beat_live(&c).await;
    let again = claim_at_once(&c).await;
    assert_eq!(again["gone-trace"].len(), 1, "{again:?}");
    let adopter = member(
        &c,
        &format!("{}-trace", again["gone-trace"][0]),
        GROUP,
        "trace",
    );

    // Drained: left alone, even after the claim would lapse.
    adopter
        .drained("gone-trace", c.cloud.context().now())
        .await
        .unwrap();
    c.clock
        .advance(seconds(CLAIM_LAPSES) + Duration::seconds(1));
    beat_live(&c).await;
    assert!(
        claim_at_once(&c).await.is_empty(),
        "a drained member is left alone"
    );

    // It comes back (its beat clears everything), then dies again: claimed again, once.
    dead.beat(c.cloud.context().now()).await.unwrap();
    assert!(claim_at_once(&c).await.is_empty(), "it is alive");
    c.clock.advance(seconds(DEAD_AFTER) + Duration::seconds(1));
    beat_live(&c).await;
    let third = claim_at_once(&c).await;
    assert_eq!(third.len(), 1, "{third:?}");
    assert_eq!(third["gone-trace"].len(), 1, "{third:?}");

    // A member that was wrongly thought dead beats again before its adopter notes it drained:
    // the adopter's note changes nothing, so it can be adopted again if it really dies.
    let adopter = member(
        &c,
        &format!("{}-trace", third["gone-trace"][0]),
        GROUP,
        "trace",
    );
    dead.beat(c.cloud.context().now()).await.unwrap();
    adopter
        .drained("gone-trace", c.cloud.context().now())
        .await
        .unwrap();
    c.clock.advance(seconds(DEAD_AFTER) + Duration::seconds(1));
    beat_live(&c).await;
    assert_eq!(claim_at_once(&c).await["gone-trace"].len(), 1);
    c.stop().await;
}

on_both_backends!(a_dead_member_is_claimed_once);
