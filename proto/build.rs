//! Compiles `omo/<area>/v1/*.proto` with protox (pure Rust, no system `protoc`) and writes the
//! file descriptor set next to the generated code for gRPC server reflection.

use prost::Message;

const PROTOS: &[&str] = &[
    "omo/payment/v1/payment.proto",
    "omo/catalog/v1/catalog.proto",
    "omo/shopper/v1/shopper.proto",
    "omo/store/v1/store.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    let fds = protox::compile(PROTOS, ["."])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("omo_descriptor.bin"), fds.encode_to_vec())?;
    // The shopper service's and the store directory's messages also travel as JSON (the web
    // app's API, cloud/src/app.rs).
    let json = "#[derive(serde::Serialize, serde::Deserialize)] #[serde(default)]";
    tonic_prost_build::configure()
        .type_attribute(".omo.shopper.v1", json)
        .type_attribute(".omo.store.v1", json)
        .compile_fds(fds)?;
    Ok(())
}
