//! The command inboxes of running lanes: how the API hands an operator's command to a lane and
//! waits for the outcome. The lane handles a command as one more step, in order with its
//! devices' events.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::board::LaneView;
use crate::lane::OperatorAction;

/// An operator's command for a lane, with where to send the outcome.
pub struct LaneCommand {
    pub action: OperatorAction,
    pub reply: oneshot::Sender<Result<LaneView, String>>,
}

/// The command inbox of every running lane.
#[derive(Default)]
pub struct LaneHandles {
    inboxes: RwLock<HashMap<String, mpsc::Sender<LaneCommand>>>,
}

impl LaneHandles {
    /// Sends an operator's command to a lane and waits for the outcome.
    pub async fn command(&self, lane_id: &str, action: OperatorAction) -> Result<LaneView, String> {
        let inbox = self
            .inboxes
            .read()
            .ok()
            .and_then(|m| m.get(lane_id).cloned())
            .ok_or_else(|| format!("no lane {lane_id:?}"))?;
        let (reply, outcome) = oneshot::channel();
        inbox
            .send(LaneCommand { action, reply })
            .await
            .map_err(|_| format!("lane {lane_id} is stopping"))?;
        tokio::time::timeout(Duration::from_secs(10), outcome)
            .await
            .map_err(|_| format!("lane {lane_id} did not answer"))?
            .map_err(|_| format!("lane {lane_id} is stopping"))?
    }

    pub(super) fn register(&self, lane_id: &str, inbox: mpsc::Sender<LaneCommand>) {
        if let Ok(mut inboxes) = self.inboxes.write() {
            inboxes.insert(lane_id.to_string(), inbox);
        }
    }
}
