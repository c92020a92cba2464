//! Route table and handlers of the API and the console.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::AdminState;
use super::auth::Caller;
use super::i18n::{Catalogue, UiLanguage};
use super::error::{ApiError, from_rejection};
use super::statistics::{self, Period, Statistics, Zones};
use super::sync::{SyncReport, sync_report};
use crate::directory::hours::OpeningHours;
use crate::directory::import::{self, CsvDialect, DirectoryDiff, EntryFields, Format, ImportMode, ReadOptions};
use crate::directory::settings::StoreSettings;
use crate::directory::store::NewStore;
use crate::directory::store::admin::{AdminError, AuditRecord, CallRecord, TokenScope};
use crate::directory::{Directory, DirectoryVersion, Entry, EntryId, Language, MenuOption, NewEntry, Store, StoreId};

/// Every route of the router: method and path (axum syntax). The OpenAPI
/// description is tested against this list, and this list against the router.
pub const ROUTES: &[(Method, &str)] = &[
    (Method::GET, "/"),
    (Method::GET, "/console.js"),
    (Method::GET, "/console.css"),
    (Method::GET, "/api/v1/openapi.json"),
    (Method::GET, "/api/v1/i18n/{lang}"),
    (Method::GET, "/api/v1/me"),
    (Method::GET, "/api/v1/stores"),
    (Method::POST, "/api/v1/stores"),
    (Method::GET, "/api/v1/stores/{store}"),
    (Method::POST, "/api/v1/stores/{store}/tokens"),
    (Method::DELETE, "/api/v1/tokens/{token}"),
    (Method::GET, "/api/v1/stores/{store}/entries"),
    (Method::POST, "/api/v1/stores/{store}/entries"),
    (Method::GET, "/api/v1/stores/{store}/entries/{entry}"),
    (Method::PUT, "/api/v1/stores/{store}/entries/{entry}"),
    (Method::DELETE, "/api/v1/stores/{store}/entries/{entry}"),
    (Method::GET, "/api/v1/stores/{store}/menu"),
    (Method::PUT, "/api/v1/stores/{store}/menu"),
    (Method::GET, "/api/v1/stores/{store}/hours"),
    (Method::PUT, "/api/v1/stores/{store}/hours"),
    (Method::POST, "/api/v1/stores/{store}/import"),
    (Method::GET, "/api/v1/stores/{store}/export"),
    (Method::GET, "/api/v1/stores/{store}/sync-report"),
    (Method::GET, "/api/v1/stores/{store}/calls"),
    (Method::GET, "/api/v1/stores/{store}/calls/export"),
    (Method::GET, "/api/v1/stores/{store}/statistics"),
    (Method::GET, "/api/v1/statistics"),
    (Method::GET, "/api/v1/stores/{store}/tokens"),
    (Method::POST, "/api/v1/stores/{store}/hours/preview"),
    (Method::GET, "/api/v1/stores/{store}/audit"),
    (Method::GET, "/api/v1/audit"),
    (Method::GET, "/api/v1/registrations"),
];

pub(super) fn build(state: AdminState) -> Router {
    let body_limit = state.limits.max_body_bytes;
    Router::new()
        .route("/", get(console_html))
        .route("/console.js", get(console_js))
        .route("/console.css", get(console_css))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/i18n/{lang}", get(console_catalogue))
        .route("/api/v1/me", get(me))
        .route("/api/v1/stores", get(list_stores).post(create_store))
        .route("/api/v1/stores/{store}", get(get_store))
        .route("/api/v1/stores/{store}/tokens", post(issue_token).get(list_tokens))
        .route("/api/v1/tokens/{token}", delete(revoke_token))
        .route("/api/v1/stores/{store}/entries", get(list_entries).post(create_entry))
        .route("/api/v1/stores/{store}/entries/{entry}", get(get_entry).put(update_entry).delete(delete_entry))
        .route("/api/v1/stores/{store}/menu", get(get_menu).put(put_menu))
        .route("/api/v1/stores/{store}/hours", get(get_hours).put(put_hours))
        .route("/api/v1/stores/{store}/import", post(import_file))
        .route("/api/v1/stores/{store}/export", get(export_file))
        .route("/api/v1/stores/{store}/sync-report", get(get_sync_report))
        .route("/api/v1/stores/{store}/calls", get(recent_calls))
        .route("/api/v1/stores/{store}/calls/export", get(export_calls))
        .route("/api/v1/stores/{store}/statistics", get(store_statistics))
        .route("/api/v1/statistics", get(all_statistics))
        .route("/api/v1/stores/{store}/hours/preview", post(preview_hours))
        .route("/api/v1/stores/{store}/audit", get(store_audit))
        .route("/api/v1/audit", get(all_audit))
        .route("/api/v1/registrations", get(registrations))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), bounded))
        .layer(axum::middleware::from_fn(super::error::localize))
        .with_state(state)
}

/// Every request: bounded in time (`admin.request_timeout`, body upload
/// included: the extractors run inside), and every response marked
/// `nosniff` so that no browser runs an exported file or an error as a script.
async fn bounded(
    State(state): State<AdminState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let limit = state.limits.request_timeout;
    let mut response = match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(limit_ms = limit.as_millis(), "admin request stopped at its time limit");
            ApiError::Timeout { limit_ms: limit.as_millis() }.into_response()
        }
    };
    response.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

type ApiResult<T> = Result<T, ApiError>;

/// The store a path names, by its number (what admins know: `/stores/1000`
/// for the store callers reach at 1000) or else by its id, once the caller
/// may reach it: a store token reaching another store (or none) gets the same
/// 403 either way, so a path tells nothing about other stores.
async fn resolve_store(state: &AdminState, caller: &Caller, segment: &str) -> ApiResult<StoreId> {
    let by_number = state.store.list_stores().await.map_err(admin_err)?.into_iter().find(|s| s.number == segment).map(|s| s.id);
    let store = match by_number {
        Some(id) => id,
        None => StoreId(segment.parse().map_err(|_| ApiError::NotFound { what: format!("store {segment}") })?),
    };
    caller.require_store(store)?;
    Ok(store)
}

async fn store_id(state: &AdminState, caller: &Caller, store: Result<Path<String>, PathRejection>) -> ApiResult<StoreId> {
    resolve_store(state, caller, &path(store)?).await
}

// ---------------------------------------------------------------------------
// Extraction helpers: every axum rejection becomes our JSON error.

fn path<T>(extracted: Result<Path<T>, PathRejection>) -> ApiResult<T> {
    extracted.map(|Path(v)| v).map_err(|r| ApiError::BadRequest { message: r.body_text() })
}

fn query<T>(extracted: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    extracted.map(|Query(v)| v).map_err(|r| ApiError::BadRequest { message: r.body_text() })
}

fn body<T>(extracted: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    extracted.map(|Json(v)| v).map_err(|r| from_rejection(r.status(), r.body_text()))
}

fn raw_body(extracted: Result<Bytes, BytesRejection>) -> ApiResult<Bytes> {
    extracted.map_err(|r| from_rejection(r.status(), r.body_text()))
}

/// Limits for list routes: `?limit=` (default 100, at most 1000).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitQuery {
    limit: Option<u32>,
}

impl LimitQuery {
    fn limit(&self) -> ApiResult<u32> {
        match self.limit {
            None => Ok(100),
            Some(n @ 1..=1000) => Ok(n),
            Some(n) => Err(ApiError::field("invalid-limit", vec![("n", n.to_string())])),
        }
    }
}

// ---------------------------------------------------------------------------
// Views: what the API reads and writes (targets as text, as in import files).

#[derive(Debug, Serialize)]
struct EntryView {
    id: i64,
    #[serde(flatten)]
    fields: EntryFields,
}

impl EntryView {
    fn of(entry: &Entry) -> EntryView {
        EntryView { id: entry.id.0, fields: EntryFields::from_entry(&NewEntry::from(entry)) }
    }
}

#[derive(Debug, Serialize)]
struct StoreView {
    id: i64,
    name: String,
    number: String,
    language: Language,
    operator: String,
    version: i64,
    /// The store's own spell key (keypad name search), when it sets one;
    /// otherwise the configuration's default applies. Only in `GET /stores/{store}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    spell_key: Option<String>,
}

impl StoreView {
    fn of(store: &Store, version: i64) -> StoreView {
        StoreView {
            id: store.id.0,
            name: store.name.clone(),
            number: store.number.clone(),
            language: store.language,
            operator: import::target_text(&store.operator).to_owned(),
            version,
            spell_key: None,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MenuItem {
    digit: String,
    label: String,
    target: String,
}

#[derive(Debug, Serialize)]
struct DiffView {
    added: Vec<EntryFields>,
    changed: Vec<ChangedView>,
    removed: Vec<EntryFields>,
    unchanged: usize,
}

#[derive(Debug, Serialize)]
struct ChangedView {
    before: EntryFields,
    after: EntryFields,
    /// The fields that differ (`enabled`, `aliases`, `fallback`, …).
    fields: Vec<&'static str>,
}

impl DiffView {
    fn of(diff: &DirectoryDiff) -> DiffView {
        DiffView {
            added: diff.added.iter().map(EntryFields::from_entry).collect(),
            changed: diff
                .changed
                .iter()
                .map(|(b, a)| ChangedView {
                    before: EntryFields::from_entry(b),
                    after: EntryFields::from_entry(a),
                    fields: import::changed_fields(b, a),
                })
                .collect(),
            removed: diff.removed.iter().map(EntryFields::from_entry).collect(),
            unchanged: diff.unchanged,
        }
    }
}

fn parse_target(field: &str, value: &str) -> ApiResult<crate::directory::TransferTarget> {
    import::parse_target_text(value)
        .ok_or_else(|| ApiError::field("invalid-target", vec![("field", field.to_owned()), ("value", value.to_owned())]))
}

fn validated_entry(fields: EntryFields) -> ApiResult<NewEntry> {
    // One entry, not a file: its problems without "line 1", each said once.
    import::validate_entry(fields).map_err(|rejected| ApiError::Invalid { message: rejected.entry_message() })
}

// ---------------------------------------------------------------------------
// Console (static assets embedded in the binary).

fn asset(content_type: &'static str, text: &'static str) -> Response {
    let mut response = (StatusCode::OK, text).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'; form-action 'none'"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

async fn console_html() -> Response {
    asset("text/html; charset=utf-8", include_str!("console/index.html"))
}

async fn console_js() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("console/console.js"))
}

async fn console_css() -> Response {
    asset("text/css; charset=utf-8", include_str!("console/console.css"))
}

async fn not_found() -> ApiError {
    ApiError::NotFound { what: "route".to_owned() }
}

async fn method_not_allowed() -> Response {
    let body = json!({"error": {"code": "method_not_allowed", "message": "method not allowed on this route"}});
    let mut response = (StatusCode::METHOD_NOT_ALLOWED, Json(body.clone())).into_response();
    response.extensions_mut().insert(super::error::ErrorText { body, id: "error-method-not-allowed", args: vec![] });
    response
}

/// The console's labels in one language (`en`, `fr`; a BCP 47 tag is cut to
/// its language), with `{ $name }` placeholders. Public: the sign-in page needs it.
async fn console_catalogue(lang: Result<Path<String>, PathRejection>) -> ApiResult<Response> {
    let tag = path(lang)?;
    let language = UiLanguage::from_tag(&tag).ok_or_else(|| ApiError::NotFound { what: format!("language {tag}") })?;
    let body = json!({ "lang": language, "messages": Catalogue::get().console_messages(language) });
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

async fn openapi() -> Json<Value> {
    Json(super::openapi::document())
}

// ---------------------------------------------------------------------------
// Identity and stores.

async fn me(caller: Caller) -> Json<Value> {
    Json(json!({
        "token": caller.token.id,
        "label": caller.token.label,
        "scope": caller.token.scope,
        "expires_at": caller.token.expires_at,
    }))
}

async fn list_stores(caller: Caller, State(state): State<AdminState>) -> ApiResult<Json<Vec<StoreView>>> {
    caller.require_operator("list stores")?;
    let mut views = Vec::new();
    for store in state.store.list_stores().await.map_err(admin_err)? {
        let version = state.store.load_directory(store.id).await.map_err(admin_err)?.version.0;
        views.push(StoreView::of(&store, version));
    }
    Ok(Json(views))
}

fn admin_err(e: crate::directory::store::StoreError) -> ApiError {
    ApiError::from(crate::directory::store::admin::AdminError::from(e))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreBody {
    name: String,
    number: String,
    language: Language,
    operator: String,
}

impl StoreBody {
    /// The store to create: trimmed name (1-120 characters, no control
    /// characters), number (1-20 digits, optional +), operator target.
    fn validated(self) -> ApiResult<NewStore> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 120 || name.chars().any(char::is_control) {
            return Err(ApiError::field("invalid-store-name", vec![]));
        }
        let number = self.number.trim();
        let digits = number.strip_prefix('+').unwrap_or(number);
        if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::field("invalid-store-number", vec![("number", number.to_owned())]));
        }
        let operator = parse_target("operator", &self.operator)?;
        Ok(NewStore {
            name: name.to_owned(),
            number: number.to_owned(),
            language: self.language,
            operator,
            settings: StoreSettings::none(),
        })
    }
}

async fn create_store(
    caller: Caller,
    State(state): State<AdminState>,
    json: Result<Json<StoreBody>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<StoreView>)> {
    caller.require_operator("create stores")?;
    let new = body(json)?.validated()?;
    let id = state.store.create_store(&new, &caller.actor()).await?;
    let directory = state.store.load_directory(id).await.map_err(admin_err)?;
    Ok((StatusCode::CREATED, Json(StoreView::of(&directory.store, directory.version.0))))
}

async fn get_store(
    caller: Caller,
    State(state): State<AdminState>,
    store: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<StoreView>> {
    let store = store_id(&state, &caller, store).await?;
    let directory = state.store.load_directory(store).await.map_err(admin_err)?;
    let settings = state.store.store_settings(store).await.map_err(admin_err)?;
    let mut view = StoreView::of(&directory.store, directory.version.0);
    view.spell_key = settings.overrides().get("spell_key").and_then(|key| match key {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    });
    Ok(Json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    label: String,
    /// Days until the token expires; none: `admin.token_lifetime_days`.
    #[serde(default)]
    expires_in_days: Option<u32>,
}

impl TokenBody {
    /// The trimmed label (1-120 characters) and the expiry, `now` plus 1 to
    /// 3660 days (`default_days` when the body names none; none of either:
    /// no expiry).
    fn validated(self, now: jiff::Timestamp, default_days: Option<u32>) -> ApiResult<(String, Option<jiff::Timestamp>)> {
        let label = self.label.trim();
        if label.is_empty() || label.chars().count() > 120 {
            return Err(ApiError::field("invalid-token-label", vec![]));
        }
        let expires_at = match self.expires_in_days.or(default_days) {
            None => None,
            Some(days @ 1..=3660) => {
                let span = jiff::SignedDuration::from_hours(i64::from(days) * 24);
                Some(now.checked_add(span).map_err(|_| ApiError::field("invalid-expiry-range", vec![]))?)
            }
            Some(days) => return Err(ApiError::field("invalid-expiry-days", vec![("days", days.to_string())])),
        };
        Ok((label.to_owned(), expires_at))
    }
}

async fn issue_token(
    caller: Caller,
    State(state): State<AdminState>,
    store: Result<Path<String>, PathRejection>,
    json: Result<Json<TokenBody>, JsonRejection>,
) -> ApiResult<Response> {
    // The operator delegates to any store; a store's admin manages its own.
    let store = store_id(&state, &caller, store).await?;
    let (label, expires_at) = body(json)?.validated(caller.now, state.limits.token_lifetime_days)?;
    let issued = state.store.issue_token(TokenScope::Store(store), &label, expires_at, &caller.actor()).await?;
    let mut response = (StatusCode::CREATED, Json(issued)).into_response();
    // The body holds a secret: no browser or proxy may keep it.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn revoke_token(
    caller: Caller,
    State(state): State<AdminState>,
    token: Result<Path<String>, PathRejection>,
) -> ApiResult<StatusCode> {
    let token = path(token)?;
    match state.store.token_scope(&token).await? {
        TokenScope::Store(store) if caller.token.scope.covers(store) => {}
        TokenScope::Store(_) => return Err(ApiError::Forbidden { what: "manage another store's tokens" }),
        TokenScope::Operator => caller.require_operator("revoke tokens")?,
    }
    state.store.revoke_token(&token, &caller.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_tokens(
    caller: Caller,
    State(state): State<AdminState>,
    store: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Vec<crate::directory::store::admin::TokenInfo>>> {
    let store = store_id(&state, &caller, store).await?;
    state.store.load_directory(store).await.map_err(admin_err)?;
    Ok(Json(state.store.list_tokens(store).await?))
}

// ---------------------------------------------------------------------------
// Entries.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchQuery {
    q: Option<String>,
}

async fn list_entries(
    caller: Caller,
    State(state): State<AdminState>,
    store: Result<Path<String>, PathRejection>,
    search: Result<Query<SearchQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<EntryView>>> {
    let store = store_id(&state, &caller, store).await?;
    let search = query(search)?;
    let entries = state.store.list_entries(store, search.q.as_deref()).await?;
    Ok(Json(entries.iter().map(EntryView::of).collect()))
}

async fn get_entry(
    caller: Caller,
    State(state): State<AdminState>,
    ids: Result<Path<(String, i64)>, PathRejection>,
) -> ApiResult<Json<EntryView>> {
    let (store, entry) = path(ids)?;
    let store = resolve_store(&state, &caller, &store).await?;
    let entry = state.store.get_entry(store, EntryId(entry)).await?;
    Ok(Json(EntryView::of(&entry)))
}

#[derive(Debug, Serialize)]
struct EntryChange {
    entry: EntryView,
    version: i64,
}

async fn create_entry(
    caller: Caller,
    State(state): State<AdminState>,
    store: Result<Path<String>, PathRejection>,
    json: Result<Json<EntryFields>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<EntryChange>)> {
    let store = store_id(&state, &caller, store).await?;
    let entry = validated_entry(body(json)?)?;
    let (entry, version) = state.store.create_entry(store, &entry, &caller.actor()).await?;
    Ok((StatusCode::CREATED, Json(EntryChange { entry: EntryView::of(&entry), version: version.0 })))
}

async fn update_entry(
    caller: Caller,
    State(state): State<AdminState>,
    ids: Result<Path<(String, i64)>, PathRejection>,
    json: Result<Json<EntryFields>, JsonRejection>,
) -> ApiResult<Json<EntryChange>> {
    let (store, id) = path(ids)?;
    let store = resolve_store(&state, &caller, &store).await?;
    let entry = validated_entry(body(json)?)?;
    let (entry, version) = state.store.update_entry(store, EntryId(id), &entry, &caller.actor()).await?;
    Ok(Json(EntryChange { entry: EntryView::of(&entry), version: version.0 }))
}

async fn delete_entry(
    caller: Caller,
    State(state): State<AdminState>,
    ids: Result<Path<(String, i64)>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let (store, id) = path(ids)?;
    let store = resolve_store(&state, &caller, &store).await?;
    let version = state.store.delete_entry(store, EntryId(id), &caller.actor()).await?;
    Ok(Json(json!({ "version": version.0 })))
}

// ---------------------------------------------------------------------------
// Menu and hours.

fn menu_view(menu: &[MenuOption]) -> Vec<MenuItem> {
    menu.iter()
        .map(|o| MenuItem {
            digit: o.digit.to_string(),
            label: o.label.clone(),
            target: import::target_text(&o.target).to_owned(),
        })
        .collect()
}

async fn get_menu(
    caller: Caller,
    State(state): State<AdminState>,
    store: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Vec<MenuItem>>> {
    let store = store_id(&state, &caller, store).await?;
    Ok(Json(menu_view(&state.store.menu(store).await?)))
}

async fn put_menu(
    caller: Caller,
    State(state): State<AdminState>,
    store: Result<Path<String>, PathRejection>,
    json: Result<Json<Vec<MenuItem>>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let store = store_id(&state, &caller, store).await?;
    let menu = validated_menu(body(json)?)?;
    let version = state.store.set_menu(store, &menu, &caller.actor()).await?;
    Ok(Json(json!({ "version": version.0, "menu": menu_view(&state.store.menu(store).await?) })))
}

/// The menu options of a menu body: one key each, a trimmed label (1-120
/// characters, no control characters), a target. Which keys are allowed and
/// unique is the store's check.
fn validated_menu(items: Vec<MenuItem>) -> ApiResult<Vec<MenuOption>> {
    let mut menu = Vec::with_capacity(items.len());
    for item in items {
        let mut chars = item.digit.chars();
        let digit = match (chars.next(), chars.next()) {
            (Some(d), None) => d,
            _ => return Err(ApiError::field("invalid-menu-digit", vec![("digit", item.digit.clone())])),
        };
        let label = item.label.trim();
        if label.is_empty() || label.chars().count() > 120 || label.chars().any(char::is_control) {
            return Err(ApiError::field("invalid-menu-label", vec![("digit", digit.to_string())]));
        }
        menu.push(MenuOption { digit, label: label.to_owned(), target: parse_target("target", &item.target)? });
    }
    Ok(menu)
}

async fn get_hours(
    caller: Caller,
    State(state): State<AdminState>,
    store: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Option<OpeningHours>>> {
    let store = store_id(&state, &caller, store).await?;
    Ok(Json(state.store.opening_hours(store).await?))
}

async fn put_hours(
    caller: Caller,
    State(state): State<AdminState>,
    store: Result<Path<String>, PathRejection>,
    json: Result<Json<Option<OpeningHours>>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let store = store_id(&state, &caller, store).await?;
    let hours = body(json)?;
    let version = state.store.set_opening_hours(store, hours.as_ref(), &caller.actor()).await?;
    Ok(Json(json!({ "version": version.0, "hours": hours })))
}

// ---------------------------------------------------------------------------
// Import, export, sync report.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    #[serde(default)]
    dry_run: bool,
    /// `replace` (default: entries not in the file go) or `merge` (the
    /// file's entries are added or updated, the others kept).
    #[serde(default)]
    mode: ImportMode,
    /// The directory version the admin previewed: if it changed since, 409.
    version: Option<i64>,
    /// How many entries a replacing import removes, as the preview said:
    /// required (409 `confirm_removals`) when it removes any.
    confirm_removals: Option<usize>,
    /// The file's encoding label (`utf-8`, `windows-1252`…); default: the
    /// Content-Type's charset, else detected.
    encoding: Option<String>,
    /// `,` `;` or `tab`; default: detected from the header.
    separator: Option<String>,
}

impl ImportQuery {
    fn read_options(&self, headers: &HeaderMap) -> ApiResult<ReadOptions> {
        let charset = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|ct| ct.split(';').skip(1).find_map(|p| p.trim().strip_prefix("charset=").map(|c| c.trim_matches('"').to_owned())));
        let encoding = match self.encoding.as_deref().map(str::to_owned).or(charset) {
            None => None,
            Some(label) => Some(ReadOptions::encoding_from_label(&label).ok_or_else(|| ApiError::Invalid {
                message: format!("unknown encoding `{label}` (e.g. utf-8, windows-1252, iso-8859-15)"),
            })?),
        };
        let separator = match self.separator.as_deref() {
            None => None,
            Some(text) => Some(ReadOptions::separator_from_text(text).ok_or_else(|| ApiError::Invalid {
                message: format!("unknown separator `{text}`: one of `,` `;` `tab`"),
            })?),
        };
        Ok(ReadOptions { encoding, separator })
    }
}

fn body_format(headers: &HeaderMap) -> ApiResult<Format> {
    let found = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = found.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match mime.as_str() {
        "text/csv" => Ok(Format::Csv),
        "application/json" => Ok(Format::Json),
        _ => Err(ApiError::UnsupportedMediaType { found: found.to_owned(), expected: "text/csv or application/json" }),
    }
}

/// The sync report of `directory`, computed on the blocking pool: the
/// similar-names check is CPU-bound (up to seconds on large directories) and
/// must not stall the runtime's workers.
async fn report_of(state: &AdminState, directory: Directory) -> ApiResult<SyncReport> {
    let vocabulary = state.vocabulary.clone();
    let similar = state.similar.clone();
    tokio::task::spawn_blocking(move || sync_report(&directory, vocabulary.as_deref(), similar.as_ref()))
        .await
        .map_err(|source| ApiError::Internal { source: AdminError::HashTask { source } })
}

async fn current_report(state: &AdminState, store: StoreId) -> ApiResult<(i64, SyncReport)> {
    let directory = state.store.load_directory(store).await.map_err(admin_err)?;
    let version = directory.version.0;
    Ok((version, report_of(state, directory).await?))
}

async fn import_file(
    caller: Caller,
    State(state): State<AdminState>,
    store: Result<Path<String>, PathRejection>,
    options: Result<Query<ImportQuery>, QueryRejection>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let store = store_id(&state, &caller, store).await?;
    let options = query(options)?;
    let format = body_format(&headers)?;
    let read = options.read_options(&headers)?;
    let bytes = raw_body(bytes)?;
    let (entries, reading) = import::parse_with(&bytes, format, state.limits.import, read)?;
    let directory = state.store.load_directory(store).await.map_err(admin_err)?;
    if let Some(previewed) = options.version
        && previewed != directory.version.0
    {
        return Err(ApiError::DirectoryChanged { previewed, current: directory.version.0 });
    }
    let current: Vec<NewEntry> = directory.entries.iter().map(NewEntry::from).collect();
    let target = import::apply_mode(&current, &entries, options.mode);
    if let Some((extension, first, second)) = import::duplicate_extension(&target) {
        return Err(ApiError::Conflict {
            message: format!("after this import, `{first}` and `{second}` would both have extension {extension}"),
        });
    }
    let diff = import::diff(&current, &target);
    if options.dry_run {
        // The report of the directory as it would be (ids are placeholders).
        let preview = Directory {
            entries: target.iter().enumerate().map(|(i, e)| e.with_id(EntryId(i as i64 + 1))).collect(),
            ..directory.clone()
        };
        let report = report_of(&state, preview).await?;
        return Ok(Json(json!({
            "dry_run": true,
            "mode": options.mode,
            "version": directory.version.0,
            "reading": reading,
            "diff": DiffView::of(&diff),
            "sync": report,
        })));
    }
    if options.mode == ImportMode::Replace && !diff.removed.is_empty() && options.confirm_removals != Some(diff.removed.len()) {
        return Err(ApiError::ConfirmRemovals { removed: diff.removed.len() });
    }
    let expected = options.version.map(DirectoryVersion);
    let (version, diff) = state.store.import_entries_as(store, &entries, options.mode, expected, &caller.actor()).await?;
    let (_, report) = current_report(&state, store).await?;
    Ok(Json(json!({
        "dry_run": false,
        "mode": options.mode,
        "version": version.0,
        "reading": reading,
        "diff": DiffView::of(&diff),
        "sync": report,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    format: Option<Format>,
    /// `standard` (default) or `excel` (BOM, `;`, CRLF); CSV only.
    dialect: Option<CsvDialect>,
}

async fn export_file(
    caller: Caller,
    State(state): State<AdminState>,
    store: Result<Path<String>, PathRejection>,
    options: Result<Query<ExportQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let store = store_id(&state, &caller, store).await?;
    let options = query(options)?;
    let format = options.format.unwrap_or(Format::Csv);
    let directory = state.store.load_directory(store).await.map_err(admin_err)?;
    let entries: Vec<NewEntry> = directory.entries.iter().map(NewEntry::from).collect();
    let bytes = import::export_with(&entries, format, options.dialect.unwrap_or_default());
    let (content_type, extension) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Json => ("application/json", "json"),
    };
    let disposition = format!("attachment; filename=\"directory-{}-v{}.{extension}\"", store.0, directory.version.0);
    let mut response = (StatusCode::OK, bytes).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The file name is built from numbers only: always a valid header value.
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

async fn get_sync_report(
    caller: Caller,
    State(state): State<AdminState>,
    store: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let store = store_id(&state, &caller, store).await?;
    let (version, report) = current_report(&state, store).await?;
    Ok(Json(json!({ "version": version, "sync": report })))
}

// ---------------------------------------------------------------------------
// Calls and audit.

/// `?limit=&from=&to=&not_understood=`: the latest calls (of a period of
/// local days, and only those speech did not put through).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallsQuery {
    limit: Option<u32>,
    from: Option<jiff::civil::Date>,
    to: Option<jiff::civil::Date>,
    #[serde(default)]
    not_understood: bool,
}

/// `?from=&to=` (local dates, inclusive; default the last 7 days).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodQuery {
    from: Option<jiff::civil::Date>,
    to: Option<jiff::civil::Date>,
}

/// Calls read at most for one period (statistics, export).
const MAX_PERIOD_CALLS: u32 = 200_000;

fn period_of(from: Option<jiff::civil::Date>, to: Option<jiff::civil::Date>, today: jiff::civil::Date) -> ApiResult<Period> {
    let to = to.unwrap_or(today);
    let from = from.unwrap_or_else(|| Period::last_days(to, 7).from);
    Period::new(from, to).map_err(|e| match e {
        statistics::PeriodError::Reversed { from, to } => {
            ApiError::field("invalid-period-reversed", vec![("from", from.to_string()), ("to", to.to_string())])
        }
        statistics::PeriodError::TooLong => ApiError::field("invalid-period-too-long", vec![("days", statistics::MAX_DAYS.to_string())]),
    })
}

/// The time zone of each store (its opening hours', UTC without), and the
/// opening hours of `store`.
async fn zones(state: &AdminState, stores: &[StoreId]) -> ApiResult<(Zones, Vec<Option<OpeningHours>>)> {
    let mut zones = Zones::new();
    let mut all = Vec::with_capacity(stores.len());
    for store in stores {
        let hours = state.store.opening_hours(*store).await?;
        zones.insert(*store, statistics::zone_of(hours.as_ref()));
        all.push(hours);
    }
    Ok((zones, all))
}

async fn recent_calls(
    caller: Caller,
    State(state): State<AdminState>,
    store: Result<Path<String>, PathRejection>,
    options: Result<Query<CallsQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<CallRecord>>> {
    let store = store_id(&state, &caller, store).await?;
    let options = query(options)?;
    let limit = LimitQuery { limit: options.limit }.limit()?;
    // Distinguish an unknown store (404) from one without calls.
    state.store.load_directory(store).await.map_err(admin_err)?;
    if options.from.is_none() && options.to.is_none() && !options.not_understood {
        return Ok(Json(state.store.recent_calls(store, limit).await?));
    }
    let (zones, _) = zones(&state, &[store]).await?;
    let today = zones[&store].to_datetime(caller.now).date();
    let period = period_of(options.from, options.to, today)?;
    let (from, to) = period.wide_instants();
    let mut calls = state.store.calls_between(Some(store), from, to, MAX_PERIOD_CALLS).await?;
    calls.retain(|c| {
        let date = zones[&store].to_datetime(c.started_at).date();
        period.from <= date && date <= period.to && (!options.not_understood || statistics::not_understood(c))
    });
    calls.reverse();
    calls.truncate(limit as usize);
    Ok(Json(calls))
}

async fn export_calls(
    caller: Caller,
    State(state): State<AdminState>,
    store: Result<Path<String>, PathRejection>,
    options: Result<Query<PeriodQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let store = store_id(&state, &caller, store).await?;
    let options = query(options)?;
    state.store.load_directory(store).await.map_err(admin_err)?;
    let (zones, _) = zones(&state, &[store]).await?;
    let today = zones[&store].to_datetime(caller.now).date();
    let period = period_of(options.from, options.to, today)?;
    let (from, to) = period.wide_instants();
    let calls = state.store.calls_between(Some(store), from, to, MAX_PERIOD_CALLS).await?;
    let bytes = statistics::calls_csv(&calls, &zones, period);
    let mut response = (StatusCode::OK, bytes).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    let disposition = format!("attachment; filename=\"calls-{}-{}-{}.csv\"", store.0, period.from, period.to);
    // Built from numbers and dates only: always a valid header value.
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

async fn store_statistics(
    caller: Caller,
    State(state): State<AdminState>,
    store: Result<Path<String>, PathRejection>,
    options: Result<Query<PeriodQuery>, QueryRejection>,
) -> ApiResult<Json<Statistics>> {
    let store = store_id(&state, &caller, store).await?;
    let options = query(options)?;
    state.store.load_directory(store).await.map_err(admin_err)?;
    let (zones, hours) = zones(&state, &[store]).await?;
    let hours = hours.into_iter().next().flatten();
    let today = zones[&store].to_datetime(caller.now).date();
    let period = period_of(options.from, options.to, today)?;
    let (from, to) = period.wide_instants();
    let calls = state.store.calls_between(Some(store), from, to, MAX_PERIOD_CALLS).await?;
    let truncated = calls.len() >= MAX_PERIOD_CALLS as usize;
    let time_zone = hours.as_ref().map_or_else(|| "UTC".to_owned(), |h| h.time_zone.clone());
    let open = hours.as_ref().map(statistics::open_hours);
    Ok(Json(statistics::aggregate(&calls, &zones, period, Some(time_zone), open, truncated)))
}

async fn all_statistics(
    caller: Caller,
    State(state): State<AdminState>,
    options: Result<Query<PeriodQuery>, QueryRejection>,
) -> ApiResult<Json<Statistics>> {
    caller.require_operator("read every store's statistics")?;
    let options = query(options)?;
    let stores: Vec<StoreId> = state.store.list_stores().await.map_err(admin_err)?.iter().map(|s| s.id).collect();
    let (zones, _) = zones(&state, &stores).await?;
    let today = jiff::tz::TimeZone::UTC.to_datetime(caller.now).date();
    let period = period_of(options.from, options.to, today)?;
    let (from, to) = period.wide_instants();
    let calls = state.store.calls_between(None, from, to, MAX_PERIOD_CALLS).await?;
    let truncated = calls.len() >= MAX_PERIOD_CALLS as usize;
    Ok(Json(statistics::aggregate(&calls, &zones, period, None, None, truncated)))
}

/// Whether the store would be open now with these (unsaved) hours, and its
/// local time.
async fn preview_hours(
    caller: Caller,
    State(state): State<AdminState>,
    store: Result<Path<String>, PathRejection>,
    json: Result<Json<OpeningHours>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    // Only the store's own admins (or the operator) may ask.
    store_id(&state, &caller, store).await?;
    let hours = body(json)?;
    hours.validate().map_err(|e| ApiError::hours(&e))?;
    let zone = hours.time_zone().map_err(|e| ApiError::hours(&e))?;
    let local = zone.to_datetime(caller.now);
    let open = crate::directory::hours::is_open(&hours, local);
    Ok(Json(json!({ "open": open, "local_time": local.strftime("%Y-%m-%d %H:%M").to_string() })))
}

async fn store_audit(
    caller: Caller,
    State(state): State<AdminState>,
    store: Result<Path<String>, PathRejection>,
    limit: Result<Query<LimitQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<AuditRecord>>> {
    let store = store_id(&state, &caller, store).await?;
    let limit = query(limit)?.limit()?;
    state.store.load_directory(store).await.map_err(admin_err)?;
    Ok(Json(state.store.audit_log(Some(store), limit).await?))
}

async fn all_audit(
    caller: Caller,
    State(state): State<AdminState>,
    limit: Result<Query<LimitQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<AuditRecord>>> {
    caller.require_operator("read the installation's audit log")?;
    let limit = query(limit)?.limit()?;
    Ok(Json(state.store.audit_log(None, limit).await?))
}

/// One `[[registration]]` account as the API shows it.
#[derive(Debug, serde::Serialize)]
struct RegistrationView {
    /// Address of record, `sip:user@host`.
    aor: String,
    /// `registering`, `registered`, `retrying` or `unregistered`.
    state: &'static str,
    /// Lifetime the registrar granted (`registered`).
    granted_secs: Option<u32>,
    /// Failed attempts in a row and the last one's reason (`retrying`).
    failures: Option<u32>,
    reason: Option<String>,
    /// Successful REGISTERs so far (first registration and refreshes).
    registered_count: u64,
}

impl From<&crate::sip::RegistrationStatus> for RegistrationView {
    fn from(status: &crate::sip::RegistrationStatus) -> RegistrationView {
        use crate::sip::RegistrationState;
        let (state, granted_secs, failures, reason) = match status.state {
            RegistrationState::Registering => ("registering", None, None, None),
            RegistrationState::Registered { granted } => ("registered", Some(granted), None, None),
            RegistrationState::Retrying { failures, reason } => {
                ("retrying", None, Some(failures), Some(reason.to_string()))
            }
            RegistrationState::Unregistered => ("unregistered", None, None, None),
        };
        RegistrationView {
            aor: status.aor.clone(),
            state,
            granted_secs,
            failures,
            reason,
            registered_count: status.registered_count,
        }
    }
}

async fn registrations(caller: Caller, State(state): State<AdminState>) -> ApiResult<Json<Vec<RegistrationView>>> {
    caller.require_operator("read the registrations")?;
    Ok(Json(state.registrations().iter().map(RegistrationView::from).collect()))
}

// ---------------------------------------------------------------------------
// Request bodies, read and checked as the handlers do, without a database:
// the admin fuzz target's way in (src/fuzz_targets.rs).

/// A route that reads a request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyRoute {
    /// `POST /api/v1/stores`.
    CreateStore,
    /// `POST /api/v1/stores/{store}/tokens`.
    IssueToken,
    /// `POST /api/v1/stores/{store}/entries` and `PUT …/entries/{entry}`.
    Entry,
    /// `PUT /api/v1/stores/{store}/menu`.
    Menu,
    /// `PUT /api/v1/stores/{store}/hours`.
    Hours,
    /// `POST /api/v1/stores/{store}/import`, with the content type of `format`.
    Import(Format),
}

/// A request body once its handler has read and checked it: what it would
/// hand to the store.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckedBody {
    /// The store to create.
    Store(NewStore),
    /// The token to issue: its label and expiry.
    Token { label: String, expires_at: Option<jiff::Timestamp> },
    /// The entry to create or to write over an existing one.
    Entry(NewEntry),
    /// The menu options (keys not yet checked for range and duplicates).
    Menu(Vec<MenuOption>),
    /// The opening hours (not yet validated), or none: always open.
    Hours(Option<OpeningHours>),
    /// The imported directory, parsed and validated whole, and its format.
    Import { format: Format, entries: Vec<NewEntry> },
}

/// Reads `bytes` as the body of `route` the way its handler does (axum's JSON
/// extraction, or the import parser under `import`), then the handler's own
/// checks; `now` dates token expiries. The store's checks (menu keys, hours,
/// uniqueness) come after and are not run.
pub fn check_request_body(
    route: BodyRoute,
    bytes: &[u8],
    now: jiff::Timestamp,
    import: import::ImportLimits,
) -> Result<CheckedBody, ApiError> {
    fn json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
        body(Json::<T>::from_bytes(bytes))
    }
    Ok(match route {
        BodyRoute::CreateStore => CheckedBody::Store(json::<StoreBody>(bytes)?.validated()?),
        BodyRoute::IssueToken => {
            let (label, expires_at) = json::<TokenBody>(bytes)?.validated(now, None)?;
            CheckedBody::Token { label, expires_at }
        }
        BodyRoute::Entry => CheckedBody::Entry(validated_entry(json(bytes)?)?),
        BodyRoute::Menu => CheckedBody::Menu(validated_menu(json(bytes)?)?),
        BodyRoute::Hours => CheckedBody::Hours(json(bytes)?),
        BodyRoute::Import(format) => CheckedBody::Import { format, entries: import::parse(bytes, format, import)? },
    })
}

impl CheckedBody {
    /// The body the API shows of this value (the store, entry, menu and hours
    /// views; for an import, the export file), which sent back to the same
    /// route gives the same value. `None` for a token: its view is not a body.
    pub fn shown_as(&self) -> Option<Vec<u8>> {
        let json = |value: Value| value.to_string().into_bytes();
        Some(match self {
            CheckedBody::Store(store) => json(json!({
                "name": store.name,
                "number": store.number,
                "language": store.language,
                "operator": import::target_text(&store.operator),
            })),
            CheckedBody::Token { .. } => return None,
            CheckedBody::Entry(entry) => json(json!(EntryFields::from_entry(entry))),
            CheckedBody::Menu(menu) => json(json!(menu_view(menu))),
            CheckedBody::Hours(hours) => json(json!(hours)),
            CheckedBody::Import { format, entries } => import::export(entries, *format),
        })
    }
}
