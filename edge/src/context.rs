//! What every part of a running edge shares: its config, store, outbox signal, catalog, payment
//! client and board. Built once by [`crate::run`] and handed to each lane and server.

use std::sync::RwLock;

use tokio_util::sync::CancellationToken;

use crate::board::Board;
use crate::catalog::Catalog;
use crate::checkout::handles::LaneHandles;
use crate::config::EdgeConfig;
use crate::db::Db;
use crate::lane::WeightBook;
use crate::outbox::OutboxSignal;
use crate::payment::PaymentClient;

/// The shared state of one edge.
pub struct EdgeContext {
    pub config: EdgeConfig,
    /// The edge's database.
    pub db: Db,
    pub outbox: OutboxSignal,
    pub catalog: RwLock<Catalog>,
    pub payments: PaymentClient,
    pub board: Board,
    /// What the bagging scales learned about each product's weight.
    pub weights: RwLock<WeightBook>,
    /// Where to send operator commands for each lane.
    pub lanes: LaneHandles,
    /// What the store's exits have let through and refused.
    pub exits: crate::exit::board::ExitBoard,
    /// The keys exit passes are signed and checked with.
    pub exit_keys: crate::exit_keys::ExitKeys,
    /// The secret lane screens' credentials are derived from (see [`crate::web::screen`]).
    pub screen_secret: Vec<u8>,
    /// Operators' sessions and the login rate limit.
    pub sessions: std::sync::Arc<crate::web::auth::Sessions>,
    /// The simulated devices a person may drive from the lane screen (demo mode only; see
    /// [`crate::demo_devices`]).
    pub demo_devices: Option<std::sync::Arc<dyn crate::demo_devices::DemoDevices>>,
    /// Fires when the edge stops; long-lived responses (live events) end with it.
    pub shutdown: CancellationToken,
}
