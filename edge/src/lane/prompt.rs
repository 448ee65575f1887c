//! What the shopper's lane screen says: a stable code for screens and tests with its text, and
//! amounts in yuan for prompts.

use serde::{Deserialize, Serialize};

/// What the shopper's screen says now: a stable code for screens and tests, and the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub code: String,
    pub text: String,
}

impl Prompt {
    pub(super) fn new(code: &str, text: impl Into<String>) -> Prompt {
        Prompt {
            code: code.into(),
            text: text.into(),
        }
    }
}

pub(super) fn welcome() -> Prompt {
    Prompt::new("welcome", "Welcome! Scan your first item.")
}

/// Yuan with two decimals, for prompts: `¥12.90`.
pub fn fen(amount: i64) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let amount = amount.unsigned_abs();
    format!("{sign}¥{}.{:02}", amount / 100, amount % 100)
}
