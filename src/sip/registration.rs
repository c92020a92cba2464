//! Registration to a PBX or trunk (RFC 3261 §10): REGISTER at start-up, digest
//! authentication, refresh before expiry, capped exponential backoff, and
//! un-REGISTER on shutdown.
//!
//! rsipstack's [`Registration`] sends one REGISTER transaction and answers one
//! 401/407 challenge with digest credentials (MD5 and `SHA256`, `qop=auth`; it
//! does not parse RFC 8760's spelling `SHA-256`), and reports the lifetime the
//! registrar granted (the lowest `expires` of our Contact, else the `Expires`
//! header, else what we asked). It keeps one Call-ID and counts CSeq up, as
//! §10.2.4 wants for refreshes. What it does not do, and this module does:
//!
//! - **When** to send: [`Schedule`] is a pure policy (no clock inside, tested
//!   table by table): refresh at [`REFRESH_FRACTION`] of the granted lifetime,
//!   counted from when the REGISTER went out; after a failure, retry after
//!   `retry_initial × 2^(failures-1)`, capped at `retry_max`, with a jitter
//!   drawn by the caller so that many attendants restarting with one PBX do
//!   not retry in step; a 423 with `Min-Expires` asks again at once with that
//!   lifetime, once.
//! - Running it: one task per account ([`Registrations`]) drives the schedule
//!   with tokio timers, publishes a [`RegistrationStatus`] on a watch channel
//!   and logs every change of state.
//! - Shutdown: [`Registrations::unregister`] stops the tasks; each that holds
//!   (or may hold) a binding sends `Expires: 0` before it ends.
//!
//! The password lives in a [`Password`], whose `Debug` and `Serialize` print
//! `********`: it never reaches a log line, `check-config` output, or an error.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::registration::Registration;
use rsipstack::transaction::endpoint::EndpointInnerRef;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

/// The share of the granted lifetime after which a binding is refreshed
/// (counted from when the REGISTER was sent): 80 % leaves a fifth of the
/// lifetime for the refresh, its challenge, and a retry or two.
pub const REFRESH_FRACTION: f64 = 0.8;

/// How long one REGISTER (with its challenge round) may take before it counts
/// as a failure: RFC 3261's Timer F (64 × T1), which rsipstack also applies.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(32);

/// How much of a backoff delay the jitter may remove: delays fall in
/// `[1 - JITTER_SPREAD, 1] ×` the nominal value.
pub const JITTER_SPREAD: f64 = 0.2;

/// A secret kept out of logs: `Debug` and `Serialize` print `********`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Password(String);

impl Password {
    /// Wrap a secret.
    pub fn new(secret: impl Into<String>) -> Password {
        Password(secret.into())
    }

    /// The secret itself, for the digest computation only.
    fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("********")
    }
}

impl serde::Serialize for Password {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("********")
    }
}

impl<'de> serde::Deserialize<'de> for Password {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Password, D::Error> {
        String::deserialize(d).map(Password)
    }
}

/// The transport a registration uses (and advertises in its Contact).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationTransport {
    #[default]
    Udp,
    Tcp,
}

/// One account to keep registered, validated (see [`crate::config`] for the
/// file keys).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RegistrationAccount {
    /// Request-URI of the REGISTER, `sip:host[:port]`; its host part is also
    /// the domain of the address of record.
    pub registrar: String,
    /// User part of the address of record (`sip:USER@registrar-host`) and of our Contact.
    pub user: String,
    /// Digest username, when the PBX's authentication ID differs from `user`.
    pub auth_username: Option<String>,
    /// Digest password; `None` for a registrar that does not challenge.
    pub password: Option<Password>,
    /// Lifetime asked for, in seconds (the registrar may grant less).
    pub expires: u32,
    /// Transport of the REGISTER and of our Contact.
    pub transport: RegistrationTransport,
    /// Where to send the REGISTERs when the registrar's host does not resolve
    /// from here (an SBC); the registrar URI stays in the headers.
    pub outbound_proxy: Option<SocketAddr>,
    /// First retry delay after a failure.
    #[serde(with = "crate::config::duration_ms")]
    pub retry_initial: Duration,
    /// Longest retry delay.
    #[serde(with = "crate::config::duration_ms")]
    pub retry_max: Duration,
}

impl RegistrationAccount {
    /// `sip:user@host[:port]`, for logs and status.
    pub fn aor(&self) -> String {
        let host = self.registrar.strip_prefix("sip:").unwrap_or(&self.registrar);
        format!("sip:{}@{host}", self.user)
    }
}

/// What is wrong with a registrar URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RegistrarUriProblem {
    #[error("it must start with sip: (sips is not supported)")]
    NotSip,
    #[error("it is not a SIP URI")]
    Unparseable,
    #[error("it must name the registrar only (sip:host[:port]): put the user in `user`")]
    HasUser,
    #[error("it must not carry parameters or headers: use the `transport` key")]
    HasParameters,
}

/// Check a registrar URI (`sip:host[:port]`).
pub fn check_registrar_uri(text: &str) -> Result<(), RegistrarUriProblem> {
    if !text.starts_with("sip:") {
        return Err(RegistrarUriProblem::NotSip);
    }
    let uri = rsipstack::sip::Uri::try_from(text).map_err(|_| RegistrarUriProblem::Unparseable)?;
    if uri.auth.is_some() {
        return Err(RegistrarUriProblem::HasUser);
    }
    if !uri.params.is_empty() || !uri.headers.is_empty() || text.contains(';') || text.contains('?') {
        return Err(RegistrarUriProblem::HasParameters);
    }
    Ok(())
}

/// How one REGISTER attempt ended, as far as the schedule cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: the binding holds for `granted` seconds.
    Registered { granted: u32 },
    /// 423 Interval Too Brief, with the registrar's `Min-Expires` if it sent one.
    IntervalTooBrief { min_expires: Option<u32> },
    /// Another final status (403 after a wrong password, 404, 5xx…), or a
    /// challenge answered twice (the credentials were refused).
    Rejected { status: u16 },
    /// No final answer in time, or the request could not be sent.
    Failed,
}

/// What the driver does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Refresh this long after the attempt that succeeded was *sent*.
    RefreshAfterSent(Duration),
    /// Try again this long from now.
    RetryIn(Duration),
}

/// The registration policy, free of IO and clock: fed the outcome of each
/// attempt, it says when to send the next and with which lifetime.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Lifetime to ask for in the next REGISTER.
    expires: u32,
    retry_initial: Duration,
    retry_max: Duration,
    /// Consecutive failed attempts (0 while registered).
    failures: u32,
    /// Whether the last 423 was already followed by an immediate retry, so a
    /// registrar that keeps answering 423 falls back to the backoff.
    retried_interval: bool,
}

impl Schedule {
    /// A schedule asking for `expires` seconds, retrying from `retry_initial` up to `retry_max`.
    pub fn new(expires: u32, retry_initial: Duration, retry_max: Duration) -> Schedule {
        Schedule {
            expires,
            retry_initial,
            retry_max: retry_max.max(retry_initial),
            failures: 0,
            retried_interval: false,
        }
    }

    /// Lifetime to ask for in the next REGISTER.
    pub fn expires(&self) -> u32 {
        self.expires
    }

    /// Consecutive failures so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Record `outcome` and say what comes next. `jitter` in `[0, 1)` (drawn by
    /// the caller) shortens a retry delay by up to [`JITTER_SPREAD`].
    #[must_use]
    pub fn next(&mut self, outcome: Outcome, jitter: f64) -> Next {
        match outcome {
            Outcome::Registered { granted } if granted > 0 => {
                self.failures = 0;
                self.retried_interval = false;
                Next::RefreshAfterSent(refresh_delay(granted))
            }
            Outcome::IntervalTooBrief { min_expires: Some(min) } if min > self.expires && !self.retried_interval => {
                self.expires = min;
                self.retried_interval = true;
                Next::RetryIn(Duration::ZERO)
            }
            // A 2xx granting nothing is a refusal in disguise.
            Outcome::Registered { .. }
            | Outcome::IntervalTooBrief { .. }
            | Outcome::Rejected { .. }
            | Outcome::Failed => {
                self.failures = self.failures.saturating_add(1);
                Next::RetryIn(backoff_delay(self.retry_initial, self.retry_max, self.failures, jitter))
            }
        }
    }
}

/// When to refresh a binding granted for `granted` seconds, counted from when
/// its REGISTER was sent: [`REFRESH_FRACTION`] of it, and at least one second
/// (so a registrar granting 1 s cannot make us loop).
pub fn refresh_delay(granted: u32) -> Duration {
    Duration::from_secs_f64(f64::from(granted) * REFRESH_FRACTION).max(Duration::from_secs(1))
}

/// The delay before retry number `failures` (1 after the first failure):
/// `initial × 2^(failures-1)`, capped at `max`, then shortened by up to
/// [`JITTER_SPREAD`] × `jitter` (clamped to `[0, 1]`).
pub fn backoff_delay(initial: Duration, max: Duration, failures: u32, jitter: f64) -> Duration {
    let doublings = failures.saturating_sub(1).min(32);
    let nominal = initial.saturating_mul(1u32 << doublings.min(31)).min(max.max(initial));
    nominal.mul_f64(1.0 - JITTER_SPREAD * jitter.clamp(0.0, 1.0))
}

/// Why the last attempt failed, for status and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    /// The registrar answered this final status.
    Rejected { status: u16 },
    /// The registrar answered 200 but granted no lifetime.
    NothingGranted,
    /// No final answer within [`ATTEMPT_TIMEOUT`] (or the transaction timed out).
    Timeout,
    /// The request could not be built or sent (unresolvable host, TCP refused…).
    Transport,
    /// The registrar's answer could not be used: e.g. a challenge whose digest
    /// algorithm rsipstack does not parse (RFC 8760's `SHA-256`).
    UnusableAnswer,
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureReason::Rejected { status } => write!(f, "rejected with {status}"),
            FailureReason::NothingGranted => f.write_str("200 granting no lifetime"),
            FailureReason::Timeout => f.write_str("no answer"),
            FailureReason::Transport => f.write_str("could not be sent"),
            FailureReason::UnusableAnswer => f.write_str("answer not understood"),
        }
    }
}

/// Where one account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationState {
    /// The first REGISTER is on its way.
    Registering,
    /// The registrar holds our binding for `granted` seconds from the last REGISTER.
    Registered { granted: u32 },
    /// The last `failures` attempts failed; the next is scheduled.
    Retrying { failures: u32, reason: FailureReason },
    /// Un-REGISTERed at shutdown (or never registered before shutdown).
    Unregistered,
}

/// One account's state, as reported by [`Registrations::statuses`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationStatus {
    /// Address of record, `sip:user@host`.
    pub aor: String,
    pub state: RegistrationState,
    /// Successful REGISTERs so far (first registration and refreshes).
    pub registered_count: u64,
}

/// The registration tasks of an endpoint.
#[derive(Debug, Clone)]
pub struct Registrations {
    statuses: Vec<watch::Receiver<RegistrationStatus>>,
    tasks: TaskTracker,
    stop: CancellationToken,
}

impl Registrations {
    /// Start one task per account. `contact` gives our Contact address for a
    /// transport; [`Registrations::unregister`] ends them (each un-REGISTERs
    /// first). `endpoint_stopped` is the endpoint's own token: once it is
    /// cancelled nothing can be sent, so the tasks end without un-REGISTER.
    pub(super) fn start(
        accounts: &[RegistrationAccount],
        endpoint: EndpointInnerRef,
        contact: impl Fn(RegistrationTransport) -> SocketAddr,
        endpoint_stopped: &CancellationToken,
    ) -> Registrations {
        let stop = endpoint_stopped.child_token();
        let tasks = TaskTracker::new();
        let mut statuses = Vec::with_capacity(accounts.len());
        for account in accounts {
            let (status_tx, status_rx) = watch::channel(RegistrationStatus {
                aor: account.aor(),
                state: RegistrationState::Registering,
                registered_count: 0,
            });
            statuses.push(status_rx);
            let driver = Driver {
                account: account.clone(),
                contact: contact(account.transport),
                endpoint: endpoint.clone(),
                status: status_tx,
                stop: stop.clone(),
                endpoint_stopped: endpoint_stopped.clone(),
            };
            tasks.spawn(driver.run());
        }
        tasks.close();
        Registrations { statuses, tasks, stop }
    }

    /// No registrations at all.
    pub(super) fn none() -> Registrations {
        let tasks = TaskTracker::new();
        tasks.close();
        Registrations {
            statuses: Vec::new(),
            tasks,
            stop: CancellationToken::new(),
        }
    }

    /// Each account's current state, in configuration order.
    pub fn statuses(&self) -> Vec<RegistrationStatus> {
        self.statuses.iter().map(|rx| rx.borrow().clone()).collect()
    }

    /// Stop refreshing and un-REGISTER every binding, waiting at most
    /// `limit`. Returns whether every task ended in time. Calling it again
    /// only waits.
    pub async fn unregister(&self, limit: Duration) -> bool {
        self.stop.cancel();
        tokio::time::timeout(limit, self.tasks.wait()).await.is_ok()
    }
}

/// One account's task: the [`Schedule`] driven by tokio timers.
struct Driver {
    account: RegistrationAccount,
    contact: SocketAddr,
    endpoint: EndpointInnerRef,
    status: watch::Sender<RegistrationStatus>,
    /// Ends the refreshes (a child of `endpoint_stopped`).
    stop: CancellationToken,
    /// The endpoint's token: once cancelled, an un-REGISTER could not be sent.
    endpoint_stopped: CancellationToken,
}

impl Driver {
    async fn run(self) {
        let aor = self.account.aor();
        let mut registrar = match rsipstack::sip::Uri::try_from(self.account.registrar.as_str()) {
            Ok(uri) => uri,
            Err(error) => {
                // Config validation parsed it already; this cannot happen short of a bug.
                warn!(%aor, %error, "registration not started: the registrar URI does not parse");
                return;
            }
        };
        let mut contact_params = vec![];
        if self.account.transport == RegistrationTransport::Tcp {
            registrar
                .params
                .push(rsipstack::sip::Param::Transport(rsipstack::sip::Transport::Tcp));
            contact_params.push(rsipstack::sip::Param::Transport(rsipstack::sip::Transport::Tcp));
        }
        // rsipstack takes the AOR's user from the credential, so there is always
        // one; without a configured password a challenge is answered with an
        // empty one, which the registrar refuses (logged as a rejection).
        let credential = Credential {
            username: self.account.user.clone(),
            password: self
                .account
                .password
                .as_ref()
                .map(|p| p.expose().to_string())
                .unwrap_or_default(),
            realm: None,
            auth_username: self.account.auth_username.clone(),
        };
        let mut registration = Registration::new(self.endpoint.clone(), Some(credential));
        registration.outbound_proxy = self.account.outbound_proxy;
        registration.contact = Some(rsipstack::sip::typed::Contact {
            display_name: None,
            uri: rsipstack::sip::Uri {
                scheme: Some(rsipstack::sip::Scheme::Sip),
                auth: Some(rsipstack::sip::Auth {
                    user: self.account.user.clone(),
                    password: None,
                }),
                host_with_port: rsipstack::transport::SipAddr::from(self.contact).addr,
                params: contact_params,
                headers: vec![],
            },
            params: vec![],
        });

        let mut schedule = Schedule::new(self.account.expires, self.account.retry_initial, self.account.retry_max);
        // Whether the registrar may hold a binding of ours (a REGISTER got a 2xx
        // since start-up): only then is an un-REGISTER worth sending.
        let mut may_hold_binding = false;
        info!(%aor, registrar = %self.account.registrar, "registering");
        loop {
            let sent = Instant::now();
            let attempt = tokio::select! {
                attempt = tokio::time::timeout(
                    ATTEMPT_TIMEOUT,
                    registration.register(registrar.clone(), Some(schedule.expires())),
                ) => attempt,
                () = self.stop.cancelled() => break,
            };
            // rsipstack's error text names what went wrong (never the password).
            let detail = match &attempt {
                Ok(Err(error)) => Some(error.to_string()),
                _ => None,
            };
            let (outcome, reason) = classify(attempt, &registration);
            if let Outcome::Registered { granted } = outcome
                && granted > 0
            {
                may_hold_binding = true;
            }
            let previous = self.status.borrow().state;
            let failures_before = schedule.failures();
            let next = schedule.next(outcome, rand::random::<f64>());
            let wake = match next {
                Next::RefreshAfterSent(delay) => {
                    let granted = match outcome {
                        Outcome::Registered { granted } => granted,
                        _ => 0,
                    };
                    if matches!(previous, RegistrationState::Registered { .. }) {
                        debug!(%aor, granted, refresh_in = ?delay, "registration refreshed");
                    } else {
                        info!(%aor, granted, refresh_in = ?delay, "registered");
                    }
                    self.status.send_modify(|s| {
                        s.state = RegistrationState::Registered { granted };
                        s.registered_count += 1;
                    });
                    sent + delay
                }
                Next::RetryIn(delay) if schedule.failures() == failures_before => {
                    // Not a failure: a 423 answered at once with its Min-Expires.
                    info!(%aor, expires = schedule.expires(), "registrar wants a longer lifetime: asking again");
                    Instant::now() + delay
                }
                Next::RetryIn(delay) => {
                    let failures = schedule.failures();
                    // `classify` gives a reason with every failing outcome.
                    let reason = reason.unwrap_or(FailureReason::Transport);
                    // The 1st, 2nd, 4th, 8th… failure in a row: a long outage logs a
                    // few lines, not one per attempt (the status has every one).
                    if failures.is_power_of_two() {
                        warn!(%aor, %reason, ?detail, failures, retry_in = ?delay, "registration failed");
                    }
                    self.status
                        .send_modify(|s| s.state = RegistrationState::Retrying { failures, reason });
                    Instant::now() + delay
                }
            };
            tokio::select! {
                () = tokio::time::sleep_until(wake) => {}
                () = self.stop.cancelled() => break,
            }
        }
        if may_hold_binding && self.endpoint_stopped.is_cancelled() {
            warn!(%aor, "SIP endpoint stopped before the un-REGISTER: the binding stays until it expires");
        } else if may_hold_binding {
            // Expires: 0 with our Contact removes our binding only (RFC 3261 §10.2.2).
            let removed = tokio::select! {
                removed = tokio::time::timeout(ATTEMPT_TIMEOUT, registration.register(registrar.clone(), Some(0))) => Some(removed),
                () = self.endpoint_stopped.cancelled() => None,
            };
            match removed {
                None => warn!(%aor, "SIP endpoint stopped during the un-REGISTER"),
                Some(Ok(Ok(response))) if response.status_code.kind() == rsipstack::sip::StatusCodeKind::Successful => {
                    info!(%aor, "unregistered");
                }
                Some(Ok(Ok(response))) => warn!(%aor, status = u16::from(response.status_code), "un-REGISTER refused"),
                Some(Ok(Err(error))) => warn!(%aor, %error, "un-REGISTER failed"),
                Some(Err(_)) => warn!(%aor, "un-REGISTER got no answer"),
            }
        }
        self.status.send_modify(|s| s.state = RegistrationState::Unregistered);
    }
}

/// Turn one attempt's result into an [`Outcome`] and, for failures, a reason.
fn classify(
    attempt: Result<rsipstack::Result<rsipstack::sip::Response>, tokio::time::error::Elapsed>,
    registration: &Registration,
) -> (Outcome, Option<FailureReason>) {
    let response = match attempt {
        Err(_) => return (Outcome::Failed, Some(FailureReason::Timeout)),
        Ok(Err(rsipstack::Error::TransactionError(..) | rsipstack::Error::DialogError(..))) => {
            // rsipstack ends a transaction whose Timer F fired with a dialog error.
            return (Outcome::Failed, Some(FailureReason::Timeout));
        }
        Ok(Err(rsipstack::Error::SipMessageError(_))) => return (Outcome::Failed, Some(FailureReason::UnusableAnswer)),
        Ok(Err(_)) => return (Outcome::Failed, Some(FailureReason::Transport)),
        Ok(Ok(response)) => response,
    };
    let status = u16::from(response.status_code.clone());
    match status {
        200..=299 => match registration.granted_expires {
            Some(granted) if granted > 0 => (Outcome::Registered { granted }, None),
            _ => (Outcome::Registered { granted: 0 }, Some(FailureReason::NothingGranted)),
        },
        423 => {
            let min_expires = response.headers.iter().find_map(|h| match h {
                rsipstack::sip::Header::MinExpires(value) => value.value().trim().parse::<u32>().ok(),
                _ => None,
            });
            (
                Outcome::IntervalTooBrief { min_expires },
                Some(FailureReason::Rejected { status }),
            )
        }
        _ => (Outcome::Rejected { status }, Some(FailureReason::Rejected { status })),
    }
}

#[cfg(test)]
mod tests {
    //! The registration policy (refresh and backoff timing, 423 handling) step
    //! by step with no clock, registrar URI checks, and the password kept out
    //! of Debug and serialized output.
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn refresh_is_four_fifths_of_the_granted_lifetime_from_sending() {
        let cases = [
            (3600, S(2880)),
            (600, S(480)),
            (5, S(4)),
            (2, Duration::from_millis(1600)),
            (1, S(1)),
            (0, S(1)),
        ];
        for (granted, expected) in cases {
            assert_eq!(refresh_delay(granted), expected, "granted {granted}");
        }
    }

    #[test]
    fn backoff_doubles_from_initial_up_to_the_cap() {
        let (initial, max) = (S(2), S(60));
        let cases = [
            (1, S(2)),
            (2, S(4)),
            (3, S(8)),
            (5, S(32)),
            (6, S(60)),
            (7, S(60)),
            (40, S(60)),
            (u32::MAX, S(60)),
        ];
        for (failures, expected) in cases {
            assert_eq!(
                backoff_delay(initial, max, failures, 0.0),
                expected,
                "failure {failures}"
            );
        }
    }

    #[test]
    fn jitter_only_shortens_by_at_most_the_spread() {
        let cases = [
            (0.0, S(10)),
            (0.5, S(9)),
            (0.999_999, Duration::from_secs_f64(8.000_002)),
            (7.0, S(8)),
            (-1.0, S(10)),
        ];
        for (jitter, expected) in cases {
            let delay = backoff_delay(S(10), S(100), 1, jitter);
            assert!(
                delay.abs_diff(expected) < Duration::from_micros(1),
                "jitter {jitter}: {delay:?}"
            );
        }
    }

    #[test]
    fn schedule_steps_through_failures_success_and_423() {
        use Next::*;
        use Outcome::*;
        let mut schedule = Schedule::new(3600, S(1), S(8));
        let steps: [(Outcome, Next, u32, u32); 11] = [
            (Failed, RetryIn(S(1)), 1, 3600),
            (Rejected { status: 403 }, RetryIn(S(2)), 2, 3600),
            (Failed, RetryIn(S(4)), 3, 3600),
            (Failed, RetryIn(S(8)), 4, 3600),
            (Failed, RetryIn(S(8)), 5, 3600),
            // Success resets the backoff and follows the *granted* lifetime.
            (Registered { granted: 300 }, RefreshAfterSent(S(240)), 0, 3600),
            (Failed, RetryIn(S(1)), 1, 3600),
            // A 200 granting nothing is a failure.
            (Registered { granted: 0 }, RetryIn(S(2)), 2, 3600),
            // 423 with a longer Min-Expires: ask again at once, with it.
            (
                IntervalTooBrief {
                    min_expires: Some(7200),
                },
                RetryIn(S(0)),
                2,
                7200,
            ),
            // A second 423 (even with a larger value) backs off instead of looping.
            (
                IntervalTooBrief {
                    min_expires: Some(9000),
                },
                RetryIn(S(4)),
                3,
                7200,
            ),
            (Registered { granted: 7200 }, RefreshAfterSent(S(5760)), 0, 7200),
        ];
        for (i, (outcome, next, failures, expires)) in steps.into_iter().enumerate() {
            assert_eq!(schedule.next(outcome, 0.0), next, "step {i}: {outcome:?}");
            assert_eq!(
                (schedule.failures(), schedule.expires()),
                (failures, expires),
                "step {i}"
            );
        }
    }

    #[test]
    fn a_423_without_a_usable_min_expires_backs_off() {
        for min_expires in [None, Some(60), Some(3600)] {
            let mut schedule = Schedule::new(3600, S(1), S(8));
            let next = schedule.next(Outcome::IntervalTooBrief { min_expires }, 0.0);
            assert_eq!(next, Next::RetryIn(S(1)), "{min_expires:?}");
            assert_eq!(schedule.expires(), 3600);
        }
    }

    #[test]
    fn registrar_uris_are_checked() {
        let cases = [
            ("sip:pbx.example.com", Ok(())),
            ("sip:10.0.0.1:5060", Ok(())),
            ("sip:[2001:db8::1]:5070", Ok(())),
            ("pbx.example.com", Err(RegistrarUriProblem::NotSip)),
            ("sips:pbx.example.com", Err(RegistrarUriProblem::NotSip)),
            ("sip:1000@pbx.example.com", Err(RegistrarUriProblem::HasUser)),
            (
                "sip:pbx.example.com;transport=tcp",
                Err(RegistrarUriProblem::HasParameters),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(check_registrar_uri(text), expected, "{text}");
        }
    }

    #[test]
    fn the_password_never_shows_in_debug_or_serialized_output() {
        let account = RegistrationAccount {
            registrar: "sip:pbx.example.com".into(),
            user: "0142000000".into(),
            auth_username: Some("auth-id".into()),
            password: Some(Password::new("s3cr3t-Pa55")),
            expires: 3600,
            transport: RegistrationTransport::Udp,
            outbound_proxy: None,
            retry_initial: S(2),
            retry_max: S(300),
        };
        let debug = format!("{account:?} {account:#?}");
        let json = serde_json::to_string(&account).unwrap();
        for text in [&debug, &json] {
            assert!(!text.contains("s3cr3t"), "{text}");
            assert!(text.contains("********"), "{text}");
        }
        assert_eq!(account.aor(), "sip:0142000000@pbx.example.com");
    }
}
