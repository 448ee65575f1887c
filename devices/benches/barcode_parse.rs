//! Barcode parses per second over a mix of what a lane sees: EAN-13 (with and without an AIM
//! identifier), a GS1-128 element string, a GS1 Digital Link, in-store variable-measure labels and
//! a payment code.
//!
//! `cargo bench -p omo-devices --bench barcode_parse`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use omo_devices::barcode::{VariableMeasureFormats, gtin, parse};

fn with_check(body: &str) -> String {
    let c = gtin::check_digit(body).expect("digits");
    format!("{body}{c}")
}

fn mix() -> Vec<(&'static str, String)> {
    vec![
        ("ean13", "4006381333931".to_owned()),
        ("ean13_aim", "]E04006381333931".to_owned()),
        (
            "gs1_128",
            "]C101095011010209171719050810ABCD1234\u{1d}2110".to_owned(),
        ),
        (
            "digital_link",
            "]Q1https://trace.omo.example/01/09501101020917/10/ABCD%2F1234".to_owned(),
        ),
        ("variable_price", with_check("210004201234")),
        ("variable_weight", with_check("220004200750")),
        ("payment_code", "281234567887654321".to_owned()),
    ]
}

fn parses(c: &mut Criterion) {
    let formats = VariableMeasureFormats::default();
    let mix = mix();
    for (name, data) in &mix {
        assert!(parse(data, &formats).is_ok(), "{name} must parse: {data}");
    }

    let mut group = c.benchmark_group("barcode_parse");
    group.throughput(Throughput::Elements(mix.len() as u64));
    group.bench_function("mix", |b| {
        b.iter(|| {
            for (_, data) in &mix {
                black_box(parse(black_box(data), &formats).ok());
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("barcode_parse_one");
    group.throughput(Throughput::Elements(1));
    for (name, data) in &mix {
        group.bench_function(*name, |b| {
            b.iter(|| black_box(parse(black_box(data), &formats).ok()))
        });
    }
    group.finish();
}

criterion_group!(benches, parses);
criterion_main!(benches);
