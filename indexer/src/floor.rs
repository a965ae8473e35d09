//! The floor of a search: what tantivy alone costs for a query, with none of Jincheng's
//! work around it (no query planning, pinyin expansion, filters, facets, collapsing,
//! highlights or stored fields). `jincheng bench http` runs it beside the real search to
//! say how far above the engine's own cost a search is.

use tantivy::Term;
use tantivy::collector::TopDocs;
use tantivy::query::{AllQuery, BooleanQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};

use crate::{Index, Result};

impl Index {
    /// Runs `query` as a bare tantivy query and returns how many hits the top-10 page at
    /// `offset` has: for each of the main text fields (title, creators, description, and
    /// the title's and creators' pinyin and initials) the query is cut by that field's own
    /// analyzer into one `TermQuery` (one token) or one `PhraseQuery` (several), and the
    /// fields' queries are OR-ed. An empty query matches everything (a browse).
    pub fn floor_search(&self, query: &str, offset: usize) -> Result<usize> {
        let f = &self.inner.fields;
        let fields = [
            f.title,
            f.creators,
            f.description,
            f.title_pinyin,
            f.title_initials,
            f.creators_pinyin,
            f.creators_initials,
        ];
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for field in fields {
            if let Some(clause) = self.field_query(field, query)? {
                clauses.push((Occur::Should, clause));
            }
        }
        let query: Box<dyn Query> = if clauses.is_empty() {
            Box::new(AllQuery)
        } else {
            Box::new(BooleanQuery::new(clauses))
        };
        let collector = TopDocs::with_limit(10).and_offset(offset).order_by_score();
        Ok(self.searcher().search(&query, &collector)?.len())
    }

    fn field_query(&self, field: Field, text: &str) -> Result<Option<Box<dyn Query>>> {
        let mut analyzer = self.inner.index.tokenizer_for_field(field)?;
        let mut stream = analyzer.token_stream(text);
        let mut terms: Vec<(usize, Term)> = Vec::new();
        while stream.advance() {
            let token = stream.token();
            let term = Term::from_field_text(field, &token.text);
            if !terms.iter().any(|(p, t)| *p == token.position && *t == term) {
                terms.push((token.position, term));
            }
        }
        Ok(match terms.len() {
            0 => None,
            1 => terms.pop().map(|(_, term)| {
                Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)) as Box<dyn Query>
            }),
            _ => Some(Box::new(PhraseQuery::new_with_offset(terms))),
        })
    }
}
