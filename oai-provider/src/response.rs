//! Writing OAI-PMH 2.0 response documents.
//!
//! The documents are small and their shape fixed, so they are written as text; every piece
//! of data goes through [`escape`], which is the one place that makes text safe for XML.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::repository::{Header, MetadataFormat, RepositoryInfo, SetInfo};
use crate::request::OaiError;
use schemas::oai::Datestamp;

const OAI_PMH_OPEN: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8"?>"#,
    "\n",
    r#"<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" "#,
    r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" "#,
    r#"xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">"#,
    "\n",
);

/// Escapes text for use in XML content and in double- or single-quoted attributes.
///
/// Characters that XML 1.0 cannot carry at all (most C0 controls, U+FFFE, U+FFFF) become
/// U+FFFD, so a bad byte in data can never make a whole response unparsable. Carriage
/// returns are written as references, so they survive parsing.
pub fn escape(text: &str) -> Cow<'_, str> {
    let needs_work = |c: char| matches!(c, '&' | '<' | '>' | '"' | '\'' | '\r') || !is_xml_char(c);
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
            // A literal carriage return would be normalised away by every XML parser.
            '\r' => out.push_str("&#13;"),
            c if !is_xml_char(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The `Char` production of XML 1.0.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Appends `<name>text</name>` with the text escaped.
pub fn push_element(out: &mut String, name: &str, text: &str) {
    let _ = write!(out, "<{name}>{}</{name}>", escape(text));
}

/// One response document being written.
pub(crate) struct ResponseWriter {
    pub(crate) xml: String,
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

    fn element(&mut self, name: &str, text: &str) {
        push_element(&mut self.xml, name, text);
        self.xml.push('\n');
    }

    /// The body of Identify.
    pub fn identify(&mut self, info: &RepositoryInfo, base_url: &str) {
        self.open("Identify");
        self.element("repositoryName", &info.repository_name);
        self.element("baseURL", base_url);
        self.element("protocolVersion", "2.0");
        for email in &info.admin_emails {
            self.element("adminEmail", email);
        }
        self.element("earliestDatestamp", info.earliest_datestamp.as_str());
        self.element("deletedRecord", info.deleted_record.as_str());
        self.element("granularity", schemas::oai::Granularity::Seconds.as_str());
        self.close("Identify");
    }

    /// The body of ListMetadataFormats.
    pub fn metadata_formats(&mut self, formats: &[MetadataFormat]) {
        self.open("ListMetadataFormats");
        for format in formats {
            self.xml.push_str("<metadataFormat>");
            push_element(&mut self.xml, "metadataPrefix", &format.prefix);
            push_element(&mut self.xml, "schema", &format.schema);
            push_element(&mut self.xml, "metadataNamespace", &format.namespace);
            self.xml.push_str("</metadataFormat>\n");
        }
        self.close("ListMetadataFormats");
    }

    /// The body of ListSets.
    pub fn sets(&mut self, sets: &[SetInfo]) {
        self.open("ListSets");
        for set in sets {
            self.xml.push_str("<set>");
            push_element(&mut self.xml, "setSpec", &set.spec);
            push_element(&mut self.xml, "setName", &set.name);
            self.xml.push_str("</set>\n");
        }
        self.close("ListSets");
    }

    /// A record header, with `status="deleted"` for deleted items.
    pub fn header(&mut self, header: &Header) {
        self.xml.push_str(if header.deleted {
            r#"<header status="deleted">"#
        } else {
            "<header>"
        });
        push_element(&mut self.xml, "identifier", &header.identifier);
        let _ = write!(self.xml, "<datestamp>{}</datestamp>", header.datestamp);
        for set in &header.sets {
            push_element(&mut self.xml, "setSpec", set);
        }
        self.xml.push_str("</header>\n");
    }

    /// The resumptionToken of a partial list; `token` is `None` on the last page, which
    /// gets the empty element §3.5 asks for.
    pub fn resumption_token(
        &mut self,
        token: Option<(&str, &Datestamp)>,
        complete_list_size: u64,
        cursor: u64,
    ) {
        match token {
            Some((token, expires)) => {
                let _ = writeln!(
                    self.xml,
                    r#"<resumptionToken expirationDate="{expires}" completeListSize="{complete_list_size}" cursor="{cursor}">{}</resumptionToken>"#,
                    escape(token)
                );
            }
            None => {
                let _ = writeln!(
                    self.xml,
                    r#"<resumptionToken completeListSize="{complete_list_size}" cursor="{cursor}"/>"#
                );
            }
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
        assert_eq!(escape("a\u{0}b\u{1b}c\td\n\r"), "a\u{FFFD}b\u{FFFD}c\td\n&#13;");
        assert_eq!(escape("𠮷野家"), "𠮷野家");
        assert!(matches!(escape("靜夜思"), Cow::Borrowed(_)));
    }
}
