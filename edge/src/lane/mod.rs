//! Checkout lanes: the pure state machine ([`machine`]), the basket and its pricing ([`basket`]),
//! and the runner that connects one lane to its devices, the store and the cloud ([`runner`]).

pub mod basket;
pub mod machine;
pub mod runner;
#[cfg(test)]
mod tests;

pub use basket::{Basket, BasketItem, Measure};
pub use machine::{
    Action, AttemptStatus, Context, Lane, LaneEvent, LaneState, PaymentAttempt, PaymentOutcome,
    Prompt, Sale, Session, Step, Transition,
};
