//! "Do callers get through?": aggregates of the call records over a period,
//! per store or across stores, and the records as a CSV file.
//!
//! Pure functions over [`CallRecord`]s: days and hours are the store's local
//! ones (the time zone of its opening hours, UTC for a store without), so a
//! call at 23:30 in Paris counts on its Paris day. The handlers read the
//! records with [`DirectoryStore::calls_between`](crate::directory::store::DirectoryStore::calls_between).

use std::collections::{BTreeMap, HashMap};

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use crate::directory::StoreId;
use crate::directory::hours::OpeningHours;
use crate::directory::store::admin::CallRecord;

/// How calls end, in the order shown.
pub const OUTCOMES: [&str; 11] = [
    "speech",
    "keypad",
    "spelled",
    "menu",
    "operator",
    "after_hours",
    "gave_up",
    "closed",
    "hung_up",
    "not_answered",
    "other",
];

/// Outcomes that put the caller through to whom they asked for.
pub const THROUGH: [&str; 4] = ["speech", "keypad", "spelled", "menu"];

/// Recognition outcomes, in the order shown.
pub const RECOGNITION: [&str; 4] = ["at_once", "confirmed", "menu", "not_understood"];

/// Names listed at most in "most requested".
pub const TOP_NAMES: usize = 10;

/// Longest period, in days.
pub const MAX_DAYS: i32 = 366;

/// A period of whole local days, `from` to `to` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

/// Why a period is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("the period ends ({to}) before it starts ({from})")]
    Reversed { from: Date, to: Date },
    #[error("the period is longer than {MAX_DAYS} days")]
    TooLong,
}

impl Period {
    /// `from..=to`, at most [`MAX_DAYS`] days.
    pub fn new(from: Date, to: Date) -> Result<Period, PeriodError> {
        if to < from {
            return Err(PeriodError::Reversed { from, to });
        }
        if (to - from).get_days() >= MAX_DAYS {
            return Err(PeriodError::TooLong);
        }
        Ok(Period { from, to })
    }

    /// The `days` days up to and including `today`.
    pub fn last_days(today: Date, days: i32) -> Period {
        let from = today.checked_sub((days - 1).days()).unwrap_or(today);
        Period { from, to: today }
    }

    /// Instants that cover the period in every time zone (a day more on each
    /// side); records are then filtered by their local date.
    pub fn wide_instants(&self) -> (Timestamp, Timestamp) {
        let start = self.from.checked_sub(1.day()).unwrap_or(self.from);
        let end = self.to.checked_add(2.days()).unwrap_or(self.to);
        let at = |d: Date| {
            d.to_zoned_datetime(TimeZone::UTC)
                .map(|z| z.timestamp())
                .unwrap_or(Timestamp::MIN)
        };
        (at(start), at(end))
    }

    fn days(&self) -> impl Iterator<Item = Date> + '_ {
        self.from.series(1.day()).take_while(|d| *d <= self.to)
    }

    fn contains(&self, date: Date) -> bool {
        self.from <= date && date <= self.to
    }
}

/// A count with its key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Count {
    pub key: String,
    pub calls: u64,
}

/// Calls of one local day.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DayCount {
    pub date: Date,
    pub calls: u64,
    /// Of which put through to whom they asked for.
    pub through: u64,
}

/// The aggregates of a period.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Statistics {
    pub from: Date,
    pub to: Date,
    /// The store's time zone; `None` across stores (each in its own).
    pub time_zone: Option<String>,
    pub calls: u64,
    /// Put through to whom they asked for ([`THROUGH`]).
    pub through: u64,
    /// Every day of the period, in order.
    pub per_day: Vec<DayCount>,
    /// Calls by local hour of the day, 0 to 23.
    pub per_hour: Vec<u64>,
    /// Hours of the day the store is open on some weekday (per store, when it
    /// has opening hours).
    pub open_hours: Option<Vec<bool>>,
    /// Every outcome of [`OUTCOMES`], in that order (zeros included).
    pub outcomes: Vec<Count>,
    /// Every recognition outcome of [`RECOGNITION`], in order.
    pub recognition: Vec<Count>,
    /// The most requested names, most first (ties by name).
    pub names: Vec<Count>,
    /// More calls than the limit: the newest were left out.
    pub truncated: bool,
}

/// The local time zone of each store's calls.
pub type Zones = HashMap<StoreId, TimeZone>;

/// The zone of a store with these hours: theirs, or UTC.
pub fn zone_of(hours: Option<&OpeningHours>) -> TimeZone {
    hours
        .and_then(|h| h.time_zone().ok())
        .unwrap_or(TimeZone::UTC)
}

fn local(call: &CallRecord, zones: &Zones) -> jiff::civil::DateTime {
    zones
        .get(&call.store)
        .unwrap_or(&TimeZone::UTC)
        .to_datetime(call.started_at)
}

/// Hours of the day during which `hours` opens on any weekday.
pub fn open_hours(hours: &OpeningHours) -> Vec<bool> {
    use jiff::civil::Weekday::*;
    let mut open = vec![false; 24];
    for day in [
        Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday,
    ] {
        for range in hours.weekly.day(day) {
            for (hour, slot) in open.iter_mut().enumerate() {
                let start = Time::constant(hour as i8, 0, 0, 0);
                let end = if hour == 23 {
                    Time::MAX
                } else {
                    Time::constant(hour as i8 + 1, 0, 0, 0)
                };
                if range.open < end && start < range.close {
                    *slot = true;
                }
            }
        }
    }
    open
}

/// The aggregates of `calls` (any order) whose local date falls in `period`.
pub fn aggregate(
    calls: &[CallRecord],
    zones: &Zones,
    period: Period,
    time_zone: Option<String>,
    open: Option<Vec<bool>>,
    truncated: bool,
) -> Statistics {
    let mut per_day: BTreeMap<Date, (u64, u64)> = period.days().map(|d| (d, (0, 0))).collect();
    let mut per_hour = vec![0u64; 24];
    let mut outcomes: HashMap<&str, u64> = HashMap::new();
    let mut recognition: HashMap<&str, u64> = HashMap::new();
    let mut names: HashMap<&str, u64> = HashMap::new();
    let (mut total, mut through) = (0, 0);
    for call in calls {
        let at = local(call, zones);
        if !period.contains(at.date()) {
            continue;
        }
        let outcome = call
            .outcome
            .as_deref()
            .filter(|o| OUTCOMES.contains(o))
            .unwrap_or("other");
        let is_through = THROUGH.contains(&outcome);
        total += 1;
        through += u64::from(is_through);
        let day = per_day.entry(at.date()).or_default();
        day.0 += 1;
        day.1 += u64::from(is_through);
        per_hour[at.hour() as usize] += 1;
        *outcomes.entry(outcome).or_default() += 1;
        if let Some(r) = call
            .recognition
            .as_deref()
            .filter(|r| RECOGNITION.contains(r))
        {
            *recognition.entry(r).or_default() += 1;
        }
        if let Some(name) = call.entry_name.as_deref() {
            *names.entry(name).or_default() += 1;
        }
    }
    let counts = |keys: &[&str], map: &HashMap<&str, u64>| {
        keys.iter()
            .map(|k| Count {
                key: (*k).to_owned(),
                calls: map.get(k).copied().unwrap_or(0),
            })
            .collect()
    };
    let mut names: Vec<Count> = names
        .into_iter()
        .map(|(k, calls)| Count {
            key: k.to_owned(),
            calls,
        })
        .collect();
    names.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.key.cmp(&b.key)));
    names.truncate(TOP_NAMES);
    Statistics {
        from: period.from,
        to: period.to,
        time_zone,
        calls: total,
        through,
        per_day: per_day
            .into_iter()
            .map(|(date, (calls, through))| DayCount {
                date,
                calls,
                through,
            })
            .collect(),
        per_hour,
        open_hours: open,
        outcomes: counts(&OUTCOMES, &outcomes),
        recognition: counts(&RECOGNITION, &recognition),
        names,
        truncated,
    }
}

/// A cell a spreadsheet would not run as a formula: text that starts with
/// `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`.
pub fn formula_safe(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// The calls in `period` as CSV (UTF-8, header line), local times.
pub fn calls_csv(calls: &[CallRecord], zones: &Zones, period: Period) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "started_at",
        "store",
        "caller",
        "heard",
        "understood",
        "outcome",
        "recognition",
        "entry",
        "decision",
        "transferred_to",
    ];
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(header);
    for call in calls {
        let zone = zones.get(&call.store).cloned().unwrap_or(TimeZone::UTC);
        let at = call.started_at.to_zoned_datetime(zone);
        if !period.contains(at.date()) {
            continue;
        }
        let fields = [
            at.strftime("%Y-%m-%d %H:%M:%S %:z").to_string(),
            call.store.0.to_string(),
            call.caller.clone(),
            call.heard.clone(),
            call.understood.clone().unwrap_or_default(),
            call.outcome.clone().unwrap_or_else(|| "other".to_owned()),
            call.recognition.clone().unwrap_or_default(),
            call.entry_name.clone().unwrap_or_default(),
            call.decision.clone(),
            call.transferred_to.clone().unwrap_or_default(),
        ];
        let _ = writer.write_record(fields.iter().map(|f| formula_safe(f)));
    }
    writer.into_inner().unwrap_or_default()
}

/// Whether a call is one speech did not put through: it ended at the operator
/// or was given up (or hung up) after the caller spoke.
pub fn not_understood(call: &CallRecord) -> bool {
    call.recognition.as_deref() == Some("not_understood")
        && matches!(
            call.outcome.as_deref(),
            Some("operator" | "gave_up" | "hung_up")
        )
}

#[cfg(test)]
mod tests {
    //! Local days and hours, shares, names, CSV cells.
    use super::*;

    fn call(
        id: i64,
        store: i64,
        at: &str,
        outcome: &str,
        recognition: Option<&str>,
        name: Option<&str>,
    ) -> CallRecord {
        CallRecord {
            id,
            store: StoreId(store),
            started_at: at.parse().unwrap(),
            caller: "**12".into(),
            heard: "x".into(),
            understood: None,
            decision: "transferred".into(),
            transferred_to: None,
            outcome: Some(outcome.into()),
            recognition: recognition.map(Into::into),
            entry_name: name.map(Into::into),
        }
    }

    #[test]
    fn days_and_hours_are_the_stores() {
        let paris = TimeZone::get("Europe/Paris").unwrap();
        let zones: Zones = [(StoreId(1), paris)].into_iter().collect();
        let calls = [
            // 23:30 UTC on 1 Dec is 00:30 on 2 Dec in Paris.
            call(
                1,
                1,
                "2026-12-01T23:30:00Z",
                "speech",
                Some("at_once"),
                Some("Sophie"),
            ),
            call(
                2,
                1,
                "2026-12-02T09:10:00Z",
                "operator",
                Some("not_understood"),
                None,
            ),
            call(3, 1, "2026-12-02T09:50:00Z", "keypad", None, Some("Sophie")),
            call(
                4,
                1,
                "2026-12-03T08:00:00Z",
                "speech",
                Some("confirmed"),
                Some("Marc"),
            ),
            // Outside the period in Paris (4 Dec 00:10).
            call(
                5,
                1,
                "2026-12-03T23:10:00Z",
                "speech",
                Some("at_once"),
                Some("Marc"),
            ),
        ];
        let period = Period::new(Date::constant(2026, 12, 2), Date::constant(2026, 12, 3)).unwrap();
        let stats = aggregate(
            &calls,
            &zones,
            period,
            Some("Europe/Paris".into()),
            None,
            false,
        );
        assert_eq!((stats.calls, stats.through), (4, 3));
        assert_eq!(
            stats
                .per_day
                .iter()
                .map(|d| (d.calls, d.through))
                .collect::<Vec<_>>(),
            [(3, 2), (1, 1)]
        );
        assert_eq!(
            (stats.per_hour[0], stats.per_hour[10], stats.per_hour[9]),
            (1, 2, 1)
        );
        let outcome = |k: &str| stats.outcomes.iter().find(|c| c.key == k).unwrap().calls;
        assert_eq!(
            (
                outcome("speech"),
                outcome("keypad"),
                outcome("operator"),
                outcome("gave_up")
            ),
            (2, 1, 1, 0)
        );
        assert_eq!(
            stats
                .recognition
                .iter()
                .map(|c| c.calls)
                .collect::<Vec<_>>(),
            [1, 1, 0, 1]
        );
        assert_eq!(
            stats.names,
            [
                Count {
                    key: "Sophie".into(),
                    calls: 2
                },
                Count {
                    key: "Marc".into(),
                    calls: 1
                }
            ]
        );
        let csv = String::from_utf8(calls_csv(&calls, &zones, period)).unwrap();
        assert_eq!(csv.lines().count(), 5, "{csv}");
        assert!(csv.contains("2026-12-02 00:30:00 +01:00"), "{csv}");
    }

    #[test]
    fn cells_never_start_a_formula() {
        for (cell, safe) in [
            ("=1+1", "'=1+1"),
            ("+33", "'+33"),
            ("-2", "'-2"),
            ("@SUM", "'@SUM"),
            ("Sophie", "Sophie"),
            ("", ""),
        ] {
            assert_eq!(formula_safe(cell), safe);
        }
        assert!(Period::new(Date::constant(2026, 1, 2), Date::constant(2026, 1, 1)).is_err());
        assert!(
            Period::new(Date::constant(2024, 12, 31), Date::constant(2026, 1, 1)).is_err(),
            "367 days"
        );
        assert!(
            Period::new(Date::constant(2025, 1, 1), Date::constant(2026, 1, 1)).is_ok(),
            "366 days"
        );
        assert!(Period::new(Date::constant(2025, 1, 2), Date::constant(2026, 1, 1)).is_ok());
    }
}
