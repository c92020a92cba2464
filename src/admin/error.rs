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
    #[error("this import replaces the directory and removes {removed} entr{}: send confirm_removals={removed} to apply it, or import with mode=merge to keep them", if *.removed == 1 { "y" } else { "ies" })]
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
            ApiError::Invalid { .. } | ApiError::Rejected { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
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
            ApiError::Invalid { .. } => "invalid",
            ApiError::Rejected { .. } => "file_rejected",
            ApiError::Conflict { .. } => "conflict",
            ApiError::TooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType { .. } => "unsupported_media_type",
            ApiError::Timeout { .. } => "request_timeout",
            ApiError::DirectoryChanged { .. } => "directory_changed",
            ApiError::ConfirmRemovals { .. } => "confirm_removals",
            ApiError::Internal { .. } => "internal",
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(error: AdminError) -> ApiError {
        match error {
            AdminError::Store(StoreError::UnknownStore { store }) => ApiError::NotFound { what: format!("store {}", store.0) },
            AdminError::Store(
                e @ (StoreError::InvalidMenuDigit { .. } | StoreError::DuplicateMenuDigit { .. } | StoreError::Settings { .. }),
            ) => ApiError::Invalid { message: e.to_string() },
            AdminError::UnknownEntry { entry, .. } => ApiError::NotFound { what: format!("entry {entry}") },
            AdminError::UnknownToken { id } => ApiError::NotFound { what: format!("token {id}") },
            e @ (AdminError::DuplicateEntry { .. }
            | AdminError::DuplicateExtension { .. }
            | AdminError::DuplicateNumber { .. }) => ApiError::Conflict { message: e.to_string() },
            AdminError::InvalidHours { source, .. } => ApiError::Invalid { message: source.to_string() },
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
        let mut response = (self.status(), axum::Json(body)).into_response();
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
