//! Writing OAI-PMH 2.0 response documents.
//!
//! The documents are small and their shape fixed, so they are written as text; every piece
//! of data goes through [`escape`], which is the one place that makes text safe for XML.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::datestamp::Datestamp;
use crate::request::OaiError;
use crate::samples::{Collection, SampleRecord};

const OAI_PMH_OPEN: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8"?>"#,
    "\n",
    r#"<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" "#,
    r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" "#,
    r#"xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">"#,
    "\n",
);

const OAI_DC_OPEN: &str = concat!(
    r#"<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" "#,
    r#"xmlns:dc="http://purl.org/dc/elements/1.1/" "#,
    r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" "#,
    r#"xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/oai_dc/ http://www.openarchives.org/OAI/2.0/oai_dc.xsd">"#,
);

/// Escapes text for use in XML content and in double- or single-quoted attributes.
///
/// Characters that XML 1.0 cannot carry at all (most C0 controls, U+FFFE, U+FFFF) become
/// U+FFFD, so a bad byte in data can never make a whole response unparsable.
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    let needs_work = |c: char| matches!(c, '&' | '<' | '>' | '"' | '\'') || !is_xml_char(c);
    if !text.chars().any(needs_work) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if !is_xml_char(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The `Char` production of XML 1.0.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// One response document being written.
pub(crate) struct ResponseWriter {
    xml: String,
}

impl ResponseWriter {
    /// Starts a response: the envelope, `responseDate` and `request` (with the arguments as
    /// attributes when `arguments` is given).
    pub fn new(response_date: &Datestamp, base_url: &str, arguments: Option<&[(String, String)]>) -> Self {
        let mut xml = String::with_capacity(16 * 1024);
        xml.push_str(OAI_PMH_OPEN);
        let _ = writeln!(xml, "<responseDate>{response_date}</responseDate>");
        xml.push_str("<request");
        for (key, value) in arguments.unwrap_or_default() {
            let _ = write!(xml, r#" {}="{}""#, escape(key), escape(value));
        }
        let _ = writeln!(xml, ">{}</request>", escape(base_url));
        ResponseWriter { xml }
    }

    /// Ends the document.
    pub fn finish(mut self) -> String {
        self.xml.push_str("</OAI-PMH>\n");
        self.xml
    }

    /// An error response body.
    pub fn error(&mut self, error: &OaiError) {
        let _ = writeln!(
            self.xml,
            r#"<error code="{}">{}</error>"#,
            error.code.as_str(),
            escape(&error.message)
        );
    }

    /// Opens a verb's element, e.g. `<ListRecords>`.
    pub fn open(&mut self, verb: &str) {
        let _ = writeln!(self.xml, "<{verb}>");
    }

    /// Closes a verb's element.
    pub fn close(&mut self, verb: &str) {
        let _ = writeln!(self.xml, "</{verb}>");
    }

    /// A leaf element with escaped text.
    pub fn element(&mut self, name: &str, text: &str) {
        let _ = writeln!(self.xml, "<{name}>{}</{name}>", escape(text));
    }

    /// The body of Identify.
    pub fn identify(&mut self, collection: &Collection, base_url: &str) {
        let institution = &collection.institution;
        self.open("Identify");
        self.element("repositoryName", &institution.repository_name);
        self.element("baseURL", base_url);
        self.element("protocolVersion", "2.0");
        self.element("adminEmail", &format!("demo@{}.example.invalid", institution.id));
        if let Some(earliest) = collection.earliest_datestamp() {
            self.element("earliestDatestamp", earliest.as_str());
        }
        self.element("deletedRecord", "persistent");
        self.element("granularity", "YYYY-MM-DDThh:mm:ssZ");
        self.close("Identify");
    }

    /// The body of ListMetadataFormats: oai_dc, the only format.
    pub fn metadata_formats(&mut self) {
        self.open("ListMetadataFormats");
        self.xml.push_str("<metadataFormat>\n");
        self.element("metadataPrefix", "oai_dc");
        self.element("schema", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd");
        self.element("metadataNamespace", "http://www.openarchives.org/OAI/2.0/oai_dc/");
        self.xml.push_str("</metadataFormat>\n");
        self.close("ListMetadataFormats");
    }

    /// The body of ListSets.
    pub fn sets(&mut self, collection: &Collection) {
        self.open("ListSets");
        for (spec, name) in &collection.institution.sets {
            self.xml.push_str("<set>");
            let _ = write!(
                self.xml,
                "<setSpec>{}</setSpec><setName>{}</setName>",
                escape(spec),
                escape(name)
            );
            self.xml.push_str("</set>\n");
        }
        self.close("ListSets");
    }

    /// A record header, with `status="deleted"` for withdrawn records.
    pub fn header(&mut self, record: &SampleRecord) {
        self.xml.push_str(if record.deleted {
            r#"<header status="deleted">"#
        } else {
            "<header>"
        });
        let _ = write!(
            self.xml,
            "<identifier>{}</identifier><datestamp>{}</datestamp>",
            escape(&record.identifier),
            record.datestamp
        );
        for set in &record.sets {
            let _ = write!(self.xml, "<setSpec>{}</setSpec>", escape(set));
        }
        self.xml.push_str("</header>\n");
    }

    /// A whole record: header, and oai_dc metadata unless it is deleted.
    pub fn record(&mut self, record: &SampleRecord) {
        self.xml.push_str("<record>");
        self.header(record);
        if !record.deleted {
            self.xml.push_str("<metadata>");
            self.xml.push_str(OAI_DC_OPEN);
            self.xml.push('\n');
            for (name, values) in record.dc.elements() {
                for value in values {
                    let _ = writeln!(self.xml, "<dc:{name}>{}</dc:{name}>", escape(value));
                }
            }
            self.xml.push_str("</oai_dc:dc></metadata>\n");
        }
        self.xml.push_str("</record>\n");
    }

    /// The resumptionToken of a partial list; `token` is `None` on the last page, which
    /// gets the empty element §3.5 asks for.
    pub fn resumption_token(&mut self, token: Option<&str>, complete_list_size: usize, cursor: usize) {
        let _ = write!(
            self.xml,
            r#"<resumptionToken completeListSize="{complete_list_size}" cursor="{cursor}""#
        );
        match token {
            Some(token) => {
                let _ = writeln!(self.xml, ">{}</resumptionToken>", escape(token));
            }
            None => self.xml.push_str("/>\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_quotes_and_illegal_characters() {
        assert_eq!(
            escape("黄河 & <兰州> \"x\" 'y'"),
            "黄河 &amp; &lt;兰州&gt; &quot;x&quot; &apos;y&apos;"
        );
        assert_eq!(escape("a\u{0}b\u{1b}c\td\n"), "a\u{FFFD}b\u{FFFD}c\td\n");
        assert_eq!(escape("𠮷野家"), "𠮷野家");
        assert!(matches!(escape("靜夜思"), Cow::Borrowed(_)));
    }
}
