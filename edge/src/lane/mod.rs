//! Checkout lanes: the pure state machine ([`machine`], with its rules in `scanning`, `paying`
//! and `attending`), the basket and its pricing ([`basket`]), weight security ([`weight`]),
//! interventions and operator commands ([`intervention`]), bringing a lane back to idle
//! ([`recovery`]), and the runner that connects one lane
//! to its devices, the store and the cloud ([`runner`]).

mod attending;
pub mod basket;
pub mod handles;
pub mod intervention;
pub mod machine;
mod paying;
pub mod pricing;
pub mod recovery;
pub mod runner;
mod scanning;
#[cfg(test)]
mod tests;
pub mod weight;

pub use basket::{Basket, BasketItem, Measure};
pub use intervention::{Intervention, InterventionKind, OperatorAction, OperatorCommand, Role};
pub use machine::{
    Action, AttemptStatus, Context, Lane, LaneEvent, LaneState, PaymentAttempt, PaymentOutcome,
    Prompt, Sale, Session, Step, Transition, WeightBook,
};
pub use pricing::{Discount, PresentedCoupon};
pub use recovery::{AbandonReason, AbandonedBasket};
pub use weight::{BaggingArea, WeightRules, WeightStats};
