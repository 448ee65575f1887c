//! The arguments of `omo trace` (look up an origin, import a supplier's file, record a
//! transformation) and `omo label`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// `omo trace`: look up a Digital Link, or record a lot's life at the edge.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TraceArgs {
    #[command(subcommand)]
    pub command: Option<TraceCommand>,
    /// A GS1 Digital Link (`https://id.gs1.org/01/{gtin}/10/{lot}`, as in the QR code).
    pub url: Option<String>,
    /// Ask this resolver instead of the link's own host (e.g. http://127.0.0.1:8081).
    #[arg(long, env = "OMO_RESOLVER")]
    pub resolver: Option<String>,
    /// Print the EPCIS query document instead of the journey.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum TraceCommand {
    /// Import a supplier's receiving file (EPCIS JSON-LD document or CSV) into the edge's outbox.
    Import(ImportArgs),
    /// Record a transformation: input lots became output lots.
    Transform(TransformArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file: EPCIS 2.0 JSON-LD, or CSV with gtin,lot,farm[,harvest_date,certificates,temperatures,...].
    pub file: PathBuf,
    /// The edge's config (its store_id and data_dir).
    #[arg(long, short)]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
pub struct TransformArgs {
    /// The edge's config (its store_id and data_dir).
    #[arg(long, short)]
    pub config: PathBuf,
    /// An input lot: GTIN,LOT[,QUANTITY[,UOM]] (repeat for several).
    #[arg(long = "input", required = true)]
    pub inputs: Vec<String>,
    /// An output lot: GTIN,LOT[,QUANTITY[,UOM]] (repeat for several).
    #[arg(long = "output", required = true)]
    pub outputs: Vec<String>,
    /// Where in the store (`fish-counter`, `scale-2`).
    #[arg(long, default_value = "fish-counter")]
    pub station: String,
    /// When (RFC 3339); now by default.
    #[arg(long)]
    pub at: Option<String>,
}

/// `omo label`: the QR code of a lot's GS1 Digital Link.
#[derive(Debug, Args)]
pub struct LabelArgs {
    /// The product's GTIN (8, 12, 13 or 14 digits).
    pub gtin: String,
    /// The lot (batch) number.
    pub lot: String,
    /// Write the code here (`.png` or `.svg`); without it, print the link and the code as text.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// The resolver's host in the link.
    #[arg(long, default_value = "https://id.gs1.org", env = "OMO_RESOLVER_HOST")]
    pub resolver: String,
    /// Size of one QR module in pixels (PNG) or units (SVG).
    #[arg(long, default_value_t = 8)]
    pub module: u32,
}
