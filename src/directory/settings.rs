//! Per-store overrides of the call-flow tunables.
//!
//! The fleet-wide defaults come from the configuration file
//! (`config::Config::flow`); a store overrides only the keys it names. Keeping the
//! overrides as a partial JSON object (rather than a full [`FlowSettings`] per
//! store) means a change of a fleet default reaches every store that did not
//! override that key, and a field added to [`FlowSettings`] later needs no
//! migration.

use serde_json::{Map, Value};

use crate::flow::FlowSettings;

/// Why a store's settings overrides are unusable.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The overrides are not a JSON object.
    #[error("store settings must be a JSON object, found {found}")]
    NotAnObject { found: &'static str },
    /// A key that [`FlowSettings`] does not have (a typo would otherwise be ignored).
    #[error("unknown flow setting {key:?}")]
    UnknownKey { key: String },
    /// A known key with a value of the wrong type or range.
    #[error("invalid flow settings")]
    InvalidValue {
        #[source]
        source: serde_json::Error,
    },
}

/// A store's overrides of [`FlowSettings`]: a JSON object whose keys are field
/// names of [`FlowSettings`] (durations in milliseconds). Validated on construction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreSettings {
    overrides: Map<String, Value>,
}

impl StoreSettings {
    /// No overrides: the store uses the fleet defaults.
    pub fn none() -> StoreSettings {
        StoreSettings::default()
    }

    /// Overrides from a JSON value, checked against [`FlowSettings`].
    pub fn from_json(value: Value) -> Result<StoreSettings, SettingsError> {
        let overrides = match value {
            Value::Object(map) => map,
            other => {
                return Err(SettingsError::NotAnObject {
                    found: json_kind(&other),
                });
            }
        };
        let settings = StoreSettings { overrides };
        // Resolving against any complete set of defaults checks every key and value.
        settings.resolve(&FlowSettings::default())?;
        Ok(settings)
    }

    /// Overrides from the JSON text stored in the database.
    pub fn from_json_text(text: &str) -> Result<StoreSettings, SettingsError> {
        let value =
            serde_json::from_str(text).map_err(|source| SettingsError::InvalidValue { source })?;
        StoreSettings::from_json(value)
    }

    /// The overrides as a JSON object.
    pub fn overrides(&self) -> &Map<String, Value> {
        &self.overrides
    }

    /// The JSON text stored in the database (keys sorted: serde_json's map is ordered).
    pub fn to_json_text(&self) -> String {
        Value::Object(self.overrides.clone()).to_string()
    }

    /// The flow settings of this store: `defaults` with the overridden keys replaced.
    pub fn resolve(&self, defaults: &FlowSettings) -> Result<FlowSettings, SettingsError> {
        let mut merged = match serde_json::to_value(defaults) {
            Ok(Value::Object(map)) => map,
            // FlowSettings is a struct with named fields: serde_json always gives an object.
            Ok(other) => {
                return Err(SettingsError::NotAnObject {
                    found: json_kind(&other),
                });
            }
            Err(source) => return Err(SettingsError::InvalidValue { source }),
        };
        for (key, value) in &self.overrides {
            if !merged.contains_key(key) {
                return Err(SettingsError::UnknownKey { key: key.clone() });
            }
            merged.insert(key.clone(), value.clone());
        }
        serde_json::from_value(Value::Object(merged))
            .map_err(|source| SettingsError::InvalidValue { source })
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    //! Store overrides replace exactly the keys they name and reject typos and bad values.
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    #[test]
    fn overrides_replace_only_named_keys() {
        let defaults = FlowSettings {
            max_retries: 5,
            ..FlowSettings::default()
        };
        let settings = StoreSettings::from_json(json!({"no_input_timeout": 9000})).unwrap();
        let resolved = settings.resolve(&defaults).unwrap();
        assert_eq!(resolved.no_input_timeout, Duration::from_secs(9));
        assert_eq!(
            resolved.max_retries, 5,
            "a key not overridden keeps the fleet default"
        );
        assert_eq!(StoreSettings::none().resolve(&defaults).unwrap(), defaults);
    }

    #[test]
    fn invalid_overrides_are_rejected() {
        let cases = [
            (json!([1, 2]), "must be a JSON object"),
            (
                json!({"no_input_timeot": 10}),
                "unknown flow setting \"no_input_timeot\"",
            ),
            (json!({"max_retries": "three"}), "invalid flow settings"),
            (json!({"max_retries": -1}), "invalid flow settings"),
        ];
        for (value, expected) in cases {
            let err = StoreSettings::from_json(value.clone()).unwrap_err();
            assert!(err.to_string().contains(expected), "{value}: got {err}");
        }
    }

    #[test]
    fn json_text_round_trips() {
        let settings =
            StoreSettings::from_json(json!({"max_retries": 1, "transfer_timeout": 15000})).unwrap();
        let back = StoreSettings::from_json_text(&settings.to_json_text()).unwrap();
        assert_eq!(back, settings);
    }
}
