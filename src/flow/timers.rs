//! The call's timers: one deadline slot per [`TimerKind`], in one table.
//!
//! The call never sleeps; it only remembers deadlines. The IO side asks for the
//! soonest one ([`TimerTable::next_deadline`]) and sends `Input::Timeout` when it
//! is reached; the call then takes the due timers out one by one
//! ([`TimerTable::take_due`]) and says which fired.

use std::time::Instant;

use super::TimerKind;

impl TimerKind {
    /// Every timer kind, in the order due timers with the same deadline fire:
    /// the hard cap first, since it overrides whatever the others would start.
    pub const ALL: [TimerKind; 5] = [
        TimerKind::MaxDuration,
        TimerKind::TransferWait,
        TimerKind::EndOfSpeech,
        TimerKind::NoInput,
        TimerKind::InterDigit,
    ];

    /// Slot of this kind in [`TimerTable`].
    fn index(self) -> usize {
        match self {
            TimerKind::MaxDuration => 0,
            TimerKind::TransferWait => 1,
            TimerKind::EndOfSpeech => 2,
            TimerKind::NoInput => 3,
            TimerKind::InterDigit => 4,
        }
    }
}

/// Deadlines of a call's timers; a stopped timer has no deadline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TimerTable {
    deadlines: [Option<Instant>; TimerKind::ALL.len()],
}

impl TimerTable {
    /// Arms `kind` to fire at `deadline`, replacing any earlier deadline it had.
    pub(crate) fn set(&mut self, kind: TimerKind, deadline: Instant) {
        self.deadlines[kind.index()] = Some(deadline);
    }

    /// Stops `kind`; stopping a stopped timer is fine.
    pub(crate) fn stop(&mut self, kind: TimerKind) {
        self.deadlines[kind.index()] = None;
    }

    /// Stops every timer (the call has ended).
    pub(crate) fn stop_all(&mut self) {
        self.deadlines = Default::default();
    }

    /// Deadline of `kind`, if armed.
    pub(crate) fn deadline(&self, kind: TimerKind) -> Option<Instant> {
        self.deadlines[kind.index()]
    }

    /// The soonest deadline of all armed timers.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// Stops and returns the timer due at `now` with the soonest deadline
    /// (ties in [`TimerKind::ALL`] order), or `None` if nothing is due.
    ///
    /// A timer is due when its deadline is at or before `now`.
    pub(crate) fn take_due(&mut self, now: Instant) -> Option<TimerKind> {
        let kind = TimerKind::ALL
            .into_iter()
            .filter_map(|kind| self.deadline(kind).map(|at| (at, kind)))
            .filter(|&(at, _)| at <= now)
            // `min_by_key` keeps the first of equal keys, i.e. `ALL` order on ties.
            .min_by_key(|&(at, _)| at)
            .map(|(_, kind)| kind)?;
        self.stop(kind);
        Some(kind)
    }
}

#[cfg(test)]
mod tests {
    //! The timer table: due timers come out soonest first, ties by priority.

    use super::*;
    use crate::flow::tests::harness::t0;
    use std::time::Duration;

    #[test]
    fn due_timers_come_out_soonest_first_then_by_priority() {
        let t0 = t0();
        let ms = |n| t0 + Duration::from_millis(n);
        struct Case {
            name: &'static str,
            armed: Vec<(TimerKind, u64)>,
            now_ms: u64,
            expected: Vec<TimerKind>,
        }
        let cases = [
            Case {
                name: "nothing armed",
                armed: vec![],
                now_ms: 1_000,
                expected: vec![],
            },
            Case {
                name: "one ms early is not due",
                armed: vec![(TimerKind::NoInput, 500)],
                now_ms: 499,
                expected: vec![],
            },
            Case {
                name: "due exactly at the deadline",
                armed: vec![(TimerKind::NoInput, 500)],
                now_ms: 500,
                expected: vec![TimerKind::NoInput],
            },
            Case {
                name: "soonest first, later ones not yet",
                armed: vec![
                    (TimerKind::InterDigit, 100),
                    (TimerKind::NoInput, 50),
                    (TimerKind::TransferWait, 900),
                ],
                now_ms: 200,
                expected: vec![TimerKind::NoInput, TimerKind::InterDigit],
            },
            Case {
                name: "ties fire max-duration first",
                armed: vec![
                    (TimerKind::InterDigit, 100),
                    (TimerKind::MaxDuration, 100),
                    (TimerKind::NoInput, 100),
                ],
                now_ms: 100,
                expected: vec![
                    TimerKind::MaxDuration,
                    TimerKind::NoInput,
                    TimerKind::InterDigit,
                ],
            },
        ];
        for case in cases {
            let mut table = TimerTable::default();
            for (kind, at) in &case.armed {
                table.set(*kind, ms(*at));
            }
            let fired: Vec<_> = std::iter::from_fn(|| table.take_due(ms(case.now_ms))).collect();
            assert_eq!(fired, case.expected, "{}", case.name);
            for kind in &case.expected {
                assert_eq!(
                    table.deadline(*kind),
                    None,
                    "{}: {kind:?} stopped once taken",
                    case.name
                );
            }
        }
    }

    #[test]
    fn next_deadline_is_the_soonest_armed_one() {
        let t0 = t0();
        let mut table = TimerTable::default();
        assert_eq!(table.next_deadline(), None);
        table.set(TimerKind::MaxDuration, t0 + Duration::from_secs(300));
        table.set(TimerKind::NoInput, t0 + Duration::from_secs(6));
        assert_eq!(table.next_deadline(), Some(t0 + Duration::from_secs(6)));
        // Re-arming replaces the old deadline, even with a later one.
        table.set(TimerKind::NoInput, t0 + Duration::from_secs(400));
        assert_eq!(table.next_deadline(), Some(t0 + Duration::from_secs(300)));
        table.stop(TimerKind::MaxDuration);
        assert_eq!(table.next_deadline(), Some(t0 + Duration::from_secs(400)));
        table.stop_all();
        assert_eq!(table.next_deadline(), None);
    }
}
