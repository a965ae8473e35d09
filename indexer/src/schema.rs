//! The tantivy schema: one place for every field, its options and the schema version.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use crate::pinyin::PinyinMode;

/// Version of the index layout *and* of the analysis. Bump it whenever a field, its options or
/// the tokenizer's output changes: the tokenizer is registered under a name that contains the
/// version, so an index built by an older version has a different schema and
/// [`crate::Index::open_or_create`] reports [`crate::Error::SchemaMismatch`].
pub const SCHEMA_VERSION: u32 = 5;

/// Name of the Chinese tokenizer in the schema; carries [`SCHEMA_VERSION`].
pub(crate) fn tokenizer_name() -> String {
    format!("jincheng_zh_v{SCHEMA_VERSION}")
}

/// Name of the tokenizer of the pinyin fields in `mode`; carries [`SCHEMA_VERSION`].
pub(crate) fn pinyin_tokenizer_name(mode: PinyinMode) -> String {
    match mode {
        PinyinMode::Syllables => format!("jincheng_pinyin_v{SCHEMA_VERSION}"),
        PinyinMode::Initials => format!("jincheng_initials_v{SCHEMA_VERSION}"),
    }
}

/// A full-text field and its weight in the query.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextField {
    pub(crate) field: Field,
    pub(crate) boost: f32,
}

/// Every field of the schema.
#[derive(Debug, Clone)]
pub(crate) struct Fields {
    /// Record id: the delete key (STRING, stored, fast for the tie-break order).
    pub(crate) id: Field,
    pub(crate) title: Field,
    pub(crate) alternative_titles: Field,
    pub(crate) creators: Field,
    pub(crate) contributors: Field,
    pub(crate) subjects: Field,
    pub(crate) classifications: Field,
    pub(crate) description: Field,
    pub(crate) publisher: Field,
    pub(crate) coverage: Field,
    /// ISBN-13s, matched exactly.
    pub(crate) isbns: Field,
    pub(crate) institution: Field,
    pub(crate) institution_name: Field,
    pub(crate) institution_type: Field,
    pub(crate) resource_type: Field,
    pub(crate) region: Field,
    pub(crate) language: Field,
    /// Broad dynasties or periods of the record's years (`唐`, `清`, `现代`; see
    /// [`schemas::periods_of_years`]); several when the years span several.
    pub(crate) period: Field,
    /// Accessible formats the record exists in (`braille`, `large_print`, `audio`,
    /// `sign_language`), from the curators' flags.
    pub(crate) accessible_format: Field,
    /// The holding institution's administrative level (`city`, `county`, …).
    pub(crate) level: Field,
    /// Branch names of the record's holdings (`七里河分馆`), as written, trimmed.
    pub(crate) branch: Field,
    /// The curators' brand or programme (`春绿陇原`), as written, trimmed.
    pub(crate) brand: Field,
    /// Audiences from the curators' flags (`children`, `elderly`, …).
    pub(crate) audience: Field,
    /// `true` for a special holding (特色馆藏); absent otherwise.
    pub(crate) special_collection: Field,
    /// Searchable words of the curators' flags: the brand, and for a special holding the
    /// names citizens use for one (`特色馆藏`, and `特质展品` or `特有品牌` by institution).
    pub(crate) curation_text: Field,
    /// The source of the record (its id up to the first `:`): collapsing never merges two
    /// records of one source without a standard number.
    pub(crate) source: Field,
    pub(crate) year_start: Field,
    pub(crate) year_end: Field,
    /// Pinyin syllables (and the joined reading) of the title and alternative titles.
    pub(crate) title_pinyin: Field,
    /// Pinyin initials (and the joined initials) of the title and alternative titles.
    pub(crate) title_initials: Field,
    /// Pinyin syllables of the creators.
    pub(crate) creators_pinyin: Field,
    /// Pinyin initials of the creators.
    pub(crate) creators_initials: Field,
    /// Classification codes and call numbers, whole and by their hierarchical prefixes
    /// (`i247.5`, `i247`, `i24`, `i2`), matched exactly.
    pub(crate) class_codes: Field,
    /// The title and alternative titles as one key each (folded, without spaces and
    /// punctuation), for the "exact title" boost.
    pub(crate) title_exact: Field,
    /// Each creator as one key (folded, without spaces and punctuation), for the "exact
    /// creator" boost.
    pub(crate) creator_exact: Field,
    /// The work a record is a copy of (see `keys::work_key`): collapses copies into one hit.
    /// Absent for records that never collapse.
    pub(crate) work_key: Field,
    /// Copies held (sum of the holdings' items; at least 1): the popularity signal.
    pub(crate) copies: Field,
    /// The record's holdings as stored JSON, to list them under a hit.
    pub(crate) holdings: Field,
    /// The full-text fields and their boosts, strongest first.
    pub(crate) text: Vec<TextField>,
}

/// Field names of the keyword fields used for filters and facets.
pub(crate) mod names {
    pub(crate) const ID: &str = "id";
    pub(crate) const INSTITUTION: &str = "institution";
    pub(crate) const INSTITUTION_TYPE: &str = "institution_type";
    pub(crate) const RESOURCE_TYPE: &str = "resource_type";
    pub(crate) const REGION: &str = "region";
    pub(crate) const LANGUAGE: &str = "language";
    pub(crate) const PERIOD: &str = "period";
    pub(crate) const ACCESSIBLE_FORMAT: &str = "accessible_format";
    pub(crate) const LEVEL: &str = "level";
    pub(crate) const BRANCH: &str = "branch";
    pub(crate) const BRAND: &str = "brand";
    pub(crate) const AUDIENCE: &str = "audience";
    pub(crate) const SPECIAL_COLLECTION: &str = "special_collection";
    pub(crate) const SOURCE: &str = "source";
    pub(crate) const YEAR_START: &str = "year_start";
    pub(crate) const YEAR_END: &str = "year_end";
    pub(crate) const WORK_KEY: &str = "work_key";
    pub(crate) const COPIES: &str = "copies";
    pub(crate) const TITLE: &str = "title";
    pub(crate) const CREATORS: &str = "creators";
    pub(crate) const SUBJECTS: &str = "subjects";
}

/// Builds the schema and the handles of its fields.
pub(crate) fn build_schema() -> (Schema, Fields) {
    let tokenizer = tokenizer_name();
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(&tokenizer)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let text_stored = TextOptions::default()
        .set_indexing_options(indexing.clone())
        .set_stored();
    let text = TextOptions::default().set_indexing_options(indexing);
    // Title, creators and subjects are also fast (raw) columns: the suggester reads their
    // distinct values and counts from the columns, without touching stored documents.
    let text_stored_fast = text_stored.clone().set_fast("raw");
    let pinyin = |mode| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(&pinyin_tokenizer_name(mode))
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
    };

    let mut builder = Schema::builder();
    let id = builder.add_text_field(names::ID, STRING | STORED | FAST);
    let title = builder.add_text_field(names::TITLE, text_stored_fast.clone());
    let alternative_titles = builder.add_text_field("alternative_titles", text.clone());
    let creators = builder.add_text_field(names::CREATORS, text_stored_fast.clone());
    let contributors = builder.add_text_field("contributors", text.clone());
    let subjects = builder.add_text_field(names::SUBJECTS, text_stored_fast);
    let classifications = builder.add_text_field("classifications", text.clone());
    let description = builder.add_text_field("description", text_stored);
    let publisher = builder.add_text_field("publisher", text.clone());
    let coverage = builder.add_text_field("coverage", text.clone());
    let isbns = builder.add_text_field("isbns", STRING);
    let institution = builder.add_text_field(names::INSTITUTION, STRING | STORED | FAST);
    let institution_name = builder.add_text_field("institution_name", STORED);
    let institution_type = builder.add_text_field(names::INSTITUTION_TYPE, STRING | STORED | FAST);
    let resource_type = builder.add_text_field(names::RESOURCE_TYPE, STRING | STORED | FAST);
    let region = builder.add_text_field(names::REGION, STRING | FAST);
    let language = builder.add_text_field(names::LANGUAGE, STRING | FAST);
    let period = builder.add_text_field(names::PERIOD, STRING | FAST);
    let accessible_format = builder.add_text_field(names::ACCESSIBLE_FORMAT, STRING | FAST);
    let level = builder.add_text_field(names::LEVEL, STRING | FAST);
    let branch = builder.add_text_field(names::BRANCH, STRING | FAST);
    let brand = builder.add_text_field(names::BRAND, STRING | FAST);
    let audience = builder.add_text_field(names::AUDIENCE, STRING | FAST);
    let special_collection = builder.add_text_field(names::SPECIAL_COLLECTION, STRING | FAST);
    let curation_text = builder.add_text_field("curation_text", text);
    let source = builder.add_text_field(names::SOURCE, STRING | FAST);
    let year_start = builder.add_i64_field(names::YEAR_START, INDEXED | FAST | STORED);
    let year_end = builder.add_i64_field(names::YEAR_END, INDEXED | FAST);
    let title_pinyin = builder.add_text_field("title_pinyin", pinyin(PinyinMode::Syllables));
    let title_initials = builder.add_text_field("title_initials", pinyin(PinyinMode::Initials));
    let creators_pinyin = builder.add_text_field("creators_pinyin", pinyin(PinyinMode::Syllables));
    let creators_initials = builder.add_text_field("creators_initials", pinyin(PinyinMode::Initials));
    let class_codes = builder.add_text_field("class_codes", STRING);
    let title_exact = builder.add_text_field("title_exact", STRING);
    let creator_exact = builder.add_text_field("creator_exact", STRING);
    let work_key = builder.add_text_field(names::WORK_KEY, STRING | FAST | STORED);
    let copies = builder.add_u64_field(names::COPIES, FAST);
    let holdings = builder.add_text_field("holdings", STORED);

    let weighted = |field, boost| TextField { field, boost };
    let fields = Fields {
        id,
        title,
        alternative_titles,
        creators,
        contributors,
        subjects,
        classifications,
        description,
        publisher,
        coverage,
        isbns,
        institution,
        institution_name,
        institution_type,
        resource_type,
        region,
        language,
        period,
        accessible_format,
        level,
        branch,
        brand,
        audience,
        special_collection,
        curation_text,
        source,
        year_start,
        year_end,
        title_pinyin,
        title_initials,
        creators_pinyin,
        creators_initials,
        class_codes,
        title_exact,
        creator_exact,
        work_key,
        copies,
        holdings,
        text: vec![
            weighted(title, 4.0),
            weighted(alternative_titles, 3.0),
            weighted(creators, 3.0),
            weighted(subjects, 2.0),
            weighted(curation_text, 2.0),
            weighted(publisher, 1.5),
            weighted(contributors, 1.5),
            weighted(classifications, 1.5),
            weighted(coverage, 1.5),
            weighted(description, 1.0),
        ],
    };
    (builder.build(), fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_is_deterministic_and_carries_the_version() {
        let (a, _) = build_schema();
        let (b, _) = build_schema();
        assert_eq!(a, b);
        let json = serde_json::to_string(&a).unwrap_or_default();
        assert!(json.contains(&format!("jincheng_zh_v{SCHEMA_VERSION}")));
    }
}
