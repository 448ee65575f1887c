//! Coupons, for real: campaigns published through the cloud's catalog (and the same campaigns in
//! the edge's catalog, as its replica would hold them), claimed for some wallets by the cloud's
//! `Coupons::claim`, handed to the lane by `Coupons::list` (the CLAIMED ones, as the edge's
//! `PaymentClient::wallet_coupons` keeps), then priced by the lane's rules and redeemed or given
//! back by the cloud's payment rules.
//!
//! The check, once every payment is final: a coupon is REDEEMED only by a payment that took the
//! money (SUCCEEDED, or REFUNDED after it did), never by a DECLINED or CANCELLED one; and every
//! SUCCEEDED payment that carries coupons redeemed each of them itself: no discount without its
//! coupon spent, no coupon spent twice.

use std::collections::BTreeMap;

use omo_cloud::catalog::{Catalog, CatalogInput};
use omo_cloud::coupons::{Coupons, status};
use omo_edge::lane::PresentedCoupon;
use omo_proto::catalog::CouponCampaign;

use crate::cloud::SimCloud;
use crate::report::Failure;

/// The campaigns the store runs: 5 yuan off a basket of 30, and 10 % off a basket of 60.
pub fn campaigns() -> Vec<CouponCampaign> {
    let campaign =
        |id: &str, name: &str, min_spend_fen, amount_off_fen, percent_off| CouponCampaign {
            campaign_id: id.into(),
            name: name.into(),
            min_spend_fen,
            amount_off_fen,
            percent_off,
            starts_at: "2026-12-01T00:00:00Z".into(),
            ends_at: "2027-01-01T00:00:00Z".into(),
            version: 100,
            ..Default::default()
        };
    vec![
        campaign("sim-5-off-30", "5 yuan off 30", 30_00, 5_00, 0),
        campaign("sim-10pct-off-60", "10% off 60", 60_00, 0, 10),
    ]
}

/// Which campaigns wallet number `i` claims in the app.
pub fn claims_of(i: usize) -> Vec<&'static str> {
    let mut claims = Vec::new();
    if i.is_multiple_of(3) {
        claims.push("sim-5-off-30");
    }
    if i.is_multiple_of(5) {
        claims.push("sim-10pct-off-60");
    }
    claims
}

impl SimCloud {
    /// Publishes the campaigns in the cloud's catalog.
    pub fn publish_campaigns(&self, campaigns: &[CouponCampaign]) -> Result<(), Failure> {
        let input = CatalogInput {
            campaigns: campaigns.to_vec(),
            ..Default::default()
        };
        self.block_on(Catalog::new(self.context()).upsert_all(&input))
            .map(|_| ())
            .map_err(|e| Failure::Setup(format!("publish campaigns: {e}")))
    }

    /// The shopper claims a coupon of `campaign_id` in the app.
    pub fn claim(&self, wallet_id: &str, campaign_id: &str) -> Result<(), Failure> {
        let claim_id = format!("claim-{wallet_id}-{campaign_id}");
        self.block_on(Coupons::new(self.context()).claim(wallet_id, campaign_id, &claim_id))
            .map(|_| ())
            .map_err(|e| Failure::Setup(format!("claim a coupon: {e}")))
    }

    /// The wallet's coupons the lane may apply, by campaign (`None`: the cloud is down).
    pub fn claimed_coupons(&self, wallet_id: &str) -> Option<Vec<PresentedCoupon>> {
        if !self.up() {
            return None;
        }
        let coupons = self
            .block_on(Coupons::new(self.context()).list(wallet_id))
            .ok()?;
        let mut claimed: Vec<PresentedCoupon> = coupons
            .into_iter()
            .filter(|c| c.status == status::CLAIMED)
            .map(|c| PresentedCoupon {
                coupon_id: c.coupon_id,
                campaign_id: c.campaign_id,
            })
            .collect();
        // The cloud lists by claim time and a random id; the lane gets them by campaign, so a
        // seed's run does not depend on the ids.
        claimed.sort_by(|a, b| a.campaign_id.cmp(&b.campaign_id));
        Some(claimed)
    }

    /// The coupons' books, once every payment is final: `Ok(None)` if they hold, or what broke.
    /// Also returns how many coupons are redeemed.
    pub fn coupon_check(&self) -> Result<(Option<String>, u64), String> {
        let coupons: Vec<(String, String, String)> = self
            .block_on(
                sqlx::query_as("SELECT coupon_id, status, payment_id FROM coupons")
                    .fetch_all(self.db().pool()),
            )
            .map_err(|e| e.to_string())?;
        let payments: Vec<(String, String, String, String)> = self
            .block_on(
                sqlx::query_as(
                    "SELECT payment_id, order_id, status, coupon_ids FROM payments \
                     WHERE coupon_ids <> ''",
                )
                .fetch_all(self.db().pool()),
            )
            .map_err(|e| e.to_string())?;
        let by_payment: BTreeMap<&str, (&str, &str)> = payments
            .iter()
            .map(|(id, order, status, _)| (id.as_str(), (order.as_str(), status.as_str())))
            .collect();
        let by_coupon: BTreeMap<&str, (&str, &str)> = coupons
            .iter()
            .map(|(id, status, payment)| (id.as_str(), (status.as_str(), payment.as_str())))
            .collect();
        let mut redeemed = 0;
        for (coupon, (status, payment)) in &by_coupon {
            if *status != status::REDEEMED {
                continue;
            }
            redeemed += 1;
            match by_payment.get(payment) {
                Some((_, "SUCCEEDED" | "REFUNDED")) => {}
                Some((order, other)) => {
                    let detail =
                        format!("coupon {coupon} is spent by order {order}, which is {other}");
                    return Ok((Some(detail), redeemed));
                }
                None => {
                    let detail = format!("coupon {coupon} is spent by no payment that carries it");
                    return Ok((Some(detail), redeemed));
                }
            }
        }
        for (payment, order, status, ids) in &payments {
            if status != "SUCCEEDED" {
                continue;
            }
            for id in ids.split(',') {
                match by_coupon.get(id) {
                    Some((status::REDEEMED, by)) if by == payment => {}
                    found => {
                        let detail = format!(
                            "order {order} was charged with coupon {id} off, which is {found:?}"
                        );
                        return Ok((Some(detail), redeemed));
                    }
                }
            }
        }
        Ok((None, redeemed))
    }
}
