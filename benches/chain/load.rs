//! The lanes (Authorize in a loop, wallets from a pool) and the shoppers (app orders), each
//! call sent to one cloud and, after a transport error, the same request to the other.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicI64, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use omo_app_client::AppClient;
use omo_cloud::paycode;
use omo_edge::delivery::geo::{self, Position};
use omo_proto::payment::payment_service_client::PaymentServiceClient;
use omo_proto::payment::{AuthorizeRequest, PaymentStatus};
use omo_proto::shopper::shopper_service_client::ShopperServiceClient;
use omo_proto::shopper::{DeliveryLine, Dropoff, PlaceDeliveryOrderRequest};
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::report::Work;
use crate::{APP_ORDERS, ORDER_WINDOW, PAYMENTS, STORES};

/// How long a call may take before it is sent to the other cloud.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A wallet enrolled and funded for the run, and what the bench saw charged to it.
pub struct Wallet {
    pub id: String,
    pub secret: Vec<u8>,
    pub funded: i64,
    pub charged: AtomicI64,
}

/// Enrolls `n` wallets (ShopperService.Enroll at either cloud) and funds each with `fen` as the
/// funding authority, 64 at a time.
pub async fn enroll(channels: &[Channel; 2], n: usize, fen: i64) -> Vec<Arc<Wallet>> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..64.min(n) {
        let (next, channels) = (next.clone(), channels.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, Relaxed);
                if i >= n {
                    return mine;
                }
                let mut shopper = ShopperServiceClient::new(channels[i % 2].clone());
                let app = AppClient::from_service(shopper.clone())
                    .enroll("Bench shopper", 0)
                    .await
                    .expect("enrol a wallet");
                crate::support::fund(&mut shopper, &app.wallet_id, fen).await;
                mine.push(Arc::new(Wallet {
                    secret: app.secret().unwrap(),
                    id: app.wallet_id,
                    funded: fen,
                    charged: AtomicI64::new(0),
                }));
            }
        }));
    }
    let mut wallets = Vec::with_capacity(n);
    for task in tasks {
        wallets.extend(task.await.unwrap());
    }
    wallets
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The lanes' wallets, least recently used first, each with the code step it last paid in.
pub struct Pool {
    wallets: Vec<Arc<Wallet>>,
    queue: Mutex<VecDeque<(usize, u64)>>,
    /// How often a lane found every wallet used in the current step and waited for the next.
    pub waits: AtomicUsize,
}

impl Pool {
    pub fn new(wallets: Vec<Arc<Wallet>>) -> Pool {
        let queue = Mutex::new((0..wallets.len()).map(|i| (i, 0)).collect());
        Pool {
            wallets,
            queue,
            waits: AtomicUsize::new(0),
        }
    }

    /// A wallet that has not paid in the current step, and the Unix time to make its code at.
    async fn take(&self) -> (Arc<Wallet>, u64) {
        loop {
            let now = unix_ms();
            let step = paycode::step_of(now / 1000);
            {
                let mut queue = self.queue.lock().unwrap();
                if let Some(&(i, last)) = queue.front()
                    && last < step
                {
                    queue.pop_front();
                    queue.push_back((i, step));
                    return (self.wallets[i].clone(), now / 1000);
                }
            }
            self.waits.fetch_add(1, Relaxed);
            let next = (step + 1) * paycode::STEP_SECS * 1000;
            tokio::time::sleep(Duration::from_millis(next.saturating_sub(now) + 20)).await;
        }
    }
}

/// Whether a failed call is sent again to the other cloud, and whether it marks its cloud down.
fn failover(status: &Status) -> Option<bool> {
    match status.code() {
        Code::Unavailable | Code::Unknown | Code::Cancelled => Some(true),
        Code::DeadlineExceeded | Code::Aborted => Some(false),
        _ => None,
    }
}

/// Sends `call` to cloud `turn` (or to the other while `turn` is marked down), and after a
/// transport error again to the other, as a load balancer does; the answer and whether it was
/// sent more than once.
async fn balanced<T, F, Fut>(work: &Work, turn: usize, what: &str, mut call: F) -> (T, bool)
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    let mut at = turn;
    if work.down[at].load(Relaxed) && !work.down[1 - at].load(Relaxed) {
        at = 1 - at;
    }
    let mut attempt = 0;
    loop {
        match call(at).await {
            Ok(answer) => return (answer, attempt > 0),
            Err(status) => match failover(&status) {
                Some(down) if attempt < 20 => {
                    if down {
                        work.down[at].store(true, Relaxed);
                    }
                    if attempt > 0 {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    at = 1 - at;
                    attempt += 1;
                }
                _ => panic!("{what}: {status}"),
            },
        }
    }
}

/// One lane: takes the next payment of the run until all are taken, pays it with a fresh code
/// of a wallet from the pool, alternating between the clouds.
pub async fn lane(
    store: String,
    seed: usize,
    clients: [PaymentServiceClient<Channel>; 2],
    pool: Arc<Pool>,
    work: Arc<Work>,
) {
    let mut turn = seed % 2;
    loop {
        let n = work.next_payment.fetch_add(1, Relaxed);
        if n >= PAYMENTS {
            return;
        }
        let (wallet, at) = pool.take().await;
        let amount_fen = 100 + (n as i64 * 37) % 5_000;
        let request = AuthorizeRequest {
            store_id: store.clone(),
            order_id: format!("pay-{n:06}"),
            amount_fen,
            payment_code: paycode::payment_code(&wallet.id, &wallet.secret, at),
            description: format!("Bench lane {}", seed % crate::LANES + 1),
            ..Default::default()
        };
        let started = Instant::now();
        let (payment, again) = balanced(&work, turn, &request.order_id, |cloud| {
            let mut client = clients[cloud].clone();
            let mut call = tonic::Request::new(request.clone());
            call.set_timeout(CALL_TIMEOUT);
            async move { client.authorize(call).await.map(|r| r.into_inner().payment) }
        })
        .await;
        let done = Instant::now();
        let payment = payment.expect("Authorize answers a payment");
        if payment.status == PaymentStatus::Succeeded as i32 {
            wallet.charged.fetch_add(amount_fen, Relaxed);
        } else {
            work.declined.lock().unwrap().push(format!(
                "{}: {:?} {:?}",
                request.order_id,
                payment.status(),
                payment.decline_reason()
            ));
        }
        if again {
            work.pay_retries.fetch_add(1, Relaxed);
        }
        work.payments.lock().unwrap().push((done, done - started));
        work.paid.fetch_add(1, Relaxed);
        turn = 1 - turn;
    }
}

/// One shopper: places the next app order of the run until all are taken (one to three bottles
/// of milk, 300-2,300 m from the store), alternating between the clouds, while fewer than
/// [`ORDER_WINDOW`] wait for their store.
pub async fn shopper(
    k: usize,
    wallet: Arc<Wallet>,
    clients: [ShopperServiceClient<Channel>; 2],
    stores: Arc<Vec<Position>>,
    work: Arc<Work>,
) {
    let mut turn = k % 2;
    loop {
        let n = work.next_order.fetch_add(1, Relaxed);
        if n >= APP_ORDERS {
            return;
        }
        while work
            .orders_placed
            .load(Relaxed)
            .saturating_sub(work.orders_accepted.load(Relaxed))
            >= ORDER_WINDOW
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let store = n % STORES;
        let to = geo::destination(
            stores[store],
            (n * 37 % 360) as f64,
            300.0 + (n % 2_000) as f64,
        );
        let request = PlaceDeliveryOrderRequest {
            wallet_id: wallet.id.clone(),
            store_id: crate::stores::store_id(store),
            order_id: format!("app-{n:05}"),
            lines: vec![DeliveryLine {
                gtin: "5901234123457".into(),
                quantity: 1 + (n % 3) as u32,
                ..Default::default()
            }],
            purchase_order_id: String::new(),
            dropoff: Some(Dropoff {
                lat: to.lat,
                lon: to.lon,
                address: format!("{n} Bench Road"),
            }),
        };
        work.pending
            .lock()
            .unwrap()
            .insert(request.order_id.clone(), Instant::now());
        work.orders_placed.fetch_add(1, Relaxed);
        let (order, again) = balanced(&work, turn, &request.order_id, |cloud| {
            let mut client = clients[cloud].clone();
            let mut call = omo_app_client::wallet::with_app_token(&wallet.secret, request.clone());
            call.set_timeout(CALL_TIMEOUT);
            async move {
                client
                    .place_delivery_order(call)
                    .await
                    .map(|r| r.into_inner())
            }
        })
        .await;
        assert!(
            matches!(
                order.status.as_str(),
                "PLACED" | "ACCEPTED" | "PICKED_UP" | "DELIVERED"
            ),
            "{}: {order:?}",
            request.order_id
        );
        wallet.charged.fetch_add(order.amount_fen, Relaxed);
        if again {
            work.order_retries.fetch_add(1, Relaxed);
        }
        turn = 1 - turn;
    }
}
