//! The API's errors: one JSON shape, `{"error": {"code", "message"}}` (plus
//! `problems` for a rejected file), and the status that goes with each.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::directory::import::{ImportProblem, ImportRejected};
use crate::directory::store::StoreError;
use crate::directory::store::admin::{AdminError, AuthFailure};

/// An error answered by the API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No `Authorization: Bearer …` header.
    #[error("missing bearer token: send `Authorization: Bearer <token>`")]
    MissingToken,
    /// The token does not authenticate anyone (or has expired).
    #[error("{failure}")]
    Unauthenticated { failure: AuthFailure },
    /// Too many failed sign-ins from this address.
    #[error("too many failed attempts from this address; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The token is valid but does not cover this store or operation.
    #[error("this token may not {what}")]
    Forbidden { what: &'static str },
    /// No such store, entry or token (for this token's scope).
    #[error("{what} not found")]
    NotFound { what: String },
    /// The request line or body is malformed (bad JSON, bad path or query).
    #[error("{message}")]
    BadRequest { message: String },
    /// The body is well-formed but a field has the wrong type or value.
    #[error("{message}")]
    Invalid { message: String },
    /// A directory file was rejected; nothing changed.
    #[error("{rejected}")]
    Rejected { rejected: ImportRejected },
    /// The change clashes with existing data (duplicate name, extension, number).
    #[error("{message}")]
    Conflict { message: String },
    /// A field has the wrong value, said by catalogue message `id` (422,
    /// `invalid`); `english` is that message in English. Build with
    /// [`ApiError::field`].
    #[error("{english}")]
    InvalidField { id: &'static str, args: Vec<(&'static str, String)>, english: String },
    /// A clash with existing data, said by catalogue message `id` (409,
    /// `conflict`). Build with [`ApiError::clash`].
    #[error("{english}")]
    ConflictField { id: &'static str, args: Vec<(&'static str, String)>, english: String },
    /// The body is larger than allowed.
    #[error("{message}")]
    TooLarge { message: String },
    /// The body's content type is not one the route reads.
    #[error("unsupported content type {found:?}: expected {expected}")]
    UnsupportedMediaType { found: String, expected: &'static str },
    /// The request took longer than `admin.request_timeout`; its work was dropped.
    #[error("the request took longer than {limit_ms} ms and was stopped; nothing was changed by it unless a later read shows otherwise")]
    Timeout { limit_ms: u128 },
    /// The directory changed since the version the client previewed.
    #[error("the directory changed since you previewed it (version {previewed}, now {current}): preview the file again")]
    DirectoryChanged { previewed: i64, current: i64 },
    /// A replacing import would remove entries and the request did not confirm how many.
    #[error("this import replaces the directory and removes entries ({removed} of them): send confirm_removals={removed} to apply it, or import with mode=merge to keep them")]
    ConfirmRemovals { removed: usize },
    /// A failure of the server (database down, …); details go to the log only.
    #[error("internal error")]
    Internal {
        #[source]
        source: AdminError,
    },
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MissingToken | ApiError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Invalid { .. } | ApiError::InvalidField { .. } | ApiError::Rejected { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Conflict { .. } | ApiError::ConflictField { .. } => StatusCode::CONFLICT,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Timeout { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::DirectoryChanged { .. } | ApiError::ConfirmRemovals { .. } => StatusCode::CONFLICT,
            ApiError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MissingToken => "missing_token",
            ApiError::Unauthenticated { failure: AuthFailure::Expired } => "token_expired",
            ApiError::Unauthenticated { .. } => "invalid_token",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Forbidden { .. } => "forbidden",
            ApiError::NotFound { .. } => "not_found",
            ApiError::BadRequest { .. } => "bad_request",
            ApiError::Invalid { .. } | ApiError::InvalidField { .. } => "invalid",
            ApiError::Rejected { .. } => "file_rejected",
            ApiError::Conflict { .. } | ApiError::ConflictField { .. } => "conflict",
            ApiError::TooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType { .. } => "unsupported_media_type",
            ApiError::Timeout { .. } => "request_timeout",
            ApiError::DirectoryChanged { .. } => "directory_changed",
            ApiError::ConfirmRemovals { .. } => "confirm_removals",
            ApiError::Internal { .. } => "internal",
        }
    }
}

/// An error's message as a catalogue id and its arguments, kept on the
/// response so that [`localize`] can write it in the request's language.
#[derive(Debug, Clone)]
pub struct ErrorText {
    /// The JSON body (with the English message).
    pub body: serde_json::Value,
    pub id: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl ApiError {
    /// A wrong field value said by catalogue message `id` with `args`.
    pub fn field(id: &'static str, args: Vec<(&'static str, String)>) -> ApiError {
        let english = super::i18n::Catalogue::get().format(super::i18n::UiLanguage::En, id, &args);
        ApiError::InvalidField { id, args, english }
    }

    /// A clash with existing data said by catalogue message `id` with `args`.
    pub fn clash(id: &'static str, args: Vec<(&'static str, String)>) -> ApiError {
        let english = super::i18n::Catalogue::get().format(super::i18n::UiLanguage::En, id, &args);
        ApiError::ConflictField { id, args, english }
    }

    /// Opening hours refused by their validation.
    pub fn hours(error: &crate::directory::hours::HoursError) -> ApiError {
        use crate::directory::hours::HoursError;
        match error {
            HoursError::UnknownTimeZone { name } => ApiError::field("hours-unknown-time-zone", vec![("name", name.clone())]),
            HoursError::EmptyInterval { day, open, close } => ApiError::field(
                "hours-empty-interval",
                vec![("day", day.clone()), ("open", open.to_string()), ("close", close.to_string())],
            ),
            HoursError::Overlap { day, first, second } => {
                ApiError::field("hours-overlap", vec![("day", day.clone()), ("first", first.clone()), ("second", second.clone())])
            }
            HoursError::DuplicateHoliday { date } => ApiError::field("hours-duplicate-holiday", vec![("date", date.to_string())]),
            HoursError::EmptyClosedMessage => ApiError::field("hours-empty-closed-message", vec![]),
        }
    }

    /// The catalogue id and arguments of this error's message (see
    /// `locales/*.ftl`); the English catalogue says what `Display` says.
    pub fn text(&self) -> (&'static str, Vec<(&'static str, String)>) {
        let detail = |d: String| vec![("detail", d)];
        match self {
            ApiError::MissingToken => ("error-missing-token", vec![]),
            ApiError::Unauthenticated { failure: AuthFailure::Malformed } => ("error-token-malformed", vec![]),
            ApiError::Unauthenticated { failure: AuthFailure::Invalid } => ("error-token-invalid", vec![]),
            ApiError::Unauthenticated { failure: AuthFailure::Expired } => ("error-token-expired", vec![]),
            ApiError::RateLimited { retry_after_secs } => ("error-rate-limited", vec![("seconds", retry_after_secs.to_string())]),
            ApiError::Forbidden { what } => ("error-forbidden", vec![("what", (*what).to_owned())]),
            ApiError::NotFound { what } => match what.split_once(' ') {
                Some(("store", id)) => ("error-not-found-store", vec![("id", id.to_owned())]),
                Some(("entry", id)) => ("error-not-found-entry", vec![("id", id.to_owned())]),
                Some(("token", id)) => ("error-not-found-token", vec![("id", id.to_owned())]),
                _ if what == "route" => ("error-not-found-route", vec![]),
                _ => ("error-not-found", vec![("what", what.clone())]),
            },
            ApiError::BadRequest { message } => ("error-bad-request", detail(message.clone())),
            ApiError::Invalid { message } => ("error-invalid", detail(message.clone())),
            ApiError::Rejected { rejected } => ("error-rejected", detail(rejected.to_string())),
            ApiError::Conflict { message } => ("error-conflict", detail(message.clone())),
            ApiError::InvalidField { id, args, .. } | ApiError::ConflictField { id, args, .. } => (id, args.clone()),
            ApiError::TooLarge { message } => ("error-too-large", detail(message.clone())),
            ApiError::UnsupportedMediaType { found, expected } => {
                ("error-unsupported-media-type", vec![("found", format!("{found:?}")), ("expected", (*expected).to_owned())])
            }
            ApiError::Timeout { limit_ms } => ("error-timeout", vec![("limit", limit_ms.to_string())]),
            ApiError::DirectoryChanged { previewed, current } => {
                ("error-directory-changed", vec![("previewed", previewed.to_string()), ("current", current.to_string())])
            }
            ApiError::ConfirmRemovals { removed } => ("error-confirm-removals", vec![("removed", removed.to_string())]),
            ApiError::Internal { .. } => ("error-internal", vec![]),
        }
    }
}

/// Writes the message of an error response in the language of the request
/// (`Accept-Language`; English otherwise). The `what` of a refusal is itself a
/// catalogue message (`forbidden-<words>`), so it is translated too.
pub async fn localize(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let language = super::i18n::negotiate(request.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
    let mut response = next.run(request).await;
    let Some(ErrorText { mut body, id, mut args }) = response.extensions_mut().remove::<ErrorText>() else {
        return response;
    };
    let catalogue = super::i18n::Catalogue::get();
    for (name, value) in &mut args {
        if *name == "what" && id == "error-forbidden" {
            let key: String = value.chars().filter(|c| c.is_ascii_alphanumeric() || *c == ' ').collect::<String>().replace(' ', "-");
            let key = format!("forbidden-{key}");
            if catalogue.has(language, &key) {
                *value = catalogue.format(language, &key, &[]);
            }
        }
    }
    body["error"]["message"] = serde_json::Value::String(catalogue.format(language, id, &args));
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(language.code()));
    Response::from_parts(parts, axum::body::Body::from(body.to_string()))
}

impl From<AdminError> for ApiError {
    fn from(error: AdminError) -> ApiError {
        match error {
            AdminError::Store(StoreError::UnknownStore { store }) => ApiError::NotFound { what: format!("store {}", store.0) },
            AdminError::Store(StoreError::InvalidMenuDigit { store, digit }) => {
                ApiError::field("menu-digit-not-a-key", vec![("store", store.0.to_string()), ("digit", format!("{digit:?}"))])
            }
            AdminError::Store(StoreError::DuplicateMenuDigit { store, digit }) => {
                ApiError::field("menu-digit-twice", vec![("store", store.0.to_string()), ("digit", format!("{digit:?}"))])
            }
            AdminError::Store(e @ StoreError::Settings { .. }) => ApiError::Invalid { message: e.to_string() },
            AdminError::UnknownEntry { entry, .. } => ApiError::NotFound { what: format!("entry {entry}") },
            AdminError::UnknownToken { id } => ApiError::NotFound { what: format!("token {id}") },
            AdminError::DuplicateEntry { store, key } => {
                ApiError::clash("duplicate-entry", vec![("store", store.0.to_string()), ("key", key)])
            }
            AdminError::DuplicateExtension { store, extension } => {
                ApiError::clash("duplicate-extension", vec![("store", store.0.to_string()), ("extension", extension)])
            }
            AdminError::DuplicateNumber { number } => ApiError::clash("duplicate-number", vec![("number", format!("{number:?}"))]),
            AdminError::InvalidHours { source, .. } => ApiError::hours(&source),
            AdminError::VersionChanged { expected, current, .. } => ApiError::DirectoryChanged { previewed: expected, current },
            AdminError::Unauthenticated { failure } => ApiError::Unauthenticated { failure },
            source => ApiError::Internal { source },
        }
    }
}

impl From<ImportRejected> for ApiError {
    fn from(rejected: ImportRejected) -> ApiError {
        match rejected.problems.as_slice() {
            [problem @ ImportProblem::TooLarge { .. }] => ApiError::TooLarge { message: problem.to_string() },
            _ => ApiError::Rejected { rejected },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal { source } = &self {
            tracing::error!(error = %source, "admin API internal error");
        }
        let mut body = serde_json::json!({
            "error": { "code": self.code(), "message": self.to_string() }
        });
        if let ApiError::Rejected { rejected } = &self {
            body["error"]["problems"] = serde_json::json!(
                rejected
                    .problems
                    .iter()
                    .map(|p| serde_json::json!({"message": p.to_string(), "detail": p}))
                    .collect::<Vec<_>>()
            );
        }
        match &self {
            ApiError::DirectoryChanged { current, .. } => body["error"]["current_version"] = serde_json::json!(current),
            ApiError::ConfirmRemovals { removed } => body["error"]["removed"] = serde_json::json!(removed),
            _ => {}
        }
        let (id, args) = self.text();
        let mut response = (self.status(), axum::Json(body.clone())).into_response();
        response.extensions_mut().insert(ErrorText { body, id, args });
        if let ApiError::RateLimited { retry_after_secs } = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        if matches!(self, ApiError::MissingToken | ApiError::Unauthenticated { .. }) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Maps an axum extractor rejection (JSON body, path, query, raw body) to our
/// shape, keeping its status: 400 bad syntax, 413 too large, 415 wrong type,
/// 422 wrong field types.
pub fn from_rejection(status: StatusCode, text: String) -> ApiError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge { message: "request body too large".to_owned() },
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ApiError::UnsupportedMediaType { found: "(none or other)".to_owned(), expected: "application/json" }
        }
        StatusCode::UNPROCESSABLE_ENTITY => ApiError::Invalid { message: text },
        _ => ApiError::BadRequest { message: text },
    }
}
