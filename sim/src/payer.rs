//! The lane's payment client in the simulation: the edge's own [`Settle`] machine (the rules
//! `omo_edge::payment::PaymentClient::settle` runs over gRPC), driven by the event loop instead
//! of tokio's timers and a socket, with a [`PlantedBug`], if one is asked for, laid over it.
//!
//! A planted bug changes exactly one rule, from outside the edge's code: the machine decides,
//! and where its decision is the rule the bug breaks, the bug's decision replaces it.

use omo_edge::config::PaymentConfig;
use omo_edge::lane::PaymentOutcome;
use omo_edge::payment::{Answer, Order, Phase, Request, Settle, Step, Then};

use crate::options::PlantedBug;

/// One order being settled.
#[derive(Debug, Clone)]
pub struct Payer {
    settle: Settle,
    bug: Option<PlantedBug>,
}

impl Payer {
    /// The client for `order` at store `store_id`.
    pub fn new(
        store_id: &str,
        order: Order,
        config: &PaymentConfig,
        bug: Option<PlantedBug>,
    ) -> Payer {
        Payer {
            settle: Settle::new(store_id, order, config),
            bug,
        }
    }

    /// The order being settled.
    pub fn order_id(&self) -> &str {
        self.settle.order_id()
    }

    /// The first move.
    pub fn start(&mut self) -> Step {
        self.settle.start()
    }

    /// The answer to the request in flight.
    pub fn on_answer(&mut self, answer: Answer) -> Step {
        let phase = self.settle.phase();
        let step = self.settle.on_answer(answer);
        self.planted(phase, step)
    }

    /// The request in flight timed out.
    pub fn on_timeout(&mut self) -> Step {
        let phase = self.settle.phase();
        let step = self.settle.on_timeout();
        self.planted(phase, step)
    }

    /// A sleep ended.
    pub fn on_wake(&mut self) -> Step {
        self.settle.on_wake()
    }

    /// The machine's move, or the planted bug's where it breaks the rule: both bugs are about an
    /// Authorize whose answer was lost, which the machine follows with a Query.
    fn planted(&mut self, phase: Phase, step: Step) -> Step {
        let lost_authorize =
            phase == Phase::Authorize && matches!(step.then, Then::Send(Request::Query(_)));
        match self.bug {
            Some(PlantedBug::NoQueryAfterLostAnswer) if lost_authorize => Step {
                progress: None,
                then: Then::Done(PaymentOutcome::Declined {
                    reason: "no answer from the cloud".into(),
                }),
            },
            Some(PlantedBug::SkipQueryBeforeCancel) if lost_authorize => {
                self.settle.cancel("authorize answer lost; cancelling")
            }
            _ => step,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payer(bug: Option<PlantedBug>) -> Payer {
        let order = Order {
            order_id: "o-1".into(),
            amount_fen: 100,
            payment_code: Some("281234567812345678".into()),
            description: String::new(),
            coupon_ids: Vec::new(),
            pre_coupon_fen: 100,
            coupon_shares: Vec::new(),
        };
        Payer::new("S", order, &PaymentConfig::default(), bug)
    }

    fn sends(step: &Step) -> Option<&'static str> {
        match &step.then {
            Then::Send(request) => Some(request.name()),
            _ => None,
        }
    }

    #[test]
    fn without_a_bug_the_edges_rules_run() {
        let mut payer = payer(None);
        assert_eq!(sends(&payer.start()), Some("authorize"));
        assert_eq!(sends(&payer.on_timeout()), Some("query"));
    }

    #[test]
    fn the_planted_bug_gives_up_on_a_lost_answer() {
        let mut payer = payer(Some(PlantedBug::NoQueryAfterLostAnswer));
        payer.start();
        assert!(matches!(
            payer.on_timeout().then,
            Then::Done(PaymentOutcome::Declined { .. })
        ));
    }

    #[test]
    fn the_other_bug_cancels_at_once() {
        let mut payer = payer(Some(PlantedBug::SkipQueryBeforeCancel));
        payer.start();
        let answer = Err((tonic::Code::Unavailable, "refused".into()));
        assert_eq!(sends(&payer.on_answer(answer)), Some("cancel"));
    }
}
