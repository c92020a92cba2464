//! Opening hours at call start: the store's hours, cached per directory
//! version, and the wall clock decide whether a call is answered normally or
//! follows the store's after-hours route (`flow::Call::closed`).
//!
//! Hours change rarely, and every change bumps the store's directory version
//! (`DirectoryStore::set_opening_hours`), which call set-up reads anyway. So
//! the hours are read from the database once per store and version: a call
//! whose directory has the cached version reuses them, and the first call
//! after any change (hours, entries, menu) reads them again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::directory::hours::{AfterHoursRoute, HoursError, OpeningHours};
use crate::directory::store::DirectoryStore;
use crate::directory::store::admin::AdminError;
use crate::directory::{Directory, DirectoryVersion, StoreId};

use tracing::{info, warn};

/// A store's hours (`None`: always open) as read at a directory version.
type Cached = (DirectoryVersion, Option<Arc<OpeningHours>>);

/// Each store's opening hours at the latest directory version a call saw.
#[derive(Debug, Default)]
pub(super) struct HoursCache {
    /// A std mutex: held only to copy an `Arc` in or out, never across an await.
    stores: Mutex<HashMap<StoreId, Cached>>,
}

impl HoursCache {
    /// The opening hours of `directory`'s store (`None`: always open), read
    /// from `store` unless cached for `directory`'s version.
    ///
    /// `directory` must be freshly loaded: the hours read now are at least as
    /// new as its version, so a later change, with a higher version, is
    /// never hidden by this entry.
    pub(super) async fn opening_hours(
        &self,
        store: &DirectoryStore,
        directory: &Directory,
    ) -> Result<Option<Arc<OpeningHours>>, AdminError> {
        let id = directory.store.id;
        if let Some(hours) = self.cached(id, directory.version) {
            return Ok(hours);
        }
        let hours = store.opening_hours(id).await?.map(Arc::new);
        self.lock().insert(id, (directory.version, hours.clone()));
        Ok(hours)
    }

    fn cached(&self, store: StoreId, version: DirectoryVersion) -> Option<Option<Arc<OpeningHours>>> {
        self.lock()
            .get(&store)
            .filter(|(cached, _)| *cached == version)
            .map(|(_, hours)| hours.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<StoreId, Cached>> {
        // A panic while holding the lock cannot leave the map half-updated
        // (each access is one insert or one get), so a poisoned map is sound.
        self.stores.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Whether a call to `directory`'s store, starting now (the wall clock), must
/// follow the after-hours route, and which. Fails open: when the hours cannot
/// be read or used, the call is answered as usual and the problem logged, since
/// a caller turned away by a database hiccup is worse than one answered late.
pub(super) async fn route_now(
    cache: &HoursCache,
    store: &DirectoryStore,
    directory: &Directory,
) -> Option<AfterHoursRoute> {
    let hours = match cache.opening_hours(store, directory).await {
        Ok(hours) => hours,
        Err(error) => {
            warn!(%error, "cannot read the store's opening hours: answered as open");
            return None;
        }
    };
    match after_hours_route(hours.as_deref(), jiff::Timestamp::now()) {
        Ok(route) => {
            if let Some(route) = &route {
                info!(?route, "store closed: after-hours route");
            }
            route
        }
        Err(error) => {
            warn!(%error, "unusable opening hours: answered as open");
            None
        }
    }
}

/// The route a call must follow at `now` (`None`: the store is open). A store
/// without hours is always open.
pub(super) fn after_hours_route(
    hours: Option<&OpeningHours>,
    now: jiff::Timestamp,
) -> Result<Option<AfterHoursRoute>, HoursError> {
    let Some(hours) = hours else {
        return Ok(None);
    };
    Ok((!hours.is_open_at(now)?).then(|| hours.after_hours.clone()))
}

#[cfg(test)]
mod tests {
    //! The closed-or-open decision at instants around a store's hours, and the
    //! cache following directory versions.
    use super::*;
    use crate::directory::Language;
    use crate::directory::TransferTarget;
    use crate::directory::hours::{TimeRange, WeeklyHours};
    use crate::directory::settings::StoreSettings;
    use crate::directory::store::NewStore;
    use crate::directory::store::admin::Actor;
    use jiff::civil::time;

    /// Open Monday 08:30-19:30 in Paris only; after hours: the night line.
    fn mondays() -> OpeningHours {
        OpeningHours {
            time_zone: "Europe/Paris".into(),
            weekly: WeeklyHours {
                monday: vec![TimeRange {
                    open: time(8, 30, 0, 0),
                    close: time(19, 30, 0, 0),
                }],
                ..WeeklyHours::default()
            },
            holidays: vec![],
            after_hours: AfterHoursRoute::Transfer {
                target: TransferTarget::Extension("555".into()),
            },
        }
    }

    #[test]
    fn closed_calls_get_the_route_open_ones_none() {
        let night = Some(AfterHoursRoute::Transfer {
            target: TransferTarget::Extension("555".into()),
        });
        // 2026-11-30 is a Monday; Paris is UTC+1 in winter.
        let cases = [
            ("no hours: always open", None, "2026-11-29T03:00:00Z", Ok(None)),
            ("Monday 08:30 Paris", Some(mondays()), "2026-11-30T07:30:00Z", Ok(None)),
            ("Monday 08:29 Paris", Some(mondays()), "2026-11-30T07:29:00Z", Ok(night.clone())),
            ("Monday 19:30 Paris", Some(mondays()), "2026-11-30T18:30:00Z", Ok(night.clone())),
            ("Sunday", Some(mondays()), "2026-11-29T10:00:00Z", Ok(night)),
            (
                "unknown zone",
                Some(OpeningHours {
                    time_zone: "Mars/Olympus".into(),
                    ..mondays()
                }),
                "2026-11-30T10:00:00Z",
                Err(HoursError::UnknownTimeZone {
                    name: "Mars/Olympus".into(),
                }),
            ),
        ];
        for (name, hours, now, expected) in cases {
            let now: jiff::Timestamp = now.parse().expect("valid instant");
            assert_eq!(after_hours_route(hours.as_ref(), now), expected, "{name}");
        }
    }

    #[tokio::test]
    async fn the_cache_follows_directory_versions() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("a.db").display());
        let db = DirectoryStore::open(&url).await.expect("open");
        let id = db
            .upsert_store(&NewStore {
                name: "Test".into(),
                number: "1000".into(),
                language: Language::Fr,
                operator: TransferTarget::Extension("100".into()),
                settings: StoreSettings::none(),
            })
            .await
            .expect("store");
        let actor = Actor {
            name: "test".into(),
            at: jiff::Timestamp::UNIX_EPOCH,
        };
        let cache = HoursCache::default();
        let before = db.load_directory(id).await.expect("directory");
        assert_eq!(cache.opening_hours(&db, &before).await.expect("hours"), None);

        db.set_opening_hours(id, Some(&mondays()), &actor).await.expect("set");
        // Same version as before the change: the cached answer stands (a call
        // on that version would not see the new hours anyway).
        assert_eq!(cache.opening_hours(&db, &before).await.expect("hours"), None);
        let after = db.load_directory(id).await.expect("directory");
        assert!(after.version > before.version, "the change bumped the version");
        let first = cache.opening_hours(&db, &after).await.expect("hours");
        assert_eq!(first.as_deref(), Some(&mondays()));
        // A hit returns the very same value, without reading the database.
        let second = cache.opening_hours(&db, &after).await.expect("hours");
        assert!(Arc::ptr_eq(first.as_ref().unwrap(), second.as_ref().unwrap()));

        db.set_opening_hours(id, None, &actor).await.expect("remove");
        let removed = db.load_directory(id).await.expect("directory");
        assert_eq!(cache.opening_hours(&db, &removed).await.expect("hours"), None);
    }
}
