//! The checkout's rollout: a new build goes out as a canary — one checkout in ten is served by it, the rest by the
//! stable build — so a bug reaches a tenth of the customers instead of all of them.
//!
//! Drill `canary` — `cargo xtask incident start canary` shows how this behaves under load.

use std::sync::atomic::{AtomicU64, Ordering};

use super::support::{canary_checkout, stable_checkout, CheckoutError, Receipt};

/// Checkouts in a hundred the canary serves.
pub const CANARY_PERCENT: u64 = 10;

/// The rollout: which build serves each checkout. One per process, shared by every request.
#[derive(Debug, Default)]
pub struct Rollout {
    served: AtomicU64,
}

impl Rollout {
    /// A rollout with the canary at [`CANARY_PERCENT`].
    pub fn new() -> Rollout {
        Rollout::default()
    }

    /// Checks `cart` out with the build whose turn it is: the canary for 10 in every 100 checkouts.
    pub async fn checkout(&self, cart: u32) -> Result<Receipt, CheckoutError> {
        let n = self.served.fetch_add(1, Ordering::Relaxed);
        if n % 100 < CANARY_PERCENT {
            canary_checkout(cart).await
        } else {
            stable_checkout(cart).await
        }
    }
}
