//! Venues and mobile routes: an institution's visitor facts (address, hours, facilities,
//! its place in the service network) and the routes of its mobile services.
//!
//! A venue is kept in its own table, apart from the institution's JSON, because the index
//! carries the institution on every record: a change of opening hours must not re-enter an
//! institution's records into the change log. Both tables hold the JSON of their
//! `schemas` type, like `institutions`.

use std::collections::HashMap;

use schemas::{MobileRoute, Venue};

use super::{Result, Store};
use crate::curated::{AuditAction, insert_audit};
use crate::db::{Conn, args};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS venues (
    institution TEXT PRIMARY KEY,
    json TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE IF NOT EXISTS mobile_routes (
    id TEXT PRIMARY KEY,
    institution TEXT NOT NULL,
    json TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
";

/// Creates the tables (a store written before venues existed gains them when opened).
pub(super) fn init(c: &mut Conn<'_>) -> Result<()> {
    c.execute_batch(SCHEMA)
}

/// Writes `venue` as the venue of `institution` (inside a write transaction).
pub(super) fn put_venue(c: &mut Conn<'_>, institution: &str, venue: &Venue) -> Result<()> {
    c.execute(
        "INSERT INTO venues (institution, json) VALUES (?1, ?2)
         ON CONFLICT(institution) DO UPDATE SET json = excluded.json,
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE venues.json <> excluded.json",
        args![institution, serde_json::to_string(venue)?],
    )?;
    Ok(())
}

/// The stored JSON of the venue of `institution`.
fn venue_json(c: &mut Conn<'_>, institution: &str) -> Result<Option<String>> {
    c.query_opt(
        "SELECT json FROM venues WHERE institution = ?1",
        args![institution],
        |r| r.get(0),
    )
}

fn put_route(c: &mut Conn<'_>, route: &MobileRoute) -> Result<()> {
    c.execute(
        "INSERT INTO mobile_routes (id, institution, json) VALUES (?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET institution = excluded.institution, json = excluded.json,
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        args![route.id, route.institution, serde_json::to_string(route)?],
    )?;
    Ok(())
}

impl Store {
    /// The venue of every institution that has one, by institution id.
    pub fn venues(&self) -> Result<HashMap<String, Venue>> {
        let rows = self.db.read(|c| {
            c.query_map("SELECT institution, json FROM venues", args![], |r| {
                Ok((r.get(0)?, serde_json::from_str(&r.get::<String>(1)?)?))
            })
        })?;
        Ok(rows.into_iter().collect())
    }

    /// The venue of `institution`, if it has one.
    pub fn venue(&self, institution: &str) -> Result<Option<Venue>> {
        let json = self.db.read(|c| venue_json(c, institution))?;
        Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
    }

    /// Replaces the venue of `institution` and audits the change (who, before and after) in
    /// the same transaction. Returns the venue as it was.
    pub fn update_venue(&self, actor: &str, institution: &str, venue: &Venue) -> Result<Option<Venue>> {
        let before = self.db.write(|c| {
            let before = venue_json(c, institution)?;
            put_venue(c, institution, venue)?;
            insert_audit(
                c,
                actor,
                Some(institution),
                None,
                AuditAction::UpdateVenue,
                before.as_deref(),
                Some(&serde_json::to_string(venue)?),
            )?;
            Ok(before)
        })?;
        Ok(before.map(|j| serde_json::from_str(&j)).transpose()?)
    }

    /// Adds or replaces mobile routes (by id), as the config lists them.
    pub fn upsert_mobile_routes(&self, routes: &[MobileRoute]) -> Result<()> {
        self.db
            .write(|c| routes.iter().try_for_each(|route| put_route(c, route)))
    }

    /// Adds or replaces one mobile route and audits it in the same transaction.
    pub fn update_mobile_route(&self, actor: &str, route: &MobileRoute) -> Result<()> {
        self.db.write(|c| {
            let before: Option<String> = c.query_opt(
                "SELECT json FROM mobile_routes WHERE id = ?1",
                args![route.id],
                |r| r.get(0),
            )?;
            put_route(c, route)?;
            insert_audit(
                c,
                actor,
                Some(&route.institution),
                None,
                AuditAction::UpsertMobileRoute,
                before.as_deref(),
                Some(&serde_json::to_string(route)?),
            )
        })
    }

    /// Every mobile route, by id.
    pub fn mobile_routes(&self) -> Result<Vec<MobileRoute>> {
        self.db.read(|c| {
            c.query_map("SELECT json FROM mobile_routes ORDER BY id", args![], |r| {
                Ok(serde_json::from_str(&r.get::<String>(0)?)?)
            })
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use schemas::{
        Admission, AdmissionKind, District, Facility, GeoPoint, Institution, InstitutionType, Level,
        MobileServiceKind, MobileStop, OpeningHours, ServicePointKind, StopVisit, Weekday, WeeklyHours,
    };

    use super::*;
    use crate::curated::AuditEntry;
    use crate::testing::each_backend;

    /// The ten newest audit entries.
    pub(crate) fn audit_log(store: &Store) -> Vec<AuditEntry> {
        store.audit_log(None, None, 10, 0).unwrap()
    }

    fn venue() -> Venue {
        Venue {
            kind: Some(ServicePointKind::Main),
            parent: None,
            address: Some("兰州市城关区（示例地址）".into()),
            geo: Some(GeoPoint {
                lat: 36.06,
                lon: 103.83,
            }),
            phone: Some("0931-0000000".into()),
            website: Some("https://example.cn".into()),
            facilities: vec![Facility::BlindReadingSeats, Facility::SelfServiceLoans],
            admission: Some(Admission {
                kind: AdmissionKind::Free,
                note: None,
            }),
            hours: Some(OpeningHours {
                weekly: WeeklyHours::every_day(&["09:00-12:00", "14:00-21:00"]),
                ..OpeningHours::default()
            }),
        }
    }

    fn institution(venue: Option<Venue>) -> Institution {
        Institution {
            id: "lzlib".into(),
            name: "兰州市图书馆".into(),
            institution_type: InstitutionType::Library,
            district: Some(District::Chengguan),
            level: Level::City,
            venue,
        }
    }

    #[test]
    fn venues_round_trip_without_touching_the_change_log() {
        each_backend(|store| {
            store.upsert_institutions(&[institution(None)]).unwrap();
            store
                .import_records(&[schemas::Record::new("lzlib:1", "lzlib", "静夜思")])
                .unwrap();
            let seq = store.changes_since(0, 10).unwrap().last().unwrap().seq;

            // A venue given with the institution is stored apart, and read back with it.
            store.upsert_institutions(&[institution(Some(venue()))]).unwrap();
            assert_eq!(store.institutions().unwrap(), [institution(Some(venue()))]);
            assert_eq!(store.venue("lzlib").unwrap(), Some(venue()));
            // Hours changed: the record is not re-entered into the change log.
            let mut later = venue();
            later.hours = Some(OpeningHours::default());
            let before = store.update_venue("curator", "lzlib", &later).unwrap();
            assert_eq!(before, Some(venue()));
            assert_eq!(store.changes_since(seq, 10).unwrap().len(), 0);
            assert_eq!(store.venues().unwrap()["lzlib"], later);
            let audit = audit_log(store);
            assert_eq!(audit[0].action, AuditAction::UpdateVenue);
            assert_eq!(audit[0].institution.as_deref(), Some("lzlib"));
            assert!(audit[0].before.is_some());
            // An institution upserted without a venue keeps the stored one.
            store.upsert_institutions(&[institution(None)]).unwrap();
            assert_eq!(store.venue("lzlib").unwrap(), Some(later));
        });
    }

    #[test]
    fn venues_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        let url = crate::test_cluster::database();
        let backends: [&dyn Fn() -> Store; 2] = [&|| Store::open(&path).unwrap(), &|| {
            Store::connect(&url, None, 2).unwrap()
        }];
        for open in backends {
            open().upsert_institutions(&[institution(Some(venue()))]).unwrap();
            // Reopened, all of it is still there.
            assert!(open().institutions().unwrap()[0].venue.is_some());
        }
    }

    #[test]
    fn mobile_routes_round_trip() {
        each_backend(|store| {
            let mut route = MobileRoute {
                id: "bus-1".into(),
                name: "流动图书车".into(),
                kind: MobileServiceKind::MobileLibrary,
                institution: "lzlib".into(),
                note: None,
                stops: vec![MobileStop {
                    name: "和平镇".into(),
                    district: District::Yuzhong,
                    geo: None,
                    schedule: vec![StopVisit {
                        weekday: Some(Weekday::Wed),
                        dates: vec![],
                        time: "10:00-11:30".into(),
                    }],
                }],
            };
            store.upsert_mobile_routes(std::slice::from_ref(&route)).unwrap();
            assert_eq!(store.mobile_routes().unwrap(), [route.clone()]);
            route.name = "1 号线".into();
            store.update_mobile_route("admin", &route).unwrap();
            assert_eq!(store.mobile_routes().unwrap(), [route]);
            let audit = audit_log(store);
            assert_eq!(audit[0].action, AuditAction::UpsertMobileRoute);
        });
    }
}
