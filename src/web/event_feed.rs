//! `GET /events/feed.xml?institution=&district=&type=&at=`: the upcoming events as an Atom
//! feed (RFC 4287), soonest first, with the filters of `/events`
//! ([`super::event_filter`]) as query parameters. Written with quick-xml's writer, which
//! escapes every text and attribute; characters XML 1.0 forbids are dropped first.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::error::PageError;
use super::events::{Listed, instant_param, load, query_filter, time_label};
use super::home::url_segment;
use super::layout::Frame;
use crate::state::AppState;

/// The Atom namespace.
const ATOM: &str = "http://www.w3.org/2005/Atom";

/// `GET /events/feed.xml`.
pub(crate) async fn feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let frame = Frame::new(&state, &headers, &uri);
    let answer = async {
        let now = instant_param(raw.as_deref())?;
        let filter = query_filter(raw.as_deref(), now)?;
        let all = load(&state, now).await?;
        let events: Vec<&Listed> = all.upcoming.iter().filter(|e| filter.matches(e)).collect();
        let self_href = match uri.query() {
            Some(query) => format!("/events/feed.xml?{query}"),
            None => "/events/feed.xml".to_string(),
        };
        atom(&events, &self_href, now).map_err(|err| {
            tracing::error!("writing the events feed failed: {err}");
            PageError::Internal
        })
    };
    match answer.await {
        Ok(body) => {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/atom+xml; charset=utf-8"),
            );
            (StatusCode::OK, headers, body).into_response()
        }
        Err(err) => err.render(&frame),
    }
}

/// Text without the characters XML 1.0 does not allow.
fn xml_chars(text: &str) -> String {
    text.chars()
        .filter(|c| matches!(c, '\t' | '\n' | '\r') || !c.is_control())
        .collect()
}

/// The feed document.
fn atom(events: &[&Listed], self_href: &str, now: OffsetDateTime) -> std::io::Result<String> {
    let updated = schemas::lanzhou_time(now)
        .format(&Rfc3339)
        .map_err(std::io::Error::other)?;
    let mut writer = Writer::new(Vec::new());
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    writer
        .create_element("feed")
        .with_attribute(("xmlns", ATOM))
        .write_inner_content(|w| {
            w.create_element("id")
                .write_text_content(BytesText::new(&format!("urn:jincheng:{}", xml_chars(self_href))))?;
            w.create_element("title")
                .write_text_content(BytesText::new("金城·兰州文化活动预告"))?;
            w.create_element("updated")
                .write_text_content(BytesText::new(&updated))?;
            w.create_element("link")
                .with_attribute(("rel", "self"))
                .with_attribute(("href", xml_chars(self_href).as_str()))
                .write_empty()?;
            w.create_element("link")
                .with_attribute(("rel", "alternate"))
                .with_attribute(("href", "/events"))
                .write_empty()?;
            for event in events {
                entry(w, event, &updated)?;
            }
            Ok(())
        })?;
    String::from_utf8(writer.into_inner()).map_err(std::io::Error::other)
}

/// One event as an entry: its page, when and where in the summary, its description.
fn entry(w: &mut Writer<Vec<u8>>, event: &Listed, updated: &str) -> std::io::Result<()> {
    let href = format!("/records/{}", url_segment(&event.id));
    let mut summary = vec![super::events::day_label(&event.day)];
    summary.extend(time_label(event));
    summary.extend(event.venue.clone());
    summary.push(event.institution_name.clone());
    w.create_element("entry").write_inner_content(|w| {
        w.create_element("id")
            .write_text_content(BytesText::new(&format!(
                "urn:jincheng:event:{}",
                url_segment(&event.id)
            )))?;
        w.create_element("title")
            .write_text_content(BytesText::new(&xml_chars(&event.title)))?;
        w.create_element("updated")
            .write_text_content(BytesText::new(updated))?;
        w.create_element("author").write_inner_content(|w| {
            w.create_element("name")
                .write_text_content(BytesText::new(&xml_chars(&event.institution_name)))?;
            Ok(())
        })?;
        w.create_element("link")
            .with_attribute(("href", href.as_str()))
            .write_empty()?;
        w.create_element("link")
            .with_attribute(("rel", "related"))
            .with_attribute(("type", "text/calendar"))
            .with_attribute(("href", format!("/events/{}.ics", url_segment(&event.id)).as_str()))
            .write_empty()?;
        w.create_element("summary")
            .write_text_content(BytesText::new(&xml_chars(&summary.join(" · "))))?;
        if let Some(description) = &event.description {
            w.create_element("content")
                .with_attribute(("type", "text"))
                .write_text_content(BytesText::new(&xml_chars(description)))?;
        }
        Ok(())
    })?;
    Ok(())
}
