//! An operator's command at the runner: a step like any other, then audited with its outcome,
//! the basket (session) in front of the lane, and what the command dropped (the basket, its
//! total and the interventions it closed) when it dropped anything.

use chrono::Utc;
use serde_json::{Value, json};
use tracing::{error, info};

use super::Runner;
use crate::board::LaneView;
use crate::checkout::handles::LaneCommand;
use crate::db::AuditBasket;
use crate::lane::{Lane, LaneEvent};

impl Runner {
    /// Runs `command` as a step, audits it, and replies with the lane or the refusal.
    pub(super) async fn command(&mut self, command: LaneCommand) {
        let action = command.action.clone();
        let before = self.lane.clone();
        let refused = self.step(LaneEvent::Operator(command.action)).await;
        let outcome = refused.clone().unwrap_or_else(|| "ok".into());
        let basket = AuditBasket {
            session_id: before.session.as_ref().map(|s| s.id.clone()),
            dropped: refused
                .is_none()
                .then(|| dropped(&before, &self.lane))
                .flatten(),
        };
        if let Err(error) = self
            .ctx
            .db
            .audit_lane_action(&self.lane.id, &action, &outcome, &basket, Utc::now())
            .await
        {
            error!(lane = %self.lane.id, %error, "cannot record an operator action");
        }
        info!(lane = %self.lane.id, operator = %action.operator, command = ?action.command, reason = %action.reason, %outcome, "operator action");
        let reply = match refused {
            None => Ok(LaneView::new(&self.ctx.config.store_id, &self.lane)),
            Some(reason) => Err(reason),
        };
        let _ = command.reply.send(reply);
    }
}

/// What a command dropped: the session that was in front of the lane and is gone now (its
/// lines and total), and the interventions it closed. None when it dropped nothing.
fn dropped(before: &Lane, after: &Lane) -> Option<Value> {
    let session = before
        .session
        .as_ref()
        .filter(|s| after.session.as_ref().is_none_or(|a| a.id != s.id));
    let closed: Vec<Value> = before
        .interventions
        .iter()
        .filter(|i| !after.interventions.iter().any(|a| a.id == i.id))
        .map(|i| json!({ "id": i.id, "kind": i.kind, "line": i.line, "repeats": i.repeats }))
        .collect();
    if session.is_none() && closed.is_empty() {
        return None;
    }
    let mut dropped = json!({ "from_state": before.state, "interventions": closed });
    if let Some(session) = session {
        dropped["session_id"] = json!(session.id);
        dropped["item_count"] = json!(session.basket.item_count());
        dropped["total_fen"] = json!(session.basket.total_fen());
        dropped["scale_g"] = json!(after.scale_g);
        dropped["paid"] = json!(session.payment.as_ref().is_some_and(
            |p| p.exit_pass.is_some() || p.status == crate::lane::AttemptStatus::Succeeded
        ));
        dropped["items"] = json!(
            session
                .basket
                .items
                .iter()
                .map(|i| json!({ "line": i.line, "gtin": i.gtin, "name": i.name, "quantity": i.quantity, "price_fen": i.price_fen }))
                .collect::<Vec<_>>()
        );
    }
    Some(dropped)
}
