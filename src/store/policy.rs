//! Suppression policy: which events suppress an address, and for how long. Hard bounces and
//! complaints at once and until removed by hand; soft failures about the address after N
//! within a window; sender-side failures, delays, auto-replies and successes never.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Soft, address-level failures (at most one counted a day) that suppress.
    pub soft_threshold: u32,
    /// Window in days for counting soft failures.
    pub soft_window_days: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            soft_threshold: 5,
            soft_window_days: 30,
        }
    }
}
