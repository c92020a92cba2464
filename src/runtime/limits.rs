//! Recognition permits: a cap on speech recognitions decoding at once
//! (`limits.max_recognitions`), so that a burst of callers cannot starve the CPU
//! that every call's media needs. Past the cap, calls go on with the keypad.
//!
//! How the speech path uses it (the runtime's `Action::StartRecognition`):
//!
//! ```text
//! // At answer time: no permit free -> the call starts DTMF-only.
//! let settings = permits.settings_for_new_call(settings);
//! let flow = Call::new(now, directory, settings);   // + with_speech(..) as usual
//!
//! // On Action::StartRecognition { grammar }:
//! match permits.try_acquire() {
//!     Some(permit) => { /* keep `permit` with the recognizer; drop it when the
//!                          recognition ends (Recognized, NoSpeech, StopRecognition
//!                          or the end of the call) */ }
//!     None => return Some(Input::NoSpeech), // the flow asks again once, then
//!                                           // goes to the DTMF menu
//! }
//! ```
//!
//! The permit is RAII: whichever way a recognition ends (result, abandon, call
//! torn down, task panicking), dropping it frees the slot, so no path leaks one.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::flow::FlowSettings;

/// Shared cap on concurrent recognitions; cheap to clone (one per call task).
#[derive(Debug, Clone)]
pub struct RecognitionPermits {
    semaphore: Arc<Semaphore>,
    capacity: usize,
}

/// One running recognition's slot; dropping it frees the slot.
#[derive(Debug)]
#[must_use = "the slot is freed as soon as the permit is dropped"]
pub struct RecognitionPermit {
    _permit: OwnedSemaphorePermit,
}

impl RecognitionPermits {
    /// A cap of `capacity` recognitions at once (0: speech always refused).
    pub fn new(capacity: usize) -> RecognitionPermits {
        RecognitionPermits {
            semaphore: Arc::new(Semaphore::new(capacity)),
            capacity,
        }
    }

    /// A slot for one recognition, or `None` when all are taken: never waits,
    /// because a caller must not hear silence while another call decodes.
    pub fn try_acquire(&self) -> Option<RecognitionPermit> {
        // `try_acquire_owned` fails only when no permit is free or the semaphore
        // is closed, and we never close it: both mean "no slot".
        self.semaphore
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|permit| RecognitionPermit { _permit: permit })
    }

    /// Recognitions running now.
    pub fn in_use(&self) -> usize {
        self.capacity - self.semaphore.available_permits()
    }

    /// The configured cap.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The flow settings a call answered now starts with: unchanged while a
    /// recognition slot is free, speech switched off (the DTMF-only flow) when
    /// every slot is taken. A call started with speech can still be refused a
    /// slot later: [`RecognitionPermits::try_acquire`] then answers `NoSpeech`.
    pub fn settings_for_new_call(&self, mut settings: FlowSettings) -> FlowSettings {
        if settings.speech_enabled && self.semaphore.available_permits() == 0 {
            settings.speech_enabled = false;
        }
        settings
    }
}

#[cfg(test)]
mod tests {
    //! Permits cap recognitions, free their slot when dropped, and turn speech
    //! off for new calls only while every slot is taken.
    use super::*;

    #[test]
    fn permits_cap_recognitions_and_free_on_drop() {
        for capacity in [0, 1, 3] {
            let permits = RecognitionPermits::new(capacity);
            let held: Vec<_> = (0..capacity)
                .map(|_| permits.try_acquire().expect("a free slot"))
                .collect();
            assert_eq!(permits.in_use(), capacity);
            assert!(
                permits.try_acquire().is_none(),
                "capacity {capacity}: one too many"
            );
            drop(held);
            assert_eq!(permits.in_use(), 0);
            if capacity > 0 {
                assert!(
                    permits.try_acquire().is_some(),
                    "capacity {capacity}: slot not freed"
                );
            }
        }
    }

    #[test]
    fn clones_share_the_cap() {
        let permits = RecognitionPermits::new(1);
        let other = permits.clone();
        let _held = permits.try_acquire().unwrap();
        assert!(other.try_acquire().is_none());
        assert_eq!(other.in_use(), 1);
    }

    #[test]
    fn new_calls_lose_speech_only_when_saturated() {
        let speech_on = FlowSettings {
            speech_enabled: true,
            ..FlowSettings::default()
        };
        let speech_off = FlowSettings {
            speech_enabled: false,
            ..FlowSettings::default()
        };
        // (capacity, slots held, settings in, speech after)
        let cases = [
            (2, 0, &speech_on, true),
            (2, 1, &speech_on, true),
            (2, 2, &speech_on, false),
            (0, 0, &speech_on, false),
            (2, 0, &speech_off, false),
        ];
        for (capacity, held, settings, expected) in cases {
            let permits = RecognitionPermits::new(capacity);
            let _held: Vec<_> = (0..held).map(|_| permits.try_acquire().unwrap()).collect();
            let out = permits.settings_for_new_call(settings.clone());
            assert_eq!(
                out.speech_enabled, expected,
                "capacity {capacity}, held {held}"
            );
            assert_eq!(
                FlowSettings {
                    speech_enabled: settings.speech_enabled,
                    ..out
                },
                *settings,
                "only speech_enabled may change"
            );
        }
    }
}
