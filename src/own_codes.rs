//! Omo's own codes as `omo barcode` shows them: exit passes and app coupons (not GS1).

use serde_json::json;

use crate::usage::UsageError;

/// Omo's own codes, which are not GS1: an exit pass (`OMOX2:...`, shown unverified: checking
/// its signature needs the store's key) and an app coupon (`OMOC1:{campaign}:{coupon}`).
/// `None` when `data` is neither, so the GS1 parser has its turn.
pub fn parse(data: &str) -> Option<anyhow::Result<serde_json::Value>> {
    if omo_edge::exit_pass::looks_like_pass(data) {
        return Some(match omo_edge::exit_pass::read_unverified(data) {
            Ok(pass) => Ok(json!({
                "kind": "exit_pass",
                "key_id": pass.key_id,
                "store_id": pass.store_id,
                "lane_id": pass.lane_id,
                "order_id": pass.order_id,
                "issued_at": pass.issued_at.to_rfc3339(),
                "verified": false,
            })),
            Err(error) => Err(UsageError(format!("not a valid exit pass: {error}")).into()),
        });
    }
    if data.trim().starts_with(omo_cloud::coupons::CODE_PREFIX) {
        return Some(match omo_cloud::coupons::parse_coupon_code(data) {
            Some((campaign_id, coupon_id)) => Ok(json!({
                "kind": "coupon",
                "campaign_id": campaign_id,
                "coupon_id": coupon_id,
            })),
            None => Err(UsageError(format!(
                "not a valid coupon code: expected {}CAMPAIGN:COUPON",
                omo_cloud::coupons::CODE_PREFIX
            ))
            .into()),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn exit_passes_and_coupons_are_recognised_and_goods_are_left_alone() {
        let pass = parse("OMOX2:K1:SH-001:2:01A2-7F-1:1800000000:ABCDEF")
            .unwrap()
            .unwrap();
        assert_eq!(pass["kind"], "exit_pass");
        assert_eq!(pass["lane_id"], "2");
        assert_eq!(pass["order_id"], "01A2-7F-1");
        let coupon = parse("OMOC1:demo-50-minus-10:0193-abc").unwrap().unwrap();
        assert_eq!(coupon["kind"], "coupon");
        assert_eq!(coupon["campaign_id"], "demo-50-minus-10");
        assert!(parse("OMOX2:broken").unwrap().is_err());
        assert!(parse("OMOC1:").unwrap().is_err());
        assert!(parse("4006381333931").is_none());
    }
}
