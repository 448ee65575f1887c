//! How a chain outgrows one machine: two `omo cloud` processes on one PostgreSQL serve the same
//! edges. The same Authorize sent to both at once charges once; the same payment code for two
//! different orders, one to each process at once, pays only one of them. Idempotency and single
//! use are the database's, not a process's memory.

#[path = "../cloud/tests/support/postgres.rs"]
mod postgres;
mod support;

use omo_proto::payment::payment_service_client::PaymentServiceClient;
use omo_proto::payment::{AuthorizeRequest, PaymentStatus};
use omo_proto::shopper::shopper_service_client::ShopperServiceClient;
use omo_proto::shopper::{EnrollRequest, GetWalletRequest};
use support::{Process, free_port, wait_for_port};

async fn cloud(dir: &std::path::Path, name: &str, database_url: &str) -> (Process, u16) {
    let (grpc, http) = (free_port(), free_port());
    let config = dir.join(format!("{name}.toml"));
    std::fs::write(
        &config,
        format!("grpc_listen = \"127.0.0.1:{grpc}\"\nhttp_listen = \"127.0.0.1:{http}\"\ndatabase_url = \"{database_url}\"\n{}", support::funding_toml()),
    )
    .unwrap();
    let process = Process::omo(name, &["cloud", "--config", config.to_str().unwrap()], dir);
    wait_for_port(grpc, name, Some(&process)).await;
    (process, grpc)
}

/// Two clouds on one fresh PostgreSQL database, with a payment client for each.
struct TwoClouds {
    _dir: tempfile::TempDir,
    _a: Process,
    _b: Process,
    pay_a: PaymentServiceClient<tonic::transport::Channel>,
    pay_b: PaymentServiceClient<tonic::transport::Channel>,
    shopper: ShopperServiceClient<tonic::transport::Channel>,
}

impl TwoClouds {
    async fn start() -> TwoClouds {
        assert!(
            postgres::available(),
            "this test needs PostgreSQL's server binaries (apt postgresql)"
        );
        let url = postgres::fresh_database().await;
        let dir = tempfile::tempdir().unwrap();
        let (a, port_a) = cloud(dir.path(), "cloud-a", &url).await;
        let (b, port_b) = cloud(dir.path(), "cloud-b", &url).await;
        let connect = |port: u16| format!("http://127.0.0.1:{port}");
        TwoClouds {
            pay_a: PaymentServiceClient::connect(connect(port_a))
                .await
                .unwrap(),
            pay_b: PaymentServiceClient::connect(connect(port_b))
                .await
                .unwrap(),
            shopper: ShopperServiceClient::connect(connect(port_b))
                .await
                .unwrap(),
            _dir: dir,
            _a: a,
            _b: b,
        }
    }

    /// A new wallet with 100.00 yuan, its payment code now, and its app token.
    async fn wallet(&mut self) -> (String, String, String) {
        let enrolled = self
            .shopper
            .enroll(EnrollRequest {
                display_name: "shopper".into(),
                initial_balance_fen: 0,
            })
            .await
            .unwrap()
            .into_inner();
        let wallet = enrolled.wallet.unwrap().wallet_id;
        support::fund(&mut self.shopper, &wallet, 10_000).await;
        let secret = omo_cloud::paycode::decode_secret(&enrolled.secret_base32).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let code = omo_cloud::paycode::payment_code(&wallet, &secret, now);
        (wallet, code, enrolled.app_token)
    }
}

fn authorize(order: &str, code: &str) -> AuthorizeRequest {
    AuthorizeRequest {
        store_id: "SH-001".into(),
        order_id: order.into(),
        amount_fen: 4200,
        payment_code: code.into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_authorize_and_the_same_code_at_two_clouds_charge_once() {
    let mut clouds = TwoClouds::start().await;
    for round in 0..10 {
        let (wallet, code, app_token) = clouds.wallet().await;

        // The same order at both clouds at once: one charge, the same answer.
        let order = format!("order-{round}");
        let (a, b) = tokio::join!(
            clouds.pay_a.authorize(authorize(&order, &code)),
            clouds.pay_b.authorize(authorize(&order, &code))
        );
        let (a, b) = (
            a.unwrap().into_inner().payment.unwrap(),
            b.unwrap().into_inner().payment.unwrap(),
        );
        assert_eq!(a.payment_id, b.payment_id);
        assert_eq!(a.status, PaymentStatus::Succeeded as i32);
        assert_eq!(b.status, PaymentStatus::Succeeded as i32);

        // The same code for two other orders, one at each cloud: it was used already.
        let (c, d) = tokio::join!(
            clouds
                .pay_a
                .authorize(authorize(&format!("other-a-{round}"), &code)),
            clouds
                .pay_b
                .authorize(authorize(&format!("other-b-{round}"), &code))
        );
        for p in [
            c.unwrap().into_inner().payment.unwrap(),
            d.unwrap().into_inner().payment.unwrap(),
        ] {
            assert_eq!(
                p.status,
                PaymentStatus::Declined as i32,
                "a used code paid again: {p:?}"
            );
        }

        let balance = clouds
            .shopper
            .get_wallet(omo_cloud::identity::with_bearer(
                GetWalletRequest {
                    wallet_id: wallet.clone(),
                },
                &app_token,
            ))
            .await
            .unwrap()
            .into_inner()
            .balance_fen;
        assert_eq!(
            balance,
            10_000 - 4200,
            "round {round}: charged exactly once"
        );
    }
}

/// A code that paid at one cloud is refused, as used, at the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_code_used_at_one_cloud_is_refused_at_the_other() {
    let mut clouds = TwoClouds::start().await;
    let (_wallet, code, _) = clouds.wallet().await;
    let first = clouds
        .pay_a
        .authorize(authorize("first", &code))
        .await
        .unwrap()
        .into_inner()
        .payment
        .unwrap();
    assert_eq!(first.status, PaymentStatus::Succeeded as i32);
    let second = clouds
        .pay_b
        .authorize(authorize("second", &code))
        .await
        .unwrap()
        .into_inner()
        .payment
        .unwrap();
    assert_eq!(second.status, PaymentStatus::Declined as i32);
}
