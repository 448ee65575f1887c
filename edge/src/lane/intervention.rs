//! Interventions (what stops a lane until an attendant comes) and the operator commands that
//! clear them, with the role each command needs. Pure data: the machine applies them, the API
//! checks roles with the same table.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Why an attendant is needed (the alert's reason code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterventionKind {
    /// An age-restricted item needs the shopper's age checked.
    AgeRestricted,
    /// Weight arrived on the bagging scale that no scan explains.
    UnexpectedItem,
    /// A scanned item did not reach the bagging scale in time.
    ItemNotBagged,
    /// A bagged item weighs other than expected.
    WeightMismatch,
    /// Something was taken off the bagging scale.
    ItemRemoved,
    /// Two people passed the exit gate on one opening.
    Tailgating,
    /// Someone passed the exit gate while it was closed.
    ForcedPassage,
    /// The exit gate could not be driven.
    GateFault,
    /// A code carried a price for a product that is not sold by label: the price was not
    /// believed and the item was not added.
    PriceNotBelieved,
    /// A basket opened (or the lane came back to idle after a cancel, reset or return to
    /// service) with weight on the bagging scale above the lane's empty weight: goods left
    /// behind, which must not become the next shopper's tare.
    BaggingAreaNotEmpty,
}

impl InterventionKind {
    /// Whether the lane stops for it. Gate alerts are raised for operators but do not stop the
    /// next shopper's checkout.
    pub fn blocks(self) -> bool {
        !matches!(
            self,
            Self::Tailgating | Self::ForcedPassage | Self::GateFault
        )
    }

    /// Whether it is about the bagging scale (such alerts clear themselves when the weight is
    /// put right).
    pub fn is_weight(self) -> bool {
        matches!(
            self,
            Self::UnexpectedItem
                | Self::ItemNotBagged
                | Self::WeightMismatch
                | Self::ItemRemoved
                | Self::BaggingAreaNotEmpty
        )
    }
}

/// One open intervention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intervention {
    /// Unique within the lane.
    pub id: u32,
    pub kind: InterventionKind,
    /// What the attendant needs to know.
    pub detail: String,
    /// The basket line it concerns, if any.
    pub line: Option<u32>,
    pub raised_at: DateTime<Utc>,
    /// How many more times the same cause on the same line was seen while this one was open
    /// (one intervention per cause and line; repeats are counted, not raised again).
    #[serde(default)]
    pub repeats: u32,
}

/// An operator's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Attendant,
    Manager,
}

/// What an operator can do to a lane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum OperatorCommand {
    /// Close an intervention: approve (the check passed) or reject (for an age check, the item is
    /// removed from the basket).
    ClearIntervention { id: u32, approve: bool },
    /// Remove a basket line.
    VoidItem { line: u32 },
    /// Set a line's price.
    OverridePrice { line: u32, price_fen: i64 },
    /// Open the exit gate by hand.
    OpenGate,
    /// Take the lane out of service (not while a payment is in flight).
    OutOfService,
    /// Put the lane back in service.
    ReturnToService,
    /// The shopper uses their own bag: the next light weight on the scale is accepted.
    OwnBag,
    /// Drop the shopper's basket (recorded as abandoned) and make the lane idle; refused while
    /// a payment is in flight or once the basket is paid.
    CancelBasket,
    /// Bring the lane back to idle from wherever it is: the basket (if unpaid) recorded as
    /// abandoned, every intervention closed, out of service or closed put back in service.
    /// Refused only while a payment is in flight.
    ResetLane,
}

impl OperatorCommand {
    /// The least role that may give this command.
    pub fn required_role(&self) -> Role {
        match self {
            Self::ClearIntervention { .. }
            | Self::VoidItem { .. }
            | Self::OwnBag
            | Self::CancelBasket => Role::Attendant,
            Self::OverridePrice { .. }
            | Self::OpenGate
            | Self::OutOfService
            | Self::ReturnToService
            | Self::ResetLane => Role::Manager,
        }
    }
}

/// A command with who gave it and why, as audited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorAction {
    pub operator: String,
    pub role: Role,
    pub reason: String,
    #[serde(flatten)]
    pub command: OperatorCommand,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attendants_clear_and_void_managers_do_the_rest() {
        assert_eq!(
            OperatorCommand::ClearIntervention {
                id: 1,
                approve: true
            }
            .required_role(),
            Role::Attendant
        );
        assert_eq!(
            OperatorCommand::VoidItem { line: 1 }.required_role(),
            Role::Attendant
        );
        assert_eq!(OperatorCommand::OpenGate.required_role(), Role::Manager);
        assert_eq!(OperatorCommand::OutOfService.required_role(), Role::Manager);
        assert_eq!(
            OperatorCommand::CancelBasket.required_role(),
            Role::Attendant
        );
        assert_eq!(OperatorCommand::ResetLane.required_role(), Role::Manager);
        assert!(Role::Manager > Role::Attendant);
    }

    #[test]
    fn actions_read_as_flat_json() {
        let action: OperatorAction = serde_json::from_str(
            r#"{"operator":"li","role":"attendant","reason":"ID checked","command":"clear_intervention","id":3,"approve":true}"#,
        )
        .unwrap();
        assert_eq!(
            action.command,
            OperatorCommand::ClearIntervention {
                id: 3,
                approve: true
            }
        );
    }

    #[test]
    fn gate_alerts_do_not_block_weight_alerts_do() {
        assert!(!InterventionKind::Tailgating.blocks());
        assert!(InterventionKind::UnexpectedItem.blocks());
        assert!(InterventionKind::ItemRemoved.is_weight());
        assert!(!InterventionKind::AgeRestricted.is_weight());
        assert!(InterventionKind::BaggingAreaNotEmpty.blocks());
        assert!(InterventionKind::BaggingAreaNotEmpty.is_weight());
    }
}
