//! The tests' side of the wire: requests through the router with `oneshot` (no socket), a
//! small XML tree built with quick-xml (an independent parser, so escaping is checked by
//! something other than the code that wrote it), and the sample files read back as JSON.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use quick_xml::events::Event;
use tower::ServiceExt;

/// An HTTP reply from the demo router.
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: String,
}

impl Reply {
    /// The body as an OAI-PMH document; panics unless the reply is a well-formed one.
    pub fn oai(&self) -> Oai {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        assert_eq!(self.content_type, "text/xml; charset=utf-8");
        let root = parse_xml(&self.body);
        assert_eq!(root.name, "OAI-PMH");
        assert_eq!(root.attr("xmlns"), Some("http://www.openarchives.org/OAI/2.0/"));
        Oai { root }
    }
}

/// `GET /demo/{collection}/oai?{query}` with `Host: demo.test:8080`.
pub async fn get(collection: &str, query: &str) -> Reply {
    let request = Request::get(format!("/demo/{collection}/oai?{query}"))
        .header(header::HOST, "demo.test:8080")
        .body(Body::empty())
        .unwrap();
    send(request).await
}

/// `POST /demo/{collection}/oai` with a form body.
pub async fn post(collection: &str, form: &str) -> Reply {
    let request = Request::post(format!("/demo/{collection}/oai"))
        .header(header::HOST, "demo.test:8080")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap();
    send(request).await
}

async fn send(request: Request<Body>) -> Reply {
    let response = jincheng_demo::router().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(response.into_body(), 16 << 20)
        .await
        .unwrap();
    Reply {
        status,
        content_type,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// Form-encodes arguments for a query string or POST body.
pub fn query(args: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(args)
        .finish()
}

/// An element of a parsed document: qualified name, attributes, text and children.
#[derive(Debug, Clone)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn all(&self, name: &str) -> impl Iterator<Item = &Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

/// Parses a whole document strictly (mismatched tags, bad references and trailing junk
/// all panic).
pub fn parse_xml(xml: &str) -> Element {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    let open = |e: &quick_xml::events::BytesStart| Element {
        name: e.name().as_ref().to_string(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                let key = a.key.as_ref().to_string();
                (
                    key,
                    a.normalized_value(quick_xml::XmlVersion::default())
                        .unwrap()
                        .into_owned(),
                )
            })
            .collect(),
        text: String::new(),
        children: Vec::new(),
    };
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => stack.push(open(&e)),
            Event::Empty(e) => {
                let element = open(&e);
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::End(_) => {
                let element = stack.pop().unwrap();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => {
                        assert!(root.is_none(), "two root elements");
                        root = Some(element);
                    }
                }
            }
            Event::Text(t) => {
                let text = t.xml10_content();
                match stack.last_mut() {
                    Some(e) => e.text.push_str(&text),
                    None => assert!(text.trim().is_empty(), "text outside the root: {text:?}"),
                }
            }
            Event::GeneralRef(r) => {
                let name = r.xml10_content();
                let resolved = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&name)
                        .unwrap_or_else(|| panic!("undefined entity &{name};"))
                        .to_string(),
                };
                stack.last_mut().unwrap().text.push_str(&resolved);
            }
            Event::CData(_) | Event::PI(_) | Event::DocType(_) => panic!("unexpected markup"),
            Event::Decl(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    assert!(stack.is_empty(), "unclosed elements");
    root.unwrap()
}

/// A record header as served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub identifier: String,
    pub datestamp: String,
    pub deleted: bool,
    pub sets: Vec<String>,
}

/// A record: its header and, unless deleted, its Dublin Core by element name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub header: Header,
    pub dc: Option<BTreeMap<String, Vec<String>>>,
}

/// A resumptionToken element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub complete_list_size: Option<usize>,
    pub cursor: Option<usize>,
}

/// A parsed OAI-PMH response.
pub struct Oai {
    pub root: Element,
}

impl Oai {
    pub fn response_date(&self) -> String {
        self.root.text_of("responseDate").unwrap().to_string()
    }

    pub fn request(&self) -> &Element {
        self.root.child("request").unwrap()
    }

    /// The error codes, empty if the response is not an error.
    pub fn errors(&self) -> Vec<String> {
        self.root
            .all("error")
            .map(|e| e.attr("code").unwrap().to_string())
            .collect()
    }

    /// The verb's element, e.g. `ListRecords`; panics on an error response.
    pub fn verb(&self, verb: &str) -> &Element {
        assert_eq!(self.errors(), Vec::<String>::new(), "error response");
        self.root.child(verb).unwrap_or_else(|| panic!("no <{verb}>"))
    }

    pub fn headers(&self) -> Vec<Header> {
        self.verb("ListIdentifiers").all("header").map(header).collect()
    }

    pub fn records(&self, verb: &str) -> Vec<Record> {
        self.verb(verb).all("record").map(record).collect()
    }

    pub fn token(&self, verb: &str) -> Option<Token> {
        self.verb(verb).child("resumptionToken").map(|t| Token {
            text: t.text.clone(),
            complete_list_size: t.attr("completeListSize").map(|v| v.parse().unwrap()),
            cursor: t.attr("cursor").map(|v| v.parse().unwrap()),
        })
    }
}

fn header(h: &Element) -> Header {
    Header {
        identifier: h.text_of("identifier").unwrap().to_string(),
        datestamp: h.text_of("datestamp").unwrap().to_string(),
        deleted: match h.attr("status") {
            None => false,
            Some("deleted") => true,
            Some(other) => panic!("status={other}"),
        },
        sets: h.all("setSpec").map(|s| s.text.clone()).collect(),
    }
}

fn record(r: &Element) -> Record {
    let header = header(r.child("header").unwrap());
    let dc = r.child("metadata").map(|m| {
        assert_eq!(m.children.len(), 1);
        let dc = &m.children[0];
        assert_eq!(dc.name, "oai_dc:dc");
        assert_eq!(dc.attr("xmlns:dc"), Some("http://purl.org/dc/elements/1.1/"));
        let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for e in &dc.children {
            let name = e.name.strip_prefix("dc:").unwrap().to_string();
            fields.entry(name).or_default().push(e.text.clone());
        }
        fields
    });
    Record { header, dc }
}

/// Pages through a list verb by resumption token, checking cursor and completeListSize on
/// every page. Returns the page documents.
pub async fn harvest(collection: &str, verb: &str, args: &[(&str, &str)]) -> Vec<Oai> {
    let mut pages = Vec::new();
    let mut seen = 0;
    let mut q = query(&[&[("verb", verb)], args].concat());
    loop {
        let page = get(collection, &q).await.oai();
        let items = page
            .verb(verb)
            .all(if verb == "ListRecords" { "record" } else { "header" })
            .count();
        let token = page.token(verb);
        if let Some(token) = &token {
            assert_eq!(token.cursor, Some(seen), "cursor of page {}", pages.len() + 1);
            assert!(token.complete_list_size.is_some());
        }
        seen += items;
        pages.push(page);
        match token {
            Some(token) if !token.text.is_empty() => {
                q = query(&[("verb", verb), ("resumptionToken", &token.text)]);
            }
            Some(token) => {
                assert_eq!(token.complete_list_size, Some(seen), "completeListSize");
                return pages;
            }
            None => {
                assert_eq!(pages.len(), 1, "a split list must end with an empty token");
                return pages;
            }
        }
    }
}

/// A collection file, read back as the records it should serve, in file order.
pub fn file_records(collection: &str) -> Vec<Record> {
    let path = format!("{}/collections/{collection}.jsonl", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let strings = |v: &serde_json::Value| -> Vec<String> {
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_string())
                    .collect()
            };
            let deleted = v["deleted"].as_bool().unwrap();
            Record {
                header: Header {
                    identifier: v["identifier"].as_str().unwrap().to_string(),
                    datestamp: v["datestamp"].as_str().unwrap().to_string(),
                    deleted,
                    sets: strings(&v["sets"]),
                },
                dc: (!deleted).then(|| {
                    v["dc"]
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, vs)| (k.clone(), strings(vs)))
                        .collect()
                }),
            }
        })
        .collect()
}
