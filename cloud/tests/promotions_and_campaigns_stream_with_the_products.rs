//! Member prices, promotions and coupon campaigns are stored and versioned with the products
//! (one version sequence), and GetChanges pages through all three together.

mod support;

use omo_cloud::{parse_catalog_csv, parse_promotions_json};
use omo_proto::catalog::{
    CouponCampaign, GetChangesRequest, GetChangesResponse, Promotion, PromotionKind, UpsertRequest,
};
use support::{Db, TestCloud};
use tonic::Code;

fn since(version: i64, limit: u32) -> GetChangesRequest {
    GetChangesRequest {
        store_id: "SH-001".into(),
        since_version: version,
        limit,
    }
}

async fn changes(c: &mut TestCloud, version: i64, limit: u32) -> GetChangesResponse {
    c.catalog
        .get_changes(since(version, limit))
        .await
        .unwrap()
        .into_inner()
}

fn versions(r: &GetChangesResponse) -> Vec<i64> {
    let mut v: Vec<i64> = r
        .products
        .iter()
        .map(|p| p.version)
        .chain(r.promotions.iter().map(|p| p.version))
        .chain(r.campaigns.iter().map(|c| c.version))
        .collect();
    v.sort();
    v
}

async fn offers_share_the_catalog_version_sequence(db: Db) {
    let mut c = TestCloud::start(db).await;
    let products = parse_catalog_csv(include_str!("../data/demo-catalog.csv").as_bytes()).unwrap();
    let (promotions, campaigns) =
        parse_promotions_json(include_str!("../data/demo-promotions.json")).unwrap();
    let n = (products.len() + promotions.len() + campaigns.len()) as i64;
    let upsert = UpsertRequest {
        products: products.clone(),
        promotions: promotions.clone(),
        campaigns: campaigns.clone(),
    };
    let r = c.catalog.upsert(upsert.clone()).await.unwrap().into_inner();
    assert_eq!((i64::from(r.changed), r.latest_version), (n, n));

    let all = changes(&mut c, 0, 0).await;
    assert_eq!(versions(&all), (1..=n).collect::<Vec<_>>());
    assert_eq!((all.reached_version, all.latest_version), (n, n));
    let milk = all
        .products
        .iter()
        .find(|p| p.name.contains("牛奶"))
        .unwrap();
    assert_eq!((milk.price_fen, milk.member_price_fen), (1590, 1490));
    let multi = all
        .promotions
        .iter()
        .find(|p| p.kind == PromotionKind::MultiBuy as i32)
        .unwrap();
    assert_eq!((multi.quantity, multi.price_fen), (3, 900));
    assert_eq!(multi.gtins, vec!["06928804011173".to_owned()]);
    assert!(all.campaigns.iter().any(|c| c.amount_off_fen == 1000));

    // Pages of 4 across the three kinds: each answer says how far it reached.
    let mut at = 0;
    let mut seen = Vec::new();
    while at < n {
        let page = changes(&mut c, at, 4).await;
        let v = versions(&page);
        assert!(v.len() <= 4 && !v.is_empty());
        assert_eq!(page.reached_version, *v.last().unwrap());
        seen.extend(v);
        at = page.reached_version;
    }
    assert_eq!(seen, (1..=n).collect::<Vec<_>>());

    // The same upsert again changes nothing.
    let r = c.catalog.upsert(upsert).await.unwrap().into_inner();
    assert_eq!((r.changed, r.latest_version), (0, n));

    // Withdrawing a promotion and changing a campaign: two new versions, only they stream.
    let withdrawn = Promotion {
        withdrawn: true,
        ..promotions[0].clone()
    };
    let richer = CouponCampaign {
        amount_off_fen: 15_00,
        ..campaigns[0].clone()
    };
    let r = c
        .catalog
        .upsert(UpsertRequest {
            promotions: vec![withdrawn.clone()],
            campaigns: vec![richer],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((r.changed, r.latest_version), (2, n + 2));
    let delta = changes(&mut c, n, 0).await;
    assert!(delta.products.is_empty());
    assert_eq!(delta.promotions.len(), 1);
    assert!(delta.promotions[0].withdrawn);
    assert_eq!(delta.promotions[0].version, n + 1);
    assert_eq!(delta.campaigns[0].amount_off_fen, 15_00);
    assert_eq!(delta.campaigns[0].version, n + 2);
    assert_eq!(delta.reached_version, n + 2);
    c.stop().await;
}

async fn invalid_offers_are_refused_and_nothing_is_stored(db: Db) {
    let mut c = TestCloud::start(db).await;
    let (promotions, campaigns) =
        parse_promotions_json(include_str!("../data/demo-promotions.json")).unwrap();
    let multi = promotions
        .iter()
        .find(|p| p.kind == PromotionKind::MultiBuy as i32)
        .unwrap()
        .clone();
    let campaign = campaigns[0].clone();
    let bad_promotions = [
        Promotion {
            quantity: 1,
            ..multi.clone()
        },
        Promotion {
            price_fen: 0,
            ..multi.clone()
        },
        Promotion {
            gtins: vec!["6928804011174".into()],
            ..multi.clone()
        },
        Promotion {
            kind: PromotionKind::PercentOff as i32,
            quantity: 0,
            price_fen: 0,
            percent_off: 100,
            ..multi.clone()
        },
        Promotion {
            starts_at: "2026-13-01".into(),
            ..multi.clone()
        },
    ];
    for bad in bad_promotions {
        let err = c
            .catalog
            .upsert(UpsertRequest {
                // A valid campaign beside it is not stored either: one transaction.
                campaigns: vec![campaign.clone()],
                promotions: vec![bad.clone()],
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{bad:?}");
    }
    let bad_campaigns = [
        CouponCampaign {
            amount_off_fen: 10_00,
            percent_off: 10,
            ..campaign.clone()
        },
        CouponCampaign {
            amount_off_fen: 0,
            percent_off: 0,
            ..campaign.clone()
        },
        CouponCampaign {
            amount_off_fen: 0,
            percent_off: 99,
            ends_at: "next week".into(),
            ..campaign.clone()
        },
        CouponCampaign {
            gtins: vec!["123".into()],
            ..campaign.clone()
        },
    ];
    for bad in bad_campaigns {
        let err = c
            .catalog
            .upsert(UpsertRequest {
                campaigns: vec![bad.clone()],
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{bad:?}");
        assert!(err.message().contains("campaign"), "{}", err.message());
    }
    let all = changes(&mut c, 0, 0).await;
    assert!(all.promotions.is_empty() && all.campaigns.is_empty());
    assert_eq!(all.latest_version, 0);
    c.stop().await;
}

on_both_backends!(
    offers_share_the_catalog_version_sequence,
    invalid_offers_are_refused_and_nothing_is_stored
);
