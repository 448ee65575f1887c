//! MQTT topic names, exactly as CONTRACT.md fixes them: written once, in [`omo_contract::topics`].

pub use omo_contract::topics::*;
