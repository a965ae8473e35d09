//! JSON APIs and files: records found by path, fields mapped by path, pages followed by
//! page number, offset or next link.
//!
//! Paths are dotted (`data.items`, `creator.name`), with `[n]` for an array index
//! (`images[0].url`); a path that meets an array without an index goes through every
//! element, so `creators.name` on `[{"name": "甲"}, {"name": "乙"}]` gives both names.
//! Strings, numbers and booleans are values; `null` and missing keys are no value.
//! Relative image and source links (`/uploads/1.jpg`) are resolved against the page's URL.
//!
//! A record without an id, or whose required field is missing or not understood, is
//! quarantined with the reason and its JSON; a page that is not JSON (or has no record
//! array at `records_path`) fails the page.

use std::collections::{BTreeMap, HashSet};

use schemas::{MAPPABLE_FIELDS, ResourceType};
use serde_json::Value;
use url::Url;

use crate::{
    Error, HarvestedItem, HttpLimits, ItemOutcome, Result,
    csv_export::{FieldRules, map_fields},
    http_fetch::HttpFetcher,
};

/// How a JSON API pages through its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paging {
    /// `?page=1`, `?page=2`, … (and a fixed page size if `size_param` is given).
    PageNumber {
        /// The page number's query parameter (`page`).
        param: String,
        /// The first page's number (0 or 1).
        start: u64,
        /// The page size's query parameter (`size`, `per_page`), if the API takes one.
        size_param: Option<String>,
        /// The page size asked for.
        size: u64,
    },
    /// `?offset=0`, `?offset=20`, …: the offset grows by the number of records received.
    Offset {
        /// The offset's query parameter (`offset`, `start`).
        param: String,
        /// The page size's query parameter (`limit`), if the API takes one.
        size_param: Option<String>,
        /// The page size asked for.
        size: u64,
    },
    /// Each page names the next one's URL (relative or absolute) at `path`; the list ends
    /// when it is missing, empty or `null`.
    NextLink {
        /// Path of the next page's URL in the page (`links.next`).
        path: String,
    },
    /// One request returns everything.
    Single,
}

/// One JSON API (or JSON file) and how to map it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonApiOptions {
    /// Our id for the source; record ids are `{source_id}:{value at id_path}`.
    pub source_id: String,
    /// Id of the institution the records are attributed to.
    pub institution: String,
    /// The first page's URL (unused by [`read_json_records`]).
    pub url: Url,
    /// How to get from one page to the next (unused by [`read_json_records`]).
    pub paging: Paging,
    /// Path of the array of records in a page (`data.items`); empty if the page is the array.
    pub records_path: String,
    /// Path of a record's stable id, relative to the record (`id`).
    pub id_path: String,
    /// Record field name (see [`schemas::MAPPABLE_FIELDS`]) → path relative to the record.
    pub fields: BTreeMap<String, String>,
    /// Fields a record must have, understood, or it is quarantined. The title is always
    /// required.
    pub required: Vec<String>,
    /// The resource type of records that do not say (an events API: `Event`).
    pub default_resource_type: Option<ResourceType>,
    /// Most pages fetched in one harvest: a guard against APIs that never stop.
    pub max_pages: u32,
}

impl FieldRules for JsonApiOptions {
    fn required(&self) -> &[String] {
        &self.required
    }
    fn default_resource_type(&self) -> Option<ResourceType> {
        self.default_resource_type
    }
}

/// One page of a JSON API.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonApiPage {
    /// The URL the page was fetched from.
    pub url: Url,
    /// Its records, in order; broken ones are quarantined, not dropped.
    pub items: Vec<HarvestedItem>,
    /// The next page's URL; `None` when the list is complete.
    pub next_url: Option<Url>,
}

/// Harvests one JSON API, a page at a time, with the same [`HttpLimits`] (size cap,
/// retries, address policy) as every other harvester.
///
/// ```no_run
/// # async fn run(options: jincheng_harvesters::JsonApiOptions) -> jincheng_harvesters::Result<()> {
/// use jincheng_harvesters::{HttpLimits, JsonApiHarvester};
/// let mut harvester = JsonApiHarvester::new(options, HttpLimits::default())?;
/// while let Some(page) = harvester.next_page().await? {
///     println!("{}: {} records", page.url, page.items.len());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct JsonApiHarvester {
    options: JsonApiOptions,
    http: HttpFetcher,
    next: Option<Url>,
    page_number: u64,
    offset: u64,
    pages: u32,
    seen: HashSet<String>,
}

impl JsonApiHarvester {
    /// A harvester for `options`, starting at its first page.
    ///
    /// Fails if the URL is not `http(s)` or refused by the address policy, or if the
    /// mapping names an unknown record field.
    pub fn new(options: JsonApiOptions, limits: HttpLimits) -> Result<Self> {
        check_mapping(&options)?;
        if !matches!(options.url.scheme(), "http" | "https") {
            return Err(Error::InvalidSource(format!(
                "JSON API URL {} is not http(s)",
                options.url
            )));
        }
        limits
            .address_policy
            .check_url(&options.url)
            .map_err(|reason| Error::AddressRefused {
                url: options.url.to_string(),
                reason,
            })?;
        let (page_number, offset) = match &options.paging {
            Paging::PageNumber { start, .. } => (*start, 0),
            _ => (0, 0),
        };
        let mut harvester = JsonApiHarvester {
            http: HttpFetcher::new(limits)?,
            next: None,
            page_number,
            offset,
            pages: 0,
            seen: HashSet::new(),
            options,
        };
        harvester.next = Some(harvester.paged_url());
        Ok(harvester)
    }

    /// The next page, or `None` once the list is complete (an empty page, no next link).
    ///
    /// Fails if the page cannot be fetched or is not JSON with a record array, if the API
    /// sends the harvest back to a page it already fetched (a loop), or if the page cap
    /// is reached.
    pub async fn next_page(&mut self) -> Result<Option<JsonApiPage>> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        if self.pages >= self.options.max_pages {
            return Err(Error::Protocol {
                url: url.to_string(),
                message: format!(
                    "more than {} pages: stopping (raise max_pages if the API is that large)",
                    self.options.max_pages
                ),
            });
        }
        if !self.seen.insert(url.to_string()) {
            return Err(Error::Protocol {
                url: url.to_string(),
                message: "the API sent the harvest back to a page it already fetched (loop)".into(),
            });
        }
        let body = match self.http.get(&url).await {
            Ok(body) => body,
            Err(e) => {
                // Let the caller retry the same page.
                self.seen.remove(url.as_str());
                self.next = Some(url);
                return Err(e);
            }
        };
        self.pages += 1;
        let page: Value = serde_json::from_slice(&body).map_err(|e| Error::Protocol {
            url: url.to_string(),
            message: format!("not JSON: {e}"),
        })?;
        let mut items = records_of(&page, &self.options).map_err(|message| Error::Protocol {
            url: url.to_string(),
            message,
        })?;
        resolve_links(&mut items, &url);
        self.next = if items.is_empty() {
            None
        } else {
            match &self.options.paging {
                Paging::PageNumber { .. } => {
                    self.page_number += 1;
                    Some(self.paged_url())
                }
                Paging::Offset { .. } => {
                    self.offset += items.len() as u64;
                    Some(self.paged_url())
                }
                Paging::NextLink { path } => {
                    let link = values_at(&page, path).into_iter().next();
                    match link.filter(|l| !l.trim().is_empty()) {
                        None => None,
                        Some(link) => Some(url.join(link.trim()).map_err(|e| Error::Protocol {
                            url: url.to_string(),
                            message: format!("next link {link:?} is not a URL: {e}"),
                        })?),
                    }
                }
                Paging::Single => None,
            }
        };
        Ok(Some(JsonApiPage {
            url,
            items,
            next_url: self.next.clone(),
        }))
    }

    /// The URL of the current page for page-number and offset paging.
    fn paged_url(&self) -> Url {
        let mut pairs: Vec<(String, String)> = Vec::new();
        match &self.options.paging {
            Paging::PageNumber {
                param,
                size_param,
                size,
                ..
            } => {
                pairs.push((param.clone(), self.page_number.to_string()));
                if let Some(size_param) = size_param {
                    pairs.push((size_param.clone(), size.to_string()));
                }
            }
            Paging::Offset {
                param,
                size_param,
                size,
            } => {
                pairs.push((param.clone(), self.offset.to_string()));
                if let Some(size_param) = size_param {
                    pairs.push((size_param.clone(), size.to_string()));
                }
            }
            Paging::NextLink { .. } | Paging::Single => return self.options.url.clone(),
        }
        let mut url = self.options.url.clone();
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !pairs.iter().any(|(p, _)| p == k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .extend_pairs(pairs);
        url
    }
}

/// Reads a JSON file (one page, as the API would send it) with the mapping of `options`;
/// its URL and paging are not used.
///
/// Fails if the file is not JSON or has no record array at `records_path`.
pub fn read_json_records(bytes: &[u8], options: &JsonApiOptions) -> Result<Vec<HarvestedItem>> {
    check_mapping(options)?;
    let unreadable = |message: String| Error::Protocol {
        url: format!("source {}", options.source_id),
        message,
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let page: Value = serde_json::from_slice(bytes).map_err(|e| unreadable(format!("not JSON: {e}")))?;
    records_of(&page, options).map_err(unreadable)
}

fn check_mapping(options: &JsonApiOptions) -> Result<()> {
    for field in options.fields.keys().chain(&options.required) {
        if !MAPPABLE_FIELDS.contains(&field.as_str()) {
            return Err(Error::InvalidSource(format!(
                "JSON mapping of {}: unknown record field {field:?}; expected one of: {}",
                options.source_id,
                MAPPABLE_FIELDS.join(", ")
            )));
        }
    }
    Ok(())
}

/// The page's records, each mapped or quarantined.
fn records_of(page: &Value, options: &JsonApiOptions) -> std::result::Result<Vec<HarvestedItem>, String> {
    let records = if options.records_path.trim().is_empty() {
        Some(page)
    } else {
        select(page, &options.records_path)?.into_iter().next()
    };
    let Some(Value::Array(records)) = records else {
        return Err(format!("no array of records at {:?}", options.records_path));
    };
    let mut seen = HashSet::new();
    Ok(records
        .iter()
        .enumerate()
        .map(|(index, value)| map_record(index, value, options, &mut seen))
        .collect())
}

/// Maps the `index`th record of a page or file; `seen` holds the ids met before it (a repeat
/// is quarantined).
fn map_record(
    index: usize,
    value: &Value,
    options: &JsonApiOptions,
    seen: &mut HashSet<String>,
) -> HarvestedItem {
    let raw = serde_json::to_string(value).unwrap_or_default();
    let local_id = values_at(value, &options.id_path)
        .into_iter()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let quarantine = |local_id: String, reason: String| HarvestedItem {
        local_id,
        datestamp: String::new(),
        sets: Vec::new(),
        raw: raw.clone(),
        outcome: ItemOutcome::Quarantined { reason },
    };
    if local_id.is_empty() {
        let reason = format!("record {index} has no id at {:?}", options.id_path);
        return quarantine(local_id, reason);
    }
    if !seen.insert(local_id.clone()) {
        let reason = format!("record {index} repeats id {local_id:?} on the same page");
        return quarantine(local_id, reason);
    }
    let cells = options
        .fields
        .iter()
        .map(|(field, path)| (field.as_str(), path.as_str(), values_at(value, path)));
    match map_fields(
        &options.source_id,
        &options.institution,
        &local_id,
        cells,
        options,
    ) {
        Ok(record) => HarvestedItem {
            local_id,
            datestamp: String::new(),
            sets: Vec::new(),
            raw,
            outcome: ItemOutcome::Record(Box::new(record)),
        },
        Err(reason) => quarantine(local_id, format!("record {index}: {reason}")),
    }
}

/// The most bytes of a JSON file whose records sit at a `records_path` inside one document
/// (read whole); top-level arrays and JSON Lines are streamed whatever their size.
pub const MAX_JSON_DOCUMENT: u64 = 256 << 20;

/// Reads a JSON dump file of any size, passing each record's item to `emit` until it says
/// stop:
/// - **JSON Lines** (NDJSON: a first character `{` and no `records_path`): a record a line;
///   a line that is not JSON is quarantined with its number, the next goes on;
/// - **a top-level array** of records (no `records_path`): streamed element by element;
/// - records at a `records_path` inside one document: read whole, up to
///   [`MAX_JSON_DOCUMENT`].
///
/// A repeated id is caught within [`crate::RECORDS_PER_CHUNK`] records. Fails if the
/// stream cannot be read or (outside JSON Lines) is not JSON.
pub fn read_json_stream(
    mut input: impl std::io::BufRead,
    options: &JsonApiOptions,
    emit: &mut dyn FnMut(HarvestedItem) -> bool,
) -> Result<()> {
    use std::io::{BufRead, Read};
    check_mapping(options)?;
    let error = |message: String| Error::Dump {
        what: "JSON".into(),
        message,
    };
    let head = input.fill_buf().map_err(|e| error(e.to_string()))?;
    if head.starts_with(b"\xEF\xBB\xBF") {
        input.consume(3);
    }
    let head = input.fill_buf().map_err(|e| error(e.to_string()))?;
    let first = head.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if !options.records_path.trim().is_empty() {
        let mut bytes = Vec::new();
        input
            .take(MAX_JSON_DOCUMENT + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| error(e.to_string()))?;
        if bytes.len() as u64 > MAX_JSON_DOCUMENT {
            return Err(error(format!(
                "records inside a document of more than {MAX_JSON_DOCUMENT} bytes: export a top-level array or JSON Lines"
            )));
        }
        for item in read_json_records(&bytes, options)? {
            if !emit(item) {
                break;
            }
        }
        return Ok(());
    }
    let mut seen = HashSet::new();
    if first == Some(b'{') {
        let mut line = Vec::new();
        let mut index = 0usize;
        for number in 1.. {
            line.clear();
            let read = (&mut input)
                .take(crate::MAX_RECORD_BYTES as u64)
                .read_until(b'\n', &mut line)
                .map_err(|e| error(e.to_string()))?;
            if read == 0 {
                break;
            }
            if read == crate::MAX_RECORD_BYTES && !line.ends_with(b"\n") {
                return Err(error(format!(
                    "line {number} is longer than {} bytes",
                    crate::MAX_RECORD_BYTES
                )));
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if index.is_multiple_of(crate::RECORDS_PER_CHUNK) {
                seen.clear();
            }
            let item = match serde_json::from_slice::<Value>(&line) {
                Ok(value) => map_record(index, &value, options, &mut seen),
                Err(e) => HarvestedItem {
                    local_id: String::new(),
                    datestamp: String::new(),
                    sets: Vec::new(),
                    raw: String::from_utf8_lossy(&line).trim_end().to_owned(),
                    outcome: ItemOutcome::Quarantined {
                        reason: format!("line {number} is not JSON: {e}"),
                    },
                },
            };
            index += 1;
            if !emit(item) {
                break;
            }
        }
        return Ok(());
    }
    let mut elements = EachElement {
        options,
        emit,
        seen,
        index: 0,
        stopped: false,
    };
    let mut deserializer = serde_json::Deserializer::from_reader(input);
    match serde::Deserializer::deserialize_seq(&mut deserializer, &mut elements) {
        Ok(()) => deserializer.end().map_err(|e| error(e.to_string())),
        Err(_) if elements.stopped => Ok(()),
        Err(e) => Err(error(format!("after record {}: {e}", elements.index))),
    }
}

/// Maps each element of a streamed top-level array (see [`read_json_stream`]).
struct EachElement<'a> {
    options: &'a JsonApiOptions,
    emit: &'a mut dyn FnMut(HarvestedItem) -> bool,
    seen: HashSet<String>,
    index: usize,
    stopped: bool,
}

impl<'de> serde::de::Visitor<'de> for &mut EachElement<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        while let Some(value) = seq.next_element::<Value>()? {
            if self.index.is_multiple_of(crate::RECORDS_PER_CHUNK) {
                self.seen.clear();
            }
            let item = map_record(self.index, &value, self.options, &mut self.seen);
            self.index += 1;
            if !(self.emit)(item) {
                self.stopped = true;
                return Err(serde::de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

/// Makes the records' relative links (`/uploads/1.jpg`, as many APIs write them) absolute
/// against the URL of the page they came on. Absolute links and links that do not resolve
/// are left as they are.
fn resolve_links(items: &mut [HarvestedItem], page_url: &Url) {
    let resolve = |link: &mut String| {
        if Url::parse(link) == Err(url::ParseError::RelativeUrlWithoutBase)
            && let Ok(absolute) = page_url.join(link.trim())
        {
            *link = absolute.to_string();
        }
    };
    for item in items {
        if let ItemOutcome::Record(record) = &mut item.outcome {
            record.images.iter_mut().for_each(|image| resolve(&mut image.url));
            if let Some(source_url) = &mut record.source_url {
                resolve(source_url);
            }
        }
    }
}

/// One step of a path: a key, or an index.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

fn parse_path(path: &str) -> std::result::Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for segment in path.split('.').filter(|s| !s.is_empty()) {
        let (key, mut rest) = match segment.find('[') {
            Some(at) => (
                segment.get(..at).unwrap_or_default(),
                segment.get(at..).unwrap_or_default(),
            ),
            None => (segment, ""),
        };
        if !key.is_empty() {
            steps.push(Step::Key(key.to_owned()));
        }
        while let Some(inner) = rest.strip_prefix('[') {
            let close = inner
                .find(']')
                .ok_or_else(|| format!("unclosed [ in path {path:?}"))?;
            let index = inner
                .get(..close)
                .and_then(|n| n.trim().parse().ok())
                .ok_or_else(|| format!("bad index in path {path:?}"))?;
            steps.push(Step::Index(index));
            rest = inner.get(close + 1..).unwrap_or_default();
        }
        if !rest.is_empty() {
            return Err(format!("unexpected {rest:?} in path {path:?}"));
        }
    }
    Ok(steps)
}

/// The JSON values at `path`; arrays met without an index are gone through.
fn select<'a>(value: &'a Value, path: &str) -> std::result::Result<Vec<&'a Value>, String> {
    let mut current = vec![value];
    for step in parse_path(path)? {
        let mut next = Vec::new();
        for v in current {
            collect_step(v, &step, &mut next);
        }
        current = next;
    }
    Ok(current)
}

fn collect_step<'a>(value: &'a Value, step: &Step, out: &mut Vec<&'a Value>) {
    match (value, step) {
        (Value::Object(map), Step::Key(key)) => out.extend(map.get(key)),
        (Value::Array(items), Step::Index(i)) => out.extend(items.get(*i)),
        (Value::Array(items), Step::Key(_)) => {
            for item in items {
                collect_step(item, step, out);
            }
        }
        _ => {}
    }
}

/// The values at `path` as text: strings, numbers and booleans, arrays flattened.
fn values_at(value: &Value, path: &str) -> Vec<String> {
    fn flatten(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) => out.push(s.clone()),
            Value::Number(n) => out.push(n.to_string()),
            Value::Bool(b) => out.push(b.to_string()),
            Value::Array(items) => items.iter().for_each(|v| flatten(v, out)),
            Value::Null | Value::Object(_) => {}
        }
    }
    let mut out = Vec::new();
    for v in select(value, path).unwrap_or_default() {
        flatten(v, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_select_and_flatten() {
        let v = json!({
            "data": {"items": [{"id": 1, "creators": [{"name": "甲"}, {"name": "乙"}], "tags": ["a", null, "b"]}]},
            "links": {"next": "/p2"}
        });
        assert_eq!(values_at(&v, "links.next"), ["/p2"]);
        assert_eq!(values_at(&v, "data.items[0].id"), ["1"]);
        assert_eq!(values_at(&v, "data.items.creators.name"), ["甲", "乙"]);
        assert_eq!(values_at(&v, "data.items[0].creators[1].name"), ["乙"]);
        assert_eq!(values_at(&v, "data.items[0].tags"), ["a", "b"]);
        assert!(values_at(&v, "data.nothing").is_empty());
        assert!(values_at(&v, "data.items[9]").is_empty());
        assert!(parse_path("a[x]").is_err());
        assert!(parse_path("a[1").is_err());
        assert_eq!(parse_path("a[1][2].b").unwrap().len(), 4);
    }
}
