//! `cargo run --release -p omo-sim --example run -- SEED CHECKOUTS [LANES]`: one run, its report.

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let options = omo_sim::SimOptions {
        seed: args.first().copied().unwrap_or(1),
        checkouts: args.get(1).copied().unwrap_or(1_000),
        lanes: args.get(2).map_or(4, |&l| l as usize),
        ..Default::default()
    };
    match omo_sim::run(&options) {
        Ok(report) => println!("{report}"),
        Err(failure) => {
            eprintln!("{failure}");
            std::process::exit(1);
        }
    }
}
