//! The search state as it lives in the URL: every link on a results page is this state with
//! one thing changed, so a page can be shared, bookmarked and reloaded.

/// The parameters the pages carry from link to link; anything else in a URL is dropped.
const KEYS: [&str; 18] = [
    "q",
    "institution",
    "institution_type",
    "resource_type",
    "region",
    "language",
    "period",
    "accessible_format",
    "level",
    "branch",
    "brand",
    "audience",
    "special_collection",
    "year_from",
    "year_to",
    "sort",
    "page",
    "page_size",
];

/// The filter parameters, whose values are facet values.
pub(crate) const FILTER_KEYS: [&str; 12] = [
    "institution",
    "institution_type",
    "resource_type",
    "region",
    "language",
    "period",
    "accessible_format",
    "level",
    "branch",
    "brand",
    "audience",
    "special_collection",
];

/// Search parameters in URL order, without empty values (an empty year box is no filter).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct UrlState {
    pairs: Vec<(String, String)>,
}

impl UrlState {
    /// The known, non-empty parameters of a raw query string.
    pub(crate) fn parse(raw: Option<&str>) -> UrlState {
        let pairs = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
            .filter(|(k, v)| KEYS.contains(&k.as_ref()) && !v.trim().is_empty())
            .map(|(k, v)| (k.into_owned(), v.trim().to_string()))
            .collect();
        UrlState { pairs }
    }

    /// The state with one parameter set, e.g. `institution=b-lzlib` for an institution page.
    pub(crate) fn with(mut self, key: &str, value: &str) -> UrlState {
        if !self.has(key, value) {
            self.pairs.push((key.to_string(), value.to_string()));
        }
        self
    }

    /// The query string (no `?`), percent-encoded.
    pub(crate) fn query(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            out.append_pair(k, v);
        }
        out.finish()
    }

    /// `/search?…` for this state (the templates escape it for an `href`).
    pub(crate) fn href(&self) -> String {
        let query = self.query();
        if query.is_empty() {
            "/search".to_string()
        } else {
            format!("/search?{query}")
        }
    }

    /// Every `(key, value)`, in URL order.
    pub(crate) fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The first value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Every value of `key`.
    pub(crate) fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `key=value` is in the state.
    pub(crate) fn has(&self, key: &str, value: &str) -> bool {
        self.pairs.iter().any(|(k, v)| k == key && v == value)
    }

    /// The state without any value of `keys`.
    pub(crate) fn without(&self, keys: &[&str]) -> UrlState {
        UrlState {
            pairs: self
                .pairs
                .iter()
                .filter(|(k, _)| !keys.contains(&k.as_str()))
                .cloned()
                .collect(),
        }
    }

    /// The state with `key=value` added, or removed if it was there; back to page 1, since
    /// the old page number means nothing for the new results.
    pub(crate) fn toggled(&self, key: &str, value: &str) -> UrlState {
        let mut next = self.without(&["page"]);
        if next.has(key, value) {
            next.pairs.retain(|(k, v)| !(k == key && v == value));
        } else {
            next.pairs.push((key.to_string(), value.to_string()));
        }
        next
    }

    /// The state sorted by `sort` (`relevance`, the default, leaves no parameter), back on
    /// page 1.
    pub(crate) fn sorted(&self, sort: &str) -> UrlState {
        let mut next = self.without(&["page", "sort"]);
        if sort != "relevance" {
            next.pairs.push(("sort".into(), sort.to_string()));
        }
        next
    }

    /// The state on page `page`.
    pub(crate) fn on_page(&self, page: usize) -> UrlState {
        let mut next = self.without(&["page"]);
        if page > 1 {
            next.pairs.push(("page".into(), page.to_string()));
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_known_non_empty_parameters() {
        let state = UrlState::parse(Some("q=%E9%BB%84%E6%B2%B3&year_from=&utm=x&region=城关区"));
        assert_eq!(
            state.query(),
            "q=%E9%BB%84%E6%B2%B3&region=%E5%9F%8E%E5%85%B3%E5%8C%BA"
        );
    }

    #[test]
    fn toggling_keeps_the_rest_and_resets_the_page() {
        let state = UrlState::parse(Some("q=a&page=3&institution=x"));
        assert_eq!(state.toggled("region", "城关区").get("page"), None);
        assert!(state.toggled("region", "城关区").has("institution", "x"));
        assert!(!state.toggled("institution", "x").has("institution", "x"));
        assert_eq!(state.on_page(2).query(), "q=a&institution=x&page=2");
        assert_eq!(state.href(), "/search?q=a&page=3&institution=x");
    }

    #[test]
    fn sorting_replaces_the_order_and_resets_the_page() {
        let state = UrlState::parse(Some("q=a&sort=date_asc&page=3&period=%E6%B8%85"));
        assert_eq!(
            state.sorted("date_desc").query(),
            "q=a&period=%E6%B8%85&sort=date_desc"
        );
        assert_eq!(state.sorted("relevance").query(), "q=a&period=%E6%B8%85");
        assert_eq!(
            state.toggled("accessible_format", "braille").get("sort"),
            Some("date_asc")
        );
    }
}
