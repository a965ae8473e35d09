//! Normalisers shared by every mapping: dates, ISBNs, languages, 中图法 classes and event
//! times. Pure functions, no I/O.
//!
//! They are deliberately conservative: a value that is not understood is kept as the
//! source wrote it and nothing is inferred from it. A wrong year in a range filter is worse
//! than a missing one.

mod chronology;
mod clc;
mod date;
mod datetime;
mod dynasty;
mod isbn;
mod language;

pub use self::{
    clc::is_clc_class,
    date::normalize_date,
    datetime::{normalize_datetime, parse_time_span},
    dynasty::{MODERN_PERIOD, broad_periods, periods_of_years},
    isbn::normalize_isbn,
    language::normalize_language,
};
