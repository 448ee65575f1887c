//! Catalog CSV import (pure): `gtin,name,price_fen,unit,weight_g,tolerance_g` and optionally
//! `min_age,origin,plu,member_price_fen,priced_by_label`, one product per line, into
//! `omo.catalog.v1.Product`s. `priced_by_label` is `true`/`false` (also `1`/`0`, `yes`/`no`;
//! empty = false): only for such products does a lane believe a price printed in a barcode.
//!
//! Every error names the line (1 = the header) and the column. GTINs are verified by their
//! check digit and normalised to 14 digits. Unknown extra columns are ignored.

use std::io::Read;

use omo_proto::catalog::{Product, Unit};

use crate::gtin;

const REQUIRED: &[&str] = &[
    "gtin",
    "name",
    "price_fen",
    "unit",
    "weight_g",
    "tolerance_g",
];

/// Why a catalog CSV was refused.
#[derive(Debug, thiserror::Error)]
pub enum CatalogCsvError {
    /// The header lacks a required column.
    #[error("line 1: missing column `{0}` (need at least {cols})", cols = REQUIRED.join(","))]
    MissingColumn(&'static str),
    /// A line is not valid CSV (or not UTF-8).
    #[error("line {line}: {message}")]
    Csv {
        /// 1-based line number.
        line: u64,
        /// What the CSV reader said.
        message: String,
    },
    /// A value is invalid.
    #[error("line {line}, column `{column}`: {message}")]
    Field {
        /// 1-based line number.
        line: u64,
        /// The column's header name.
        column: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl CatalogCsvError {
    /// The 1-based line the error is on.
    pub fn line(&self) -> u64 {
        match self {
            CatalogCsvError::MissingColumn(_) => 1,
            CatalogCsvError::Csv { line, .. } | CatalogCsvError::Field { line, .. } => *line,
        }
    }
}

/// Parse a catalog CSV into products (version 0; the cloud assigns versions on Upsert).
pub fn parse_catalog_csv<R: Read>(r: R) -> Result<Vec<Product>, CatalogCsvError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(r);
    let headers = reader
        .headers()
        .map_err(|e| CatalogCsvError::Csv {
            line: 1,
            message: e.to_string(),
        })?
        .clone();
    let index = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name))
    };
    let mut columns = [0usize; 6];
    for (slot, name) in columns.iter_mut().zip(REQUIRED) {
        *slot = index(name).ok_or(CatalogCsvError::MissingColumn(name))?;
    }
    let [c_gtin, c_name, c_price, c_unit, c_weight, c_tol] = columns;
    let (c_age, c_origin, c_plu) = (index("min_age"), index("origin"), index("plu"));
    let c_member = index("member_price_fen");
    let c_label = index("priced_by_label");

    let mut products = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line_hint = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(line_hint);
                return Err(CatalogCsvError::Csv {
                    line,
                    message: e.to_string(),
                });
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(line_hint);
        if record.iter().all(str::is_empty) {
            continue;
        }
        let get = |c: usize| record.get(c).unwrap_or("");
        let field = |column: &'static str, message: String| CatalogCsvError::Field {
            line,
            column,
            message,
        };

        let gtin = gtin::normalize(get(c_gtin)).map_err(|e| field("gtin", e.to_string()))?;
        let name = get(c_name).to_owned();
        if name.is_empty() {
            return Err(field("name", "must not be empty".into()));
        }
        let price_fen = number::<i64>(get(c_price), false).map_err(|m| field("price_fen", m))?;
        let unit = match get(c_unit).to_ascii_lowercase().as_str() {
            "each" => Unit::Each,
            "kg" => Unit::Kg,
            other => {
                return Err(field(
                    "unit",
                    format!("expected `each` or `kg`, got {other:?}"),
                ));
            }
        };
        let weight_g = number::<i32>(get(c_weight), true).map_err(|m| field("weight_g", m))?;
        let tolerance_g = number::<i32>(get(c_tol), true).map_err(|m| field("tolerance_g", m))?;
        let min_age = match c_age {
            Some(c) => number::<i32>(get(c), true).map_err(|m| field("min_age", m))?,
            None => 0,
        };
        if min_age > 150 {
            return Err(field("min_age", "must be at most 150".into()));
        }
        let plu = c_plu.map(|c| get(c).to_owned()).unwrap_or_default();
        if !plu.is_empty() && (plu.len() != 5 || !plu.bytes().all(|b| b.is_ascii_digit())) {
            return Err(field("plu", format!("expected 5 digits, got {plu:?}")));
        }
        let member_price_fen = match c_member {
            Some(c) => number::<i64>(get(c), true).map_err(|m| field("member_price_fen", m))?,
            None => 0,
        };
        if member_price_fen > price_fen {
            return Err(field(
                "member_price_fen",
                format!("must not exceed price_fen ({price_fen}), got {member_price_fen}"),
            ));
        }
        let priced_by_label = match c_label {
            Some(c) => flag(get(c)).map_err(|m| field("priced_by_label", m))?,
            None => false,
        };
        products.push(Product {
            gtin,
            name,
            price_fen,
            unit: unit as i32,
            weight_g,
            tolerance_g,
            min_age,
            origin: c_origin.map(|c| get(c).to_owned()).unwrap_or_default(),
            version: 0,
            withdrawn: false,
            plu,
            member_price_fen,
            priced_by_label,
        });
    }
    Ok(products)
}

/// A yes/no column; empty means no.
fn flag(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "" | "false" | "0" | "no" => Ok(false),
        "true" | "1" | "yes" => Ok(true),
        _ => Err(format!("expected true or false, got {text:?}")),
    }
}

/// A non-negative integer; empty means 0 when `empty_ok`.
fn number<T: std::str::FromStr + Default + PartialOrd>(
    text: &str,
    empty_ok: bool,
) -> Result<T, String> {
    if text.is_empty() {
        return if empty_ok {
            Ok(T::default())
        } else {
            Err("must not be empty".into())
        };
    }
    match text.parse::<T>() {
        Ok(v) if v >= T::default() => Ok(v),
        Ok(_) => Err(format!("must not be negative, got {text:?}")),
        Err(_) => Err(format!("expected a whole number, got {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priced_by_label_is_a_yes_no_column() {
        let csv = "gtin,name,price_fen,unit,weight_g,tolerance_g,plu,priced_by_label\n\
                   2210002000009,Salmon,22800,kg,0,0,10002,true\n\
                   6921168509256,Water,200,each,570,15,,\n";
        let products = parse_catalog_csv(csv.as_bytes()).unwrap();
        assert!(products[0].priced_by_label);
        assert!(!products[1].priced_by_label);
        let bad = "gtin,name,price_fen,unit,weight_g,tolerance_g,priced_by_label\n\
                   6921168509256,Water,200,each,570,15,maybe\n";
        match parse_catalog_csv(bad.as_bytes()) {
            Err(CatalogCsvError::Field {
                line: 2, column, ..
            }) => {
                assert_eq!(column, "priced_by_label")
            }
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn the_demo_catalog_parses() {
        let products =
            parse_catalog_csv(include_str!("../data/demo-catalog.csv").as_bytes()).unwrap();
        assert!(products.len() >= 12);
        assert!(products.iter().all(|p| p.gtin.len() == 14));
        assert!(products.iter().any(|p| p.min_age == 18));
        assert!(
            products
                .iter()
                .any(|p| p.unit == Unit::Kg as i32 && p.plu.len() == 5)
        );
        assert!(
            products
                .iter()
                .any(|p| p.member_price_fen > 0 && p.member_price_fen < p.price_fen)
        );
    }

    #[test]
    fn member_prices_are_optional_and_bounded() {
        let csv = "gtin,name,price_fen,unit,weight_g,tolerance_g,member_price_fen\n\
                   6921168509256,Water,200,each,570,15,180\n\
                   6901028075886,Milk,1590,each,1010,20,\n";
        let products = parse_catalog_csv(csv.as_bytes()).unwrap();
        assert_eq!(products[0].member_price_fen, 180);
        assert_eq!(products[1].member_price_fen, 0);
        let bad = "gtin,name,price_fen,unit,weight_g,tolerance_g,member_price_fen\n\
                   6921168509256,Water,200,each,570,15,250\n";
        let err = parse_catalog_csv(bad.as_bytes()).unwrap_err();
        assert!(
            matches!(
                &err,
                CatalogCsvError::Field {
                    line: 2,
                    column: "member_price_fen",
                    ..
                }
            ),
            "{err}"
        );
    }
}
