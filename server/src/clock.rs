//! The timestamp oracle: epoch milliseconds, strictly increasing even when
//! the wall clock steps back, so logical time and `now()` agree.

use std::time::{SystemTime, UNIX_EPOCH};

/// Hands out write timestamps `max(now, last + 1)`.
pub struct Clock {
    last: u64,
}

impl Clock {
    pub fn new() -> Self {
        Clock { last: 0 }
    }

    /// The wall clock in epoch milliseconds.
    pub fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    /// The next timestamp, after every one handed out before.
    pub fn next(&mut self) -> u64 {
        self.last = self.now_ms().max(self.last + 1);
        self.last
    }

    /// The last timestamp handed out.
    pub fn last(&self) -> u64 {
        self.last
    }

    /// Makes future timestamps exceed `ts` (one read from the log).
    pub fn observe(&mut self, ts: u64) {
        self.last = self.last.max(ts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_strictly_increase() {
        let mut c = Clock::new();
        c.observe(u64::MAX / 2);
        let a = c.next();
        let b = c.next();
        assert!(a > u64::MAX / 2 && b > a);
    }
}
