//! In-store variable-measure EAN-13 (fresh food labelled by the store's own scales): a 2-digit
//! restricted-circulation prefix, an item number, a price in fen or a weight in grams, a check digit.
//! Default formats per CONTRACT.md: `21 IIIII PPPPP C` (price) and `22 IIIII WWWWW C` (weight).

use serde::{Deserialize, Serialize};

/// What the value digits of a variable-measure code mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureValue {
    /// The label's price, in fen.
    PriceFen,
    /// The item's weight, in grams.
    WeightG,
}

/// One variable-measure layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableMeasureFormat {
    /// Two digits the EAN-13 starts with, e.g. `"21"`.
    pub prefix: String,
    /// Digits of the item number after the prefix (default 5); the value takes the rest up to
    /// the check digit (13 - 2 - item_digits - 1).
    #[serde(default = "default_item_digits")]
    pub item_digits: usize,
    /// Whether the value is a price in fen or a weight in grams.
    pub value: MeasureValue,
}

fn default_item_digits() -> usize {
    5
}

impl VariableMeasureFormat {
    /// Checks the layout fits an EAN-13.
    pub fn validate(&self) -> Result<(), String> {
        if self.prefix.len() != 2 || !self.prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("prefix {:?} must be two digits", self.prefix));
        }
        if !(1..=9).contains(&self.item_digits) {
            return Err(format!("item_digits {} must be 1 to 9", self.item_digits));
        }
        Ok(())
    }
}

/// The store's variable-measure layouts, tried in order. In config: a list of tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VariableMeasureFormats(pub Vec<VariableMeasureFormat>);

impl Default for VariableMeasureFormats {
    fn default() -> Self {
        Self(vec![
            VariableMeasureFormat {
                prefix: "21".into(),
                item_digits: 5,
                value: MeasureValue::PriceFen,
            },
            VariableMeasureFormat {
                prefix: "22".into(),
                item_digits: 5,
                value: MeasureValue::WeightG,
            },
        ])
    }
}

impl VariableMeasureFormats {
    /// No variable-measure codes at all.
    pub fn none() -> Self {
        Self(Vec::new())
    }

    /// Checks every layout (for `omo edge validate`).
    pub fn validate(&self) -> Result<(), String> {
        self.0.iter().try_for_each(VariableMeasureFormat::validate)
    }

    /// The first valid layout whose prefix starts this 13-digit code.
    pub fn matching(&self, ean13: &str) -> Option<&VariableMeasureFormat> {
        self.0.iter().find(|f| {
            f.validate().is_ok() && ean13.len() == 13 && ean13.starts_with(f.prefix.as_str())
        })
    }
}

/// The item number and value of a 13-digit code under `format` (check digit verified by the caller).
pub fn split(format: &VariableMeasureFormat, ean13: &str) -> Option<(String, i64)> {
    let item_end = 2 + format.item_digits;
    let item = ean13.get(2..item_end)?.to_owned();
    let value: i64 = ean13.get(item_end..12)?.parse().ok()?;
    Some((item, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_price_21_and_weight_22() {
        let f = VariableMeasureFormats::default();
        assert_eq!(
            f.matching("2112345012345").map(|f| f.value),
            Some(MeasureValue::PriceFen)
        );
        assert_eq!(
            f.matching("2212345012345").map(|f| f.value),
            Some(MeasureValue::WeightG)
        );
        assert!(f.matching("4006381333931").is_none());
    }

    #[test]
    fn split_reads_item_and_value() {
        let f = &VariableMeasureFormats::default().0[0];
        assert_eq!(split(f, "2100042012342"), Some(("00042".into(), 1234)));
    }

    #[test]
    fn formats_deserialize_from_a_list() {
        let f: VariableMeasureFormats =
            serde_json::from_str(r#"[{"prefix":"25","item_digits":4,"value":"weight_g"}]"#)
                .unwrap();
        assert_eq!(f.0[0].item_digits, 4);
        assert!(f.validate().is_ok());
        let bad = VariableMeasureFormats(vec![VariableMeasureFormat {
            prefix: "2".into(),
            item_digits: 5,
            value: MeasureValue::PriceFen,
        }]);
        assert!(bad.validate().is_err());
    }
}
