//! `parse_catalog_csv`: good files parse; every error names its line and column.

use omo_cloud::{CatalogCsvError, parse_catalog_csv};
use omo_proto::catalog::Unit;

const HEADER: &str = "gtin,name,price_fen,unit,weight_g,tolerance_g,min_age,origin,plu\n";

fn parse(body: &str) -> Result<Vec<omo_proto::catalog::Product>, CatalogCsvError> {
    parse_catalog_csv(format!("{HEADER}{body}").as_bytes())
}

#[test]
fn a_good_file_parses_with_optional_columns() {
    let products = parse(
        "6921168509256,农夫山泉 550ml,200,each,570,15,,浙江,\n\
         2210001000000,南美白对虾,9800,KG,0,0,0,广东湛江,10001\n\
         \n\
         6902952880294,茅台 500ml,299900,each,1120,25,18,贵州,\n",
    )
    .unwrap();
    assert_eq!(products.len(), 3);
    assert_eq!(products[0].gtin, "06921168509256");
    assert_eq!(
        (products[1].unit, products[1].plu.as_str()),
        (Unit::Kg as i32, "10001")
    );
    assert_eq!(products[2].min_age, 18);
}

#[test]
fn only_the_required_columns_are_required() {
    let products = parse_catalog_csv(
        "gtin,name,price_fen,unit,weight_g,tolerance_g\n96385074,Pen,100,each,,\n".as_bytes(),
    )
    .unwrap();
    assert_eq!(
        (
            products[0].gtin.as_str(),
            products[0].weight_g,
            products[0].min_age
        ),
        ("00000096385074", 0, 0)
    );
}

fn field_error(body: &str) -> (u64, &'static str) {
    match parse(body).unwrap_err() {
        CatalogCsvError::Field { line, column, .. } => (line, column),
        other => panic!("expected a field error, got {other}"),
    }
}

#[test]
fn a_wrong_check_digit_names_its_line_and_the_gtin_column() {
    let err = parse("6921168509256,ok,200,each,570,15,,,\n6921168509257,bad,200,each,570,15,,,\n")
        .unwrap_err();
    assert_eq!(err.line(), 3);
    let text = err.to_string();
    assert!(text.contains("line 3") && text.contains("gtin"), "{text}");
}

#[test]
fn each_bad_value_names_its_column() {
    assert_eq!(
        field_error("6921168509256,,200,each,570,15,,,\n"),
        (2, "name")
    );
    assert_eq!(
        field_error("6921168509256,x,2.5,each,570,15,,,\n"),
        (2, "price_fen")
    );
    assert_eq!(
        field_error("6921168509256,x,-1,each,570,15,,,\n"),
        (2, "price_fen")
    );
    assert_eq!(
        field_error("6921168509256,x,200,box,570,15,,,\n"),
        (2, "unit")
    );
    assert_eq!(
        field_error("6921168509256,x,200,each,heavy,15,,,\n"),
        (2, "weight_g")
    );
    assert_eq!(
        field_error("6921168509256,x,200,each,570,-3,,,\n"),
        (2, "tolerance_g")
    );
    assert_eq!(
        field_error("6921168509256,x,200,each,570,15,old,,\n"),
        (2, "min_age")
    );
    assert_eq!(
        field_error("6921168509256,x,200,each,570,15,,,123\n"),
        (2, "plu")
    );
}

#[test]
fn a_missing_column_and_a_ragged_line_are_reported() {
    let err = parse_catalog_csv("gtin,name,unit\n".as_bytes()).unwrap_err();
    assert!(
        matches!(err, CatalogCsvError::MissingColumn("price_fen")),
        "{err}"
    );
    let err = parse("6921168509256,x,200\n").unwrap_err();
    assert_eq!(err.line(), 2, "{err}");
}

#[test]
fn garbage_bytes_are_an_error_not_a_panic() {
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(b"\xff\xfe,\x00,1,each,1,1,,,\n");
    assert!(parse_catalog_csv(bytes.as_slice()).is_err());
}
