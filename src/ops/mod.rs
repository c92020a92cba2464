//! What an operator and a load balancer watch: readiness ([`health`]) and the
//! Prometheus metrics ([`metrics`]).
//!
//! The HTTP side (`/healthz`, `/readyz`, `/metrics`) is in [`crate::admin::ops`],
//! as axum lives in `admin`; the SIP side (OPTIONS answered 200 or 503) is in
//! [`crate::sip`]. Both read the same [`health::Readiness`].

pub mod health;
pub mod metrics;
