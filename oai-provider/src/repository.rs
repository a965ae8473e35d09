//! What a provider needs from the place its records come from.

use crate::request::ListQuery;
use schemas::oai::Datestamp;

/// How a repository reports deletions (`deletedRecord` in Identify).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletedRecord {
    /// Deletions are never reported.
    No,
    /// Deletions may be reported for a while.
    Transient,
    /// Deletions are kept and reported forever.
    Persistent,
}

impl DeletedRecord {
    /// The value as the protocol spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            DeletedRecord::No => "no",
            DeletedRecord::Transient => "transient",
            DeletedRecord::Persistent => "persistent",
        }
    }
}

/// What Identify reports. The granularity is always seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryInfo {
    /// `repositoryName`.
    pub repository_name: String,
    /// `adminEmail`s (at least one).
    pub admin_emails: Vec<String>,
    /// The oldest datestamp of any item, deleted ones included.
    pub earliest_datestamp: Datestamp,
    /// How deletions are reported.
    pub deleted_record: DeletedRecord,
}

/// A metadata format the repository can disseminate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataFormat {
    /// `metadataPrefix`, e.g. `oai_dc`.
    pub prefix: String,
    /// URL of its XML schema.
    pub schema: String,
    /// Its XML namespace.
    pub namespace: String,
}

impl MetadataFormat {
    /// Simple Dublin Core, which every OAI-PMH repository must support.
    pub fn oai_dc() -> MetadataFormat {
        MetadataFormat {
            prefix: "oai_dc".into(),
            schema: "http://www.openarchives.org/OAI/2.0/oai_dc.xsd".into(),
            namespace: "http://www.openarchives.org/OAI/2.0/oai_dc/".into(),
        }
    }
}

/// A set, as ListSets describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetInfo {
    /// `setSpec`: unreserved characters, `:` separating the levels of the hierarchy.
    pub spec: String,
    /// `setName`, for people.
    pub name: String,
}

/// An item's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The OAI identifier.
    pub identifier: String,
    /// Last change (or deletion).
    pub datestamp: Datestamp,
    /// Deleted: served with `status="deleted"` and no metadata.
    pub deleted: bool,
    /// The sets it belongs to.
    pub sets: Vec<String>,
}

/// Where a list resumes: values the repository chose when it served the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPosition {
    /// Fixed when the list started.
    pub snapshot: String,
    /// Where the next page starts.
    pub after: String,
}

/// One page of a list, as the repository returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSlice<I> {
    /// The items, in the repository's stable order.
    pub items: Vec<I>,
    /// Size of the whole list; only read on a list's first page.
    pub complete_list_size: u64,
    /// The list's snapshot (repeated on every page).
    pub snapshot: String,
    /// Where the next page starts, or `None` if this page ends the list.
    pub next: Option<String>,
}

/// A source of items for a [`Provider`](crate::Provider).
///
/// Methods take `&self` and may block (a database is fine): a web server should call the
/// provider on a blocking thread.
///
/// **Stable lists.** [`list`](Repository::list) must return items in an order that does not
/// change while a harvest pages through them, and a page resumed from a
/// [`ListPosition`] must start right after the previous page's last item. Between the
/// pages of a list, items may change: a repository that orders by a change number and
/// leaves out items changed after the list's snapshot guarantees that nothing is skipped or
/// repeated (changed items come in the next incremental harvest, since their datestamps are
/// then later than the harvest's start).
pub trait Repository {
    /// One item: its header plus whatever is needed to write its metadata.
    type Item;
    /// Why the repository could not answer (I/O); the provider answers HTTP 500.
    type Error: std::fmt::Display;

    /// What Identify reports.
    fn info(&self) -> Result<RepositoryInfo, Self::Error>;

    /// Every format the repository can disseminate. `base_url` is the repository's URL as
    /// the harvester reached it, for schemas the repository publishes itself.
    fn formats(&self, base_url: &str) -> Vec<MetadataFormat>;

    /// True if `item` can be disseminated in `prefix` (one of [`formats`](Repository::formats)).
    /// Deleted items are listed in every format whatever this says.
    fn supports(&self, item: &Self::Item, prefix: &str) -> bool;

    /// The sets; empty for a repository without sets (noSetHierarchy).
    fn sets(&self) -> Result<Vec<SetInfo>, Self::Error>;

    /// The item with this OAI identifier, deleted or not.
    fn get(&self, identifier: &str) -> Result<Option<Self::Item>, Self::Error>;

    /// The item's header.
    fn header(&self, item: &Self::Item) -> Header;

    /// Up to `limit` items of the selection (format supported or deleted, datestamp within
    /// `from..=until`, in the set or one of its descendants), starting after `resume` or at
    /// the beginning.
    fn list(
        &self,
        query: &ListQuery,
        resume: Option<&ListPosition>,
        limit: usize,
    ) -> Result<ListSlice<Self::Item>, Self::Error>;

    /// False for a position or snapshot this repository cannot have issued. The provider
    /// answers badResumptionToken then.
    fn valid_position(&self, _position: &ListPosition) -> bool {
        true
    }

    /// Writes the metadata of a live `item` in `prefix` (one it supports): the single root
    /// element that goes inside `<metadata>`, with its namespace declarations.
    fn write_metadata(
        &self,
        item: &Self::Item,
        prefix: &str,
        base_url: &str,
        out: &mut String,
    ) -> Result<(), Self::Error>;
}
