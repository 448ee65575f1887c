//! GS1 Digital Link URIs (`https://{any host}/…/01/{gtin}[/10/{lot}][/21/{serial}]`) and EPC
//! URNs (`urn:epc:class:lgtin:…`, `urn:epc:id:sgtin:…`) as the lot they name.

use crate::gtin;

/// A lot of a product: a 14-digit GTIN and the lot (`""` when the identifier names no lot).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LotKey {
    pub gtin: String,
    pub lot: String,
}

impl LotKey {
    /// The canonical Digital Link URI of this lot (or product class).
    pub fn digital_link(&self) -> String {
        self.path()
            .map_or_else(String::new, |p| format!("https://id.gs1.org{p}"))
    }

    /// The resolver path (`/01/{gtin}[/10/{lot}]`).
    pub fn path(&self) -> Option<String> {
        Some(if self.lot.is_empty() {
            format!("/01/{}", self.gtin)
        } else {
            format!("/01/{}/10/{}", self.gtin, encode(&self.lot))
        })
    }
}

/// The lot a Digital Link URI, a resolver path or an EPC URN names; None if it names no GTIN.
pub fn parse(uri: &str) -> Option<LotKey> {
    let uri = uri.trim();
    if let Some(rest) = uri
        .strip_prefix("urn:epc:class:lgtin:")
        .or_else(|| uri.strip_prefix("urn:epc:id:sgtin:"))
    {
        let parts: Vec<&str> = rest.split('.').collect();
        let [company, item, third] = parts.as_slice() else {
            return None;
        };
        let (indicator, rest) = item.split_at(item.len().min(1));
        let body = format!("{indicator}{company}{rest}");
        let gtin = gtin::normalize(&omo_contract::gs1::with_check_digit(&body)?).ok()?;
        let lot = if uri.contains(":lgtin:") {
            decode(third)
        } else {
            String::new()
        };
        return Some(LotKey { gtin, lot });
    }
    let path = match uri.find("://") {
        Some(i) => {
            let after = &uri[i + 3..];
            &after[after.find('/').unwrap_or(after.len())..]
        }
        None => uri,
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let start = segments.iter().position(|s| *s == "01")?;
    let gtin = gtin::normalize(segments.get(start + 1)?).ok()?;
    let mut lot = String::new();
    for pair in segments[start + 2..].chunks(2) {
        if let [ai, value] = pair
            && *ai == "10"
        {
            lot = decode(value);
        }
    }
    Some(LotKey { gtin, lot })
}

pub use omo_contract::percent::{decode, encode};

#[cfg(test)]
mod tests {
    use super::*;

    fn key(gtin: &str, lot: &str) -> Option<LotKey> {
        Some(LotKey {
            gtin: gtin.into(),
            lot: lot.into(),
        })
    }

    #[test]
    fn digital_links_on_any_host_name_their_lot() {
        assert_eq!(
            parse("https://id.gs1.org/01/02000420000008/10/L%207%2F1"),
            key("02000420000008", "L 7/1")
        );
        assert_eq!(
            parse("https://shop.example.com/dl/01/4006381333931/21/77?x=1"),
            key("04006381333931", "")
        );
        assert_eq!(
            parse("/01/04006381333931/10/A1/21/9"),
            key("04006381333931", "A1")
        );
        assert_eq!(
            parse("urn:epc:class:lgtin:4012345.012345.998877"),
            key("04012345123456", "998877")
        );
        assert_eq!(parse("https://id.gs1.org/414/4012345000054"), None);
        assert_eq!(parse("https://id.gs1.org/01/123"), None);
    }

    #[test]
    fn a_lot_key_round_trips_through_its_link() {
        let k = LotKey {
            gtin: "02000420000008".into(),
            lot: "L 7/1".into(),
        };
        assert_eq!(parse(&k.digital_link()), Some(k));
    }
}
