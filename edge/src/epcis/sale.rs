//! Retail selling: a sale becomes one `ObjectEvent` with `bizStep` `retail_selling` and `disposition`
//! `retail_sold`: pieces and weighed goods are classes of product (`quantityList`), identified by
//! GS1 Digital Link URIs (`https://id.gs1.org/01/{gtin}[/10/{lot}]`), with the order as a business
//! transaction. Pure functions: the caller stores the result in the outbox.

use serde_json::{Value, json};

use super::{EPCIS_CONTEXT, Place, digital_link, rfc3339};
use crate::lane::Sale;

/// The retail-selling event for a paid basket; `event_id` must be unique (a `urn:uuid:`).
pub fn sale_event(sale: &Sale, place: &Place, event_id: &str) -> Value {
    let quantities: Vec<Value> = sale
        .basket
        .items
        .iter()
        .map(|item| {
            let class = digital_link(&item.gtin, item.lot.as_deref());
            match item.weight_g {
                Some(grams) => json!({
                    "epcClass": class,
                    "quantity": grams as f64 / 1000.0,
                    "uom": "KGM",
                }),
                None => json!({ "epcClass": class, "quantity": item.quantity }),
            }
        })
        .collect();
    json!({
        "@context": [EPCIS_CONTEXT],
        "type": "ObjectEvent",
        "eventID": event_id,
        "eventTime": rfc3339(sale.paid_at),
        "eventTimeZoneOffset": "+00:00",
        "epcList": [],
        "action": "OBSERVE",
        "bizStep": "retail_selling",
        "disposition": "retail_sold",
        "readPoint": { "id": place.read_point() },
        "bizLocation": { "id": place.biz_location() },
        "bizTransactionList": [
            { "bizTransaction": format!("urn:omo:order:{}:{}", place.store_id, sale.order_id) }
        ],
        "quantityList": quantities,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lane::{Basket, BasketItem};
    use chrono::{DateTime, Utc};

    fn sale() -> Sale {
        Sale {
            order_id: "o-1".into(),
            session_id: "s".into(),
            lane_id: "1".into(),
            payment_id: "p".into(),
            wallet_id: "12345678".into(),
            total_fen: 100,
            basket: Basket {
                discounts: Vec::new(),
                items: vec![
                    BasketItem {
                        line: 1,
                        gtin: "06901234567892".into(),
                        name: "Milk".into(),
                        quantity: 2,
                        weight_g: None,
                        unit_price_fen: 50,
                        price_fen: 100,
                        lot: None,
                    },
                    BasketItem {
                        line: 2,
                        gtin: "02000420000008".into(),
                        name: "Salmon".into(),
                        quantity: 1,
                        weight_g: Some(532),
                        unit_price_fen: 15800,
                        price_fen: 8406,
                        lot: Some("L 7/1".into()),
                    },
                ],
            },
            paid_at: DateTime::parse_from_rfc3339("2026-11-23T02:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            exit_pass: String::new(),
        }
    }

    #[test]
    fn a_sale_is_an_observe_event_of_retail_selling() {
        let place = Place {
            store_id: "SH-001".into(),
            lane_id: "1".into(),
        };
        let event = sale_event(&sale(), &place, "urn:uuid:1");
        assert_eq!(event["type"], "ObjectEvent");
        assert_eq!(event["action"], "OBSERVE");
        assert_eq!(event["bizStep"], "retail_selling");
        assert_eq!(event["eventTime"], "2026-11-23T02:00:00.000Z");
        let q = &event["quantityList"];
        assert_eq!(q[0]["epcClass"], "https://id.gs1.org/01/06901234567892");
        assert_eq!(q[0]["quantity"], 2);
        assert_eq!(
            q[1]["epcClass"],
            "https://id.gs1.org/01/02000420000008/10/L%207%2F1"
        );
        assert_eq!(q[1]["uom"], "KGM");
        assert_eq!(q[1]["quantity"], 0.532);
    }
}
