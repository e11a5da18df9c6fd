//! A provider's in-flight limit. At most `limit` requests to one provider
//! are on the wire at once; the others wait their turn. The limit starts at
//! the provider's `max_concurrency` and adapts the way TCP does (AIMD): a
//! `429 Too Many Requests` halves it, once per round of requests sent at that
//! limit (a burst of 429s from one round is one signal, not fifty), and each
//! answer raises it by `1 / limit`, so a full round of successes adds one,
//! back up to `max_concurrency`.

use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

/// The in-flight limit of one provider.
#[derive(Debug)]
pub struct Gate {
    max: usize,
    state: Mutex<State>,
    turn: Notify,
}

#[derive(Debug)]
struct State {
    /// Requests allowed at once (at least 1, at most `max`); fractional so
    /// that additive increase can add `1 / limit` per answer.
    limit: f64,
    in_flight: usize,
    /// Bumped at each decrease: a 429 to a request sent before the last
    /// decrease says nothing about the new limit.
    round: u64,
}

/// A place on the wire; gives it back when dropped (an answer, a failure,
/// or a request cancelled in flight).
#[derive(Debug)]
#[must_use = "a permit gives its place back when dropped"]
pub struct Permit<'a> {
    gate: &'a Gate,
    round: u64,
}

impl Gate {
    /// A gate letting through at most `max` (at least 1) at once.
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Gate { max, state: Mutex::new(State { limit: max as f64, in_flight: 0, round: 0 }), turn: Notify::new() }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state is a few numbers updated in place: a panic cannot leave
        // it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wait for a place.
    pub async fn enter(&self) -> Permit<'_> {
        loop {
            // Registered before looking, so a place freed in between wakes us.
            let turn = self.turn.notified();
            tokio::pin!(turn);
            turn.as_mut().enable();
            {
                let mut s = self.state();
                if (s.in_flight as f64) < s.limit.floor() {
                    s.in_flight += 1;
                    return Permit { gate: self, round: s.round };
                }
            }
            turn.await;
        }
    }

    /// Requests allowed at once now.
    pub fn limit(&self) -> usize {
        self.state().limit as usize
    }

    /// Requests on the wire now.
    pub fn in_flight(&self) -> usize {
        self.state().in_flight
    }
}

impl Permit<'_> {
    /// The provider answered: raise the limit by `1 / limit`.
    pub fn answered(self) {
        let gate = self.gate;
        let mut s = gate.state();
        let before = s.limit.floor();
        s.limit = (s.limit + 1.0 / s.limit).min(gate.max as f64);
        let opened = s.limit.floor() > before;
        drop(s);
        if opened {
            gate.turn.notify_one();
        }
        // Dropping `self` gives this place back.
    }

    /// The provider said 429: halve the limit, unless it was already lowered
    /// since this request was sent.
    pub fn throttled(self) {
        let mut s = self.gate.state();
        if s.round == self.round {
            s.limit = (s.limit / 2.0).floor().max(1.0);
            s.round += 1;
            tracing::debug!("a provider answered 429: at most {} requests at once now", s.limit);
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.gate.state().in_flight -= 1;
        self.gate.turn.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn at_most_the_limit_is_in_flight_and_a_freed_place_lets_the_next_in() {
        let gate = Arc::new(Gate::new(2));
        let a = gate.enter().await;
        let _b = gate.enter().await;
        let waiting = {
            let gate = gate.clone();
            tokio::spawn(async move {
                let _c = gate.enter().await;
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "a third request went past a limit of two");
        assert_eq!(gate.in_flight(), 2);
        drop(a);
        tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap();
        assert_eq!(gate.in_flight(), 1);
    }

    #[tokio::test]
    async fn a_round_of_429s_halves_the_limit_once_and_answers_raise_it_back() {
        let gate = Gate::new(64);
        let round: Vec<_> = futures::future::join_all((0..40).map(|_| gate.enter())).await;
        for permit in round {
            permit.throttled();
        }
        assert_eq!(gate.limit(), 32, "forty 429s from one round are one signal");
        gate.enter().await.throttled();
        assert_eq!(gate.limit(), 16);
        for _ in 0..6 {
            gate.enter().await.throttled();
        }
        assert_eq!(gate.limit(), 1, "never below one");
        // Additive increase: a round of answers at limit n adds one.
        for _ in 0..1000 {
            gate.enter().await.answered();
        }
        let raised = gate.limit();
        assert!((40..=46).contains(&raised), "1000 answers from 1 should reach about 45, got {raised}");
        for _ in 0..10_000 {
            gate.enter().await.answered();
        }
        assert_eq!(gate.limit(), 64, "never above max_concurrency");
        assert_eq!(gate.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_cancelled_wait_takes_no_place() {
        let gate = Gate::new(1);
        let held = gate.enter().await;
        assert!(tokio::time::timeout(Duration::from_millis(10), gate.enter()).await.is_err());
        drop(held);
        let _next = tokio::time::timeout(Duration::from_secs(5), gate.enter()).await.expect("the place was lost");
    }
}
