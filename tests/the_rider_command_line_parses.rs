//! `omo rider`'s arguments (src/rider.rs, compiled here too until the binary wires it in).

#[allow(dead_code)]
#[path = "../src/rider.rs"]
mod rider;

use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    rider: rider::RiderArgs,
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
