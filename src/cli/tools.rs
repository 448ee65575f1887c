//! The arguments of the tools a person runs by hand: `omo catalog`, `omo barcode`, `omo scan`,
//! `omo weigh`, `omo shopper`, `omo lane` and `omo rider`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct CatalogArgs {
    #[command(subcommand)]
    pub action: CatalogAction,
}

#[derive(Debug, Subcommand)]
pub enum CatalogAction {
    /// Load products from a CSV file (columns gtin,name,price_fen,unit,weight_g,tolerance_g[,min_age,origin,plu]).
    Import {
        file: PathBuf,
        /// The cloud's gRPC endpoint (https:// needs --ca).
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
        /// The administrator's token (the cloud's `admin_token_sha256`), sent as
        /// `authorization: Bearer <token>`.
        #[arg(long, env = "OMO_ADMIN_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// PEM file: the CA that signed the cloud's certificate, for an https:// cloud.
        #[arg(long)]
        ca: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct BarcodeArgs {
    /// The scan, with or without an AIM symbology prefix (`<GS>` may stand for the GS character).
    pub data: String,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The scanner's serial port.
    #[arg(long)]
    pub port: String,
    #[arg(long, default_value_t = 9600)]
    pub baud: u32,
}

#[derive(Debug, Args)]
pub struct WeighArgs {
    /// The scale's serial port.
    #[arg(long)]
    pub port: String,
    /// `toledo8217` or `mt-sics`.
    #[arg(long)]
    pub protocol: String,
    #[arg(long, default_value_t = 9600)]
    pub baud: u32,
    /// Give up after this many seconds without a stable weight.
    #[arg(long, default_value_t = 10)]
    pub timeout_secs: u64,
}

#[derive(Debug, Args)]
pub struct ShopperArgs {
    #[command(subcommand)]
    pub action: ShopperAction,
    /// Where the app keeps its wallets and their secrets.
    #[arg(long, global = true, default_value = "./omo-data/shopper/wallets.json")]
    pub wallets: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ShopperAction {
    /// Enroll a new, empty wallet with the cloud and keep its secret (fund it with `fund`).
    Enroll {
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
        /// The name on the wallet.
        #[arg(long, default_value = "Shopper")]
        name: String,
        /// Must be 0: a wallet opens empty (the cloud refuses anything else). Kept so old
        /// scripts get a clear refusal; fund the wallet with `omo shopper fund`.
        #[arg(long, default_value_t = 0, hide = true)]
        balance_fen: i64,
    },
    /// As the funding authority, top up a wallet (money enters wallets only this way).
    Fund {
        /// The 8-digit wallet number.
        wallet: String,
        /// How much, in fen (1 yuan = 100 fen).
        #[arg(long)]
        amount_fen: i64,
        /// The top-up's idempotency key (run again with it and nothing is credited twice).
        /// Default: a new one.
        #[arg(long)]
        top_up_id: Option<String>,
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
        /// The file holding the funding authority's token (`omo up` writes {data}/funding.token).
        #[arg(long, default_value = "./omo-data/funding.token")]
        token_file: PathBuf,
    },
    /// As the funding authority, list the funding account's movements (JSON), oldest first.
    Funding {
        /// Only movements after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
        #[arg(long, default_value = "./omo-data/funding.token")]
        token_file: PathBuf,
    },
    /// Print the wallet's current payment code (18 digits).
    Code {
        /// The 8-digit wallet number.
        wallet: String,
    },
    /// Show the wallet's balance.
    Balance {
        wallet: String,
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
    },
    /// Keep the wallet's delivery address (where deliveries go unless they name one, e.g. a
    /// delivery asked for at a lane).
    Address {
        wallet: String,
        #[arg(long, allow_negative_numbers = true)]
        lat: f64,
        #[arg(long, allow_negative_numbers = true)]
        lon: f64,
        #[arg(long)]
        address: String,
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
    },
    /// Confirm a PENDING payment in the app ("confirm the payment in your app" at the lane);
    /// without PAYMENT_ID, list the wallet's PENDING payments.
    Confirm {
        wallet: String,
        payment_id: Option<String>,
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
    },
    /// Reject a PENDING payment in the app; without PAYMENT_ID, list the PENDING payments.
    Reject {
        wallet: String,
        payment_id: Option<String>,
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
    },
    /// Show a delivery order as the cloud follows it: status (ACCEPTED, PICKED_UP, DELIVERED,
    /// ...), rider, ETA, picked-up and delivered times, as JSON.
    Delivery {
        wallet: String,
        order_id: String,
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
    },
    /// List the wallet's receipts (payments at lanes and app orders), newest first, as JSON.
    Receipts {
        wallet: String,
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
    },
    /// Order home delivery from a store: goods (`--item GTIN` or `GTINxQTY`, repeatable), or a
    /// basket paid at one of its lanes (`--purchase ORDER_ID`, from `receipts`). Prints the
    /// order as JSON; exits 3 when the drop-off is beyond the store's delivery radius.
    Deliver {
        wallet: String,
        #[arg(long, default_value = "SH-001")]
        store: String,
        /// Drop-off latitude, WGS 84 degrees (with --lon; without both: the wallet's address).
        #[arg(long, allow_negative_numbers = true, requires = "lon")]
        lat: Option<f64>,
        /// Drop-off longitude, WGS 84 degrees.
        #[arg(long, allow_negative_numbers = true, requires = "lat")]
        lon: Option<f64>,
        #[arg(long, default_value = "")]
        address: String,
        #[arg(long = "item")]
        items: Vec<String>,
        #[arg(long)]
        purchase: Option<String>,
        /// The order's id (the idempotency key: run again with it to see the order as it
        /// stands). Default: a new one.
        #[arg(long)]
        order_id: Option<String>,
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        cloud: String,
    },
}

#[derive(Debug, Args)]
pub struct LaneArgs {
    #[command(subcommand)]
    pub action: LaneAction,
    /// The data folder of the running `omo up` (its socket is `{data}/manual-lanes.sock`).
    #[arg(long, global = true, default_value = "./omo-data")]
    pub data: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum LaneAction {
    /// Scan a code on the lane's scanner: a product, a weight label, a coupon or a payment
    /// code (`omo shopper code WALLET`).
    Scan { lane: String, code: String },
    /// Set the load on the lane's bagging scale, in grams.
    Weigh { lane: String, grams: i64 },
    /// Put what was scanned and not yet bagged on the bagging scale.
    Bag { lane: String },
    /// Walk through the lane's open gate, taking the bags.
    Pass { lane: String },
    /// Show the lane's devices (scale load, what is not yet bagged, the gate).
    Status { lane: String },
}

/// `omo rider` arguments.
#[derive(Debug, Args)]
pub struct RiderArgs {
    /// The rider's id: its MQTT user name and part of its topics.
    #[arg(long)]
    pub id: String,
    /// The broker (mqtt://host:port).
    #[arg(long, env = "OMO_RIDER_MQTT", default_value = "mqtt://127.0.0.1:1883")]
    pub mqtt: String,
    /// The rider's broker password (user name = --id).
    #[arg(long, env = "OMO_RIDER_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Where the rider starts (WGS 84 degrees).
    #[arg(long, default_value_t = 31.2350, allow_negative_numbers = true)]
    pub lat: f64,
    #[arg(long, default_value_t = 121.4700, allow_negative_numbers = true)]
    pub lon: f64,
    /// Simulated speed in metres per second.
    #[arg(long, default_value_t = 6.0)]
    pub speed: f64,
    /// Do not ride: accept and report location only.
    #[arg(long)]
    pub no_simulate: bool,
    /// Never accept (a rider who does not answer; for drills and tests).
    #[arg(long)]
    pub no_accept: bool,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::RiderArgs;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        rider: RiderArgs,
    }

    #[test]
    fn the_rider_command_line_parses() {
        let cli = Cli::try_parse_from([
            "omo",
            "--id",
            "rider-7",
            "--mqtt",
            "mqtt://127.0.0.1:2883",
            "--password",
            "pw",
            "--lat",
            "-33.9",
            "--lon",
            "151.2",
            "--speed",
            "300",
            "--no-accept",
        ])
        .unwrap();
        assert_eq!(cli.rider.id, "rider-7");
        assert_eq!(cli.rider.lat, -33.9);
        assert!(cli.rider.no_accept && !cli.rider.no_simulate);
        assert!(Cli::try_parse_from(["omo"]).is_err(), "--id is required");
    }
}
