//! The unified record model of Jincheng: one shape for every book, artefact, artwork and
//! event, whatever format its collection speaks.
//!
//! The main types:
//! - [`Record`]: a catalogue record, as stored in SQLite, indexed by tantivy and served as
//!   JSON. Harvesters build it, the store keeps it, the indexer reads it.
//! - [`Institution`] with its [`InstitutionType`], [`District`] and [`Level`]: who holds it.
//! - [`ResourceType`]: what it is, from a controlled vocabulary (the original term is kept).
//! - [`DateRange`]: a date as displayed plus the years it spans, for range filters.
//! - [`Holding`]: one copy at one branch; [`Branch`]: where a branch is (configuration the
//!   index uses to place copies in districts).
//! - [`EventInfo`] and [`ImageLink`]: when and where an event happens; pictures of an item.
//! - [`Venue`]: an institution's (or service point's) address, [`GeoPoint`], phone,
//!   [`Facility`]s, [`Admission`], parent and [`ServicePointKind`] in the service network
//!   (总馆 → 分馆 → 服务点), and its [`OpeningHours`] (a [`WeeklyHours`] week, seasons,
//!   exceptions by date). [`MobileRoute`]: a 流动图书车, 舞台车 or 文化车 with its
//!   [`MobileStop`]s and their [`StopVisit`]s.
//!
//! What hours mean at an instant is computed here too, in Lanzhou time (UTC+8, no daylight
//! saving): [`OpeningHours::status_at`] ("open now", closes at, next open, with exceptions
//! beating seasons beating the regular week), [`OpeningHours::week_from`], and
//! [`next_stops`] of the mobile services in a district.
//!
//! The normalisers every mapping shares live here too, so that a date means the same years
//! whichever format it came in: [`normalize_date`] (ISO dates to dynasties and reign eras),
//! [`normalize_isbn`], [`normalize_language`], [`is_clc_class`], [`periods_of_years`] (the
//! broad dynasty of a span, for browsing by period), and for events
//! [`normalize_datetime`] and [`parse_time_span`]. [`Record::set_field`] fills a field by
//! name through them, for declarative mappings (CSV columns, JSON paths).
//!
//! [`Record::validate`] lists every invalid field at once as [`FieldError`]s, and
//! [`record_json_schema`] gives the published JSON Schema (`schemas/record.schema.json`,
//! kept equal to these types by a test).
//!
//! ```
//! use jincheng_schemas::{Record, ResourceType};
//! let mut record = Record::new("lzlib-oai:0001", "lzlib", "静夜思");
//! record.resource_type = ResourceType::Book;
//! record.creators.push("李白".into());
//! assert!(record.validate().is_ok());
//! ```
//!
//! This crate does no I/O: it only describes and checks data.

mod curation;
mod hours;
mod mapping;
mod model;
mod normalize;
pub mod oai;
mod validate;
mod venue;
mod vocab;

pub use crate::{
    curation::{AccessibleFormat, Audience, Curation},
    hours::{
        DayHours, HoursSource, LANZHOU_OFFSET, LATE_FROM, OpenStatus, UpcomingStop, lanzhou_time, next_stops,
    },
    mapping::{FieldStatus, MAPPABLE_FIELDS, UnknownField},
    model::{Branch, DateRange, EventInfo, Holding, ImageLink, Institution, Record, record_id},
    normalize::{
        MODERN_PERIOD, broad_periods, is_clc_class, normalize_date, normalize_datetime, normalize_isbn,
        normalize_language, parse_time_span, periods_of_years,
    },
    validate::{FieldError, ValidationErrors, record_json_schema},
    venue::{
        Admission, AdmissionKind, Facility, GeoPoint, HoursException, IntervalError, Minutes, MobileRoute,
        MobileServiceKind, MobileStop, OpeningHours, SeasonalHours, ServicePointKind, StopVisit, Venue,
        Weekday, WeeklyHours, format_clock, network_problem, parse_interval,
    },
    vocab::{District, InstitutionType, Level, ResourceType, UnknownTerm},
};
