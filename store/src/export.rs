//! Reading the store in change order, for bulk export.

use super::{Result, Store};
use crate::db::args;

/// One exported row: a live record's stored JSON, or a deletion.
#[derive(Debug, Clone)]
pub struct ExportRow {
    /// Change sequence number (the export's cursor).
    pub seq: u64,
    /// Record id.
    pub id: String,
    /// Holding institution.
    pub institution: String,
    /// UTC time of the last change.
    pub updated_at: String,
    /// The record as stored (JSON text), `None` for a deletion.
    pub record_json: Option<String>,
}

impl Store {
    /// Up to `limit` rows after change `after`, in change order, of the given institutions
    /// (all when empty), changed at or after `since` (UTC `YYYY-MM-DDThh:mm:ssZ`). Deletions
    /// are included only with `since`: a full export lists what exists.
    pub fn export_batch(
        &self,
        after: u64,
        institutions: &[String],
        since: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ExportRow>> {
        // None: every institution.
        let wanted = (!institutions.is_empty())
            .then(|| serde_json::to_string(institutions))
            .transpose()?;
        self.db.feed(|c| {
            c.query_map(
                "SELECT seq, id, institution, updated_at, CASE WHEN deleted = 0 THEN record_json END
                 FROM records
                 WHERE seq > ?1
                   AND (CAST(?2 AS TEXT) IS NULL OR institution IN (SELECT value FROM json_each(?2)))
                   AND (CAST(?3 AS TEXT) IS NULL OR updated_at >= ?3)
                   AND (deleted = 0 OR CAST(?3 AS TEXT) IS NOT NULL)
                 ORDER BY seq LIMIT ?4",
                args![after, wanted, since, limit],
                |row| {
                    Ok(ExportRow {
                        seq: row.get(0)?,
                        id: row.get(1)?,
                        institution: row.get(2)?,
                        updated_at: row.get(3)?,
                        record_json: row.get(4)?,
                    })
                },
            )
        })
    }
}
