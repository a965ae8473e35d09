//! Our own OAI-PMH 2.0 data provider at `/oai`, so a city or provincial platform (or any
//! harvester) can harvest this instance: the store as a `jincheng_oai_provider::Repository`.
//!
//! - **Formats**: `oai_dc`, `marcxml` (MARC21 slim; leader/06 says what kind of thing a
//!   record describes, so artefacts and artworks have a MARC form too) and `jincheng`, the whole
//!   [`Record`] as XML, lossless, with its schema at `/oai/schemas/jincheng.xsd`. Another
//!   Jincheng harvesting us with `metadata_prefix = "jincheng"` loses no field.
//! - **Identifiers**: `oai:jincheng:{record id}`.
//! - **Datestamps**: the store's `updated_at` (UTC, seconds), set by every change.
//! - **Deletions**: `persistent`; tombstones are kept forever.
//! - **Sets**: `institution:{id}`, `institution_type:{type}`, `district:{slug}`,
//!   `resource_type:{type}`, each under its parent set (`institution`, …). setSpecs allow
//!   only URI-unreserved ASCII, so districts use a pinyin slug (`district:chengguan`) and
//!   the Chinese name is the setName (`区县：城关区`). Types use their machine values.
//! - **Lists** are ordered by the store's change sequence and bounded by the sequence at the
//!   list's start (carried in the resumption token), so a harvest never skips nor repeats a
//!   record while records change; records changed during a harvest come with the next
//!   incremental harvest. 100 records a page by default (`[oai] page_size`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jincheng_oai_provider::{
    Datestamp, DeletedRecord, Header, ListPosition, ListQuery, ListSlice, MetadataFormat, Provider,
    ProviderConfig, Repository, RepositoryInfo, SetInfo, escape, push_element, set_contains,
};
use schemas::{District, Institution, InstitutionType, Record, ResourceType};

use crate::state::AppState;
use store::oai::{OaiFilter, OaiRow};
use store::{Store, StoreError};

/// Prefix of our OAI identifiers; the record id follows.
pub const IDENTIFIER_PREFIX: &str = "oai:jincheng:";
/// Namespace of the `jincheng` format.
pub const JINCHENG_NAMESPACE: &str = "urn:jincheng:record:1";
/// The XML Schema of the `jincheng` format, served at `/oai/schemas/jincheng.xsd`.
pub const JINCHENG_XSD: &str = include_str!("oai_jincheng.xsd");

const MARC_NAMESPACE: &str = "http://www.loc.gov/MARC21/slim";
const MARC_SCHEMA: &str = "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd";

/// The provider's routes: `/oai` (GET and POST) and `/oai/schemas/jincheng.xsd`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oai", get(serve).post(serve))
        .route("/oai/schemas/jincheng.xsd", get(schema))
}

async fn schema() -> Response {
    ([(CONTENT_TYPE, "application/xml; charset=utf-8")], JINCHENG_XSD).into_response()
}

async fn serve(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arguments = jincheng_oai_provider::request_arguments(&method, &uri, &body);
    let base_url = jincheng_oai_provider::base_url(&headers, &uri);
    let store = Arc::clone(&state.store);
    let page_size = state.oai.page_size;
    let answer = tokio::task::spawn_blocking(move || {
        let provider = StoreRepository::provider(store, page_size)?;
        provider.respond(&base_url, &arguments, time::OffsetDateTime::now_utc())
    })
    .await;
    match answer {
        Ok(Ok(xml)) => jincheng_oai_provider::xml_response(xml),
        Ok(Err(error)) => {
            tracing::error!("OAI-PMH request failed: {error}");
            jincheng_oai_provider::repository_failure()
        }
        Err(error) => {
            tracing::error!("OAI-PMH request panicked: {error}");
            jincheng_oai_provider::repository_failure()
        }
    }
}

/// The store as an OAI-PMH repository. It reads the institutions once, when made: make one
/// per request.
pub struct StoreRepository {
    store: Arc<Store>,
    institutions: HashMap<String, Institution>,
}

/// One record or tombstone, with its header.
#[derive(Debug, Clone)]
pub struct StoreItem {
    header: Header,
    row: OaiRow,
}

impl StoreRepository {
    /// A repository over `store`.
    pub fn new(store: Arc<Store>) -> Result<StoreRepository, StoreError> {
        let institutions = store
            .institutions()?
            .into_iter()
            .map(|i| (i.id.clone(), i))
            .collect();
        Ok(StoreRepository { store, institutions })
    }

    /// A provider over `store` with `page_size` records a page.
    pub fn provider(store: Arc<Store>, page_size: usize) -> Result<Provider<StoreRepository>, StoreError> {
        let config = ProviderConfig {
            page_size,
            ..ProviderConfig::default()
        };
        Ok(Provider::new(StoreRepository::new(store)?, config))
    }

    fn item(&self, row: OaiRow) -> StoreItem {
        let mut sets = vec![format!("institution:{}", row.institution)];
        if let Some(institution) = self.institutions.get(&row.institution) {
            sets.push(format!(
                "institution_type:{}",
                institution.institution_type.as_str()
            ));
            if let Some(district) = institution.district {
                sets.push(format!("district:{}", district_slug(district)));
            }
        }
        if let Some(record) = &row.record {
            sets.push(format!("resource_type:{}", record.resource_type.as_str()));
        }
        let datestamp = row
            .updated_at
            .parse()
            .unwrap_or_else(|_| Datestamp::from_time(time::OffsetDateTime::UNIX_EPOCH));
        StoreItem {
            header: Header {
                identifier: format!("{IDENTIFIER_PREFIX}{}", row.id),
                datestamp,
                deleted: row.deleted,
                sets,
            },
            row,
        }
    }

    /// The rows a set selects, as a filter; `None` when no record can be in it.
    fn set_filter(&self, set: &str, filter: &mut OaiFilter) -> Option<()> {
        let institutions_where = |keep: &dyn Fn(&Institution) -> bool| -> Vec<String> {
            self.institutions
                .values()
                .filter(|i| keep(i))
                .map(|i| i.id.clone())
                .collect()
        };
        let (family, value) = match set.split_once(':') {
            Some((family, value)) => (family, Some(value)),
            None => (set, None),
        };
        match (family, value) {
            ("institution", None) => {}
            ("institution", Some(id)) => filter.institutions = Some(vec![id.to_string()]),
            ("institution_type", value) => {
                let wanted = match value {
                    Some(v) => Some(InstitutionType::ALL.iter().find(|t| t.as_str() == v).copied()?),
                    None => None,
                };
                filter.institutions = Some(institutions_where(&|i| {
                    wanted.is_none_or(|t| i.institution_type == t)
                }));
            }
            ("district", value) => {
                let wanted = match value {
                    Some(v) => Some(District::ALL.iter().find(|d| district_slug(**d) == v).copied()?),
                    None => None,
                };
                filter.institutions = Some(institutions_where(&|i| {
                    i.district.is_some_and(|d| wanted.is_none_or(|w| d == w))
                }));
            }
            ("resource_type", None) => {
                filter.resource_types =
                    Some(ResourceType::ALL.iter().map(|t| t.as_str().to_string()).collect());
            }
            ("resource_type", Some(v)) => {
                let t = ResourceType::ALL.iter().find(|t| t.as_str() == v)?;
                filter.resource_types = Some(vec![t.as_str().to_string()]);
            }
            _ => return None,
        }
        Some(())
    }

    fn filter(&self, query: &ListQuery) -> Option<OaiFilter> {
        let mut filter = OaiFilter {
            from: query.from_second().map(|d| d.as_str().to_string()),
            until: query.until_second().map(|d| d.as_str().to_string()),
            ..OaiFilter::default()
        };
        if let Some(set) = &query.set {
            self.set_filter(set, &mut filter)?;
        }
        Some(filter)
    }
}

/// The setSpec value of a district: its pinyin, since setSpecs are ASCII.
pub fn district_slug(district: District) -> &'static str {
    match district {
        District::Chengguan => "chengguan",
        District::Qilihe => "qilihe",
        District::Xigu => "xigu",
        District::Anning => "anning",
        District::Honggu => "honggu",
        District::Yongdeng => "yongdeng",
        District::Gaolan => "gaolan",
        District::Yuzhong => "yuzhong",
        District::LanzhouNewArea => "lanzhou_new_area",
    }
}

impl Repository for StoreRepository {
    type Item = StoreItem;
    type Error = StoreError;

    fn info(&self) -> Result<RepositoryInfo, StoreError> {
        let earliest = self
            .store
            .oai_earliest_datestamp()?
            .and_then(|d| d.parse().ok())
            .unwrap_or_else(Datestamp::now);
        Ok(RepositoryInfo {
            repository_name: "金城 Jincheng — 兰州公共文化机构联合目录".into(),
            admin_emails: vec!["jincheng@example.invalid".into()],
            earliest_datestamp: earliest,
            deleted_record: DeletedRecord::Persistent,
        })
    }

    fn formats(&self, base_url: &str) -> Vec<MetadataFormat> {
        vec![
            MetadataFormat::oai_dc(),
            MetadataFormat {
                prefix: "marcxml".into(),
                schema: MARC_SCHEMA.into(),
                namespace: MARC_NAMESPACE.into(),
            },
            MetadataFormat {
                prefix: "jincheng".into(),
                schema: jincheng_schema_url(base_url),
                namespace: JINCHENG_NAMESPACE.into(),
            },
        ]
    }

    fn supports(&self, _item: &StoreItem, prefix: &str) -> bool {
        matches!(prefix, "oai_dc" | "marcxml" | "jincheng")
    }

    fn sets(&self) -> Result<Vec<SetInfo>, StoreError> {
        let mut sets = Vec::new();
        let mut push = |spec: String, name: String| sets.push(SetInfo { spec, name });
        push("institution".into(), "机构 Institutions".into());
        let mut institutions: Vec<&Institution> = self.institutions.values().collect();
        institutions.sort_by(|a, b| a.id.cmp(&b.id));
        for i in &institutions {
            push(format!("institution:{}", i.id), i.name.clone());
        }
        push("institution_type".into(), "机构类型 Institution types".into());
        for t in InstitutionType::ALL {
            push(format!("institution_type:{}", t.as_str()), t.label().into());
        }
        push("district".into(), "区县 Districts".into());
        for d in District::ALL {
            push(
                format!("district:{}", district_slug(*d)),
                format!("区县：{}", d.label()),
            );
        }
        push("resource_type".into(), "资源类型 Resource types".into());
        for t in ResourceType::ALL {
            push(format!("resource_type:{}", t.as_str()), t.label().into());
        }
        Ok(sets)
    }

    fn get(&self, identifier: &str) -> Result<Option<StoreItem>, StoreError> {
        let Some(id) = identifier.strip_prefix(IDENTIFIER_PREFIX) else {
            return Ok(None);
        };
        Ok(self.store.oai_row(id)?.map(|row| self.item(row)))
    }

    fn header(&self, item: &StoreItem) -> Header {
        item.header.clone()
    }

    fn list(
        &self,
        query: &ListQuery,
        resume: Option<&ListPosition>,
        limit: usize,
    ) -> Result<ListSlice<StoreItem>, StoreError> {
        let (snapshot, after) = match resume {
            Some(position) => (
                position.snapshot.parse().unwrap_or_default(),
                position.after.parse().unwrap_or(u64::MAX),
            ),
            None => (self.store.max_seq()?, 0),
        };
        let Some(filter) = self.filter(query) else {
            return Ok(ListSlice {
                items: Vec::new(),
                complete_list_size: 0,
                snapshot: snapshot.to_string(),
                next: None,
            });
        };
        let mut rows = self.store.oai_list(&filter, after, snapshot, limit + 1)?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = more.then(|| rows.last().map(|r| r.seq.to_string())).flatten();
        let complete_list_size = match (resume, more) {
            (None, true) => self.store.oai_count(&filter, snapshot)?,
            _ => rows.len() as u64,
        };
        // Sets are a property of each row, so the filter above and the headers agree; a
        // set with `:` below an unknown family selected nothing already.
        let items: Vec<StoreItem> = rows.into_iter().map(|row| self.item(row)).collect();
        debug_assert!(query.set.as_deref().is_none_or(|set| {
            items
                .iter()
                .all(|i| i.header.sets.iter().any(|s| set_contains(set, s)))
        }));
        Ok(ListSlice {
            items,
            complete_list_size,
            snapshot: snapshot.to_string(),
            next,
        })
    }

    fn valid_position(&self, position: &ListPosition) -> bool {
        let canonical = |s: &str| s.parse::<u64>().is_ok_and(|n| n.to_string() == s);
        canonical(&position.snapshot)
            && canonical(&position.after)
            && position.after.parse::<u64>().ok() <= position.snapshot.parse::<u64>().ok()
    }

    fn write_metadata(
        &self,
        item: &StoreItem,
        prefix: &str,
        base_url: &str,
        out: &mut String,
    ) -> Result<(), StoreError> {
        if let Some(record) = &item.row.record {
            match prefix {
                "marcxml" => write_marcxml(record, out),
                "jincheng" => write_jincheng(record, &jincheng_schema_url(base_url), out),
                _ => write_oai_dc(record, out),
            }
        }
        Ok(())
    }
}

/// `{base_url}/schemas/jincheng.xsd`.
fn jincheng_schema_url(base_url: &str) -> String {
    format!("{}/schemas/jincheng.xsd", base_url.trim_end_matches('/'))
}

/// Simple Dublin Core: a lossy summary that the `oai_dc` mapping of our own harvester reads
/// back into the same fields where DC has them.
pub fn write_oai_dc(record: &Record, out: &mut String) {
    out.push_str(concat!(
        r#"<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" "#,
        r#"xmlns:dc="http://purl.org/dc/elements/1.1/" "#,
        r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" "#,
        r#"xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/oai_dc/ http://www.openarchives.org/OAI/2.0/oai_dc.xsd">"#,
    ));
    let mut dc = |name: &str, value: &str| push_element(out, &format!("dc:{name}"), value);
    dc("title", &record.title);
    record.alternative_titles.iter().for_each(|t| dc("title", t));
    record.creators.iter().for_each(|v| dc("creator", v));
    record.subjects.iter().for_each(|v| dc("subject", v));
    record.classifications.iter().for_each(|v| dc("subject", v));
    if let Some(v) = &record.description {
        dc("description", v);
    }
    if let Some(v) = &record.publisher {
        dc("publisher", v);
    }
    record.contributors.iter().for_each(|v| dc("contributor", v));
    if let Some(date) = &record.date {
        dc("date", &date.display);
    }
    dc("type", record.resource_type.as_str());
    if let Some(v) = &record.resource_type_original
        && v != record.resource_type.as_str()
    {
        dc("type", v);
    }
    if let Some(v) = &record.extent {
        dc("format", v);
    }
    record
        .isbns
        .iter()
        .for_each(|v| dc("identifier", &format!("ISBN {v}")));
    record.identifiers.iter().for_each(|v| dc("identifier", v));
    if let Some(url) = &record.source_url
        && !record.identifiers.contains(url)
    {
        dc("identifier", url);
    }
    if let Some(v) = &record.language {
        dc("language", v);
    }
    record.coverage.iter().for_each(|v| dc("coverage", v));
    if let Some(v) = &record.rights {
        dc("rights", v);
    }
    out.push_str("</oai_dc:dc>");
}

/// MARC21 slim (MARCXML) for a record.
///
/// Leader/06–07 from the resource type (book and ancient book `am`, periodical `as`,
/// manuscript `tm`, map `em`, images and artworks `km`, artefacts `rm`, sound `im`, video
/// `gm`, events and others `pm`); 001 the record id; 008 with the year and language; 020
/// ISBNs; 024 other identifiers; 041 language; 084 中图法 classes (`$2 clc`); 100/700
/// creators and contributors; 245 title; 246 other titles; 264 publisher and date; 300
/// extent; 520 description; 522 coverage; 540 rights; 650 subjects; 852 holdings; 856
/// the source URL.
pub fn write_marcxml(record: &Record, out: &mut String) {
    // Every record has a MARC form: museum objects, artworks and recordings have their own
    // types of record in MARC 21 (leader/06), so harvesters that only speak MARC see the
    // whole catalogue, and every format lists the same items.
    let (type_of_record, level) = match record.resource_type {
        ResourceType::Book | ResourceType::AncientBook => ('a', 'm'),
        ResourceType::Periodical => ('a', 's'),
        ResourceType::Manuscript => ('t', 'm'),
        ResourceType::Map => ('e', 'm'),
        ResourceType::Image | ResourceType::Artwork | ResourceType::Rubbing => ('k', 'm'),
        ResourceType::Artefact => ('r', 'm'),
        ResourceType::Audio => ('i', 'm'),
        ResourceType::Video => ('g', 'm'),
        ResourceType::Event | ResourceType::Other => ('p', 'm'),
    };
    out.push_str(concat!(
        r#"<marc:record xmlns:marc="http://www.loc.gov/MARC21/slim" "#,
        r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" "#,
        r#"xsi:schemaLocation="http://www.loc.gov/MARC21/slim http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd">"#,
    ));
    let _ = write!(
        out,
        "<marc:leader>00000n{type_of_record}{level} a2200000 i 4500</marc:leader>"
    );
    let control = |out: &mut String, tag: &str, value: &str| {
        let _ = write!(
            out,
            r#"<marc:controlfield tag="{tag}">{}</marc:controlfield>"#,
            escape(value)
        );
    };
    control(out, "001", &record.id);
    let year = record
        .year()
        .filter(|y| (0..=9999).contains(y))
        .map(|y| format!("{y:04}"));
    let language = marc_language(record.language.as_deref());
    let fixed = format!(
        "      {}{}    xx {:17}{language} d",
        if year.is_some() { 's' } else { 'n' },
        year.as_deref().unwrap_or("uuuu"),
        ""
    );
    control(out, "008", &fixed);
    let field = |out: &mut String, tag: &str, ind: &str, subfields: &[(char, &str)]| {
        let mut chars = ind.chars();
        let (i1, i2) = (chars.next().unwrap_or(' '), chars.next().unwrap_or(' '));
        let _ = write!(out, r#"<marc:datafield tag="{tag}" ind1="{i1}" ind2="{i2}">"#);
        for (code, value) in subfields {
            let _ = write!(
                out,
                r#"<marc:subfield code="{code}">{}</marc:subfield>"#,
                escape(value)
            );
        }
        out.push_str("</marc:datafield>");
    };
    for isbn in &record.isbns {
        field(out, "020", "  ", &[('a', isbn)]);
    }
    for id in &record.identifiers {
        field(out, "024", "8 ", &[('a', id)]);
    }
    if record.language.is_some() {
        field(out, "041", "  ", &[('a', &language)]);
    }
    for class in &record.classifications {
        field(out, "084", "  ", &[('a', class), ('2', "clc")]);
    }
    let mut creators = record.creators.iter();
    if let Some(first) = creators.next() {
        field(out, "100", "1 ", &[('a', first)]);
    }
    field(out, "245", "00", &[('a', &record.title)]);
    for title in &record.alternative_titles {
        field(out, "246", "3 ", &[('a', title)]);
    }
    let date = record.date.as_ref().map(|d| d.display.as_str());
    match (record.publisher.as_deref(), date) {
        (Some(p), Some(d)) => field(out, "264", " 1", &[('b', p), ('c', d)]),
        (Some(p), None) => field(out, "264", " 1", &[('b', p)]),
        (None, Some(d)) => field(out, "264", " 1", &[('c', d)]),
        (None, None) => {}
    }
    if let Some(extent) = &record.extent {
        field(out, "300", "  ", &[('a', extent)]);
    }
    if let Some(description) = &record.description {
        field(out, "520", "  ", &[('a', description)]);
    }
    for coverage in &record.coverage {
        field(out, "522", "  ", &[('a', coverage)]);
    }
    if let Some(rights) = &record.rights {
        field(out, "540", "  ", &[('a', rights)]);
    }
    for subject in &record.subjects {
        field(out, "650", " 4", &[('a', subject)]);
    }
    for creator in creators {
        field(out, "700", "1 ", &[('a', creator)]);
    }
    for contributor in &record.contributors {
        field(out, "700", "1 ", &[('a', contributor), ('e', "contributor")]);
    }
    for holding in &record.holdings {
        let items = holding.items.map(|n| n.to_string());
        let mut subfields = vec![('a', holding.institution.as_str())];
        subfields.extend(holding.branch.as_deref().map(|b| ('b', b)));
        subfields.extend(holding.call_number.as_deref().map(|c| ('h', c)));
        subfields.extend(items.as_deref().map(|n| ('t', n)));
        subfields.extend(holding.status.as_deref().map(|s| ('z', s)));
        field(out, "852", "  ", &subfields);
    }
    if let Some(url) = &record.source_url {
        field(out, "856", "40", &[('u', url)]);
    }
    out.push_str("</marc:record>");
}

/// MARC language code (ISO 639-2/B) for our ISO 639-1 (or 639-2/3) code.
fn marc_language(language: Option<&str>) -> String {
    let code = match language.unwrap_or("und") {
        "zh" => "chi",
        "en" => "eng",
        "ja" => "jpn",
        "ru" => "rus",
        "fr" => "fre",
        "de" => "ger",
        "bo" => "tib",
        "mn" => "mon",
        "ar" => "ara",
        other if other.len() == 3 && other.bytes().all(|b| b.is_ascii_lowercase()) => other,
        _ => "und",
    };
    code.to_string()
}

/// The `jincheng` format: every field of [`Record`], in declaration order, so that
/// `harvesters::read_jincheng_record` gives back an equal record. Absent optional fields
/// are absent elements; present ones are elements even when empty. Lists are repeated
/// elements. Carriage returns are written as references; characters XML cannot carry at
/// all (C0 controls other than tab and newlines) become U+FFFD.
pub fn write_jincheng(record: &Record, schema_url: &str, out: &mut String) {
    let _ = write!(
        out,
        r#"<jincheng xmlns="{JINCHENG_NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="{JINCHENG_NAMESPACE} {}">"#,
        escape(schema_url)
    );
    let opt = |out: &mut String, name: &str, value: &Option<String>| {
        if let Some(value) = value {
            push_element(out, name, value);
        }
    };
    let many = |out: &mut String, name: &str, values: &[String]| {
        for value in values {
            push_element(out, name, value);
        }
    };
    push_element(out, "id", &record.id);
    push_element(out, "institution", &record.institution);
    push_element(out, "resourceType", record.resource_type.as_str());
    opt(out, "resourceTypeOriginal", &record.resource_type_original);
    push_element(out, "title", &record.title);
    many(out, "alternativeTitle", &record.alternative_titles);
    many(out, "creator", &record.creators);
    many(out, "contributor", &record.contributors);
    many(out, "subject", &record.subjects);
    many(out, "classification", &record.classifications);
    opt(out, "description", &record.description);
    opt(out, "publisher", &record.publisher);
    if let Some(date) = &record.date {
        out.push_str("<date>");
        push_element(out, "display", &date.display);
        if let Some(y) = date.year_start {
            let _ = write!(out, "<yearStart>{y}</yearStart>");
        }
        if let Some(y) = date.year_end {
            let _ = write!(out, "<yearEnd>{y}</yearEnd>");
        }
        out.push_str("</date>");
    }
    opt(out, "language", &record.language);
    many(out, "isbn", &record.isbns);
    many(out, "identifier", &record.identifiers);
    opt(out, "extent", &record.extent);
    many(out, "coverage", &record.coverage);
    opt(out, "rights", &record.rights);
    opt(out, "sourceUrl", &record.source_url);
    for holding in &record.holdings {
        out.push_str("<holding>");
        push_element(out, "institution", &holding.institution);
        opt(out, "branch", &holding.branch);
        opt(out, "callNumber", &holding.call_number);
        if let Some(items) = holding.items {
            let _ = write!(out, "<items>{items}</items>");
        }
        opt(out, "status", &holding.status);
        out.push_str("</holding>");
    }
    if let Some(event) = &record.event {
        out.push_str("<event>");
        opt(out, "start", &event.start);
        opt(out, "end", &event.end);
        opt(out, "venue", &event.venue);
        opt(out, "organiser", &event.organiser);
        opt(out, "liveStreamUrl", &event.live_stream_url);
        opt(out, "registrationUrl", &event.registration_url);
        opt(out, "replayUrl", &event.replay_url);
        let audiences: Vec<String> = event.audience.iter().map(|a| a.as_str().to_string()).collect();
        many(out, "audience", &audiences);
        opt(out, "free", &event.free.map(|f| f.to_string()));
        out.push_str("</event>");
    }
    many(out, "material", &record.materials);
    many(out, "technique", &record.techniques);
    opt(out, "measurements", &record.measurements);
    opt(out, "period", &record.period);
    opt(out, "culture", &record.culture);
    opt(out, "place", &record.place);
    opt(out, "inventoryNumber", &record.inventory_number);
    for image in &record.images {
        out.push_str("<image>");
        push_element(out, "url", &image.url);
        opt(out, "caption", &image.caption);
        out.push_str("</image>");
    }
    opt(out, "edition", &record.edition);
    if let Some(curation) = &record.curation {
        out.push_str("<curation>");
        let _ = write!(
            out,
            "<specialCollection>{}</specialCollection>",
            curation.special_collection
        );
        opt(out, "brand", &curation.brand);
        for format in &curation.accessible_formats {
            push_element(out, "accessibleFormat", format.as_str());
        }
        for audience in &curation.audiences {
            push_element(out, "audience", audience.as_str());
        }
        out.push_str("</curation>");
    }
    out.push_str("</jincheng>");
}
