//! The checkout's IO: the runner that connects one lane's pure rules ([`crate::lane`]) to its
//! devices, the store and the cloud ([`runner`]), and the command inboxes through which the API
//! reaches a running lane ([`handles`]), and what the runner does around the rules, decided with
//! no IO so the simulation runs the same decisions ([`plan`]). The rules never call in here.

pub mod handles;
pub mod plan;
pub mod runner;
