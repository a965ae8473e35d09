//! [`RecordWriter`]: the index's single writer.

use std::collections::HashMap;

use schemas::{Branch, District, Institution, InstitutionType, Record};
use tantivy::directory::error::LockError;
use tantivy::indexer::{LogMergePolicy, MergeCandidate, MergePolicy};
use tantivy::{IndexWriter, TantivyDocument, TantivyError, Term};

use crate::error::{Error, Result};
use crate::index::Index;
use crate::keys;
use crate::normalize::normalize_keyword;

/// Memory budget of the tantivy writer, shared by its threads: past it, a segment is
/// written before the commit. 128 MiB holds a 20,000-record batch of the follower's; 256
/// MiB made a bulk load's peak RSS a third higher for no speed (`jincheng bench dump`).
const WRITER_MEMORY_BYTES: usize = 128 * 1024 * 1024;
/// Indexing threads; the machine the app targets has two cores.
const WRITER_THREADS: usize = 2;
/// Threads merging segments in the background (tantivy's default is 4). On two cores more
/// than one only runs merges side by side, each holding its own buffers: with four, a bulk
/// load's heap peaked between 267 and 374 MiB from one run to the next (`jincheng bench
/// dump`, 250,000 records).
const MERGE_THREADS: usize = 1;
/// Segments of about the same size merged together (tantivy's default is 8). Every term of a
/// search is looked up, and every union of a query is set up, once per segment: a
/// 345,000-poem rebuild left 8 segments, and searching them cost a third more CPU than 3.
/// Merging sooner costs some background indexing work, which a catalogue (searched far
/// more often than written) can afford.
const MERGE_AT_SEGMENTS: usize = 3;

/// The one writer of an [`Index`]. Changes become durable and visible together at
/// [`RecordWriter::commit`], which also stores the caller's watermark (e.g. the store's
/// change sequence number) in the same atomic commit.
///
/// Dropping the writer without committing discards the uncommitted changes.
pub struct RecordWriter {
    index: Index,
    /// `None` only after a failure that the writer could not be recreated from.
    writer: Option<IndexWriter<TantivyDocument>>,
    /// Districts of branches, by (institution id, folded branch name); see
    /// [`RecordWriter::set_branches`].
    branch_districts: HashMap<(String, String), District>,
}

impl std::fmt::Debug for RecordWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordWriter").finish_non_exhaustive()
    }
}

/// The writer of `index`, with Jincheng's merge policy.
fn open_tantivy_writer(index: &Index) -> Result<IndexWriter<TantivyDocument>> {
    let options = tantivy::indexer::IndexWriterOptions::builder()
        .num_worker_threads(WRITER_THREADS)
        .memory_budget_per_thread(WRITER_MEMORY_BYTES / WRITER_THREADS)
        .num_merge_threads(MERGE_THREADS)
        .build();
    match index.inner.index.writer_with_options(options) {
        Ok(mut writer) => {
            let mut policy = LogMergePolicy::default();
            policy.set_min_num_segments(MERGE_AT_SEGMENTS);
            // tantivy asks the policy after each commit; an index left with more segments
            // (by an older version, or a crash) is merged now, in the background.
            let candidates = policy.compute_merge_candidates(&index.inner.index.searchable_segment_metas()?);
            writer.set_merge_policy(Box::new(policy));
            for MergeCandidate(segments) in candidates {
                drop(writer.merge(&segments));
            }
            Ok(writer)
        }
        Err(TantivyError::LockFailure(LockError::LockBusy, _)) => Err(Error::WriterInUse),
        Err(e) => Err(e.into()),
    }
}

impl RecordWriter {
    pub(crate) fn new(index: Index) -> Result<RecordWriter> {
        let writer = open_tantivy_writer(&index)?;
        Ok(RecordWriter {
            index,
            writer: Some(writer),
            branch_districts: HashMap::new(),
        })
    }

    /// Tells the writer where institutions' branches are. A holding at a known branch puts
    /// its record under the branch's district in the `region` filter and facet; holdings at
    /// other branches (and records without holdings) are under the institution's district.
    /// Branch names are compared folded (width, case, traditional characters, spaces and
    /// punctuation ignored). Replaces what an earlier call said, and applies to the records
    /// written from now on: after a change, rebuild the index for older records to follow.
    pub fn set_branches(&mut self, branches: &[Branch]) {
        self.branch_districts = branches
            .iter()
            .map(|b| ((b.institution.clone(), keys::text_key(&b.name)), b.district))
            .collect();
    }

    /// Adds `record` (held by `institution`), replacing any document with the same id: writing
    /// a record twice leaves one document.
    ///
    /// A record that fails validation is rejected with [`Error::InvalidRecord`] before it
    /// touches the tantivy writer, so one bad record never takes the writer down.
    pub fn upsert(&mut self, record: &Record, institution: &Institution) -> Result<()> {
        #[cfg(feature = "failpoints")]
        {
            if record.title.starts_with(crate::FAILPOINT_PANIC) {
                panic!("failpoint: a panic while indexing {}", record.id);
            }
            if record.title.starts_with(crate::FAILPOINT_KILL) {
                let cause = tantivy::TantivyError::SystemError("failpoint: the writer was killed".into());
                return Err(self.restart(cause));
            }
        }
        check(record, institution)?;
        let document = self.document(record, institution);
        let id = Term::from_field_text(self.index.inner.fields.id, &record.id);
        let writer = self.tantivy_writer()?;
        writer.delete_term(id);
        if let Err(e) = writer.add_document(document) {
            return Err(self.restart(e));
        }
        Ok(())
    }

    /// Deletes the record with this id (nothing happens if there is none).
    pub fn delete(&mut self, id: &str) -> Result<()> {
        let id = Term::from_field_text(self.index.inner.fields.id, id);
        self.tantivy_writer()?.delete_term(id);
        Ok(())
    }

    /// Deletes every document (at the next commit); used before a full rebuild.
    pub fn delete_all(&mut self) -> Result<()> {
        if let Err(e) = self.tantivy_writer()?.delete_all_documents() {
            return Err(self.restart(e));
        }
        Ok(())
    }

    /// Makes the changes so far durable and visible, storing `watermark` as the commit
    /// payload (read back with [`Index::watermark`]). When it returns, searches see them.
    pub fn commit(&mut self, watermark: u64) -> Result<()> {
        let result = self.tantivy_writer()?.prepare_commit().and_then(|mut prepared| {
            prepared.set_payload(&watermark.to_string());
            // Tests only: the commit fails as a full disk (`return(full)`) or an I/O error
            // would, after its segments are prepared and before `meta.json` is replaced.
            #[cfg(feature = "failpoints")]
            fail::fail_point!("index::commit", |arg| Err(crate::injected_io_error(arg).into()));
            prepared.commit()
        });
        if let Err(e) = result {
            return Err(self.restart(e));
        }
        self.index.inner.reader.reload()?;
        self.index.warm_suggestions();
        Ok(())
    }

    /// Stops background merges, so that a test can keep documents in separate segments.
    #[cfg(test)]
    pub(crate) fn never_merge(&mut self) -> Result<()> {
        let writer = self.tantivy_writer()?;
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        Ok(())
    }

    /// The tantivy writer, recreated if an earlier failure left none.
    fn tantivy_writer(&mut self) -> Result<&mut IndexWriter<TantivyDocument>> {
        if self.writer.is_none() {
            self.writer = Some(open_tantivy_writer(&self.index)?);
        }
        self.writer.as_mut().ok_or(Error::WriterInUse)
    }

    /// Replaces a failed tantivy writer with a fresh one, so the next batch can proceed from
    /// the last committed watermark. Returns the error to report.
    fn restart(&mut self, cause: TantivyError) -> Error {
        tracing::error!(error = %cause, "index writer failed; recreating it");
        if let Some(mut failed) = self.writer.take() {
            let _ = failed.rollback();
            // Dropping it releases the lock the new writer needs.
            drop(failed);
        }
        match open_tantivy_writer(&self.index) {
            Ok(writer) => {
                self.writer = Some(writer);
                Error::WriterRestarted(cause.to_string())
            }
            Err(e) => {
                // The next call tries again.
                tracing::error!(error = %e, "could not recreate the index writer");
                Error::Tantivy(cause)
            }
        }
    }

    fn document(&self, record: &Record, institution: &Institution) -> TantivyDocument {
        let f = &self.index.inner.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &record.id);
        doc.add_text(f.title, &record.title);
        let multi = [
            (f.alternative_titles, &record.alternative_titles),
            (f.creators, &record.creators),
            (f.contributors, &record.contributors),
            (f.subjects, &record.subjects),
            (f.classifications, &record.classifications),
            (f.coverage, &record.coverage),
        ];
        for (field, values) in multi {
            for value in values.iter().filter(|v| !v.trim().is_empty()) {
                doc.add_text(field, value);
            }
        }
        for (field, value) in [
            (f.description, &record.description),
            (f.publisher, &record.publisher),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) {
                doc.add_text(field, value);
            }
        }
        for isbn in &record.isbns {
            if let Some(isbn) = keys::isbn13(isbn) {
                doc.add_text(f.isbns, isbn);
            }
        }
        let titles = std::iter::once(&record.title).chain(&record.alternative_titles);
        for title in titles.filter(|t| !t.trim().is_empty()) {
            doc.add_text(f.title_pinyin, title);
            doc.add_text(f.title_initials, title);
            let key = keys::text_key(title);
            if !key.is_empty() {
                doc.add_text(f.title_exact, key);
            }
        }
        for creator in record.creators.iter().filter(|c| !c.trim().is_empty()) {
            doc.add_text(f.creators_pinyin, creator);
            doc.add_text(f.creators_initials, creator);
            let key = keys::text_key(creator);
            if !key.is_empty() {
                doc.add_text(f.creator_exact, key);
            }
        }
        // Codes come in the classification field, in subjects (oai_dc has no other place for
        // them) and as call numbers of the holdings.
        let subject_codes = record
            .subjects
            .iter()
            .filter(|s| keys::looks_like_code(&normalize_keyword(s)));
        let call_numbers = record.holdings.iter().filter_map(|h| h.call_number.as_ref());
        let mut codes: Vec<String> = record
            .classifications
            .iter()
            .chain(subject_codes)
            .chain(call_numbers)
            .flat_map(|c| keys::code_terms(c))
            .collect();
        codes.sort_unstable();
        codes.dedup();
        for code in codes {
            doc.add_text(f.class_codes, code);
        }
        if let Some(work) = keys::work_key(record) {
            doc.add_text(f.work_key, work);
        }
        doc.add_text(f.source, keys::source_of(&record.id));
        let copies: u64 = record
            .holdings
            .iter()
            .map(|h| u64::from(h.items.unwrap_or(1)))
            .sum();
        doc.add_u64(f.copies, copies.max(1));
        if !record.holdings.is_empty() {
            let holdings: Vec<serde_json::Value> = record
                .holdings
                .iter()
                .map(|h| {
                    serde_json::json!({
                        "institution": h.institution,
                        "branch": h.branch,
                        "call_number": h.call_number,
                    })
                })
                .collect();
            doc.add_text(f.holdings, serde_json::Value::Array(holdings).to_string());
        }
        doc.add_text(f.institution, &institution.id);
        doc.add_text(f.institution_name, &institution.name);
        doc.add_text(f.institution_type, institution.institution_type.as_str());
        doc.add_text(f.resource_type, record.resource_type.as_str());
        for district in self.regions(record, institution) {
            doc.add_text(f.region, district.as_str());
        }
        doc.add_text(f.level, institution.level.as_str());
        let mut branches: Vec<&str> = record
            .holdings
            .iter()
            .filter_map(|h| h.branch.as_deref().map(str::trim))
            .filter(|b| !b.is_empty())
            .collect();
        branches.sort_unstable();
        branches.dedup();
        for branch in branches {
            doc.add_text(f.branch, branch);
        }
        self.add_curation(&mut doc, record, institution);
        if let Some(language) = record.language.as_deref().map(normalize_keyword)
            && !language.is_empty()
        {
            doc.add_text(f.language, language);
        }
        let (start, end) = year_span(record);
        if let (Some(start), Some(end)) = (start, end) {
            doc.add_i64(f.year_start, start);
            doc.add_i64(f.year_end, end);
        }
        for period in periods(record) {
            doc.add_text(f.period, period);
        }
        doc
    }

    /// The districts a record is found under: each holding's branch district where the
    /// branch is known ([`RecordWriter::set_branches`]), else the institution's district.
    fn regions(&self, record: &Record, institution: &Institution) -> Vec<District> {
        let mut regions: Vec<District> = Vec::new();
        let mut unplaced = record.holdings.is_empty();
        for holding in &record.holdings {
            let holder = if holding.institution.trim().is_empty() {
                institution.id.as_str()
            } else {
                holding.institution.trim()
            };
            let known = holding.branch.as_deref().and_then(|branch| {
                self.branch_districts
                    .get(&(holder.to_string(), keys::text_key(branch)))
            });
            match known {
                Some(district) => regions.push(*district),
                None => unplaced = true,
            }
        }
        if unplaced && let Some(district) = institution.district {
            regions.push(district);
        }
        regions.sort_unstable();
        regions.dedup();
        regions
    }

    /// The curators' flags: accessible formats, audiences, brand and special holding as
    /// filter values, and the brand and the special holding's names as searchable text.
    fn add_curation(&self, doc: &mut TantivyDocument, record: &Record, institution: &Institution) {
        let f = &self.index.inner.fields;
        let Some(curation) = &record.curation else {
            return;
        };
        let mut formats: Vec<&str> = curation
            .accessible_formats
            .iter()
            .map(|format| format.as_str())
            .collect();
        formats.sort_unstable();
        formats.dedup();
        for format in formats {
            doc.add_text(f.accessible_format, format);
        }
        let mut audiences: Vec<&str> = curation.audiences.iter().map(|a| a.as_str()).collect();
        audiences.sort_unstable();
        audiences.dedup();
        for audience in audiences {
            doc.add_text(f.audience, audience);
        }
        if let Some(brand) = curation.brand.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
            doc.add_text(f.brand, brand);
            doc.add_text(f.curation_text, brand);
        }
        if curation.special_collection {
            doc.add_text(f.special_collection, "true");
            for name in special_collection_names(institution.institution_type) {
                doc.add_text(f.curation_text, name);
            }
        }
    }
}

/// What citizens call a special holding of this kind of institution: 特色馆藏 always, and
/// the name the kind of institution uses (a museum's 特质展品, a cultural centre's 特有品牌).
fn special_collection_names(kind: InstitutionType) -> &'static [&'static str] {
    match kind {
        InstitutionType::Library => &["特色馆藏"],
        InstitutionType::Museum | InstitutionType::ArtGallery => &["特色馆藏", "特质展品"],
        InstitutionType::CulturalCentre => &["特色馆藏", "特有品牌"],
    }
}

/// The record's years as indexed: a date with only one bound covers that single year.
fn year_span(record: &Record) -> (Option<i64>, Option<i64>) {
    let Some(date) = &record.date else {
        return (None, None);
    };
    let start = date.year_start.or(date.year_end).map(i64::from);
    let end = date.year_end.or(date.year_start).map(i64::from);
    (start, end)
}

/// The broad periods of the record: from its years, or, when it has none, from its period
/// text (`东汉`) read as a date.
fn periods(record: &Record) -> Vec<&'static str> {
    let years = match year_span(record) {
        (Some(start), Some(end)) => Some((start, end)),
        _ => record
            .period
            .as_deref()
            .map(schemas::normalize_date)
            .and_then(|date| Some((i64::from(date.year_start?), i64::from(date.year_end?)))),
    };
    match years.and_then(|(s, e)| Some((i32::try_from(s).ok()?, i32::try_from(e).ok()?))) {
        Some((start, end)) => schemas::periods_of_years(start, end),
        None => Vec::new(),
    }
}

/// Checks what the index relies on before a record reaches the writer.
fn check(record: &Record, institution: &Institution) -> Result<()> {
    let invalid = |reason: String| Error::InvalidRecord {
        id: record.id.clone(),
        reason,
    };
    record.validate().map_err(|e| invalid(e.to_string()))?;
    institution
        .validate()
        .map_err(|e| invalid(format!("institution: {e}")))?;
    if record.institution != institution.id {
        return Err(invalid(format!(
            "record belongs to {:?} but was given institution {:?}",
            record.institution, institution.id
        )));
    }
    Ok(())
}
