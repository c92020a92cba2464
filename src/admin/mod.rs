//! Store administration: the HTTP API (`/api/v1`) and the web console (`/`),
//! the only module that touches axum.
//!
//! Every request carries `Authorization: Bearer <token>`. A store token reaches
//! its own store only; the operator token reaches every store and alone may list
//! and create stores and issue tokens. Store-scoped routes name the store in the
//! path and refuse (403) a token of another store before touching any data;
//! entry ids are looked up within the named store, so another store's id is
//! "not found". Failed sign-ins are limited per client address
//! ([`auth::FailedAttempts`]). Every change is written with an audit record in
//! its own transaction and announced on the store's
//! [`DirectoryEvents`](crate::directory::events::DirectoryEvents).
//!
//! Serve [`router`] with [`serve`] (or `into_make_service_with_connect_info`),
//! so that the rate limit sees client addresses.
//!
//! Owns axum (its only user). Uses `directory`, `speech`, `matching`, `asr` and
//! `sip` (registration states); must not import rsipstack or `replay`.

pub mod auth;
pub mod cli;
pub mod error;
pub mod i18n;
pub mod openapi;
pub mod ops;
mod routes;
pub mod statistics;
pub mod sync;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::Router;
use jiff::Timestamp;

use crate::directory::import::ImportLimits;
use crate::directory::store::DirectoryStore;
use auth::{FailedAttempts, FailureLimit};
use error::ApiError;
use sync::{MatcherSimilarity, SimilarNames, VocabularyCheck};

pub use routes::{BodyRoute, CheckedBody, ROUTES, check_request_body};

/// Bounds on what the API accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminLimits {
    /// Largest request body of any route.
    pub max_body_bytes: usize,
    /// Bounds on an imported directory file.
    pub import: ImportLimits,
    /// Failed sign-ins allowed per client address.
    pub failures: FailureLimit,
    /// Longest a request may take, body upload included (`admin.request_timeout`):
    /// past it the request is answered 503 `request_timeout` and its work dropped.
    pub request_timeout: std::time::Duration,
    /// Lifetime of a token issued without an explicit expiry
    /// (`admin.token_lifetime_days`); `None`: such tokens never expire.
    pub token_lifetime_days: Option<u32>,
}

impl Default for AdminLimits {
    fn default() -> Self {
        let import = ImportLimits::default();
        // A little above the import limit, so that a file just over it gets the
        // importer's message (which names the limit) rather than a bare 413.
        AdminLimits {
            max_body_bytes: import.max_bytes + 64 * 1024,
            import,
            failures: FailureLimit::default(),
            request_timeout: std::time::Duration::from_secs(30),
            token_lifetime_days: Some(90),
        }
    }
}

/// Where the API reads the time (token expiry, audit records, rate limit).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Everything the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AdminState {
    store: DirectoryStore,
    clock: Clock,
    attempts: Arc<Mutex<FailedAttempts>>,
    vocabulary: Option<Arc<dyn VocabularyCheck>>,
    similar: Arc<dyn SimilarNames>,
    limits: AdminLimits,
    /// The attendant's registrations to a PBX or trunk (none connected: the
    /// API lists none).
    registrations: Option<RegistrationSource>,
}

/// Reads each `[[registration]]` account's state now (the runtime's
/// `Server::registration_source`).
pub type RegistrationSource = Arc<dyn Fn() -> Vec<crate::sip::RegistrationStatus> + Send + Sync>;

impl std::fmt::Debug for AdminState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminState")
            .field("store", &self.store)
            .field("vocabulary_connected", &self.vocabulary.is_some())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl AdminState {
    /// State over `store` with the system clock, default limits, no speech
    /// engine connected (the sync report then says the vocabulary was not
    /// checked) and the matcher's similar-names check.
    pub fn new(store: DirectoryStore) -> AdminState {
        let limits = AdminLimits::default();
        AdminState {
            store,
            clock: Arc::new(Timestamp::now),
            attempts: Arc::new(Mutex::new(FailedAttempts::new(limits.failures))),
            vocabulary: None,
            similar: Arc::new(MatcherSimilarity),
            limits,
            registrations: None,
        }
    }

    /// Replaces the clock (tests pass a fixed or stepped one).
    pub fn with_clock(mut self, clock: Clock) -> AdminState {
        self.clock = clock;
        self
    }

    /// Replaces the limits (and resets the failed-attempt counts).
    pub fn with_limits(mut self, limits: AdminLimits) -> AdminState {
        self.limits = limits;
        self.attempts = Arc::new(Mutex::new(FailedAttempts::new(limits.failures)));
        self
    }

    /// Connects the speech engine's vocabulary to the sync report.
    pub fn with_vocabulary(mut self, vocabulary: Arc<dyn VocabularyCheck>) -> AdminState {
        self.vocabulary = Some(vocabulary);
        self
    }

    /// Replaces the similar-names check.
    pub fn with_similar_names(mut self, similar: Arc<dyn SimilarNames>) -> AdminState {
        self.similar = similar;
        self
    }

    /// Connects the registrations' states to `GET /api/v1/registrations`.
    pub fn with_registrations(mut self, source: RegistrationSource) -> AdminState {
        self.registrations = Some(source);
        self
    }

    /// The registrations' states now (empty when none is connected).
    fn registrations(&self) -> Vec<crate::sip::RegistrationStatus> {
        self.registrations.as_ref().map(|source| source()).unwrap_or_default()
    }

    /// The storage behind the API.
    pub fn store(&self) -> &DirectoryStore {
        &self.store
    }

    fn now(&self) -> Timestamp {
        (self.clock)()
    }

    fn check_attempts(&self, ip: IpAddr, now: Timestamp) -> Result<(), ApiError> {
        // A poisoned lock means a panic mid-update of plain counters: the data is
        // still usable, so recover it rather than failing every sign-in.
        let attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        attempts.check(ip, now).map_err(|wait| ApiError::RateLimited { retry_after_secs: wait.as_secs().max(1) })
    }

    fn record_failure(&self, ip: IpAddr, now: Timestamp) {
        self.attempts.lock().unwrap_or_else(|p| p.into_inner()).record_failure(ip, now);
    }
}

/// The API and the console, ready to serve.
pub fn router(state: AdminState) -> Router {
    routes::build(state).layer(axum::middleware::from_fn(ops::count_request))
}

/// Serves [`router`] on `listener` until `shutdown` completes, with client
/// addresses available to the failed-attempt limit.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AdminState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
