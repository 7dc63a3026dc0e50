//! A circuit breaker per provider, and the [`Clock`] it (and the router's backoff) reads, so
//! tests can move time by hand.
//!
//! Closed → open after `failure_threshold` consecutive transient failures → after
//! `cool_down`, half-open: exactly one probe call is let through → closed if it succeeds,
//! open again if it fails. This module only keeps state: it must never make a call, sleep,
//! or decide what counts as a failure (the router does).

use futures_util::future::BoxFuture;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Time as the router sees it: `now` for breakers, `sleep` for backoff waits.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// Real time on tokio's timer.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// When a breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive transient failures that open the breaker (at least 1).
    pub failure_threshold: u32,
    /// How long an open breaker refuses calls before letting one probe through.
    pub cool_down: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            cool_down: Duration::from_secs(30),
        }
    }
}

/// A breaker's state as reported to operators and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    /// The cool-down is over; the next call is a probe.
    HalfOpen,
}

#[derive(Debug)]
enum Inner {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

/// Whether a call admitted by the breaker is the half-open probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    Normal,
    Probe,
}

#[derive(Debug)]
pub(crate) struct CircuitBreaker {
    config: BreakerConfig,
    inner: Mutex<Inner>,
}

impl CircuitBreaker {
    pub(crate) fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            inner: Mutex::new(Inner::Closed { failures: 0 }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn state(&self, now: Instant) -> BreakerState {
        match *self.lock() {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { until } if now < until => BreakerState::Open,
            Inner::Open { .. } | Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// `None` when the call must skip this provider.
    pub(crate) fn admit(&self, now: Instant) -> Option<Admission> {
        let mut inner = self.lock();
        match *inner {
            Inner::Closed { .. } => Some(Admission::Normal),
            Inner::Open { until } if now < until => None,
            Inner::Open { .. } | Inner::HalfOpen { probing: false } => {
                *inner = Inner::HalfOpen { probing: true };
                Some(Admission::Probe)
            }
            Inner::HalfOpen { probing: true } => None,
        }
    }

    pub(crate) fn success(&self) {
        *self.lock() = Inner::Closed { failures: 0 };
    }

    pub(crate) fn failure(&self, now: Instant) {
        let mut inner = self.lock();
        let open = Inner::Open {
            until: now + self.config.cool_down,
        };
        *inner = match *inner {
            Inner::Closed { failures } if failures + 1 < self.config.failure_threshold.max(1) => {
                Inner::Closed {
                    failures: failures + 1,
                }
            }
            Inner::Closed { .. } | Inner::HalfOpen { .. } | Inner::Open { .. } => open,
        };
    }

    /// A probe ended without telling anything about the provider (the caller went away, or
    /// our own bug): let the next call probe instead.
    pub(crate) fn abandon(&self, admission: Admission) {
        let mut inner = self.lock();
        if admission == Admission::Probe && matches!(*inner, Inner::HalfOpen { probing: true }) {
            *inner = Inner::HalfOpen { probing: false };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_probes_once_and_closes_or_reopens() {
        let breaker = CircuitBreaker::new(BreakerConfig {
            failure_threshold: 3,
            cool_down: Duration::from_secs(10),
        });
        let start = Instant::now();
        for _ in 0..2 {
            assert_eq!(breaker.admit(start), Some(Admission::Normal));
            breaker.failure(start);
        }
        assert_eq!(breaker.state(start), BreakerState::Closed);
        breaker.failure(start);
        assert_eq!(breaker.state(start), BreakerState::Open);
        assert_eq!(breaker.admit(start + Duration::from_secs(9)), None);

        let later = start + Duration::from_secs(10);
        assert_eq!(breaker.state(later), BreakerState::HalfOpen);
        assert_eq!(breaker.admit(later), Some(Admission::Probe));
        assert_eq!(breaker.admit(later), None, "only one probe at a time");
        breaker.failure(later);
        assert_eq!(breaker.state(later), BreakerState::Open);

        let much_later = later + Duration::from_secs(10);
        assert_eq!(breaker.admit(much_later), Some(Admission::Probe));
        breaker.abandon(Admission::Probe);
        assert_eq!(breaker.admit(much_later), Some(Admission::Probe));
        breaker.success();
        assert_eq!(breaker.state(much_later), BreakerState::Closed);
    }

    #[test]
    fn a_success_resets_the_failure_count() {
        let breaker = CircuitBreaker::new(BreakerConfig {
            failure_threshold: 2,
            cool_down: Duration::from_secs(1),
        });
        let now = Instant::now();
        breaker.failure(now);
        breaker.success();
        breaker.failure(now);
        assert_eq!(breaker.state(now), BreakerState::Closed);
    }
}
