//! Daily service statistics that institutions report: loans, visits, event attendance and
//! online views, one row per institution and Lanzhou day (`service_statistics`).
//!
//! A row is keyed by `(institution, day)`: reporting a day again replaces its figures, so an
//! upload can be repeated or corrected without counting anything twice. Each write is one
//! transaction together with its audit entry (`report_statistics`, with the figures replaced
//! and the figures stored). A figure an institution does not report is `NULL`, not `0`.
//!
//! There is no branch or service-point column: the reports we have seen are per institution,
//! and a branch reporting on its own can be configured as an institution of its own. The
//! district of a row is its institution's (the services crate joins them).

use serde::Serialize;

use super::curated::{AuditAction, insert_audit};
use super::{Result, Store};
use crate::db::{Conn, Row, args};

pub(super) fn init(c: &mut Conn<'_>) -> Result<()> {
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS service_statistics (
            institution TEXT NOT NULL,
            day TEXT NOT NULL,
            loans INTEGER,
            visits INTEGER,
            event_attendance INTEGER,
            online_views INTEGER,
            reported_by TEXT NOT NULL,
            reported_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            PRIMARY KEY (institution, day)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS service_statistics_by_day ON service_statistics(day);",
    )
}

/// One institution's figures for one day; `None` where it reported nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServiceDay {
    /// Institution id.
    pub institution: String,
    /// Lanzhou day, `YYYY-MM-DD`.
    pub day: String,
    /// Items lent (借阅量/外借).
    pub loans: Option<u64>,
    /// Visitors through the door (到馆人次).
    pub visits: Option<u64>,
    /// People at events (活动参与人次).
    pub event_attendance: Option<u64>,
    /// Online views (线上访问量).
    pub online_views: Option<u64>,
}

fn from_sql(n: Option<i64>) -> Option<u64> {
    n.map(|n| u64::try_from(n).unwrap_or(0))
}

fn read_day(c: &mut Conn<'_>, institution: &str, day: &str) -> Result<Option<ServiceDay>> {
    c.query_opt(
        "SELECT institution, day, loans, visits, event_attendance, online_views
         FROM service_statistics WHERE institution = ?1 AND day = ?2",
        args![institution, day],
        row_to_day,
    )
}

fn row_to_day(row: &Row<'_>) -> Result<ServiceDay> {
    Ok(ServiceDay {
        institution: row.get(0)?,
        day: row.get(1)?,
        loans: from_sql(row.get(2)?),
        visits: from_sql(row.get(3)?),
        event_attendance: from_sql(row.get(4)?),
        online_views: from_sql(row.get(5)?),
    })
}

impl Store {
    /// Stores `days` (each replacing any earlier report of its institution and day) and one
    /// audit entry by `actor` (the figures replaced, and those stored), in one transaction. Returns how many rows changed (a day
    /// reported again with the same figures does not count).
    pub fn put_service_days(&self, actor: &str, days: &[ServiceDay]) -> Result<usize> {
        self.db.write(|c| {
            let mut replaced = Vec::new();
            let mut stored = Vec::new();
            for day in days {
                let before = read_day(c, &day.institution, &day.day)?;
                if before.as_ref() == Some(day) {
                    continue;
                }
                replaced.extend(before);
                c.execute(
                    "INSERT INTO service_statistics
                     (institution, day, loans, visits, event_attendance, online_views, reported_by)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (institution, day) DO UPDATE SET
                       loans = excluded.loans, visits = excluded.visits,
                       event_attendance = excluded.event_attendance,
                       online_views = excluded.online_views, reported_by = excluded.reported_by,
                       reported_at = excluded.reported_at",
                    args![
                        day.institution,
                        day.day,
                        day.loans,
                        day.visits,
                        day.event_attendance,
                        day.online_views,
                        actor
                    ],
                )?;
                stored.push(day);
            }
            if !stored.is_empty() {
                let mut institutions: Vec<&str> = stored.iter().map(|d| d.institution.as_str()).collect();
                institutions.sort_unstable();
                institutions.dedup();
                let institution = match institutions.as_slice() {
                    [one] => Some(*one),
                    _ => None,
                };
                insert_audit(
                    c,
                    actor,
                    institution,
                    None,
                    AuditAction::ReportStatistics,
                    Some(&serde_json::to_string(&replaced)?),
                    Some(&serde_json::to_string(&stored)?),
                )?;
            }
            Ok(stored.len())
        })
    }

    /// Every stored day from `from` to `to` (inclusive, `YYYY-MM-DD`), of `institutions`
    /// (`None`: all), ordered by day and institution.
    pub fn service_days(
        &self,
        from: &str,
        to: &str,
        institutions: Option<&[String]>,
    ) -> Result<Vec<ServiceDay>> {
        let mut days = self.db.read(|c| {
            c.query_map(
                "SELECT institution, day, loans, visits, event_attendance, online_views
                 FROM service_statistics WHERE day BETWEEN ?1 AND ?2 ORDER BY day, institution",
                args![from, to],
                row_to_day,
            )
        })?;
        days.retain(|row| institutions.is_none_or(|list| list.contains(&row.institution)));
        Ok(days)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::each_backend;
    use crate::venues::tests::audit_log;

    fn day(institution: &str, day: &str, loans: u64) -> ServiceDay {
        ServiceDay {
            institution: institution.into(),
            day: day.into(),
            loans: Some(loans),
            visits: Some(loans * 2),
            event_attendance: None,
            online_views: Some(7),
        }
    }

    #[test]
    fn a_day_reported_again_replaces_its_figures_and_is_audited() {
        each_backend(|store| {
            let first = [day("lib", "2026-12-01", 10), day("lib", "2026-12-02", 20)];
            assert_eq!(store.put_service_days("curator", &first).unwrap(), 2);
            assert_eq!(
                store.put_service_days("curator", &first).unwrap(),
                0,
                "same figures: nothing changes"
            );
            let corrected = [day("lib", "2026-12-02", 25), day("mus", "2026-12-02", 3)];
            assert_eq!(store.put_service_days("admin", &corrected).unwrap(), 2);
            let all = store.service_days("2026-12-01", "2026-12-31", None).unwrap();
            assert_eq!(
                all,
                vec![first[0].clone(), corrected[0].clone(), corrected[1].clone()]
            );
            let lib = store
                .service_days("2026-12-02", "2026-12-02", Some(&["lib".to_string()]))
                .unwrap();
            assert_eq!(lib, vec![corrected[0].clone()]);
            let log = audit_log(store);
            assert_eq!(log.len(), 2, "one entry per write that changed something");
            assert_eq!(log[0].action, AuditAction::ReportStatistics);
            assert_eq!(log[0].actor, "admin");
            assert_eq!(log[0].institution, None, "two institutions");
            assert_eq!(log[0].after.as_ref().unwrap().as_array().unwrap().len(), 2);
            let before = log[0].before.as_ref().unwrap();
            assert_eq!(
                before[0]["loans"], 20,
                "the replaced figures are kept in the audit"
            );
            assert_eq!(log[1].institution.as_deref(), Some("lib"));
        });
    }
}
