//! The store-wide alert queue: every open intervention of every lane, oldest first, with the
//! basket line it concerns (`GET /api/alerts`), and clearing several at once with one reason
//! (`POST /api/alerts/clear`). Clearing goes through each lane's own command inbox, exactly as
//! `POST /api/lanes/{id}/actions` with `clear_intervention` does, so each clear is audited on
//! its lane under the operator of the session.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::board::{LaneView, reason_label};
use crate::context::EdgeContext;
use crate::lane::{OperatorAction, OperatorCommand};
use crate::web::Operator;

/// The most alerts one `POST /api/alerts/clear` may name.
pub const MAX_CLEAR: usize = 100;

/// The longest reason an operator may give (for a lane command, an alert cleared, a refund):
/// enough to explain, too little to flood the audit trail.
pub const MAX_REASON_BYTES: usize = 200;

/// One open alert in the queue.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct QueuedAlert {
    pub lane_id: String,
    /// The intervention's id on its lane.
    pub id: u32,
    /// The cause (`unexpected_item`, `weight_mismatch`, ...).
    pub kind: String,
    pub detail: String,
    pub line: Option<u32>,
    /// The name of the basket line it concerns, if any.
    pub item: Option<String>,
    pub raised_at: String,
    pub age_s: i64,
    /// How many times the same cause on the same line came again while it was open.
    pub repeats: u32,
}

/// Every open alert of `lanes`, oldest first (ties by lane, then id).
pub fn queue(lanes: &[LaneView], now: chrono::DateTime<Utc>) -> Vec<QueuedAlert> {
    let mut alerts: Vec<(chrono::DateTime<Utc>, QueuedAlert)> = lanes
        .iter()
        .flat_map(|view| {
            let items = view.lane.session.as_ref().map(|s| &s.basket.items);
            view.lane.interventions.iter().map(move |i| {
                let item = i.line.and_then(|line| {
                    items.and_then(|items| items.iter().find(|it| it.line == line))
                });
                (
                    i.raised_at,
                    QueuedAlert {
                        lane_id: view.lane.id.clone(),
                        id: i.id,
                        kind: reason_label(i.kind),
                        detail: i.detail.clone(),
                        line: i.line,
                        item: item.map(|it| it.name.clone()),
                        raised_at: omo_contract::time::wire(i.raised_at),
                        age_s: (now - i.raised_at).num_seconds().max(0),
                        repeats: i.repeats,
                    },
                )
            })
        })
        .collect();
    alerts.sort_by(|(a, x), (b, y)| {
        a.cmp(b)
            .then_with(|| natural(&x.lane_id).cmp(&natural(&y.lane_id)))
            .then(x.id.cmp(&y.id))
    });
    alerts.into_iter().map(|(_, alert)| alert).collect()
}

/// A lane id as a sort key: numbers by value, before other ids.
fn natural(id: &str) -> (u8, u64, String) {
    match id.parse::<u64>() {
        Ok(n) => (0, n, String::new()),
        Err(_) => (1, 0, id.to_string()),
    }
}

/// `GET /api/alerts` (operators).
pub async fn list(State(ctx): State<Arc<EdgeContext>>, _operator: Operator) -> Response {
    let alerts = queue(&ctx.board.lanes(), Utc::now());
    Json(json!({ "count": alerts.len(), "alerts": alerts })).into_response()
}

/// One alert to clear.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AlertRef {
    pub lane_id: String,
    pub id: u32,
}

/// `POST /api/alerts/clear`: `{"alerts": [{"lane_id", "id"}], "approve": true, "reason"}`.
#[derive(Debug, Deserialize)]
pub struct ClearRequest {
    pub alerts: Vec<AlertRef>,
    #[serde(default = "yes")]
    pub approve: bool,
    #[serde(default)]
    pub reason: String,
}

fn yes() -> bool {
    true
}

/// Clears every named alert with one reason. 401 without a session; 422 without a reason, with
/// no alerts or more than [`MAX_CLEAR`]; else 200 when every one was cleared, 409 when some
/// were not (`cleared` and `failed` say which).
pub async fn clear(
    State(ctx): State<Arc<EdgeContext>>,
    operator: Operator,
    Json(request): Json<ClearRequest>,
) -> Response {
    let reason = request.reason.trim().to_string();
    if reason.is_empty() || reason.len() > MAX_REASON_BYTES {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("say why: `reason` is required (at most {MAX_REASON_BYTES} bytes)"),
        );
    }
    if request.alerts.is_empty() || request.alerts.len() > MAX_CLEAR {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("name 1 to {MAX_CLEAR} alerts"),
        );
    }
    let mut cleared = Vec::new();
    let mut failed = Vec::new();
    for alert in request.alerts {
        let command = OperatorCommand::ClearIntervention {
            id: alert.id,
            approve: request.approve,
        };
        if operator.role < command.required_role() {
            failed.push(json!({"lane_id": alert.lane_id, "id": alert.id, "error": "role too low"}));
            continue;
        }
        let action = OperatorAction {
            operator: operator.name.clone(),
            role: operator.role,
            reason: reason.clone(),
            command,
        };
        match ctx.lanes.command(&alert.lane_id, action).await {
            Ok(_) => cleared.push(alert),
            Err(error) => {
                failed.push(json!({"lane_id": alert.lane_id, "id": alert.id, "error": error}))
            }
        }
    }
    let status = if failed.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    (
        status,
        Json(json!({ "cleared": cleared, "failed": failed })),
    )
        .into_response()
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lane::{Intervention, InterventionKind, Lane};
    use chrono::Duration;

    #[test]
    fn the_queue_is_every_lanes_alerts_oldest_first() {
        let now = Utc::now();
        let alert = |id, kind, secs| Intervention {
            id,
            kind,
            detail: String::new(),
            line: None,
            raised_at: now - Duration::seconds(secs),
            repeats: 0,
        };
        let mut lane10 = Lane::new("10", now);
        lane10.interventions = vec![alert(1, InterventionKind::WeightMismatch, 30)];
        let mut lane2 = Lane::new("2", now);
        lane2.interventions = vec![
            alert(4, InterventionKind::UnexpectedItem, 5),
            alert(3, InterventionKind::ItemNotBagged, 90),
        ];
        let lanes = [LaneView::new("S", &lane10), LaneView::new("S", &lane2)];
        let queue = queue(&lanes, now);
        let order: Vec<(&str, u32, i64)> = queue
            .iter()
            .map(|a| (a.lane_id.as_str(), a.id, a.age_s))
            .collect();
        assert_eq!(order, [("2", 3, 90), ("10", 1, 30), ("2", 4, 5)]);
        assert_eq!(queue[0].kind, "item_not_bagged");
    }
}
