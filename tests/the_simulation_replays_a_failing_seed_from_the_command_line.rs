//! `omo sim` as a person runs it: a green run prints its summary and exits 0; a planted bug
//! exits 1 with the seed, the step and the command that replays it, and that command fails the
//! same way at the same step.

use std::process::{Command, Output};

fn omo_sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_omo"))
        .arg("sim")
        .args(args)
        .output()
        .expect("omo runs")
}

#[test]
fn a_green_run_prints_its_summary() {
    let out = omo_sim(&["--seed", "5", "--checkouts", "150", "--lanes", "2"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for field in [
        "checkouts      150",
        "payments",
        "faults",
        "crashes",
        "steps",
        "wall time",
        "checkouts/s",
        "trace hash",
    ] {
        assert!(stdout.contains(field), "{field} missing from:\n{stdout}");
    }
}

#[test]
fn a_failing_seed_replays_from_its_own_replay_line() {
    let bug = [
        "--seed",
        "1",
        "--checkouts",
        "3000",
        "--planted-bug",
        "no-query-after-lost-answer",
    ];
    let first = omo_sim(&bug);
    assert_eq!(first.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&first.stderr).to_string();
    assert!(stderr.contains("seed 1, step "), "{stderr}");
    assert!(
        stderr.contains("invariant \"no paid basket lost\""),
        "{stderr}"
    );
    let replay = stderr
        .lines()
        .find_map(|l| l.strip_prefix("replay: omo sim "))
        .unwrap_or_else(|| panic!("no replay line in:\n{stderr}"));
    let args: Vec<&str> = replay.split_whitespace().collect();
    let again = omo_sim(&args);
    assert_eq!(again.status.code(), Some(1));
    let headline = |text: &str| text.lines().next().unwrap_or_default().to_string();
    assert_eq!(
        headline(&String::from_utf8_lossy(&again.stderr)),
        headline(&stderr)
    );
}

#[test]
fn an_unknown_planted_bug_is_a_usage_error() {
    let out = omo_sim(&["--planted-bug", "typo"]);
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-query-after-lost-answer"));
}
