//! The OpenAPI 3.1 description of the API, served at `/api/v1/openapi.json`.
//!
//! Written by hand (no derive macros over the handlers); a test checks that it
//! names exactly the routes of [`super::ROUTES`] with the same methods.

use serde_json::{Value, json};

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn json_response(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn array_of(name: &str) -> Value {
    json!({"type": "array", "items": schema_ref(name)})
}

fn json_body(schema: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema}}})
}

const STORE: &str = "#/components/parameters/store";
const ENTRY: &str = "#/components/parameters/entry";
const LIMIT: &str = "#/components/parameters/limit";
const FROM: &str = "#/components/parameters/from";
const TO: &str = "#/components/parameters/to";

/// One operation: summary, path parameters (refs), extra parameters, body,
/// success status and response, and the error statuses it can answer.
fn operation(summary: &str, params: &[&str], body: Option<Value>, ok: (&str, Value), errors: &[&str]) -> Value {
    let mut responses = serde_json::Map::new();
    responses.insert(ok.0.to_owned(), ok.1);
    for status in errors {
        let text = match *status {
            "400" => "Malformed request (bad JSON, path or query)",
            "401" => "Missing, invalid or expired token",
            "403" => "The token does not cover this store or operation",
            "404" => "No such store, entry or token",
            "409" => "Duplicate name, extension or number; directory changed since the preview; removals not confirmed",
            "413" => "Body too large",
            "415" => "Unsupported content type",
            "422" => "A field has the wrong type or value; or the file was rejected (problems listed)",
            "429" => "Too many failed sign-ins from this address (see Retry-After)",
            _ => "Error",
        };
        responses.insert((*status).to_owned(), error_response(text));
    }
    let mut op = json!({
        "summary": summary,
        "parameters": params.iter().map(|p| if p.starts_with('#') { json!({"$ref": p}) } else { json!(p) }).collect::<Vec<_>>(),
        "responses": responses,
    });
    if let Some(body) = body {
        op["requestBody"] = body;
    }
    op
}

const AUTH: &[&str] = &["401", "429"];

fn errs(extra: &[&'static str]) -> Vec<&'static str> {
    AUTH.iter().chain(extra).copied().collect()
}

/// The OpenAPI document.
pub fn document() -> Value {
    let read_store = errs(&["400", "403", "404"]);
    let write_store = errs(&["400", "403", "404", "413", "415", "422"]);
    let public = |summary: &str, content_type: &str| {
        let mut op = json!({
            "summary": summary,
            "security": [],
            "responses": {"200": {"description": "OK", "content": {content_type: {"schema": {"type": "string"}}}}}
        });
        op["parameters"] = json!([]);
        op
    };
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "attendant store administration",
            "version": "1",
            "description": "Per-store directory administration. Every route but the console and this document needs `Authorization: Bearer <token>`: a store token reaches its own store only, the operator token every store. Errors are `{\"error\": {\"code\", \"message\"}}`."
        },
        "security": [{"bearer": []}],
        "paths": {
            "/": {"get": public("Web console (HTML)", "text/html")},
            "/console.js": {"get": public("Web console script", "text/javascript")},
            "/console.css": {"get": public("Web console style sheet", "text/css")},
            "/api/v1/openapi.json": {"get": {
                "summary": "This document", "security": [], "parameters": [],
                "responses": {"200": json_response("OpenAPI document", json!({"type": "object"}))}
            }},
            "/api/v1/me": {"get": operation("The token's id, label, scope and expiry", &[], None,
                ("200", json_response("Token", schema_ref("Me"))), AUTH)},
            "/api/v1/stores": {
                "get": operation("List stores (operator)", &[], None, ("200", json_response("Stores", array_of("Store"))), &errs(&["403"])),
                "post": operation("Create a store (operator)", &[], Some(json_body(schema_ref("NewStore"))),
                    ("201", json_response("Created", schema_ref("Store"))), &errs(&["400", "403", "409", "413", "415", "422"]))
            },
            "/api/v1/stores/{store}": {"get": operation("Read a store", &[STORE], None,
                ("200", json_response("Store", schema_ref("Store"))), &read_store)},
            "/api/v1/stores/{store}/tokens": {
                "post": operation("Issue a store admin token (the operator for any store, a store's admin for their own); the secret is shown once", &[STORE],
                    Some(json_body(schema_ref("NewToken"))), ("201", json_response("Token", schema_ref("IssuedToken"))), &write_store),
                "get": operation("The store's tokens (no secrets), oldest first", &[STORE], None,
                    ("200", json_response("Tokens", array_of("TokenInfo"))), &read_store)
            },
            "/api/v1/tokens/{token}": {"delete": operation("Revoke a token (the operator any; a store's admin their store's)",
                &["#/components/parameters/token"], None, ("204", json!({"description": "Revoked"})), &errs(&["403", "404"]))},
            "/api/v1/stores/{store}/entries": {
                "get": operation("List or search entries", &[STORE, "#/components/parameters/q"], None,
                    ("200", json_response("Entries", array_of("Entry"))), &read_store),
                "post": operation("Create an entry", &[STORE], Some(json_body(schema_ref("EntryFields"))),
                    ("201", json_response("Created", schema_ref("EntryChange"))), &errs(&["400", "403", "404", "409", "413", "415", "422"]))
            },
            "/api/v1/stores/{store}/entries/{entry}": {
                "get": operation("Read an entry", &[STORE, ENTRY], None, ("200", json_response("Entry", schema_ref("Entry"))), &read_store),
                "put": operation("Replace an entry's fields", &[STORE, ENTRY], Some(json_body(schema_ref("EntryFields"))),
                    ("200", json_response("Updated", schema_ref("EntryChange"))), &errs(&["400", "403", "404", "409", "413", "415", "422"])),
                "delete": operation("Delete an entry", &[STORE, ENTRY], None, ("200", json_response("New version", schema_ref("Version"))), &read_store)
            },
            "/api/v1/stores/{store}/menu": {
                "get": operation("Read the DTMF menu", &[STORE], None, ("200", json_response("Menu", array_of("MenuItem"))), &read_store),
                "put": operation("Replace the DTMF menu", &[STORE], Some(json_body(array_of("MenuItem"))),
                    ("200", json_response("New version and menu", json!({"type": "object"}))), &write_store)
            },
            "/api/v1/stores/{store}/hours": {
                "get": operation("Read opening hours (null: always open)", &[STORE], None,
                    ("200", json_response("Hours", schema_ref("OpeningHours"))), &read_store),
                "put": operation("Set opening hours (null: always open)", &[STORE], Some(json_body(schema_ref("OpeningHours"))),
                    ("200", json_response("New version and hours", json!({"type": "object"}))), &write_store)
            },
            "/api/v1/stores/{store}/import": {"post": operation(
                "Import a whole directory file (CSV or JSON); validated whole, nothing changes on any problem",
                &[STORE, "#/components/parameters/dry_run", "#/components/parameters/mode", "#/components/parameters/version",
                  "#/components/parameters/confirm_removals", "#/components/parameters/encoding", "#/components/parameters/separator"],
                Some(json!({"required": true, "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/json": {"schema": {"type": "object"}}
                }})),
                ("200", json_response("Diff, sync report, and (unless dry run) the new version", schema_ref("ImportResult"))),
                &write_store)},
            "/api/v1/stores/{store}/export": {"get": {
                "summary": "Export the directory as a file that imports back to the same entries",
                "parameters": [{"$ref": STORE}, {"$ref": "#/components/parameters/format"}, {"$ref": "#/components/parameters/dialect"}],
                "responses": {
                    "200": {"description": "Directory file", "content": {
                        "text/csv": {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "object"}}
                    }},
                    "400": error_response("Bad format"), "401": error_response("Unauthenticated"),
                    "403": error_response("Another store"), "404": error_response("No such store"),
                    "429": error_response("Rate limited")
                }
            }},
            "/api/v1/stores/{store}/sync-report": {"get": operation("Names the engine cannot recognise, names that sound alike",
                &[STORE], None, ("200", json_response("Report", json!({"type": "object", "properties": {
                    "version": {"type": "integer"}, "sync": schema_ref("SyncReport")}}))), &read_store)},
            "/api/v1/stores/{store}/calls": {"get": operation("Recent calls, newest first; with from/to only those of the period (local dates); with not_understood=true only those speech did not put through",
                &[STORE, LIMIT, FROM, TO, "#/components/parameters/not_understood"], None,
                ("200", json_response("Calls", array_of("Call"))), &errs(&["400", "403", "404", "422"]))},
            "/api/v1/stores/{store}/audit": {"get": operation("The store's audit log, newest first", &[STORE, LIMIT], None,
                ("200", json_response("Audit records", array_of("AuditRecord"))), &errs(&["400", "403", "404", "422"]))},
            "/api/v1/audit": {"get": operation("The installation's audit log (operator)", &[LIMIT], None,
                ("200", json_response("Audit records", array_of("AuditRecord"))), &errs(&["400", "403", "422"]))},
            "/api/v1/registrations": {"get": operation("The attendant's registrations to a PBX or trunk, in configuration order (operator)", &[], None,
                ("200", json_response("Registrations", array_of("Registration"))), &errs(&["403"]))}
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "att.<id>.<secret>"}},
            "parameters": {
                "store": {"name": "store", "in": "path", "required": true, "schema": {"type": "string"},
                    "description": "The store's number (what callers dial, e.g. 1000), or else its id"},
                "entry": {"name": "entry", "in": "path", "required": true, "schema": {"type": "integer"}},
                "token": {"name": "token", "in": "path", "required": true, "schema": {"type": "string"}, "description": "Token id"},
                "q": {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "Case-insensitive text in name, alias, department or extension"},
                "limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
                "from": {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "First local day of the period"},
                "to": {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "Last local day of the period (default today)"},
                "not_understood": {"name": "not_understood", "in": "query", "schema": {"type": "boolean", "default": false}},
                "dry_run": {"name": "dry_run", "in": "query", "schema": {"type": "boolean", "default": false}},
                "mode": {"name": "mode", "in": "query", "schema": {"type": "string", "enum": ["replace", "merge"], "default": "replace"},
                    "description": "replace: entries not in the file are removed; merge: added or updated, the others kept"},
                "version": {"name": "version", "in": "query", "schema": {"type": "integer"},
                    "description": "The version the preview showed: 409 directory_changed if the directory changed since"},
                "confirm_removals": {"name": "confirm_removals", "in": "query", "schema": {"type": "integer"},
                    "description": "How many entries a replacing import removes (required when it removes any: 409 confirm_removals)"},
                "encoding": {"name": "encoding", "in": "query", "schema": {"type": "string", "example": "windows-1252"},
                    "description": "The file's encoding; default: the Content-Type charset, else detected (UTF-8, or guessed)"},
                "separator": {"name": "separator", "in": "query", "schema": {"type": "string", "enum": [",", ";", "tab"]},
                    "description": "CSV separator; default: detected from the header"},
                "dialect": {"name": "dialect", "in": "query", "schema": {"type": "string", "enum": ["standard", "excel"], "default": "standard"},
                    "description": "excel: UTF-8 with BOM, `;`, CRLF (cells are formula-safe in both)"},
                "format": {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["csv", "json"], "default": "csv"}}
            },
            "schemas": {
                "Registration": {"type": "object", "required": ["aor", "state", "registered_count"], "properties": {
                    "aor": {"type": "string", "description": "sip:user@host"},
                    "state": {"type": "string", "enum": ["registering", "registered", "retrying", "unregistered"]},
                    "granted_secs": {"type": ["integer", "null"]},
                    "failures": {"type": ["integer", "null"]},
                    "reason": {"type": ["string", "null"]},
                    "registered_count": {"type": "integer"}}},
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object",
                    "required": ["code", "message"], "properties": {
                        "code": {"type": "string", "enum": ["missing_token", "invalid_token", "token_expired", "rate_limited",
                            "forbidden", "not_found", "bad_request", "invalid", "file_rejected", "conflict",
                            "payload_too_large", "unsupported_media_type", "method_not_allowed", "internal"]},
                        "message": {"type": "string"},
                        "problems": {"type": "array", "items": {"type": "object"}}}}}},
                "Me": {"type": "object", "properties": {"token": {"type": "string"}, "label": {"type": "string"},
                    "scope": {"type": "object"}, "expires_at": {"type": ["string", "null"], "format": "date-time"}}},
                "Store": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                    "number": {"type": "string"}, "language": {"type": "string", "enum": ["fr", "en", "ko"]},
                    "operator": {"type": "string"}, "version": {"type": "integer"}}},
                "NewStore": {"type": "object", "additionalProperties": false, "required": ["name", "number", "language", "operator"],
                    "properties": {"name": {"type": "string"}, "number": {"type": "string"},
                        "language": {"type": "string", "enum": ["fr", "en", "ko"]}, "operator": {"type": "string"}}},
                "NewToken": {"type": "object", "additionalProperties": false, "required": ["label"],
                    "properties": {"label": {"type": "string"}, "expires_in_days": {"type": "integer", "minimum": 1, "maximum": 3660}}},
                "IssuedToken": {"type": "object", "properties": {"id": {"type": "string"}, "token": {"type": "string"},
                    "scope": {"type": "object"}, "expires_at": {"type": ["string", "null"], "format": "date-time"}}},
                "EntryFields": {"type": "object", "additionalProperties": false, "required": ["name"], "properties": {
                    "name": {"type": "string"}, "aliases": {"type": "array", "items": {"type": "string"}},
                    "department": {"type": ["string", "null"]}, "extension": {"type": ["string", "null"]},
                    "target": {"type": ["string", "null"], "description": "Extension digits or sip:/sips: URI; defaults to the extension"},
                    "fallback": {"type": ["string", "null"], "description": "Second target when the first is busy or does not answer"},
                    "enabled": {"type": ["boolean", "null"]}}},
                "Entry": {"allOf": [{"$ref": "#/components/schemas/EntryFields"},
                    {"type": "object", "properties": {"id": {"type": "integer"}}}]},
                "EntryChange": {"type": "object", "properties": {"entry": {"$ref": "#/components/schemas/Entry"}, "version": {"type": "integer"}}},
                "Version": {"type": "object", "properties": {"version": {"type": "integer"}}},
                "MenuItem": {"type": "object", "additionalProperties": false, "required": ["digit", "label", "target"],
                    "properties": {"digit": {"type": "string", "pattern": "^[1-9]$"}, "label": {"type": "string"}, "target": {"type": "string"}}},
                "OpeningHours": {"type": ["object", "null"], "properties": {
                    "time_zone": {"type": "string", "example": "Europe/Paris"},
                    "weekly": {"type": "object", "description": "monday..sunday: arrays of {open, close} (HH:MM, half-open)"},
                    "holidays": {"type": "array", "items": {"type": "object", "properties": {
                        "date": {"type": "string", "format": "date"}, "label": {"type": "string"}, "hours": {"type": "array"}}}},
                    "after_hours": {"type": "object", "description": "{kind: closed_message, message} | {kind: operator} | {kind: transfer, target: {kind, value}}"}}},
                "ImportResult": {"type": "object", "properties": {"dry_run": {"type": "boolean"}, "version": {"type": "integer"},
                    "mode": {"type": "string"},
                    "reading": {"type": "object", "description": "How the file was read: encoding, encoding_source (bom|declared|utf8|guessed), separator, separator_source, notes"},
                    "diff": {"type": "object", "properties": {"added": {"type": "array"}, "changed": {"type": "array", "description": "{before, after, fields}"},
                        "removed": {"type": "array"}, "unchanged": {"type": "integer"}}},
                    "sync": {"$ref": "#/components/schemas/SyncReport"}}},
                "SyncReport": {"type": "object", "properties": {"vocabulary_checked": {"type": "boolean"},
                    "unrecognisable": {"type": "array"}, "similarity_checked": {"type": "boolean"}, "similar": {"type": "array", "description": "The first 1,000 pairs"},
                    "similar_total": {"type": "integer", "description": "Pairs found (a lower bound when similar_capped > 0)"},
                    "similar_entries": {"type": "integer", "description": "Entries with at least one sound-alike"},
                    "similar_capped": {"type": "integer", "description": "Entries with more sound-alikes than are looked for (10)"}}},
                "Call": {"type": "object", "properties": {"id": {"type": "integer"}, "store": {"type": "integer"},
                    "started_at": {"type": "string", "format": "date-time"}, "caller": {"type": "string", "description": "Redacted"},
                    "heard": {"type": "string"}, "understood": {"type": ["string", "null"]}, "decision": {"type": "string"},
                    "transferred_to": {"type": ["string", "null"]},
                    "outcome": {"type": ["string", "null"]}, "recognition": {"type": ["string", "null"]},
                    "entry_name": {"type": ["string", "null"]}}},
                "AuditRecord": {"type": "object", "properties": {"id": {"type": "integer"}, "store": {"type": ["integer", "null"]},
                    "at": {"type": "string", "format": "date-time"}, "actor": {"type": "string"}, "action": {"type": "string"},
                    "before": {}, "after": {}}}
            }
        }
    });
    // Added apart: one json! literal of the whole document exceeds the
    // macro recursion limit.
    doc["paths"]["/api/v1/stores/{store}/calls/export"] = json!({"get": {
                "summary": "The calls of a period as CSV (local times; cells never start a spreadsheet formula)",
                "parameters": [{"$ref": STORE}, {"$ref": FROM}, {"$ref": TO}],
                "responses": {
                    "200": {"description": "CSV file", "content": {"text/csv": {"schema": {"type": "string"}}}},
                    "400": error_response("Bad period"), "401": error_response("Unauthenticated"),
                    "403": error_response("Another store"), "404": error_response("No such store"),
                    "422": error_response("Period reversed or longer than 366 days"), "429": error_response("Rate limited")
                }
            }});
    doc["paths"]["/api/v1/stores/{store}/statistics"] = json!({"get": operation("Do callers get through? Aggregates of the store's calls over a period of local days (default: the last 7)",
                &[STORE, FROM, TO], None, ("200", json_response("Statistics", schema_ref("Statistics"))), &errs(&["400", "403", "404", "422"]))});
    doc["paths"]["/api/v1/statistics"] = json!({"get": operation("The same across every store (operator), each call on its store's local day",
                &[FROM, TO], None, ("200", json_response("Statistics", schema_ref("Statistics"))), &errs(&["400", "403", "422"]))});
    doc["paths"]["/api/v1/stores/{store}/hours/preview"] = json!({"post": operation("Would the store be open now with these (unsaved) hours? {open, local_time}", &[STORE],
                Some(json_body(schema_ref("OpeningHours"))), ("200", json_response("Open now", json!({"type": "object", "properties": {
                    "open": {"type": "boolean"}, "local_time": {"type": "string"}}}))), &write_store)});
    doc["paths"]["/api/v1/i18n/{lang}"] = json!({"get": {
                "summary": "The console's labels in one language (en, fr): {lang, messages: {id: text with { $name } placeholders}}",
                "security": [], "parameters": [{"name": "lang", "in": "path", "required": true, "schema": {"type": "string", "enum": ["en", "fr"]}}],
                "responses": {"200": json_response("Catalogue", json!({"type": "object"})), "404": error_response("Language not available")}
            }});
    doc["components"]["schemas"]["TokenInfo"] = json!({"type": "object", "properties": {"id": {"type": "string"}, "label": {"type": "string"},
                    "created_at": {"type": "string", "format": "date-time"}, "expires_at": {"type": ["string", "null"], "format": "date-time"},
                    "revoked": {"type": "boolean"}}});
    doc["components"]["schemas"]["Statistics"] = json!({"type": "object", "properties": {"from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
                    "time_zone": {"type": ["string", "null"]}, "calls": {"type": "integer"}, "through": {"type": "integer"},
                    "per_day": {"type": "array", "items": {"type": "object", "properties": {"date": {"type": "string"}, "calls": {"type": "integer"}, "through": {"type": "integer"}}}},
                    "per_hour": {"type": "array", "items": {"type": "integer"}, "minItems": 24, "maxItems": 24},
                    "open_hours": {"type": ["array", "null"], "items": {"type": "boolean"}},
                    "outcomes": {"type": "array", "items": {"type": "object", "properties": {"key": {"type": "string", "enum": ["speech", "keypad", "spelled", "menu", "operator", "after_hours", "gave_up", "closed", "hung_up", "not_answered", "other"]}, "calls": {"type": "integer"}}}},
                    "recognition": {"type": "array", "items": {"type": "object", "properties": {"key": {"type": "string", "enum": ["at_once", "confirmed", "menu", "not_understood"]}, "calls": {"type": "integer"}}}},
                    "names": {"type": "array", "items": {"type": "object", "properties": {"key": {"type": "string"}, "calls": {"type": "integer"}}}},
                    "truncated": {"type": "boolean"}}});
    doc
}
