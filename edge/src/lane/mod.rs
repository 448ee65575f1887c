//! Checkout lanes' pure rules (no IO): the state machine ([`machine`], with its rules in
//! `scanning`, `paying` and `attending`), the basket and its pricing ([`basket`]), weight
//! security ([`weight`]), interventions and operator commands ([`intervention`]), why a lane
//! stepped (`cause`: the [`Cause`] enum), and bringing a
//! lane back to idle ([`recovery`]). The runner that connects a lane to its devices, the store
//! and the cloud is [`crate::checkout`].

mod abandoned;
mod attending;
pub mod basket;
mod cause;
pub mod intervention;
pub mod machine;
mod paying;
pub mod pricing;
mod prompt;
pub mod recovery;
mod scanning;
#[cfg(test)]
mod tests;
pub mod weight;

pub use abandoned::{AbandonReason, AbandonedBasket};
pub use basket::{Basket, BasketItem, Discount, Measure};
pub use cause::Cause;
pub use intervention::{Intervention, InterventionKind, OperatorAction, OperatorCommand, Role};
pub use machine::{
    Action, AttemptStatus, Context, Lane, LaneEvent, LaneState, PaymentAttempt, PaymentOutcome,
    Prompt, Sale, Session, Step, Transition, WeightBook,
};
pub use pricing::PresentedCoupon;
pub use weight::{BaggingArea, WeightRules, WeightStats};
