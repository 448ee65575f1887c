//! The catalog: Upsert stamps each changed product with a new version; GetChanges resumes.

mod support;

use omo_cloud::parse_catalog_csv;
use omo_proto::catalog::{GetChangesRequest, Product, Unit, UpsertRequest};
use support::{Db, TestCloud};
use tonic::Code;

fn since(version: i64, limit: u32) -> GetChangesRequest {
    GetChangesRequest {
        store_id: "SH-001".into(),
        since_version: version,
        limit,
    }
}

async fn upserts_bump_versions_and_edges_resume_from_theirs(db: Db) {
    let mut c = TestCloud::start(db).await;
    let demo = parse_catalog_csv(include_str!("../data/demo-catalog.csv").as_bytes()).unwrap();
    let n = demo.len() as i64;
    let r = c
        .catalog
        .upsert(UpsertRequest {
            products: demo.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((i64::from(r.changed), r.latest_version), (n, n));

    // Everything from 0, in version order; then paged.
    let all = c
        .catalog
        .get_changes(since(0, 0))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.products.len() as i64, n);
    assert_eq!(all.latest_version, n);
    assert!(all.products.windows(2).all(|w| w[0].version < w[1].version));
    let page = c
        .catalog
        .get_changes(since(0, 5))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.products.len(), 5);
    assert_eq!(page.products.last().unwrap().version, 5);

    // Importing the same file again changes nothing.
    let r = c
        .catalog
        .upsert(UpsertRequest {
            products: demo.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((r.changed, r.latest_version), (0, n));

    // A price change is one new version; an edge at `n` sees only it.
    let mut milk = demo
        .iter()
        .find(|p| p.name.contains("牛奶"))
        .unwrap()
        .clone();
    milk.price_fen += 100;
    let r = c
        .catalog
        .upsert(UpsertRequest {
            products: vec![milk.clone()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((r.changed, r.latest_version), (1, n + 1));
    let delta = c
        .catalog
        .get_changes(since(n, 0))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(delta.products.len(), 1);
    assert_eq!(
        (
            delta.products[0].gtin.as_str(),
            delta.products[0].price_fen,
            delta.products[0].version
        ),
        (milk.gtin.as_str(), milk.price_fen, n + 1)
    );
    let none = c
        .catalog
        .get_changes(since(n + 1, 0))
        .await
        .unwrap()
        .into_inner();
    assert!(none.products.is_empty());
    assert_eq!(none.latest_version, n + 1);
    c.stop().await;
}

async fn short_gtins_are_normalised_and_bad_products_refused(db: Db) {
    let mut c = TestCloud::start(db).await;
    let product = Product {
        gtin: "96385074".into(),
        name: "Test".into(),
        price_fen: 100,
        unit: Unit::Each as i32,
        ..Default::default()
    };
    c.catalog
        .upsert(UpsertRequest {
            products: vec![product.clone()],
            ..Default::default()
        })
        .await
        .unwrap();
    let all = c
        .catalog
        .get_changes(since(0, 0))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.products[0].gtin, "00000096385074");
    for bad in [
        Product {
            gtin: "96385075".into(),
            ..product.clone()
        },
        Product {
            name: String::new(),
            ..product.clone()
        },
        Product {
            unit: Unit::Unspecified as i32,
            ..product.clone()
        },
        Product {
            price_fen: -1,
            ..product.clone()
        },
    ] {
        let err = c
            .catalog
            .upsert(UpsertRequest {
                products: vec![bad.clone()],
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{bad:?}");
    }
    let err = c.catalog.get_changes(since(-1, 0)).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    c.stop().await;
}

on_both_backends!(
    upserts_bump_versions_and_edges_resume_from_theirs,
    short_gtins_are_normalised_and_bad_products_refused
);
