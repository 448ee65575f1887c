//! Settling one order, as a state machine with no IO: the rules of barcode pay from the lane's
//! side, which `PaymentClient::settle` drives over gRPC and tokio's timers and the simulation
//! (`omo-sim`) drives over its simulated network and clock.
//!
//! Authorize (skipped when resuming after a crash); a lost answer (time-out, transport error) is
//! never "failed": Query until the cloud answers; an order the cloud never saw is Cancelled, so a
//! late Authorize cannot charge it. PENDING is polled every `pending_poll_ms` until the shopper
//! confirms or `pending_give_up_secs` pass, then cancelled; a Cancel that lost a race with a
//! success reports the success. Transport trouble backs off from 200 ms, doubling to 5 s.
//!
//! The driver sends each [`Request`] with the RPC time-out running and hands back exactly one of
//! [`Settle::on_answer`] or [`Settle::on_timeout`]; after a [`Then::Sleep`], [`Settle::on_wake`].

use std::time::Duration;

use omo_proto::payment::{
    AuthorizeRequest, CancelRequest, CouponShare, Payment, PaymentStatus, QueryRequest,
};
use tonic::Code;

use super::outcome::{is_definitive, outcome_of};
use crate::config::PaymentConfig;
use crate::lane::PaymentOutcome;

/// One order to settle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub order_id: String,
    pub amount_fen: i64,
    /// The scanned payment code; `None` when resuming an order after a restart.
    pub payment_code: Option<String>,
    pub description: String,
    /// Coupons applied to the amount, redeemed with the charge.
    pub coupon_ids: Vec<String>,
    /// The basket before coupons, and each coupon's (id, base, discount), for the cloud to check.
    pub pre_coupon_fen: i64,
    pub coupon_shares: Vec<(String, i64, i64)>,
}

/// A request to the cloud's payment service.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Authorize(AuthorizeRequest),
    Query(QueryRequest),
    Cancel(CancelRequest),
}

impl Request {
    /// The order the request is about.
    pub fn order_id(&self) -> &str {
        match self {
            Request::Authorize(r) => &r.order_id,
            Request::Query(r) => &r.order_id,
            Request::Cancel(r) => &r.order_id,
        }
    }

    /// The RPC's name, for logs and traces.
    pub fn name(&self) -> &'static str {
        match self {
            Request::Authorize(_) => "authorize",
            Request::Query(_) => "query",
            Request::Cancel(_) => "cancel",
        }
    }
}

/// The cloud's answer: the payment it carries (if any), or the gRPC status code and message.
pub type Answer = Result<Option<Payment>, (Code, String)>;

/// What the driver does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Then {
    /// Send this request, with the RPC time-out running.
    Send(Request),
    /// Wait this long, then call [`Settle::on_wake`].
    Sleep(Duration),
    /// The final outcome, for the lane.
    Done(PaymentOutcome),
}

/// One move: an intermediate outcome to tell the lane first (PENDING, unknown), then what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub progress: Option<PaymentOutcome>,
    pub then: Then,
}

impl Step {
    fn then(then: Then) -> Step {
        Step {
            progress: None,
            then,
        }
    }
}

/// The request the machine waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Authorize,
    Query,
    Cancel,
}

const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One order being settled.
#[derive(Debug, Clone)]
pub struct Settle {
    order_id: String,
    store_id: String,
    authorize: Option<AuthorizeRequest>,
    phase: Phase,
    cancel_reason: String,
    waited_pending: Duration,
    backoff: Duration,
    poll: Duration,
    give_up: Duration,
}

impl Settle {
    /// The machine for `order` at store `store_id`: it authorizes when the order carries a
    /// payment code, and queries first when it does not (resuming after a restart).
    pub fn new(store_id: &str, order: Order, config: &PaymentConfig) -> Settle {
        let authorize = order.payment_code.map(|payment_code| AuthorizeRequest {
            store_id: store_id.to_string(),
            order_id: order.order_id.clone(),
            amount_fen: order.amount_fen,
            payment_code,
            description: order.description,
            coupon_ids: order.coupon_ids,
            pre_coupon_fen: order.pre_coupon_fen,
            coupon_shares: order
                .coupon_shares
                .into_iter()
                .map(|(coupon_id, base_fen, discount_fen)| CouponShare {
                    coupon_id,
                    base_fen,
                    discount_fen,
                })
                .collect(),
        });
        Settle {
            order_id: order.order_id,
            store_id: store_id.to_string(),
            authorize,
            phase: Phase::Query,
            cancel_reason: String::new(),
            waited_pending: Duration::ZERO,
            backoff: FIRST_BACKOFF,
            poll: Duration::from_millis(config.pending_poll_ms),
            give_up: Duration::from_secs(config.pending_give_up_secs),
        }
    }

    /// The order being settled.
    pub fn order_id(&self) -> &str {
        &self.order_id
    }

    /// The request the machine waits on (or will send again after a sleep).
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The first move.
    pub fn start(&mut self) -> Step {
        match self.authorize.take() {
            Some(request) => {
                self.phase = Phase::Authorize;
                Step::then(Then::Send(Request::Authorize(request)))
            }
            None => self.query(),
        }
    }

    /// The answer to the request in flight.
    pub fn on_answer(&mut self, answer: Answer) -> Step {
        match (self.phase, answer) {
            (Phase::Authorize | Phase::Query, Ok(Some(payment))) => self.on_payment(&payment),
            // An Authorize answered without its payment is as good as lost.
            (Phase::Authorize, Ok(None)) => self.query(),
            (Phase::Authorize, Err((code, message))) if is_definitive(code) => {
                Step::then(Then::Done(PaymentOutcome::Declined { reason: message }))
            }
            (Phase::Authorize, Err(_)) => self.query(),
            // The cloud never saw the order: close it so a delayed Authorize can't land.
            (Phase::Query, Ok(None)) | (Phase::Query, Err((Code::NotFound, _))) => {
                self.cancel("authorize never reached the cloud")
            }
            (Phase::Query, Err((_, message))) => self.unreachable(format!("cloud: {message}")),
            (Phase::Cancel, Ok(payment)) => Step::then(Then::Done(match payment {
                // A cancel that lost a race with a success reports the success.
                Some(payment) if payment.status == PaymentStatus::Succeeded as i32 => {
                    outcome_of(&payment)
                }
                _ => PaymentOutcome::Cancelled {
                    reason: self.cancel_reason.clone(),
                },
            })),
            (Phase::Cancel, Err((code, message))) if is_definitive(code) => {
                Step::then(Then::Done(PaymentOutcome::Cancelled {
                    reason: format!("{} ({message})", self.cancel_reason),
                }))
            }
            (Phase::Cancel, Err(_)) => self.back_off(),
        }
    }

    /// The request in flight went unanswered within the RPC time-out.
    pub fn on_timeout(&mut self) -> Step {
        match self.phase {
            Phase::Authorize => self.query(),
            Phase::Query => self.unreachable("cloud did not answer in time".into()),
            Phase::Cancel => self.back_off(),
        }
    }

    /// A sleep ended: the current phase's request again.
    pub fn on_wake(&mut self) -> Step {
        match self.phase {
            Phase::Cancel => Step::then(Then::Send(self.cancel_request())),
            Phase::Authorize | Phase::Query => self.query(),
        }
    }

    /// Cancels the order, retrying until the cloud confirms.
    pub fn cancel(&mut self, reason: &str) -> Step {
        self.phase = Phase::Cancel;
        self.cancel_reason = reason.to_string();
        self.backoff = FIRST_BACKOFF;
        Step::then(Then::Send(self.cancel_request()))
    }

    fn on_payment(&mut self, payment: &Payment) -> Step {
        self.backoff = FIRST_BACKOFF;
        match outcome_of(payment) {
            PaymentOutcome::Pending { payment_id } => {
                if self.waited_pending >= self.give_up {
                    return self.cancel("not confirmed in time");
                }
                self.waited_pending += self.poll;
                self.phase = Phase::Query;
                Step {
                    progress: Some(PaymentOutcome::Pending { payment_id }),
                    then: Then::Sleep(self.poll),
                }
            }
            outcome => Step::then(Then::Done(outcome)),
        }
    }

    fn query(&mut self) -> Step {
        self.phase = Phase::Query;
        Step::then(Then::Send(Request::Query(QueryRequest {
            store_id: self.store_id.clone(),
            order_id: self.order_id.clone(),
        })))
    }

    fn cancel_request(&self) -> Request {
        Request::Cancel(CancelRequest {
            store_id: self.store_id.clone(),
            order_id: self.order_id.clone(),
            reason: self.cancel_reason.clone(),
        })
    }

    fn unreachable(&mut self, message: String) -> Step {
        Step {
            progress: Some(PaymentOutcome::Unreachable { message }),
            ..self.back_off()
        }
    }

    fn back_off(&mut self) -> Step {
        let pause = self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        Step::then(Then::Sleep(pause))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payment(status: PaymentStatus) -> Answer {
        Ok(Some(Payment {
            order_id: "o-1".into(),
            payment_id: "p-1".into(),
            wallet_id: "12345678".into(),
            status: status as i32,
            ..Default::default()
        }))
    }

    fn order(code: Option<&str>) -> Order {
        Order {
            order_id: "o-1".into(),
            amount_fen: 1250,
            payment_code: code.map(str::to_string),
            description: "Omo S lane 1".into(),
            coupon_ids: vec!["c-1".into()],
            pre_coupon_fen: 1500,
            coupon_shares: vec![("c-1".into(), 1500, 250)],
        }
    }

    fn settle(code: Option<&str>) -> Settle {
        Settle::new("S", order(code), &PaymentConfig::default())
    }

    fn sends(step: &Step) -> Option<&'static str> {
        match &step.then {
            Then::Send(request) => Some(request.name()),
            _ => None,
        }
    }

    #[test]
    fn the_authorize_carries_the_order_and_its_coupon_shares() {
        let mut machine = settle(Some("281234567812345678"));
        let Then::Send(Request::Authorize(request)) = machine.start().then else {
            panic!("not an authorize");
        };
        assert_eq!(request.store_id, "S");
        assert_eq!(request.amount_fen, 1250);
        assert_eq!(request.pre_coupon_fen, 1500);
        assert_eq!(request.coupon_shares[0].discount_fen, 250);
    }

    #[test]
    fn a_resumed_order_is_queried_first() {
        assert_eq!(sends(&settle(None).start()), Some("query"));
    }

    #[test]
    fn a_lost_answer_is_queried_and_an_unseen_order_cancelled() {
        let mut machine = settle(Some("281234567812345678"));
        machine.start();
        assert_eq!(sends(&machine.on_timeout()), Some("query"));
        let cancel = machine.on_answer(Err((Code::NotFound, "no such order".into())));
        assert_eq!(sends(&cancel), Some("cancel"));
        // The cancel lost a race with the charge: the success is reported.
        let done = machine.on_answer(payment(PaymentStatus::Succeeded));
        assert!(matches!(
            done.then,
            Then::Done(PaymentOutcome::Succeeded { .. })
        ));
    }

    #[test]
    fn a_transport_error_on_authorize_is_unknown_not_declined() {
        let mut machine = settle(Some("281234567812345678"));
        machine.start();
        let next = machine.on_answer(Err((Code::Unavailable, "connection refused".into())));
        assert_eq!(sends(&next), Some("query"));
    }

    #[test]
    fn a_refusal_declines_with_the_clouds_words() {
        let mut machine = settle(Some("281234567812345678"));
        machine.start();
        let done = machine.on_answer(Err((Code::FailedPrecondition, "code used".into())));
        assert_eq!(
            done.then,
            Then::Done(PaymentOutcome::Declined {
                reason: "code used".into()
            })
        );
    }

    #[test]
    fn an_unreachable_cloud_is_reported_and_backed_off_to_five_seconds() {
        let mut machine = settle(None);
        machine.start();
        let mut pauses = Vec::new();
        for _ in 0..7 {
            let step = machine.on_timeout();
            assert!(matches!(
                step.progress,
                Some(PaymentOutcome::Unreachable { .. })
            ));
            let Then::Sleep(pause) = step.then else {
                panic!("no back-off");
            };
            pauses.push(pause.as_millis());
            assert_eq!(sends(&machine.on_wake()), Some("query"));
        }
        assert_eq!(pauses, [200, 400, 800, 1600, 3200, 5000, 5000]);
        // An answer resets the back-off.
        machine.on_answer(payment(PaymentStatus::Pending));
        machine.on_wake();
        let Then::Sleep(pause) = machine.on_timeout().then else {
            panic!("no back-off");
        };
        assert_eq!(pause.as_millis(), 200);
    }

    #[test]
    fn pending_is_polled_then_cancelled_after_the_give_up() {
        let mut machine = settle(Some("281234567812345678"));
        machine.start();
        let mut polls = 0;
        let mut next = machine.on_answer(payment(PaymentStatus::Pending));
        while let Then::Sleep(_) = next.then {
            assert!(matches!(
                next.progress,
                Some(PaymentOutcome::Pending { .. })
            ));
            polls += 1;
            assert_eq!(sends(&machine.on_wake()), Some("query"));
            next = machine.on_answer(payment(PaymentStatus::Pending));
        }
        assert_eq!(polls, 120);
        assert_eq!(sends(&next), Some("cancel"));
        // A cancel that is refused still ends the order, saying why.
        let done = machine.on_answer(Err((Code::FailedPrecondition, "already final".into())));
        assert_eq!(
            done.then,
            Then::Done(PaymentOutcome::Cancelled {
                reason: "not confirmed in time (already final)".into()
            })
        );
    }

    #[test]
    fn a_cancel_without_an_answer_is_sent_again() {
        let mut machine = settle(None);
        machine.start();
        machine.on_answer(Ok(None));
        assert_eq!(machine.phase(), Phase::Cancel);
        assert!(matches!(machine.on_timeout().then, Then::Sleep(_)));
        assert_eq!(sends(&machine.on_wake()), Some("cancel"));
        let done = machine.on_answer(payment(PaymentStatus::Cancelled));
        assert_eq!(
            done.then,
            Then::Done(PaymentOutcome::Cancelled {
                reason: "authorize never reached the cloud".into()
            })
        );
    }
}
