//! The lane's payment client, as a state machine the event loop drives: the same rules as
//! `omo_edge::payment::PaymentClient::settle`, step for step, without tokio's timers or a socket.
//!
//! Authorize (skipped when resuming after a crash); a lost answer (time-out, transport error)
//! is never "failed": Query until the cloud answers; an order the cloud never saw is Cancelled so
//! a late Authorize cannot charge it; PENDING is polled every `pending_poll_ms` until the shopper
//! confirms or `pending_give_up_secs` pass, then cancelled; a Cancel that lost a race with a
//! success reports the success. Backoff 200 ms doubling to 5 s. Answers become lane outcomes
//! through the edge's own `outcome_of`. The [`PlantedBug`]s change exactly one rule each.

use omo_edge::config::PaymentConfig;
use omo_edge::lane::PaymentOutcome;
use omo_edge::payment::outcome_of;
use omo_proto::payment::{AuthorizeRequest, CancelRequest, Payment, PaymentStatus, QueryRequest};
use tonic::Code;

use crate::cloud::{Answer, Rpc};
use crate::options::PlantedBug;

/// What the client does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Do {
    /// Send this request (with the RPC time-out running).
    Send(Rpc),
    /// Tell the lane an intermediate outcome (PENDING, unknown).
    Progress(PaymentOutcome),
    /// Sleep this long, then send the current phase's request again.
    Sleep(u64),
    /// The final outcome, for the lane.
    Done(PaymentOutcome),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Authorize,
    Query,
    Cancel,
}

/// One order being settled.
#[derive(Debug, Clone)]
pub struct Payer {
    pub order_id: String,
    store_id: String,
    authorize: Option<AuthorizeRequest>,
    phase: Phase,
    cancel_reason: String,
    waited_pending_ms: u64,
    backoff_ms: u64,
    config: PaymentConfig,
    bug: Option<PlantedBug>,
}

/// Errors that are answers (the request was understood and refused), as the edge lists them.
fn is_definitive(code: Code) -> bool {
    matches!(
        code,
        Code::InvalidArgument
            | Code::FailedPrecondition
            | Code::PermissionDenied
            | Code::Unauthenticated
            | Code::AlreadyExists
            | Code::OutOfRange
    )
}

impl Payer {
    /// A client for `order_id`: with an Authorize to send, or (resuming) none.
    pub fn new(
        store_id: &str,
        order_id: &str,
        authorize: Option<AuthorizeRequest>,
        config: &PaymentConfig,
        bug: Option<PlantedBug>,
    ) -> Payer {
        Payer {
            order_id: order_id.to_string(),
            store_id: store_id.to_string(),
            authorize,
            phase: Phase::Query,
            cancel_reason: String::new(),
            waited_pending_ms: 0,
            backoff_ms: 200,
            config: config.clone(),
            bug,
        }
    }

    /// The first thing to do.
    pub fn start(&mut self) -> Vec<Do> {
        match self.authorize.take() {
            Some(request) => {
                self.phase = Phase::Authorize;
                vec![Do::Send(Rpc::Authorize(request))]
            }
            None => self.query(),
        }
    }

    fn query(&mut self) -> Vec<Do> {
        self.phase = Phase::Query;
        vec![Do::Send(Rpc::Query(QueryRequest {
            store_id: self.store_id.clone(),
            order_id: self.order_id.clone(),
        }))]
    }

    fn cancel(&mut self, reason: &str) -> Vec<Do> {
        self.phase = Phase::Cancel;
        self.cancel_reason = reason.to_string();
        self.backoff_ms = 200;
        vec![self.cancel_request()]
    }

    fn cancel_request(&self) -> Do {
        Do::Send(Rpc::Cancel(CancelRequest {
            store_id: self.store_id.clone(),
            order_id: self.order_id.clone(),
            reason: self.cancel_reason.clone(),
        }))
    }

    fn sleep(&mut self) -> Do {
        let ms = self.backoff_ms;
        self.backoff_ms = (self.backoff_ms * 2).min(5_000);
        Do::Sleep(ms)
    }

    /// The Authorize's answer never came (time-out or transport error).
    fn lost_authorize(&mut self) -> Vec<Do> {
        match self.bug {
            Some(PlantedBug::NoQueryAfterLostAnswer) => vec![Do::Done(PaymentOutcome::Declined {
                reason: "no answer from the cloud".into(),
            })],
            Some(PlantedBug::SkipQueryBeforeCancel) => {
                self.cancel("authorize answer lost; cancelling")
            }
            None => self.query(),
        }
    }

    fn on_payment(&mut self, payment: &Payment) -> Vec<Do> {
        self.backoff_ms = 200;
        match outcome_of(payment) {
            PaymentOutcome::Pending { payment_id } => {
                if self.waited_pending_ms >= self.config.pending_give_up_secs * 1000 {
                    return self.cancel("not confirmed in time");
                }
                let poll = self.config.pending_poll_ms;
                self.waited_pending_ms += poll;
                self.phase = Phase::Query;
                vec![
                    Do::Progress(PaymentOutcome::Pending { payment_id }),
                    Do::Sleep(poll),
                ]
            }
            outcome => vec![Do::Done(outcome)],
        }
    }

    /// The answer to the request in flight.
    pub fn on_answer(&mut self, answer: Answer) -> Vec<Do> {
        match (self.phase, answer) {
            (Phase::Authorize, Ok(payment)) | (Phase::Query, Ok(payment)) => {
                self.on_payment(&payment)
            }
            (Phase::Authorize, Err((code, message))) if is_definitive(code) => {
                vec![Do::Done(PaymentOutcome::Declined { reason: message })]
            }
            (Phase::Authorize, Err(_)) => self.lost_authorize(),
            (Phase::Query, Err((Code::NotFound, _))) => {
                self.cancel("authorize never reached the cloud")
            }
            (Phase::Query, Err((_, message))) => vec![
                Do::Progress(PaymentOutcome::Unreachable {
                    message: format!("cloud: {message}"),
                }),
                self.sleep(),
            ],
            (Phase::Cancel, Ok(payment)) => {
                if payment.status == PaymentStatus::Succeeded as i32 {
                    vec![Do::Done(outcome_of(&payment))]
                } else {
                    vec![Do::Done(PaymentOutcome::Cancelled {
                        reason: self.cancel_reason.clone(),
                    })]
                }
            }
            (Phase::Cancel, Err((code, message))) if is_definitive(code) => {
                vec![Do::Done(PaymentOutcome::Cancelled {
                    reason: format!("{} ({message})", self.cancel_reason),
                })]
            }
            (Phase::Cancel, Err(_)) => vec![self.sleep()],
        }
    }

    /// The request in flight timed out.
    pub fn on_timeout(&mut self) -> Vec<Do> {
        match self.phase {
            Phase::Authorize => self.lost_authorize(),
            Phase::Query => vec![
                Do::Progress(PaymentOutcome::Unreachable {
                    message: "cloud did not answer in time".into(),
                }),
                self.sleep(),
            ],
            Phase::Cancel => vec![self.sleep()],
        }
    }

    /// A sleep ended: the current phase's request again.
    pub fn on_wake(&mut self) -> Vec<Do> {
        match self.phase {
            Phase::Cancel => vec![self.cancel_request()],
            _ => self.query(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payment(status: PaymentStatus) -> Payment {
        Payment {
            order_id: "o-1".into(),
            payment_id: "p-1".into(),
            wallet_id: "12345678".into(),
            status: status as i32,
            ..Default::default()
        }
    }

    fn payer(bug: Option<PlantedBug>) -> Payer {
        let request = AuthorizeRequest {
            order_id: "o-1".into(),
            ..Default::default()
        };
        Payer::new("S", "o-1", Some(request), &PaymentConfig::default(), bug)
    }

    #[test]
    fn a_lost_answer_is_queried_and_an_unseen_order_cancelled() {
        let mut payer = payer(None);
        assert!(matches!(payer.start()[..], [Do::Send(Rpc::Authorize(_))]));
        assert!(matches!(payer.on_timeout()[..], [Do::Send(Rpc::Query(_))]));
        let cancel = payer.on_answer(Err((Code::NotFound, "no".into())));
        assert!(matches!(cancel[..], [Do::Send(Rpc::Cancel(_))]));
        // The cancel lost a race with the charge: the success is reported.
        let done = payer.on_answer(Ok(payment(PaymentStatus::Succeeded)));
        assert!(matches!(
            done[..],
            [Do::Done(PaymentOutcome::Succeeded { .. })]
        ));
    }

    #[test]
    fn pending_is_polled_then_cancelled_after_the_give_up() {
        let mut payer = payer(None);
        payer.start();
        let mut polls = 0;
        let mut next = payer.on_answer(Ok(payment(PaymentStatus::Pending)));
        while let [Do::Progress(_), Do::Sleep(_)] = next[..] {
            polls += 1;
            assert!(matches!(payer.on_wake()[..], [Do::Send(Rpc::Query(_))]));
            next = payer.on_answer(Ok(payment(PaymentStatus::Pending)));
        }
        assert_eq!(polls, 120);
        assert!(matches!(next[..], [Do::Send(Rpc::Cancel(_))]));
    }

    #[test]
    fn the_planted_bug_gives_up_on_a_lost_answer() {
        let mut payer = payer(Some(PlantedBug::NoQueryAfterLostAnswer));
        payer.start();
        assert!(matches!(
            payer.on_timeout()[..],
            [Do::Done(PaymentOutcome::Declined { .. })]
        ));
    }
}
