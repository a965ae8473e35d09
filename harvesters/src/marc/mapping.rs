//! MARC21 and CNMARC/UNIMARC records → [`schemas::Record`].
//!
//! The two formats put the same things in different tags (title 245 / 200, publication
//! 260·264 / 210, subjects 650 / 606, …) and sometimes give the same subfield code opposite
//! meanings: in MARC21 650 `$y` is chronological and `$z` geographical, in UNIMARC 606 it is
//! the other way round. Each mapping therefore reads its own tags into a [`Description`],
//! and one function turns that into a `Record`, so the record shape cannot drift between
//! formats.
//!
//! Conventions shared by both mappings:
//! - Title: title proper, then other title information after `：` (` : ` for non-CJK
//!   titles), ISBD punctuation trimmed. Parallel and variant titles are alternative titles.
//! - Names: main and alternative responsibility (MARC21 1XX, UNIMARC 700/701/710/711) are
//!   creators; added and secondary names (MARC21 7XX, UNIMARC 702/712) are contributors.
//!   Only without any name field is the transcribed statement (245$c, 200$f) the creator.
//! - Publisher: `place：publisher`, as `schemas::Record::publisher` documents.
//! - Extent: ISBD `pages : illustrations ; size` (`430页 : 图 ; 29cm`); the edition statement
//!   (250 / 205) is the record's `edition`.
//! - Subjects: heading and subdivisions joined by `-` in field order (`瓷器-研究-中国-宋代`);
//!   geographic and chronological subdivisions are also coverage.
//! - Holdings: one [`Holding`] per branch and call number; `items` counts the barcodes.
//! - MARC21 880 fields (linked by `$6`) are the vernacular form of the field they link to
//!   and are displayed; the romanised title and names are kept as alternative titles and
//!   contributors, the romanised publisher after ` = `, so both scripts are searchable.

use schemas::{Holding, Record, ResourceType, record_id};

use crate::{
    ItemOutcome, is_clc_class,
    marc::{
        MarcFormat,
        record::{Field, FieldContent, MarcRecord, Subfield},
    },
    normalize_date, normalize_isbn, normalize_language,
};

/// Where mapped records belong.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MappingContext<'a> {
    pub(crate) source_id: &'a str,
    pub(crate) institution: &'a str,
    /// The local id to use instead of the control number (an OAI identifier).
    pub(crate) local_id: Option<&'a str>,
}

/// What a mapping read from a record, before it becomes a [`Record`].
#[derive(Debug, Default)]
struct Description {
    title: Option<String>,
    alternative_titles: Vec<String>,
    creators: Vec<String>,
    contributors: Vec<String>,
    responsibility: Option<String>,
    isbns: Vec<String>,
    identifiers: Vec<String>,
    edition: Option<String>,
    place: Option<String>,
    publisher_name: Option<String>,
    romanised_publisher: Option<String>,
    /// Whether place/publisher/date came from a publication statement proper (260, or 264
    /// with ind2 = 1) rather than a production, distribution or copyright one.
    from_publication_statement: bool,
    date: Option<String>,
    extent: Option<String>,
    summaries: Vec<String>,
    subjects: Vec<String>,
    coverage: Vec<String>,
    classifications: Vec<String>,
    language: Option<String>,
    source_url: Option<String>,
    holdings: Vec<Holding>,
}

/// Maps one record. Returns the local id (control number, else the first valid ISBN; empty
/// if neither) and the outcome: a record, a deletion (leader/05 = `d`) or a quarantine.
pub(crate) fn map_record(
    record: MarcRecord,
    format: MarcFormat,
    context: MappingContext<'_>,
) -> (String, ItemOutcome) {
    let (record, romanised) = match format {
        MarcFormat::Marc21 => resolve_880(record),
        MarcFormat::Cnmarc => (record, Vec::new()),
    };
    let description = match format {
        MarcFormat::Marc21 => describe_marc21(&record, &romanised, context.institution),
        MarcFormat::Cnmarc => describe_unimarc(&record, context.institution),
    };
    let local_id = context
        .local_id
        .map(str::to_owned)
        .or_else(|| record.control_number().map(str::to_owned))
        .or_else(|| description.isbns.first().cloned())
        .unwrap_or_default();
    if record.leader_char(5) == 'd' {
        return (local_id, ItemOutcome::Deleted);
    }
    if local_id.is_empty() {
        let reason = "record has neither a control number (001) nor a valid ISBN to identify it".to_owned();
        return (local_id, ItemOutcome::Quarantined { reason });
    }
    let outcome = match build(description, &record, format, context, &local_id) {
        Ok(mapped) => ItemOutcome::Record(Box::new(mapped)),
        Err(reason) => ItemOutcome::Quarantined { reason },
    };
    (local_id, outcome)
}

/// Guesses the format of a MARCXML record that came without one (OAI-PMH `marcxml` is
/// MARC21 by definition, but some Chinese repositories serve UNIMARC under that prefix).
pub(crate) fn guess_format(record: &MarcRecord) -> MarcFormat {
    if record.field(b"245").is_none() && record.field(b"200").is_some() {
        MarcFormat::Cnmarc
    } else {
        MarcFormat::Marc21
    }
}

fn build(
    d: Description,
    marc: &MarcRecord,
    format: MarcFormat,
    context: MappingContext<'_>,
    local_id: &str,
) -> Result<Record, String> {
    let title_field = match format {
        MarcFormat::Marc21 => "245$a",
        MarcFormat::Cnmarc => "200$a",
    };
    let title = d
        .title
        .ok_or_else(|| format!("record has no title ({title_field})"))?;
    let mut record = Record::new(record_id(context.source_id, local_id), context.institution, title);
    let (resource_type, original) = resource_type(marc, format);
    record.resource_type = resource_type;
    record.resource_type_original = Some(original);
    record.alternative_titles = dedup(d.alternative_titles);
    record.creators = dedup(d.creators);
    if record.creators.is_empty() {
        record.creators.extend(d.responsibility);
    }
    record.contributors = dedup(d.contributors);
    record.subjects = dedup(d.subjects);
    record.classifications = dedup(d.classifications);
    record.description = (!d.summaries.is_empty()).then(|| d.summaries.join("\n"));
    let mut publisher = match (d.place, d.publisher_name) {
        (Some(place), Some(name)) => Some(format!("{place}：{name}")),
        (place, name) => name.or(place),
    };
    if let Some(romanised) = d.romanised_publisher {
        publisher = Some(match publisher {
            Some(p) if p != romanised => format!("{p} = {romanised}"),
            _ => romanised,
        });
    }
    record.publisher = publisher;
    record.date = d.date.as_deref().map(normalize_date);
    if record.date.is_none() && format == MarcFormat::Marc21 {
        record.date = marc21_008_year(marc).map(normalize_date);
    }
    record.language = d.language.as_deref().map(normalize_language);
    if record.language.is_none() && format == MarcFormat::Marc21 {
        record.language = marc
            .control(b"008")
            .and_then(|f| f.get(35..38))
            .map(str::trim)
            .filter(|l| l.len() == 3 && l.bytes().all(|b| b.is_ascii_alphabetic()))
            .map(normalize_language);
    }
    record.isbns = dedup(d.isbns);
    record.identifiers = dedup(d.identifiers);
    record.edition = d.edition;
    record.extent = d.extent;
    record.coverage = dedup(d.coverage);
    record.source_url = d.source_url;
    record.holdings = d.holdings;
    record.validate().map_err(|e| format!("invalid record: {e}"))?;
    Ok(record)
}

fn dedup(values: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        if !value.is_empty() && !out.contains(&value) {
            out.push(value);
        }
    }
    out
}

/// Leader/06 (type of record) and /07 (bibliographic level) → resource type; the original
/// keeps the two codes, e.g. `leader/06-07=am`.
fn resource_type(record: &MarcRecord, format: MarcFormat) -> (ResourceType, String) {
    let kind = record.leader_char(6);
    let level = record.leader_char(7);
    let serial = matches!(level, 's' | 'i');
    let resource = match (format, kind) {
        (_, 'a') if serial => ResourceType::Periodical,
        (_, 'a') => ResourceType::Book,
        (MarcFormat::Marc21, 't') | (MarcFormat::Cnmarc, 'b') => ResourceType::Manuscript,
        (_, 'e' | 'f') => ResourceType::Map,
        (_, 'k') => ResourceType::Image,
        (_, 'g') => ResourceType::Video,
        (_, 'i' | 'j') => ResourceType::Audio,
        (_, 'r') => ResourceType::Artefact,
        _ => ResourceType::Other,
    };
    (resource, format!("leader/06-07={kind}{level}"))
}

/// Trims the ISBD punctuation that MARC21 leaves at the end of subfields (` /`, ` :`,
/// ` ;`, `,`, ` =`, a final `.`), and surrounding whitespace.
fn clean(value: &str) -> String {
    let mut text = value.trim();
    loop {
        let trimmed = text
            .trim_end_matches([' ', '/', ':', ';', ',', '=', '\u{3000}'])
            .trim_end();
        // A final full stop is punctuation, unless it ends an abbreviation or initial
        // ("U.S.", "J.") or an ellipsis.
        let trimmed = match trimmed.strip_suffix('.') {
            Some(rest)
                if !rest.ends_with('.')
                    && !rest.chars().next_back().is_some_and(|c| {
                        c.is_ascii_uppercase() && rest.chars().rev().nth(1).is_none_or(|p| !p.is_alphabetic())
                    }) =>
            {
                rest.trim_end()
            }
            _ => trimmed,
        };
        if trimmed.len() == text.len() {
            return trimmed.to_owned();
        }
        text = trimmed;
    }
}

fn non_empty(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

fn has_cjk(text: &str) -> bool {
    text.chars()
        .any(|c| matches!(c, '\u{2E80}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{3134F}'))
}

/// `title：other title` (` : ` between non-CJK parts).
fn join_title(main: String, other: Option<String>) -> String {
    match other {
        Some(other) if !main.is_empty() => {
            let separator = if has_cjk(&main) || has_cjk(&other) {
                "："
            } else {
                " : "
            };
            format!("{main}{separator}{other}")
        }
        Some(other) => other,
        None => main,
    }
}

fn first_clean(field: &Field, code: char) -> Option<String> {
    field.first(code).map(clean).and_then(non_empty)
}

fn joined_clean(field: &Field, codes: &[char], separator: &str) -> Option<String> {
    let parts: Vec<String> = field
        .subfields()
        .iter()
        .filter(|s| codes.contains(&s.code))
        .map(|s| clean(&s.value))
        .filter(|v| !v.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(separator))
}

/// An ISBN subfield: a valid one is normalised to ISBN-13, anything else is kept as given
/// among the identifiers.
fn push_isbn(d: &mut Description, value: &str) {
    let value = value.trim();
    if value.is_empty() {
        return;
    }
    // "9787101000016 (pbk.)", "7-101-00001-0 : CNY38.00": the ISBN is the first token.
    let candidate = value
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ':' | '（' | '：'))
        .next()
        .unwrap_or(value);
    match normalize_isbn(candidate) {
        Some(isbn) => d.isbns.push(isbn),
        None => d.identifiers.push(value.to_owned()),
    }
}

/// A subject heading: the main part (subfields other than subdivisions, joined by spaces),
/// then each subdivision, joined by `-`. `geographic` and `chronological` are the
/// subdivision codes for this format; their values are also coverage.
fn push_subject(
    d: &mut Description,
    field: &Field,
    geographic: char,
    chronological: char,
    subdivisions: &[char],
) {
    let mut main: Vec<String> = Vec::new();
    let mut parts: Vec<String> = Vec::new();
    for Subfield { code, value } in field.subfields() {
        let value = clean(value);
        if value.is_empty() || !code.is_ascii_lowercase() {
            continue;
        }
        if subdivisions.contains(code) {
            if *code == geographic || *code == chronological {
                d.coverage.push(value.clone());
            }
            parts.push(value);
        } else if parts.is_empty() {
            main.push(value);
        }
    }
    if main.is_empty() && parts.is_empty() {
        return;
    }
    let mut heading = main.join(" ");
    for part in parts {
        if !heading.is_empty() {
            heading.push('-');
        }
        heading.push_str(&part);
    }
    d.subjects.push(heading);
}

/// Adds holdings, merging copies at the same branch under the same call number.
fn add_holding(
    holdings: &mut Vec<Holding>,
    branch: Option<String>,
    call_number: Option<String>,
    barcodes: u32,
    status: Option<String>,
    institution: &str,
) {
    if let Some(existing) = holdings
        .iter_mut()
        .find(|h| h.branch == branch && h.call_number == call_number)
    {
        if barcodes > 0 {
            existing.items = Some(existing.items.unwrap_or(0) + barcodes);
        }
        if let Some(status) = status {
            match &mut existing.status {
                Some(known) if !known.split("; ").any(|s| s == status) => {
                    known.push_str("; ");
                    known.push_str(&status);
                }
                Some(_) => {}
                None => existing.status = Some(status),
            }
        }
        return;
    }
    holdings.push(Holding {
        institution: institution.to_owned(),
        branch,
        call_number,
        items: (barcodes > 0).then_some(barcodes),
        status,
    });
}

/// A call number from a class part and an item part: 中图法 call numbers are written
/// `class/item` (`K876.3/12`), others with a space.
fn call_number(class: Option<String>, item: Option<String>) -> Option<String> {
    match (class, item) {
        (Some(class), Some(item)) => {
            let separator = if is_clc_class(&class) { "/" } else { " " };
            Some(format!("{class}{separator}{item}"))
        }
        (class, item) => class.or(item),
    }
}

// ---------------------------------------------------------------------------------------
// MARC21

/// Replaces each field that has a linked 880 by the 880's content (under the field's own
/// tag) and returns the romanised originals separately; unlinked 880s (`$6 TAG-00`) become
/// fields of their tag.
fn resolve_880(mut record: MarcRecord) -> (MarcRecord, Vec<Field>) {
    if record.field(b"880").is_none() {
        return (record, Vec::new());
    }
    let (vernacular, others): (Vec<Field>, Vec<Field>) = std::mem::take(&mut record.fields)
        .into_iter()
        .partition(|f| &f.tag == b"880");
    // Each 880: (linked tag, occurrence, field).
    let mut linked: Vec<(Option<[u8; 3]>, String, Option<Field>)> = vernacular
        .into_iter()
        .map(|field| {
            let link = field.first('6').unwrap_or_default().to_owned();
            let (tag, occurrence) = parse_linkage(&link);
            (tag, occurrence, Some(field))
        })
        .collect();
    let mut romanised = Vec::new();
    let mut fields = Vec::with_capacity(others.len() + linked.len());
    for field in others {
        let link = field.first('6').map(parse_linkage);
        let partner = link.as_ref().and_then(|(tag, occurrence)| {
            (tag == &Some(*b"880") && occurrence != "00")
                .then(|| {
                    linked
                        .iter_mut()
                        .find(|(t, o, f)| t == &Some(field.tag) && o == occurrence && f.is_some())
                        .and_then(|(_, _, f)| f.take())
                })
                .flatten()
        });
        match partner {
            Some(mut vernacular) => {
                vernacular.tag = field.tag;
                strip_linkage(&mut vernacular);
                romanised.push(field);
                fields.push(vernacular);
            }
            None => fields.push(field),
        }
    }
    // Vernacular fields without a romanised partner stand on their own.
    for (tag, _, field) in linked {
        if let (Some(tag), Some(mut field)) = (tag, field) {
            field.tag = tag;
            strip_linkage(&mut field);
            fields.push(field);
        }
    }
    record.fields = fields;
    (record, romanised)
}

/// `$6` = `TAG-NN[/script][/r]` → (tag, occurrence).
fn parse_linkage(link: &str) -> (Option<[u8; 3]>, String) {
    let mut parts = link.trim().splitn(2, '-');
    let tag = parts.next().and_then(crate::marc::record::parse_tag);
    let occurrence = parts
        .next()
        .unwrap_or_default()
        .split('/')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    (tag, occurrence)
}

fn strip_linkage(field: &mut Field) {
    if let FieldContent::Data { subfields, .. } = &mut field.content {
        subfields.retain(|s| s.code != '6');
    }
}

fn marc21_title(field: &Field) -> Option<String> {
    let main = joined_clean(field, &['a', 'n', 'p'], " ")?;
    Some(join_title(main, first_clean(field, 'b')))
}

fn marc21_name(field: &Field) -> Option<String> {
    match &field.tag {
        b"110" | b"710" | b"610" => joined_clean(field, &['a', 'b'], ". "),
        b"111" | b"711" | b"611" => joined_clean(field, &['a', 'n', 'd', 'c'], " "),
        _ => {
            let mut name = first_clean(field, 'a')?;
            for code in ['b', 'c', 'd'] {
                if let Some(part) = first_clean(field, code) {
                    name.push_str(if code == 'b' { " " } else { ", " });
                    name.push_str(&part);
                }
            }
            Some(name)
        }
    }
}

fn describe_marc21(record: &MarcRecord, romanised: &[Field], institution: &str) -> Description {
    let mut d = Description::default();
    for field in &record.fields {
        match &field.tag {
            b"020" => {
                for value in field.values('a') {
                    push_isbn(&mut d, value);
                }
                d.identifiers.extend(
                    field
                        .values('z')
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(str::to_owned),
                );
            }
            b"041" if d.language.is_none() => {
                // Old records run several codes together (`chieng`): the first is the
                // language of the text.
                d.language = field
                    .first('a')
                    .map(|l| l.trim().chars().take(3).collect::<String>())
                    .filter(|l| !l.is_empty());
            }
            b"084" => {
                let clc = field
                    .first('2')
                    .is_some_and(|s| s.trim().to_ascii_lowercase().starts_with("clc"));
                for value in field.values('a').map(str::trim) {
                    if clc || (field.first('2').is_none() && is_clc_class(value)) {
                        d.classifications.push(value.to_owned());
                    }
                }
            }
            b"100" | b"110" | b"111" => d.creators.extend(marc21_name(field)),
            b"700" | b"710" | b"711" => d.contributors.extend(marc21_name(field)),
            b"130" | b"240" | b"246" | b"740" => d.alternative_titles.extend(marc21_title(field)),
            b"245" => match d.title {
                None => {
                    d.title = marc21_title(field);
                    d.responsibility = first_clean(field, 'c');
                }
                Some(_) => d.alternative_titles.extend(marc21_title(field)),
            },
            b"250" if d.edition.is_none() => d.edition = joined_clean(field, &['a', 'b'], " "),
            b"260" | b"264" => {
                // 264 ind2: 0 production, 1 publication, 2 distribution, 3 manufacture,
                // 4 copyright. Publication wins; otherwise the first statement is used.
                let publication = field.tag == *b"260" || field.indicator(1) == '1';
                let nothing_yet = d.publisher_name.is_none() && d.place.is_none();
                if nothing_yet || publication && !d.from_publication_statement {
                    d.place = first_clean(field, 'a');
                    d.publisher_name = joined_clean(field, &['b'], "；");
                    d.date = first_clean(field, 'c').map(|c| strip_brackets(&c));
                    d.from_publication_statement = publication;
                }
            }
            b"300" if d.extent.is_none() => d.extent = joined_clean_keep_inner(field, &['a', 'b', 'c', 'e']),
            b"520" => d.summaries.extend(joined_clean_keep_inner(field, &['a', 'b'])),
            b"600" | b"610" | b"611" | b"630" | b"650" | b"651" | b"655" => {
                if &field.tag == b"651"
                    && let Some(place) = first_clean(field, 'a')
                {
                    d.coverage.push(place);
                }
                // MARC21: $y chronological, $z geographic, $x general, $v form.
                push_subject(&mut d, field, 'z', 'y', &['v', 'x', 'y', 'z']);
            }
            b"852" => {
                let class = first_clean(field, 'h');
                let item = joined_clean(field, &['i'], " ");
                let barcodes = u32::try_from(field.values('p').count()).unwrap_or(u32::MAX);
                add_holding(
                    &mut d.holdings,
                    first_clean(field, 'b'),
                    call_number(class, item),
                    barcodes,
                    first_clean(field, 'z'),
                    institution,
                );
            }
            b"856" => {
                for url in field.values('u').map(str::trim).filter(|u| !u.is_empty()) {
                    if d.source_url.is_none() {
                        d.source_url = Some(url.to_owned());
                    }
                    d.identifiers.push(url.to_owned());
                }
            }
            _ => {}
        }
    }
    for field in romanised {
        match &field.tag {
            b"245" | b"130" | b"240" | b"246" | b"740" => d.alternative_titles.extend(marc21_title(field)),
            b"100" | b"110" | b"111" | b"700" | b"710" | b"711" => d.contributors.extend(marc21_name(field)),
            b"260" | b"264" if d.romanised_publisher.is_none() => {
                d.romanised_publisher = match (first_clean(field, 'a'), joined_clean(field, &['b'], "; ")) {
                    (Some(place), Some(name)) => Some(format!("{place} : {name}")),
                    (place, name) => name.or(place),
                };
            }
            b"600" | b"610" | b"611" | b"630" | b"650" | b"651" => {
                let mut subjects = Description::default();
                push_subject(&mut subjects, field, 'z', 'y', &['v', 'x', 'y', 'z']);
                d.subjects.extend(subjects.subjects);
            }
            _ => {}
        }
    }
    d
}

/// Joins subfields with spaces, keeping their inner ISBD punctuation (`430页 : 图 ; 29cm`)
/// and trimming only the end.
fn joined_clean_keep_inner(field: &Field, codes: &[char]) -> Option<String> {
    let parts: Vec<&str> = field
        .subfields()
        .iter()
        .filter(|s| codes.contains(&s.code))
        .map(|s| s.value.trim())
        .filter(|v| !v.is_empty())
        .collect();
    non_empty(clean(&parts.join(" ")))
}

/// `[2001]`, `c2001`, `©2001` → `2001`; other dates as given.
fn strip_brackets(date: &str) -> String {
    let trimmed = date
        .trim()
        .trim_start_matches(['[', '©', '℗'])
        .trim_end_matches([']', '?']);
    let trimmed = match trimmed.strip_prefix(['c', 'p']) {
        Some(rest) if rest.bytes().next().is_some_and(|b| b.is_ascii_digit()) => rest,
        _ => trimmed,
    };
    trimmed.trim().to_owned()
}

/// 008/07-10 (date 1) when it is a year.
fn marc21_008_year(record: &MarcRecord) -> Option<&str> {
    record
        .control(b"008")
        .and_then(|f| f.get(7..11))
        .filter(|y| y.bytes().all(|b| b.is_ascii_digit()))
}

// ---------------------------------------------------------------------------------------
// CNMARC / UNIMARC

/// A UNIMARC 7XX name: `$a` entry element, `$b` rest of the name, `$c` additions (a
/// dynasty written `(唐)` comes first, as Chinese catalogues display it), `$f` dates.
fn unimarc_name(field: &Field) -> Option<String> {
    let mut name = first_clean(field, 'a')?;
    if let Some(rest) = first_clean(field, 'b') {
        let separator = if has_cjk(&name) { "" } else { ", " };
        name = format!("{name}{separator}{rest}");
    }
    for addition in field.values('c').map(clean).filter(|c| !c.is_empty()) {
        if addition.starts_with(['(', '（', '[', '〔']) {
            name = format!("{addition}{name}");
        } else {
            name = format!("{name} {addition}");
        }
    }
    if let Some(dates) = first_clean(field, 'f') {
        name = format!("{name}, {dates}");
    }
    Some(name)
}

fn describe_unimarc(record: &MarcRecord, institution: &str) -> Description {
    let mut d = Description::default();
    for field in &record.fields {
        match &field.tag {
            b"010" => {
                for value in field.values('a') {
                    push_isbn(&mut d, value);
                }
                d.identifiers.extend(
                    field
                        .values('z')
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(str::to_owned),
                );
            }
            b"101" if d.language.is_none() => d.language = first_clean(field, 'a'),
            b"200" => {
                let mut titles = field.values('a').map(clean).filter(|t| !t.is_empty());
                let main = titles.next();
                let title = main.map(|main| {
                    let mut main = main;
                    for part in field
                        .values('h')
                        .chain(field.values('i'))
                        .map(clean)
                        .filter(|p| !p.is_empty())
                    {
                        main = format!("{main} {part}");
                    }
                    join_title(main, first_clean(field, 'e'))
                });
                if d.title.is_none() {
                    d.title = title;
                    d.responsibility = joined_clean(field, &['f', 'g'], "；");
                } else {
                    d.alternative_titles.extend(title);
                }
                // Further titles by the same author, and parallel titles.
                d.alternative_titles.extend(titles);
                d.alternative_titles
                    .extend(field.values('d').map(clean).filter(|t| !t.is_empty()));
            }
            b"205" if d.edition.is_none() => d.edition = joined_clean(field, &['a', 'b'], " "),
            b"210" | b"214" if d.place.is_none() && d.publisher_name.is_none() => {
                d.place = first_clean(field, 'a');
                d.publisher_name = joined_clean(field, &['c'], "；");
                d.date = first_clean(field, 'd').map(|c| strip_brackets(&c));
            }
            b"215" if d.extent.is_none() => {
                // UNIMARC has no punctuation in the subfields: ISBD supplies it.
                let mut extent = first_clean(field, 'a').unwrap_or_default();
                for (code, separator) in [('c', " : "), ('d', " ; "), ('e', " + ")] {
                    if let Some(part) = first_clean(field, code) {
                        if !extent.is_empty() {
                            extent.push_str(separator);
                        }
                        extent.push_str(&part);
                    }
                }
                d.extent = non_empty(extent);
            }
            b"330" => d.summaries.extend(first_clean(field, 'a')),
            b"510" | b"512" | b"517" | b"540" | b"541" => {
                d.alternative_titles.extend(first_clean(field, 'a'))
            }
            b"600" | b"601" | b"602" | b"604" | b"605" | b"606" | b"607" | b"608" => {
                if &field.tag == b"607"
                    && let Some(place) = first_clean(field, 'a')
                {
                    d.coverage.push(place);
                }
                // UNIMARC: $y geographic, $z chronological (MARC21's reverse), $x topical,
                // $j form.
                push_subject(&mut d, field, 'y', 'z', &['j', 'x', 'y', 'z']);
            }
            b"690" => d.classifications.extend(first_clean(field, 'a')),
            b"686"
                if field
                    .first('2')
                    .is_some_and(|s| s.trim().to_ascii_lowercase().starts_with("clc")) =>
            {
                d.classifications.extend(first_clean(field, 'a'));
            }
            b"700" | b"701" | b"710" | b"711" => d.creators.extend(unimarc_name(field)),
            b"702" | b"712" => d.contributors.extend(unimarc_name(field)),
            b"856" => {
                for url in field.values('u').map(str::trim).filter(|u| !u.is_empty()) {
                    if d.source_url.is_none() {
                        d.source_url = Some(url.to_owned());
                    }
                    d.identifiers.push(url.to_owned());
                }
            }
            b"905" => {
                // Local holdings as Chinese ILSs write them: $a branch (library code), $b
                // barcode, $d class number, $e book number, $f copy number.
                let barcodes = u32::try_from(field.values('b').count()).unwrap_or(u32::MAX);
                add_holding(
                    &mut d.holdings,
                    first_clean(field, 'a'),
                    call_number(first_clean(field, 'd'), first_clean(field, 'e')),
                    barcodes,
                    None,
                    institution,
                );
            }
            _ => {}
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(tag: &[u8; 3], subfields: &[(char, &str)]) -> Field {
        Field {
            tag: *tag,
            content: FieldContent::Data {
                indicators: [' ', ' '],
                subfields: subfields
                    .iter()
                    .map(|(code, value)| Subfield {
                        code: *code,
                        value: (*value).to_owned(),
                    })
                    .collect(),
            },
        }
    }

    fn control(tag: &[u8; 3], value: &str) -> Field {
        Field {
            tag: *tag,
            content: FieldContent::Control(value.to_owned()),
        }
    }

    const CONTEXT: MappingContext<'static> = MappingContext {
        source_id: "src",
        institution: "lzlib",
        local_id: None,
    };

    fn mapped(record: MarcRecord, format: MarcFormat) -> Record {
        match map_record(record, format, CONTEXT).1 {
            ItemOutcome::Record(record) => *record,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn isbd_punctuation_is_trimmed() {
        assert_eq!(clean("西藏秦汉戏曲论集 :"), "西藏秦汉戏曲论集");
        assert_eq!(clean("兼论相关问题 /"), "兼论相关问题");
        assert_eq!(clean("上海古籍出版社,"), "上海古籍出版社");
        assert_eq!(clean("Poems."), "Poems");
        assert_eq!(clean("Washington, D.C."), "Washington, D.C.");
        assert_eq!(clean("Wait..."), "Wait...");
        assert_eq!(strip_brackets("[2001]"), "2001");
        assert_eq!(strip_brackets("c1998"), "1998");
    }

    #[test]
    fn subject_subdivisions_swap_between_formats() {
        let marc21 = MarcRecord {
            leader: "00000nam a2200000 i 4500".into(),
            fields: vec![
                control(b"001", "1"),
                data(b"245", &[('a', "瓷器研究")]),
                data(
                    b"650",
                    &[
                        ('a', "瓷器"),
                        ('x', "研究"),
                        ('z', "中国"),
                        ('y', "宋代"),
                        ('2', "cct"),
                    ],
                ),
            ],
        };
        let record = mapped(marc21, MarcFormat::Marc21);
        assert_eq!(record.subjects, ["瓷器-研究-中国-宋代"]);
        assert_eq!(record.coverage, ["中国", "宋代"]);

        let unimarc = MarcRecord {
            leader: "00000nam0 2200000   450 ".into(),
            fields: vec![
                control(b"001", "1"),
                data(b"200", &[('a', "瓷器研究")]),
                data(
                    b"606",
                    &[('a', "瓷器"), ('x', "研究"), ('y', "中国"), ('z', "宋代")],
                ),
            ],
        };
        let record = mapped(unimarc, MarcFormat::Cnmarc);
        assert_eq!(record.subjects, ["瓷器-研究-中国-宋代"]);
        assert_eq!(record.coverage, ["中国", "宋代"]);
    }

    #[test]
    fn vernacular_880_fields_are_displayed_and_romanised_ones_kept() {
        let record = MarcRecord {
            leader: "00000nam a2200000 i 4500".into(),
            fields: vec![
                control(b"001", "880test"),
                data(b"100", &[('6', "880-01"), ('a', "Li, Bai,"), ('d', "701-762.")]),
                data(
                    b"245",
                    &[('6', "880-02"), ('a', "Jing ye si /"), ('c', "Li Bai zhu.")],
                ),
                data(
                    b"260",
                    &[
                        ('6', "880-03"),
                        ('a', "Beijing :"),
                        ('b', "Zhonghua shu ju,"),
                        ('c', "2001."),
                    ],
                ),
                data(b"880", &[('6', "100-01/$1"), ('a', "李白,"), ('d', "701-762.")]),
                data(b"880", &[('6', "245-02/$1"), ('a', "静夜思 /"), ('c', "李白著.")]),
                data(
                    b"880",
                    &[
                        ('6', "260-03/$1"),
                        ('a', "北京 :"),
                        ('b', "中华书局,"),
                        ('c', "2001."),
                    ],
                ),
                data(b"880", &[('6', "500-00/$1"), ('a', "无连接字段")]),
            ],
        };
        let record = mapped(record, MarcFormat::Marc21);
        assert_eq!(record.title, "静夜思");
        assert_eq!(record.alternative_titles, ["Jing ye si"]);
        assert_eq!(record.creators, ["李白, 701-762"]);
        assert_eq!(record.contributors, ["Li, Bai, 701-762"]);
        assert_eq!(
            record.publisher.as_deref(),
            Some("北京：中华书局 = Beijing : Zhonghua shu ju")
        );
        assert_eq!(record.year(), Some(2001));
    }

    #[test]
    fn holdings_are_grouped_per_branch() {
        let record = MarcRecord {
            leader: "00000nam a2200000 i 4500".into(),
            fields: vec![
                control(b"001", "h"),
                data(b"245", &[('a', "书")]),
                data(
                    b"852",
                    &[
                        ('b', "七里河分馆"),
                        ('h', "K876.3"),
                        ('i', "12"),
                        ('p', "B1"),
                        ('z', "在架"),
                    ],
                ),
                data(
                    b"852",
                    &[
                        ('b', "七里河分馆"),
                        ('h', "K876.3"),
                        ('i', "12"),
                        ('p', "B2"),
                        ('z', "借出"),
                    ],
                ),
                data(b"852", &[('b', "总馆"), ('h', "PL2658"), ('i', ".E5")]),
            ],
        };
        let record = mapped(record, MarcFormat::Marc21);
        assert_eq!(record.holdings.len(), 2);
        assert_eq!(record.holdings[0].call_number.as_deref(), Some("K876.3/12"));
        assert_eq!(record.holdings[0].items, Some(2));
        assert_eq!(record.holdings[0].status.as_deref(), Some("在架; 借出"));
        assert_eq!(record.holdings[1].call_number.as_deref(), Some("PL2658 .E5"));
        assert_eq!(record.holdings[1].items, None);
    }

    #[test]
    fn records_without_id_or_title_are_quarantined_and_deletions_reported() {
        let no_id = MarcRecord {
            leader: "00000nam a2200000 i 4500".into(),
            fields: vec![data(b"245", &[('a', "书")])],
        };
        assert!(matches!(
            map_record(no_id, MarcFormat::Marc21, CONTEXT).1,
            ItemOutcome::Quarantined { .. }
        ));
        let isbn_only = MarcRecord {
            leader: "00000nam a2200000 i 4500".into(),
            fields: vec![
                data(b"020", &[('a', "7-101-00001-0 (pbk.)")]),
                data(b"020", &[('a', "12345")]),
            ],
        };
        let (id, outcome) = map_record(isbn_only, MarcFormat::Marc21, CONTEXT);
        assert_eq!(id, "9787101000016");
        match outcome {
            ItemOutcome::Quarantined { reason } => assert!(reason.contains("no title (245$a)"), "{reason}"),
            other => panic!("{other:?}"),
        }
        let deleted = MarcRecord {
            leader: "00000dam a2200000 i 4500".into(),
            fields: vec![control(b"001", "gone")],
        };
        assert_eq!(
            map_record(deleted, MarcFormat::Marc21, CONTEXT),
            ("gone".into(), ItemOutcome::Deleted)
        );
    }
}
