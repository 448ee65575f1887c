//! Attendant rules: raising interventions, and the operator commands that clear them, void
//! items, override prices, open the gate by hand, and take the lane out of service (bringing it
//! back, cancelling a basket and resetting the lane are in `recovery`). Every
//! command is checked against the operator's role here too, not only at the API.

use chrono::{DateTime, Utc};

use super::cause::Cause;
use super::intervention::{Intervention, InterventionKind, OperatorAction, OperatorCommand};
use super::machine::{Action, Context, Handled, Lane, LaneState, Prompt, fen};

impl Lane {
    /// Opens an intervention: one per cause and line at a time. The same cause on the same line
    /// while one is open is counted on it (with the latest detail), not raised again.
    pub(super) fn raise(
        &mut self,
        kind: InterventionKind,
        detail: String,
        line: Option<u32>,
        now: DateTime<Utc>,
    ) {
        if let Some(open) = self
            .interventions
            .iter_mut()
            .find(|i| i.kind == kind && i.line == line)
        {
            open.repeats = open.repeats.saturating_add(1);
            open.detail = detail;
            return;
        }
        let id = self.next_intervention_id.max(1);
        self.next_intervention_id = id + 1;
        self.interventions.push(Intervention {
            id,
            kind,
            detail,
            line,
            raised_at: now,
            repeats: 0,
        });
    }

    pub(super) fn on_operator(
        &mut self,
        action: OperatorAction,
        ctx: &Context<'_>,
        actions: &mut Vec<Action>,
    ) -> Handled {
        if action.role < action.command.required_role() {
            return Err(format!(
                "{:?} needs the {:?} role",
                action.command,
                action.command.required_role()
            ));
        }
        if action.operator.trim().is_empty() {
            return Err("an operator action needs the operator's name".into());
        }
        match action.command {
            OperatorCommand::ClearIntervention { id, approve } => {
                let Some(index) = self.interventions.iter().position(|i| i.id == id) else {
                    return Err(format!("no open intervention {id} on lane {}", self.id));
                };
                let intervention = self.interventions.remove(index);
                if intervention.kind == InterventionKind::AgeRestricted
                    && !approve
                    && let Some(line) = intervention.line
                {
                    self.void_line(line, ctx)?;
                }
                if intervention.kind.is_weight()
                    && let Some(session) = self.session.as_mut()
                {
                    // The attendant checked the bagging area: it is right as it stands.
                    session.bagging.resync();
                } else if intervention.kind == InterventionKind::BaggingAreaNotEmpty {
                    // No basket: what the attendant left on the scale is the empty lane.
                    self.empty_g = self.scale_g.or(self.empty_g);
                }
                Ok(Cause::InterventionCleared)
            }
            OperatorCommand::VoidItem { line } => {
                if !matches!(self.state, LaneState::Shopping | LaneState::NeedsAttendant) {
                    return Err(format!("cannot void while the lane is {:?}", self.state));
                }
                self.void_line(line, ctx)?;
                Ok(Cause::ItemVoided)
            }
            OperatorCommand::OverridePrice { line, price_fen } => {
                if !matches!(self.state, LaneState::Shopping | LaneState::NeedsAttendant) {
                    return Err(format!(
                        "cannot change prices while the lane is {:?}",
                        self.state
                    ));
                }
                if price_fen < 0 {
                    return Err("a price cannot be negative".into());
                }
                let item = self
                    .session
                    .as_mut()
                    .and_then(|s| s.basket.items.iter_mut().find(|i| i.line == line))
                    .ok_or_else(|| format!("no line {line} in the basket"))?;
                item.price_fen = price_fen;
                item.unit_price_fen = if item.quantity > 0 {
                    price_fen / i64::from(item.quantity)
                } else {
                    price_fen
                };
                let text = format!("{} is now {}", item.name, fen(price_fen));
                if let Some(session) = self.session.as_mut() {
                    session.reprice(ctx);
                }
                self.prompt = Prompt::new("price_changed", text);
                Ok(Cause::PriceOverridden)
            }
            OperatorCommand::OpenGate => {
                actions.push(Action::OpenGate);
                Ok(Cause::GateOpenedByHand)
            }
            OperatorCommand::OutOfService => {
                if matches!(
                    self.state,
                    LaneState::Paying | LaneState::Paid | LaneState::Exiting
                ) {
                    return Err("a checkout is being paid; wait until it completes".into());
                }
                self.state = LaneState::OutOfService;
                self.prompt =
                    Prompt::new("closed", "This lane is closed. Please use another lane.");
                Ok(Cause::OutOfService)
            }
            OperatorCommand::ReturnToService => self.return_to_service(ctx, actions),
            OperatorCommand::CancelBasket => self.cancel_basket(ctx, actions),
            OperatorCommand::ResetLane => self.reset(ctx, actions),
            OperatorCommand::OwnBag => {
                if let Some(session) = self.session.as_mut() {
                    session.bagging.own_bag_allowed = true;
                }
                Ok(Cause::OwnBagAllowed)
            }
        }
    }

    /// Removes a basket line; the next stable weight is what the lane accounts for (the
    /// attendant takes the item away).
    fn void_line(&mut self, line: u32, ctx: &Context<'_>) -> Result<(), String> {
        let session = self.session.as_mut().ok_or("no basket")?;
        let index = session
            .basket
            .items
            .iter()
            .position(|i| i.line == line)
            .ok_or_else(|| format!("no line {line} in the basket"))?;
        let item = session.basket.items.remove(index);
        session.bagging.forget(line);
        session.bagging.absorb_next = true;
        session.reprice(ctx);
        self.interventions.retain(|i| i.line != Some(line));
        self.prompt = Prompt::new(
            "item_voided",
            format!(
                "{} removed — total {}",
                item.name,
                fen(session.basket.total_fen())
            ),
        );
        Ok(())
    }
}
