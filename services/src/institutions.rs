//! Institutions: who holds the collections, where their venues are and when they are open.
//!
//! Every indexed record carries its institution's name, type, district and level, so a
//! change here reaches the index through the store's change log (see
//! `store::Store::upsert_institutions`): callers wake the index follower and the records are
//! found under the new name without a reindex. A venue (hours, facilities, address, the
//! service network) is stored apart and re-indexes nothing.
//!
//! Who may change what: admins change institutions, their venues and mobile routes;
//! curators keep the hours and facilities of their own institutions current
//! ([`update_hours_and_facilities`]), exactly as they curate their own records.
//!
//! The directory's rules are here too: [`VenueFilter`] (district, type, facility, kind,
//! "open now") and [`service_points`] (the branches and service points under an
//! institution), so that the API and the pages filter alike.

use schemas::{
    District, Facility, Institution, InstitutionType, MobileRoute, OpenStatus, OpeningHours,
    ServicePointKind, ValidationErrors, Venue,
};
use serde::Deserialize;
use store::curated::AuditAction;
use store::{Store, StoreError};
use time::OffsetDateTime;

use crate::auth::{Forbidden, Principal};

/// Why an institution change was refused.
#[derive(Debug, thiserror::Error)]
pub enum InstitutionError {
    /// Only admins change institutions; curators only their own hours (403).
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// Invalid fields (422).
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// No such institution (404).
    #[error("no institution {0:?}")]
    NotFound(String),
    /// The store failed (500).
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &str, message: String, message_zh: String) -> InstitutionError {
    InstitutionError::Invalid(ValidationErrors {
        errors: vec![schemas::FieldError {
            field: field.into(),
            code: "invalid",
            message,
            message_zh,
        }],
    })
}

/// Adds or changes an institution (admins only), with an audit entry. A venue given with it
/// replaces the stored one; its parent must be a known institution, and no cycle of parents
/// may result.
pub fn upsert(
    store: &Store,
    principal: &Principal,
    institution: &Institution,
) -> Result<(), InstitutionError> {
    principal.require_admin()?;
    institution.validate().map_err(InstitutionError::Invalid)?;
    if institution.venue.as_ref().is_some_and(|v| v.parent.is_some()) {
        let mut all = store.institutions()?;
        all.retain(|i| i.id != institution.id);
        all.push(institution.clone());
        if let Some(problem) = schemas::network_problem(&all) {
            return Err(invalid(
                "venue.parent",
                problem,
                "上级机构不存在或形成循环".into(),
            ));
        }
    }
    store.upsert_institutions(std::slice::from_ref(institution))?;
    store.audit(
        &principal.username,
        Some(&institution.id),
        AuditAction::UpsertInstitution,
        &serde_json::json!(institution),
    )?;
    Ok(())
}

/// What a curator may change of their institution's venue: its hours and facilities.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoursAndFacilities {
    /// The opening hours (replaced whole; absent leaves them as they are).
    #[serde(default)]
    pub hours: Option<OpeningHours>,
    /// The facilities (replaced whole; absent leaves them as they are).
    #[serde(default)]
    pub facilities: Option<Vec<Facility>>,
}

/// Replaces the hours and/or facilities of institution `id`'s venue, audited with the
/// venue before and after. Admins may do it for any institution, curators for their own.
pub fn update_hours_and_facilities(
    store: &Store,
    principal: &Principal,
    id: &str,
    edit: HoursAndFacilities,
) -> Result<Venue, InstitutionError> {
    if !principal.may_curate(id) {
        return Err(Forbidden("this account does not curate that institution").into());
    }
    if !store.institutions()?.iter().any(|i| i.id == id) {
        return Err(InstitutionError::NotFound(id.to_string()));
    }
    let mut venue = store.venue(id)?.unwrap_or_default();
    if let Some(hours) = edit.hours {
        venue.hours = Some(hours);
    }
    if let Some(facilities) = edit.facilities {
        venue.facilities = facilities;
    }
    venue.validate(id).map_err(InstitutionError::Invalid)?;
    store.update_venue(&principal.username, id, &venue)?;
    Ok(venue)
}

/// Adds or replaces a mobile route (admins only), audited.
pub fn upsert_mobile_route(
    store: &Store,
    principal: &Principal,
    route: &MobileRoute,
) -> Result<(), InstitutionError> {
    principal.require_admin()?;
    route.validate().map_err(InstitutionError::Invalid)?;
    if !store.institutions()?.iter().any(|i| i.id == route.institution) {
        return Err(invalid(
            "institution",
            format!("institution {:?} is not known", route.institution),
            "机构不存在".into(),
        ));
    }
    store.update_mobile_route(&principal.username, route)?;
    Ok(())
}

/// Whether institution `institution` is open at `at`; `None` when it has no hours.
pub fn status(institution: &Institution, at: OffsetDateTime) -> Option<OpenStatus> {
    let hours = institution.venue.as_ref()?.hours.as_ref()?;
    Some(hours.status_at(at))
}

/// Which institutions the directory shows: every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VenueFilter {
    /// In this district.
    pub district: Option<District>,
    /// Of this type.
    pub institution_type: Option<InstitutionType>,
    /// Offering this facility.
    pub facility: Option<Facility>,
    /// Of this kind in the service network.
    pub kind: Option<ServicePointKind>,
    /// Open (`true`) or closed (`false`) at the instant asked about; an institution without
    /// hours is neither.
    pub open_now: Option<bool>,
}

impl VenueFilter {
    /// True when `institution` passes every condition at `at`.
    pub fn matches(&self, institution: &Institution, at: OffsetDateTime) -> bool {
        let venue = institution.venue.as_ref();
        self.district.is_none_or(|d| institution.district == Some(d))
            && self
                .institution_type
                .is_none_or(|t| institution.institution_type == t)
            && self
                .facility
                .is_none_or(|f| venue.is_some_and(|v| v.facilities.contains(&f)))
            && self.kind.is_none_or(|k| venue.and_then(|v| v.kind) == Some(k))
            && self
                .open_now
                .is_none_or(|open| status(institution, at).is_some_and(|s| s.open_now == open))
    }
}

/// The institutions whose venue names `id` as its parent (its branches and service points),
/// in the order given.
pub fn service_points<'a>(institutions: &'a [Institution], id: &str) -> Vec<&'a Institution> {
    institutions
        .iter()
        .filter(|i| i.venue.as_ref().and_then(|v| v.parent.as_deref()) == Some(id))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use schemas::{Level, WeeklyHours};
    use time::macros::datetime;

    use super::*;

    fn institution(
        id: &str,
        hours: Option<&[&str]>,
        facilities: Vec<Facility>,
        parent: Option<&str>,
    ) -> Institution {
        Institution {
            id: id.into(),
            name: id.into(),
            institution_type: InstitutionType::Library,
            district: Some(District::Yuzhong),
            level: Level::County,
            venue: Some(Venue {
                parent: parent.map(str::to_string),
                facilities,
                hours: hours.map(|h| OpeningHours {
                    weekly: WeeklyHours::every_day(h),
                    ..OpeningHours::default()
                }),
                ..Venue::default()
            }),
        }
    }

    #[test]
    fn the_filter_combines_facility_and_open_now() {
        let all = [
            institution("day", Some(&["09:00-17:00"]), vec![Facility::Parking], None),
            institution(
                "bar",
                Some(&["00:00-24:00"]),
                vec![Facility::Open24Hours],
                Some("day"),
            ),
            institution("none", None, vec![], Some("day")),
        ];
        let night = datetime!(2026-12-08 23:00 +8);
        let open = VenueFilter {
            open_now: Some(true),
            ..VenueFilter::default()
        };
        let ids = |f: &VenueFilter| -> Vec<&str> {
            all.iter()
                .filter(|i| f.matches(i, night))
                .map(|i| i.id.as_str())
                .collect()
        };
        assert_eq!(ids(&open), ["bar"]);
        assert_eq!(
            ids(&VenueFilter {
                open_now: Some(false),
                ..VenueFilter::default()
            }),
            ["day"]
        );
        assert_eq!(
            ids(&VenueFilter {
                facility: Some(Facility::Parking),
                ..VenueFilter::default()
            }),
            ["day"]
        );
        assert_eq!(
            ids(&VenueFilter {
                district: Some(District::Xigu),
                ..VenueFilter::default()
            }),
            Vec::<&str>::new()
        );
        let children: Vec<&str> = service_points(&all, "day")
            .iter()
            .map(|i| i.id.as_str())
            .collect();
        assert_eq!(children, ["bar", "none"]);
    }
}
