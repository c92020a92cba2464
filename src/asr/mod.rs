//! Speech recognition engines behind one trait (Vosk, PocketSphinx).

/// One alternative of a recognition result.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Hypothesis {
    /// Recognised words, lower case, separated by single spaces.
    pub text: String,
    /// Engine confidence in `0.0..=1.0` (engine-specific calibration).
    pub confidence: f32,
}

/// Final result of one utterance: N-best alternatives, best first (may be empty).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Recognition {
    pub alternatives: Vec<Hypothesis>,
}
