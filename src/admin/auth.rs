//! Bearer-token authentication and the per-address limit on failed attempts.
//!
//! The limit is a token bucket per client address that only failures drain, and
//! it is consulted *before* a token is checked: once an address is out of
//! attempts, even a correct guess is refused until the bucket refills, so a
//! brute force learns nothing, and the (deliberately slow) argon2 verification
//! is not run for it. `governor` was considered, but it has no way to look at a
//! key's state without consuming a cell, which this check-then-charge needs.
//! Time is passed in, so the bucket is tested with explicit instants.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use jiff::Timestamp;

use super::AdminState;
use super::error::ApiError;
use crate::directory::StoreId;
use crate::directory::store::admin::{Actor, AdminError, TokenScope, VerifiedToken};

/// How many failed attempts an address may make at once, and how fast it
/// earns new ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureLimit {
    /// Attempts available to a fresh address.
    pub burst: u32,
    /// Time to earn back one attempt.
    pub refill_every: Duration,
}

impl Default for FailureLimit {
    fn default() -> Self {
        // 10 wrong tokens in a row, then one per 6 s (600/hour): a human mistyping
        // is never blocked for long; a 256-bit secret stays out of reach.
        FailureLimit { burst: 10, refill_every: Duration::from_secs(6) }
    }
}

/// Addresses tracked at most; beyond, full buckets are forgotten first.
const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Credit in milliseconds of refill time: one attempt costs
    /// `refill_every`, and credit grows by one per elapsed millisecond, so the
    /// wait before the next attempt is exact.
    credit_ms: u64,
    updated: Timestamp,
}

/// Failed attempts per client address.
#[derive(Debug)]
pub struct FailedAttempts {
    limit: FailureLimit,
    buckets: HashMap<IpAddr, Bucket>,
}

impl FailedAttempts {
    /// No address has failed yet.
    pub fn new(limit: FailureLimit) -> FailedAttempts {
        FailedAttempts { limit, buckets: HashMap::new() }
    }

    fn cost_ms(&self) -> u64 {
        u64::try_from(self.limit.refill_every.as_millis()).unwrap_or(u64::MAX).max(1)
    }

    fn full(&self) -> u64 {
        u64::from(self.limit.burst).saturating_mul(self.cost_ms())
    }

    fn refilled(&self, bucket: Bucket, now: Timestamp) -> Bucket {
        // A clock that steps back earns nothing (rather than wrapping).
        let elapsed_ms = u64::try_from(now.as_millisecond() - bucket.updated.as_millisecond()).unwrap_or(0);
        Bucket { credit_ms: bucket.credit_ms.saturating_add(elapsed_ms).min(self.full()), updated: now }
    }

    /// `Err(wait)` if `ip` has no attempt left at `now`; does not consume.
    pub fn check(&self, ip: IpAddr, now: Timestamp) -> Result<(), Duration> {
        let Some(bucket) = self.buckets.get(&ip) else { return Ok(()) };
        let credit = self.refilled(*bucket, now).credit_ms;
        let cost = self.cost_ms();
        if credit >= cost { Ok(()) } else { Err(Duration::from_millis(cost - credit)) }
    }

    /// Charges one failed attempt to `ip`.
    pub fn record_failure(&mut self, ip: IpAddr, now: Timestamp) {
        if self.buckets.len() >= MAX_TRACKED && !self.buckets.contains_key(&ip) {
            let full = self.full();
            let snapshot: Vec<(IpAddr, Bucket)> = self.buckets.iter().map(|(k, v)| (*k, *v)).collect();
            for (key, bucket) in snapshot {
                if self.refilled(bucket, now).credit_ms >= full {
                    self.buckets.remove(&key);
                }
            }
        }
        let start = Bucket { credit_ms: self.full(), updated: now };
        let bucket = self.buckets.get(&ip).map_or(start, |b| self.refilled(*b, now));
        let credit_ms = bucket.credit_ms.saturating_sub(self.cost_ms());
        self.buckets.insert(ip, Bucket { credit_ms, updated: now });
    }
}

/// The authenticated holder of a request's token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: VerifiedToken,
    /// When the request was received (the state's clock).
    pub now: Timestamp,
}

impl Caller {
    /// How this caller is written in the audit log.
    pub fn actor(&self) -> Actor {
        Actor { name: self.token.actor_name(), at: self.now }
    }

    /// Refuses unless the token covers `store`.
    pub fn require_store(&self, store: StoreId) -> Result<(), ApiError> {
        if self.token.scope.covers(store) { Ok(()) } else { Err(ApiError::Forbidden { what: "access another store" }) }
    }

    /// Refuses unless this is the operator token.
    pub fn require_operator(&self, what: &'static str) -> Result<(), ApiError> {
        match self.token.scope {
            TokenScope::Operator => Ok(()),
            TokenScope::Store(_) => Err(ApiError::Forbidden { what }),
        }
    }
}

/// The client's address: the TCP peer (as given by
/// `into_make_service_with_connect_info`). Forwarding headers are not trusted:
/// behind a proxy, every client would share the proxy's bucket, which errs on
/// the safe side.
fn client_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(addr)| addr.ip())
}

impl FromRequestParts<AdminState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AdminState) -> Result<Caller, ApiError> {
        let now = state.now();
        let ip = client_ip(parts);
        state.check_attempts(ip, now)?;
        let header = parts.headers.get(header::AUTHORIZATION).ok_or(ApiError::MissingToken)?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or(ApiError::MissingToken)?;
        match state.store.verify_token(token, now).await {
            Ok(token) => Ok(Caller { token, now }),
            Err(AdminError::Unauthenticated { failure }) => {
                state.record_failure(ip, now);
                Err(ApiError::Unauthenticated { failure })
            }
            Err(other) => Err(ApiError::from(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The failed-attempt bucket: a burst, then refusal until time earns an
    //! attempt back; addresses are independent; checking does not consume.
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millisecond(ms).unwrap()
    }

    #[test]
    fn burst_then_refill() {
        let mut attempts = FailedAttempts::new(FailureLimit { burst: 3, refill_every: Duration::from_secs(10) });
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..3 {
            assert_eq!(attempts.check(a, at(0)), Ok(()));
            attempts.record_failure(a, at(0));
        }
        assert_eq!(attempts.check(a, at(0)), Err(Duration::from_secs(10)));
        assert_eq!(attempts.check(a, at(0)), Err(Duration::from_secs(10)), "checking does not consume");
        assert_eq!(attempts.check(b, at(0)), Ok(()), "another address is not affected");
        assert_eq!(attempts.check(a, at(4_000)), Err(Duration::from_secs(6)));
        assert_eq!(attempts.check(a, at(9_999)), Err(Duration::from_millis(1)));
        assert_eq!(attempts.check(a, at(10_000)), Ok(()), "one attempt earned back");
        attempts.record_failure(a, at(10_000));
        assert!(attempts.check(a, at(10_000)).is_err(), "and spent");
        assert_eq!(attempts.check(a, at(1_000_000)), Ok(()));
    }
}
