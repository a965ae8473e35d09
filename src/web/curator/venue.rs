//! `GET /curator/venues`, `GET`/`POST /curator/institutions/{id}/venue`: curators keep
//! their own institutions' weekly opening hours, the hours note and the facilities current
//! (admins any institution's), through the same service as the JSON API
//! ([`services::institutions::update_hours_and_facilities`], audited). Seasons and
//! exceptions by date are kept as they are; they are set in the config or through the API.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use schemas::{Facility, OpeningHours, Weekday, WeeklyHours};
use services::institutions::{HoursAndFacilities, InstitutionError};

use super::{
    Curator, Failure, FormData, Who, done_message, id_segment, own_institutions, query_pairs, redirect,
    respond,
};
use crate::state::AppState;

/// One institution a curator may keep.
struct Row {
    href: String,
    name: String,
}

/// `templates/curator/venues.html`.
#[derive(Template)]
#[template(path = "curator/venues.html")]
struct VenuesPage {
    title: &'static str,
    who: Option<Who>,
    rows: Vec<Row>,
}

fn venue_path(id: &str) -> String {
    format!("/curator/institutions/{}/venue", id_segment(id))
}

/// `GET /curator/venues`: the institutions whose hours this account keeps.
pub(super) async fn list(State(state): State<AppState>, curator: Curator) -> Result<Response, Failure> {
    let rows = own_institutions(&state, &curator)?
        .into_iter()
        .map(|i| Row {
            href: venue_path(&i.id),
            name: i.name,
        })
        .collect();
    Ok(respond(
        StatusCode::OK,
        &VenuesPage {
            title: "开放时间与服务设施",
            who: curator.who(),
            rows,
        },
    ))
}

/// One weekday's input.
struct DayInput {
    key: &'static str,
    label: &'static str,
    value: String,
    error: Option<String>,
}

/// One facility's checkbox.
struct FacilityChoice {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

/// `templates/curator/venue.html`.
#[derive(Template)]
#[template(path = "curator/venue.html")]
struct VenuePage {
    title: String,
    who: Option<Who>,
    action: String,
    done: Option<&'static str>,
    days: Vec<DayInput>,
    note: String,
    note_error: Option<String>,
    facilities: Vec<FacilityChoice>,
    /// Problems not tied to one input.
    other_errors: Vec<String>,
    csrf: String,
}

/// The separators a day's intervals may be written with.
const SEPARATORS: &[char] = &[',', '，', '、', ';', '；', '\n'];

fn day_text(intervals: &[String]) -> String {
    intervals.join("，")
}

fn day_intervals(text: &str) -> Vec<String> {
    text.split(SEPARATORS)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn week_mut(week: &mut WeeklyHours, day: Weekday) -> &mut Vec<String> {
    match day {
        Weekday::Mon => &mut week.mon,
        Weekday::Tue => &mut week.tue,
        Weekday::Wed => &mut week.wed,
        Weekday::Thu => &mut week.thu,
        Weekday::Fri => &mut week.fri,
        Weekday::Sat => &mut week.sat,
        Weekday::Sun => &mut week.sun,
    }
}

impl VenuePage {
    fn new(
        curator: &Curator,
        id: &str,
        name: &str,
        hours: &OpeningHours,
        facilities: &[Facility],
    ) -> VenuePage {
        VenuePage {
            title: format!("{name} · 开放时间与服务设施"),
            who: curator.who(),
            action: venue_path(id),
            done: None,
            days: Weekday::ALL
                .iter()
                .map(|&day| DayInput {
                    key: day.as_str(),
                    label: day.label(),
                    value: day_text(hours.weekly.day(day)),
                    error: None,
                })
                .collect(),
            note: hours.note.clone().unwrap_or_default(),
            note_error: None,
            facilities: Facility::ALL
                .iter()
                .map(|&f| FacilityChoice {
                    value: f.as_str(),
                    label: f.label(),
                    checked: facilities.contains(&f),
                })
                .collect(),
            other_errors: Vec::new(),
            csrf: curator.csrf.clone(),
        }
    }
}

/// The institution `id` (its name and venue), if this account may keep it.
fn institution(state: &AppState, curator: &Curator, id: &str) -> Result<schemas::Institution, Failure> {
    if !curator.principal.may_curate(id) {
        return Err(Failure::Forbidden);
    }
    state
        .store
        .institutions()?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or(Failure::NotFound)
}

/// `GET /curator/institutions/{id}/venue`: the form.
pub(super) async fn form(
    State(state): State<AppState>,
    curator: Curator,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    let found = institution(&state, &curator, &id)?;
    let venue = found.venue.unwrap_or_default();
    let mut page = VenuePage::new(
        &curator,
        &id,
        &found.name,
        &venue.hours.unwrap_or_default(),
        &venue.facilities,
    );
    page.done = done_message(query_pairs(raw.as_deref()).get("done"));
    Ok(respond(StatusCode::OK, &page))
}

/// `POST /curator/institutions/{id}/venue`: saves the week, the note and the facilities.
pub(super) async fn save(
    State(state): State<AppState>,
    curator: Curator,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Failure> {
    let form = FormData::parse(&body);
    curator.check_csrf(&form)?;
    let found = institution(&state, &curator, &id)?;
    let mut hours = found
        .venue
        .as_ref()
        .and_then(|v| v.hours.clone())
        .unwrap_or_default();
    for day in Weekday::ALL {
        *week_mut(&mut hours.weekly, *day) = day_intervals(form.get(day.as_str()));
    }
    let note = form.get("note").trim();
    hours.note = (!note.is_empty()).then(|| note.to_string());
    let mut facilities = Vec::new();
    for value in form.all("facility") {
        let facility: Facility = value
            .parse()
            .map_err(|_| Failure::BadRequest(format!("没有这项服务设施：{value}")))?;
        if !facilities.contains(&facility) {
            facilities.push(facility);
        }
    }
    let edit = HoursAndFacilities {
        hours: Some(hours.clone()),
        facilities: Some(facilities.clone()),
    };
    let store = state.store.clone();
    let principal = curator.principal.clone();
    let target = id.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        services::institutions::update_hours_and_facilities(&store, &principal, &target, edit)
    })
    .await?;
    match outcome {
        Ok(_) => Ok(redirect(&format!("{}?done=venue", venue_path(&id)))),
        Err(InstitutionError::Forbidden(_)) => Err(Failure::Forbidden),
        Err(InstitutionError::NotFound(_)) => Err(Failure::NotFound),
        Err(InstitutionError::Store(err)) => Err(err.into()),
        Err(InstitutionError::Invalid(errors)) => {
            // The form again, with what was entered and each message beside its input.
            let mut page = VenuePage::new(&curator, &id, &found.name, &hours, &facilities);
            for error in errors.errors {
                let field = error.field.strip_prefix("venue.hours.").unwrap_or(&error.field);
                let day = field
                    .strip_prefix("weekly.")
                    .map(|d| d.split('[').next().unwrap_or(d));
                if let Some(input) = day.and_then(|d| page.days.iter_mut().find(|i| i.key == d)) {
                    input.error.get_or_insert(error.message_zh);
                } else if field == "note" {
                    page.note_error = Some(error.message_zh);
                } else {
                    page.other_errors.push(error.message_zh);
                }
            }
            Ok(respond(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_written_with_any_chinese_or_latin_separator() {
        assert_eq!(
            day_intervals("09:00-12:00，14:00 - 21:00、 "),
            ["09:00-12:00", "14:00 - 21:00"]
        );
        assert!(day_intervals("  ").is_empty());
        assert_eq!(
            day_text(&["09:00-12:00".into(), "14:00-21:00".into()]),
            "09:00-12:00，14:00-21:00"
        );
    }
}
