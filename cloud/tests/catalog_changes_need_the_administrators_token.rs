//! Changing the catalog is for the administrator (`admin_token_sha256`): without a token, with a
//! store's token or with a guess, Upsert is refused and nothing changes; the administrator's token
//! is accepted. Once stores authenticate, a cloud without an administrator refuses every change,
//! saying what to configure. Authentication does not depend on the database: SQLite only.

mod support;

use omo_cloud::identity::token_sha256;
use omo_proto::catalog::{GetChangesRequest, Product, Unit, UpsertRequest};
use support::{Db, TestCloud};
use tonic::{Code, Request};

const STORE_TOKEN: &str = "token-of-sh-001";
const ADMIN_TOKEN: &str = "token-of-the-administrator";

fn pen(price_fen: i64) -> UpsertRequest {
    UpsertRequest {
        products: vec![Product {
            gtin: "04006381333931".into(),
            name: "Stabilo pen".into(),
            price_fen,
            unit: Unit::Each as i32,
            weight_g: 12,
            tolerance_g: 3,
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn with_token<T>(token: Option<&str>, message: T) -> Request<T> {
    match token {
        Some(token) => omo_cloud::identity::with_bearer(message, token),
        None => Request::new(message),
    }
}

/// The pen's price as SH-001 sees it (None: not in the catalog).
async fn price(c: &mut TestCloud) -> Option<i64> {
    let changes = c
        .catalog
        .get_changes(with_token(
            Some(STORE_TOKEN),
            GetChangesRequest {
                store_id: "SH-001".into(),
                since_version: 0,
                limit: 0,
            },
        ))
        .await
        .expect("the store reads its catalog")
        .into_inner();
    changes.products.first().map(|p| p.price_fen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_administrators_token_changes_the_catalog() {
    let mut c = TestCloud::start_with(Db::Sqlite, |cfg| {
        cfg.store_token_sha256
            .insert("SH-001".into(), token_sha256(STORE_TOKEN));
        cfg.admin_token_sha256 = Some(token_sha256(ADMIN_TOKEN));
    })
    .await;

    let err = c
        .catalog
        .upsert(with_token(None, pen(1)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    assert!(err.message().contains("administrator"), "{err:?}");
    let err = c
        .catalog
        .upsert(with_token(Some(STORE_TOKEN), pen(1)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(err.message().contains("SH-001"), "{err:?}");
    let err = c
        .catalog
        .upsert(with_token(Some("guess"), pen(1)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    assert_eq!(
        price(&mut c).await,
        None,
        "a refused change changes nothing"
    );

    let r = c
        .catalog
        .upsert(with_token(Some(ADMIN_TOKEN), pen(350)))
        .await
        .expect("the administrator changes the catalog")
        .into_inner();
    assert_eq!(r.changed, 1);
    assert_eq!(price(&mut c).await, Some(350));
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_store_authentication_and_no_administrator_nobody_changes_the_catalog() {
    let mut c = TestCloud::start_with(Db::Sqlite, |cfg| {
        cfg.store_token_sha256
            .insert("SH-001".into(), token_sha256(STORE_TOKEN));
    })
    .await;
    for token in [None, Some(STORE_TOKEN), Some(ADMIN_TOKEN)] {
        let err = c
            .catalog
            .upsert(with_token(token, pen(1)))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
        assert!(err.message().contains("admin_token_sha256"), "{err:?}");
    }
    assert_eq!(price(&mut c).await, None);
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_any_authentication_anyone_changes_the_catalog() {
    let mut c = TestCloud::start(Db::Sqlite).await;
    let r = c
        .catalog
        .upsert(with_token(None, pen(350)))
        .await
        .expect("the open development mode")
        .into_inner();
    assert_eq!(r.changed, 1);
    c.stop().await;
}
