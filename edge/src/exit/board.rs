//! What the store's exits have let through and refused, per exit: the view operators see under
//! `GET /api/exits`, updated by each exit's loop.

use std::collections::BTreeMap;
use std::sync::RwLock;

use chrono::Utc;
use serde::Serialize;

/// What operators see of an exit.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExitView {
    pub exit_id: String,
    /// Passes that opened the gate.
    pub admitted: u64,
    /// Passes refused (forged, expired, used, another store's).
    pub refused: u64,
    pub last_refusal: Option<String>,
    pub tailgating: u64,
    pub forced_passages: u64,
    pub updated_at: Option<chrono::DateTime<Utc>>,
}

/// Every exit's view.
#[derive(Default)]
pub struct ExitBoard {
    exits: RwLock<BTreeMap<String, ExitView>>,
}

impl ExitBoard {
    pub(super) fn update(&self, exit_id: &str, change: impl FnOnce(&mut ExitView)) {
        if let Ok(mut exits) = self.exits.write() {
            let view = exits
                .entry(exit_id.to_string())
                .or_insert_with(|| ExitView {
                    exit_id: exit_id.to_string(),
                    ..ExitView::default()
                });
            change(view);
            view.updated_at = Some(Utc::now());
        }
    }

    pub fn all(&self) -> Vec<ExitView> {
        self.exits
            .read()
            .map(|e| e.values().cloned().collect())
            .unwrap_or_default()
    }
}
