//! Opening hours of a store, its holidays, and where calls go when it is closed.
//!
//! Hours are kept in the store's local civil time (what the admin types, what is
//! printed on the door); [`OpeningHours::is_open_at`] converts an instant with the
//! store's time zone, and [`is_open`] decides on a local date and time: a pure
//! function, so its edges are tested without a clock.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;

use super::TransferTarget;

/// One opening interval of a day, half-open: open at `open`, closed from `close`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    pub open: Time,
    pub close: Time,
}

impl TimeRange {
    fn contains(&self, time: Time) -> bool {
        self.open <= time && time < self.close
    }
}

/// The usual week: for each day, the intervals during which the store answers.
/// A day with no interval is closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    #[serde(default)]
    pub monday: Vec<TimeRange>,
    #[serde(default)]
    pub tuesday: Vec<TimeRange>,
    #[serde(default)]
    pub wednesday: Vec<TimeRange>,
    #[serde(default)]
    pub thursday: Vec<TimeRange>,
    #[serde(default)]
    pub friday: Vec<TimeRange>,
    #[serde(default)]
    pub saturday: Vec<TimeRange>,
    #[serde(default)]
    pub sunday: Vec<TimeRange>,
}

impl WeeklyHours {
    /// The intervals of one weekday.
    pub fn day(&self, weekday: Weekday) -> &[TimeRange] {
        match weekday {
            Weekday::Monday => &self.monday,
            Weekday::Tuesday => &self.tuesday,
            Weekday::Wednesday => &self.wednesday,
            Weekday::Thursday => &self.thursday,
            Weekday::Friday => &self.friday,
            Weekday::Saturday => &self.saturday,
            Weekday::Sunday => &self.sunday,
        }
    }

    fn days(&self) -> [(&'static str, &[TimeRange]); 7] {
        [
            ("monday", &self.monday),
            ("tuesday", &self.tuesday),
            ("wednesday", &self.wednesday),
            ("thursday", &self.thursday),
            ("friday", &self.friday),
            ("saturday", &self.saturday),
            ("sunday", &self.sunday),
        ]
    }
}

/// A date on which the usual week does not apply: closed all day (no intervals)
/// or open with special hours.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    pub date: Date,
    /// What it is ("Noël"); shown to admins, not spoken.
    #[serde(default)]
    pub label: String,
    /// Special hours that day; empty means closed all day.
    #[serde(default)]
    pub hours: Vec<TimeRange>,
}

/// Where a call goes when the store is closed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AfterHoursRoute {
    /// Play this message, then hang up.
    ClosedMessage { message: String },
    /// Transfer to the store's operator anyway (e.g. a night guard).
    Operator,
    /// Transfer to another number or URI (another store, a call centre).
    Transfer { target: TransferTarget },
}

/// A store's opening hours. A store without any is always open.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningHours {
    /// IANA time zone of the store ("Europe/Paris"), in which the hours are given.
    pub time_zone: String,
    pub weekly: WeeklyHours,
    #[serde(default)]
    pub holidays: Vec<Holiday>,
    pub after_hours: AfterHoursRoute,
}

/// Why opening hours are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    /// The time zone is not in the time zone database.
    #[error("unknown time zone {name:?}")]
    UnknownTimeZone { name: String },
    /// An interval that closes before (or when) it opens.
    #[error("{day}: interval {open}-{close} closes before it opens")]
    EmptyInterval { day: String, open: Time, close: Time },
    /// Two intervals of one day overlap.
    #[error("{day}: intervals {first} and {second} overlap")]
    Overlap { day: String, first: String, second: String },
    /// The same date is given twice as a holiday.
    #[error("holiday {date} is given twice")]
    DuplicateHoliday { date: Date },
    /// A closed message that says nothing.
    #[error("the closed message is empty")]
    EmptyClosedMessage,
}

/// Whether a store with these hours is open at this local date and time.
///
/// A holiday's hours replace the usual day's; intervals are half-open, so a store
/// open 08:30-19:30 answers at 08:30:00 and is closed at 19:30:00.
pub fn is_open(hours: &OpeningHours, at: DateTime) -> bool {
    let date = at.date();
    let ranges = match hours.holidays.iter().find(|h| h.date == date) {
        Some(holiday) => holiday.hours.as_slice(),
        None => hours.weekly.day(date.weekday()),
    };
    ranges.iter().any(|range| range.contains(at.time()))
}

impl OpeningHours {
    /// Checks intervals, holidays, the closed message and the time zone.
    pub fn validate(&self) -> Result<(), HoursError> {
        self.time_zone()?;
        for (day, ranges) in self.weekly.days() {
            check_ranges(day, ranges)?;
        }
        let mut dates: Vec<Date> = Vec::with_capacity(self.holidays.len());
        for holiday in &self.holidays {
            if dates.contains(&holiday.date) {
                return Err(HoursError::DuplicateHoliday { date: holiday.date });
            }
            dates.push(holiday.date);
            check_ranges(&holiday.date.to_string(), &holiday.hours)?;
        }
        if let AfterHoursRoute::ClosedMessage { message } = &self.after_hours
            && message.trim().is_empty()
        {
            return Err(HoursError::EmptyClosedMessage);
        }
        Ok(())
    }

    /// The store's time zone, from the system's (or jiff's bundled) database.
    pub fn time_zone(&self) -> Result<TimeZone, HoursError> {
        TimeZone::get(&self.time_zone).map_err(|_| HoursError::UnknownTimeZone { name: self.time_zone.clone() })
    }

    /// Whether the store is open at this instant (converted to its local time).
    pub fn is_open_at(&self, now: jiff::Timestamp) -> Result<bool, HoursError> {
        let local = self.time_zone()?.to_datetime(now);
        Ok(is_open(self, local))
    }
}

fn check_ranges(day: &str, ranges: &[TimeRange]) -> Result<(), HoursError> {
    let mut sorted: Vec<&TimeRange> = ranges.iter().collect();
    sorted.sort_by_key(|r| r.open);
    for range in &sorted {
        if range.close <= range.open {
            return Err(HoursError::EmptyInterval { day: day.to_owned(), open: range.open, close: range.close });
        }
    }
    for pair in sorted.windows(2) {
        if pair[1].open < pair[0].close {
            let show = |r: &TimeRange| format!("{}-{}", r.open, r.close);
            return Err(HoursError::Overlap { day: day.to_owned(), first: show(pair[0]), second: show(pair[1]) });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! `is_open` at the edges of intervals, across midnight, on holidays (closed or
    //! special hours), and validation of what an admin may type.
    use super::*;
    use jiff::civil::{date, time};

    fn range(open: Time, close: Time) -> TimeRange {
        TimeRange { open, close }
    }

    /// A supermarket: Monday-Saturday 08:30-12:30 and 14:00-19:30, Sunday
    /// 09:00-12:00; closed on Christmas, short hours on Christmas Eve.
    fn supermarket() -> OpeningHours {
        let day = vec![range(time(8, 30, 0, 0), time(12, 30, 0, 0)), range(time(14, 0, 0, 0), time(19, 30, 0, 0))];
        OpeningHours {
            time_zone: "Europe/Paris".to_owned(),
            weekly: WeeklyHours {
                monday: day.clone(),
                tuesday: day.clone(),
                wednesday: day.clone(),
                thursday: day.clone(),
                friday: day.clone(),
                saturday: day,
                sunday: vec![range(time(9, 0, 0, 0), time(12, 0, 0, 0))],
            },
            holidays: vec![
                Holiday { date: date(2026, 12, 25), label: "Noël".to_owned(), hours: vec![] },
                Holiday {
                    date: date(2026, 12, 24),
                    label: "Réveillon".to_owned(),
                    hours: vec![range(time(8, 0, 0, 0), time(17, 0, 0, 0))],
                },
            ],
            after_hours: AfterHoursRoute::ClosedMessage { message: "Le magasin est fermé.".to_owned() },
        }
    }

    #[test]
    fn is_open_at_the_edges() {
        let hours = supermarket();
        // 2026-11-30 is a Monday, 2026-12-06 a Sunday.
        let cases = [
            (date(2026, 11, 30).at(8, 29, 59, 999_999_999), false, "just before opening"),
            (date(2026, 11, 30).at(8, 30, 0, 0), true, "at opening"),
            (date(2026, 11, 30).at(12, 29, 59, 0), true, "last second of the morning"),
            (date(2026, 11, 30).at(12, 30, 0, 0), false, "at the lunch close"),
            (date(2026, 11, 30).at(13, 59, 59, 0), false, "end of lunch"),
            (date(2026, 11, 30).at(14, 0, 0, 0), true, "afternoon opening"),
            (date(2026, 11, 30).at(19, 30, 0, 0), false, "at closing"),
            (date(2026, 11, 30).at(0, 0, 0, 0), false, "midnight"),
            (date(2026, 11, 30).at(23, 59, 59, 999_999_999), false, "last instant of the day"),
            (date(2026, 12, 6).at(9, 0, 0, 0), true, "Sunday opening"),
            (date(2026, 12, 6).at(12, 0, 0, 0), false, "Sunday closing"),
            (date(2026, 12, 6).at(14, 30, 0, 0), false, "Sunday afternoon, closed"),
            (date(2026, 12, 25).at(10, 0, 0, 0), false, "Christmas, closed all day (a Friday)"),
            (date(2026, 12, 24).at(8, 0, 0, 0), true, "Christmas Eve opens early"),
            (date(2026, 12, 24).at(13, 0, 0, 0), true, "no lunch break on Christmas Eve"),
            (date(2026, 12, 24).at(17, 0, 0, 0), false, "Christmas Eve closes at 17:00"),
            (date(2027, 12, 25).at(10, 0, 0, 0), true, "holidays are dates, not yearly (a Saturday)"),
        ];
        for (at, expected, why) in cases {
            assert_eq!(is_open(&hours, at), expected, "{why}: {at}");
        }
    }

    #[test]
    fn instants_are_read_in_the_store_time_zone() {
        let hours = supermarket();
        // 07:45 UTC on a Monday in winter is 08:45 in Paris (UTC+1): open.
        let open: jiff::Timestamp = "2026-11-30T07:45:00Z".parse().unwrap();
        assert_eq!(hours.is_open_at(open), Ok(true));
        // 07:15 UTC is 08:15 in Paris: not yet open, though 08:15 UTC would be.
        let early: jiff::Timestamp = "2026-11-30T07:15:00Z".parse().unwrap();
        assert_eq!(hours.is_open_at(early), Ok(false));
        let mut unknown = hours.clone();
        unknown.time_zone = "Europe/Atlantis".to_owned();
        assert_eq!(unknown.is_open_at(open), Err(HoursError::UnknownTimeZone { name: "Europe/Atlantis".into() }));
    }

    #[test]
    fn validation_names_the_problem() {
        assert_eq!(supermarket().validate(), Ok(()));
        type Change = Box<dyn Fn(&mut OpeningHours)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|h| h.time_zone = "Mars/Olympus".into()), "unknown time zone \"Mars/Olympus\""),
            (
                Box::new(|h| h.weekly.monday = vec![range(time(19, 0, 0, 0), time(8, 0, 0, 0))]),
                "monday: interval 19:00:00-08:00:00 closes before it opens",
            ),
            (
                Box::new(|h| h.weekly.friday = vec![range(time(9, 0, 0, 0), time(9, 0, 0, 0))]),
                "friday: interval 09:00:00-09:00:00 closes before it opens",
            ),
            (
                Box::new(|h| {
                    h.weekly.tuesday =
                        vec![range(time(14, 0, 0, 0), time(19, 0, 0, 0)), range(time(8, 0, 0, 0), time(14, 0, 1, 0))]
                }),
                "tuesday: intervals 08:00:00-14:00:01 and 14:00:00-19:00:00 overlap",
            ),
            (Box::new(|h| h.holidays.push(h.holidays[0].clone())), "holiday 2026-12-25 is given twice"),
            (
                Box::new(|h| h.after_hours = AfterHoursRoute::ClosedMessage { message: "  ".into() }),
                "the closed message is empty",
            ),
        ];
        for (change, expected) in cases {
            let mut hours = supermarket();
            change(&mut hours);
            assert_eq!(hours.validate().unwrap_err().to_string(), expected);
        }
        // Back-to-back intervals do not overlap.
        let mut hours = supermarket();
        hours.weekly.monday = vec![range(time(8, 0, 0, 0), time(12, 0, 0, 0)), range(time(12, 0, 0, 0), time(13, 0, 0, 0))];
        assert_eq!(hours.validate(), Ok(()));
    }

    #[test]
    fn json_form_is_what_admins_type() {
        let text = r#"{"time_zone": "Europe/Paris",
            "weekly": {"monday": [{"open": "08:30", "close": "19:30"}]},
            "holidays": [{"date": "2026-12-25", "label": "Noël"}],
            "after_hours": {"kind": "transfer", "target": {"kind": "uri", "value": "sip:nuit@pbx"}}}"#;
        let hours: OpeningHours = serde_json::from_str(text).unwrap();
        assert_eq!(hours.weekly.monday, vec![range(time(8, 30, 0, 0), time(19, 30, 0, 0))]);
        assert!(hours.weekly.sunday.is_empty());
        assert_eq!(hours.after_hours, AfterHoursRoute::Transfer { target: TransferTarget::Uri("sip:nuit@pbx".into()) });
        let back: OpeningHours = serde_json::from_value(serde_json::to_value(&hours).unwrap()).unwrap();
        assert_eq!(back, hours);
        let typo = text.replace("\"monday\"", "\"mondy\"");
        assert!(serde_json::from_str::<OpeningHours>(&typo).unwrap_err().to_string().contains("unknown field `mondy`"));
    }
}
