//! `omo sim`: runs the seeded simulation of `omo-sim` and prints its summary; an invariant
//! broken prints the seed, the step and the command that replays it, and exits 1.

use anyhow::anyhow;

use crate::cli::SimArgs;
use crate::usage::UsageError;

/// The simulation's options from the command line.
pub fn options(args: &SimArgs) -> Result<omo_sim::SimOptions, UsageError> {
    let planted_bug = match args.planted_bug.as_deref() {
        None => None,
        Some(name) => Some(omo_sim::PlantedBug::from_name(name).ok_or_else(|| {
            UsageError(format!(
                "--planted-bug {name}: expected no-query-after-lost-answer or \
                 skip-query-before-cancel"
            ))
        })?),
    };
    if args.lanes == 0 || args.lanes > 64 {
        return Err(UsageError("--lanes must be between 1 and 64".into()));
    }
    if args.wallets == 0 || args.wallets > 10_000 {
        return Err(UsageError("--wallets must be between 1 and 10000".into()));
    }
    Ok(omo_sim::SimOptions {
        seed: args.seed,
        checkouts: args.checkouts,
        lanes: args.lanes,
        wallets: args.wallets,
        faults: if args.no_faults {
            omo_sim::Faults::none()
        } else {
            omo_sim::Faults::default()
        },
        planted_bug,
        ..omo_sim::SimOptions::default()
    })
}

/// Runs it (on a blocking thread: the simulation drives its own single-threaded runtime).
pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let options = options(&args)?;
    let outcome = tokio::task::spawn_blocking(move || omo_sim::run(&options)).await?;
    match outcome {
        Ok(report) => {
            println!("{report}");
            Ok(())
        }
        Err(failure) => Err(anyhow!("simulation failed: {failure}")),
    }
}
