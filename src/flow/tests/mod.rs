//! Tests of the call flow: scenario tables on a fake clock, invariants, and isolation from IO crates.

pub(crate) mod harness;

mod dtmf;
mod ending;
mod fallback;
mod hours;
mod invariants;
mod isolation;
mod settings;
mod speech;
mod spelling;
mod transfer;
