//! The guard between catalogue data and the pages: the template engine's escaper, and the
//! only two kinds of markup that may reach a page unescaped.
//!
//! Every page is an askama template under `templates/`. Askama escapes every `{{ value }}`
//! of an `.html` template with [`Html`] (named in `askama.toml`), so a value can only reach a
//! page unescaped through `|safe`, and `|safe` is written only after a [`Highlight`] or a
//! [`SafeJson`], whose constructors do the checking (a test in this module reads every
//! template and fails on any other `|safe`).

use std::fmt;

/// The escaper of every `.html` template (see `askama.toml`): `&`, `<`, `>`, `"` and `'` as
/// the named entities `&amp;` `&lt;` `&gt;` `&quot;` and `&#39;`, as the pages always wrote
/// them (askama's own escaper writes numeric ones), safe in element content and in quoted
/// attribute values.
#[derive(Debug, Clone, Copy, Default)]
pub struct Html;

impl askama::filters::Escaper for Html {
    fn write_escaped_str<W: fmt::Write>(&self, mut dest: W, text: &str) -> fmt::Result {
        let mut last = 0;
        for (at, byte) in text.bytes().enumerate() {
            let entity = match byte {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => continue,
            };
            dest.write_str(&text[last..at])?;
            dest.write_str(entity)?;
            last = at + 1;
        }
        dest.write_str(&text[last..])
    }
}

/// `text` escaped as [`Html`] escapes it; for the two newtypes below only.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Writing into a `String` cannot fail.
    let _ = askama::filters::Escaper::write_escaped_str(&Html, &mut out, text);
    out
}

/// Text with the indexer's highlights: escaped text in which `<em>` and `</em>` are the only
/// tags. Rendered with `|safe`, which is why the only ways to make one check or escape.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Highlight(String);

impl Highlight {
    /// The indexer's highlight HTML, if it is what the indexer promises: escaped text with
    /// `<em>` and `</em>` as the only tags. Anything else is escaped whole, so a bug in the
    /// indexer can never become markup on the page.
    pub(crate) fn checked(html: &str) -> Highlight {
        let mut rest = html;
        while let Some(at) = rest.find(['<', '>']) {
            let tail = &rest[at..];
            match tail.strip_prefix("<em>").or_else(|| tail.strip_prefix("</em>")) {
                Some(after) => rest = after,
                None => return Highlight(escape(html)),
            }
        }
        Highlight(html.to_string())
    }

    /// Plain text, without highlights, escaped.
    pub(crate) fn plain(text: &str) -> Highlight {
        Highlight(escape(text))
    }

    /// Whether there is nothing to show.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Highlight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A JSON value made safe inside `<script type="application/ld+json">`: `<`, `>` and `&`
/// only ever occur inside JSON strings, where their `\u` escapes mean the same, so no
/// `</script>` or `<!--` can end the element early. Rendered with `|safe` (entities would
/// not be decoded inside a script).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SafeJson(String);

impl SafeJson {
    /// `value` as script-safe JSON text.
    pub(crate) fn new(value: &serde_json::Value) -> SafeJson {
        SafeJson(
            value
                .to_string()
                .replace('<', "\\u003c")
                .replace('>', "\\u003e")
                .replace('&', "\\u0026"),
        )
    }
}

impl fmt::Display for SafeJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A URL from a record that may be linked to: only `http`, `https` and same-site paths,
/// never `javascript:` or `data:`, nor another site in disguise. Browsers read `\` as `/`
/// and drop tabs and newlines inside a URL, so `/\evil.example/` or `/<tab>/evil.example/`
/// would be the protocol-relative `//evil.example/`: a URL with a backslash or a control
/// character is refused, like `//…` itself.
pub(crate) fn safe_url(url: &str) -> Option<&str> {
    let url = url.trim();
    if url.chars().any(|c| c == '\\' || c.is_control()) {
        return None;
    }
    let lower = url.to_ascii_lowercase();
    let ok = lower.starts_with("https://")
        || lower.starts_with("http://")
        || (url.starts_with('/') && !url.starts_with("//"));
    ok.then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_urls_are_web_links_or_same_site_paths() {
        for ok in [
            "https://lzlib.example/a?b=1",
            "HTTP://lzlib.example/",
            "/records/x",
            " /images/ab/cd/thumb.jpg ",
        ] {
            assert!(safe_url(ok).is_some(), "{ok:?}");
        }
        for refused in [
            "javascript:alert(1)",
            "data:text/html,x",
            "//evil.example/",
            "/\\evil.example/x",
            "\\/evil.example/x",
            "\\\\evil.example/x",
            "/\t/evil.example/",
            "/\n/evil.example/",
            "https://lzlib.example\\@evil.example/",
            "lzlib.example/x",
        ] {
            assert_eq!(safe_url(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("靜夜思"), "靜夜思");
    }

    #[test]
    fn highlights_keep_only_em() {
        assert_eq!(
            Highlight::checked("<em>靜夜思</em> &amp; x").to_string(),
            "<em>靜夜思</em> &amp; x"
        );
        assert_eq!(
            Highlight::checked("<em>a</em><script>").to_string(),
            "&lt;em&gt;a&lt;/em&gt;&lt;script&gt;"
        );
        assert_eq!(
            Highlight::plain("<em>\"x\"").to_string(),
            "&lt;em&gt;&quot;x&quot;"
        );
    }

    #[test]
    fn json_cannot_close_the_script() {
        let value = serde_json::json!({"name": "</script><script>alert(1)</script>"});
        let text = SafeJson::new(&value).to_string();
        assert!(!text.contains('<'));
        let back: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(back, value);
    }

    #[test]
    fn only_web_urls_are_linked() {
        assert_eq!(safe_url(" https://a.cn/x "), Some("https://a.cn/x"));
        assert_eq!(safe_url("javascript:alert(1)"), None);
        assert_eq!(safe_url("//evil.example"), None);
        assert_eq!(safe_url("/images/a.jpg"), Some("/images/a.jpg"));
    }

    /// The expressions that templates may render unescaped: each is a [`Highlight`] or a
    /// [`SafeJson`] in its page's view.
    const UNESCAPED: &[&str] = &["hit.title", "hit.creators", "snippet.html", "jsonld"];

    /// Every `|safe` in `templates/` follows one of [`UNESCAPED`], so no other value can be
    /// written into a page unescaped.
    #[test]
    fn only_checked_markup_is_rendered_unescaped() {
        fn visit(dir: &std::path::Path, found: &mut Vec<(String, String)>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                panic!("cannot read {}", dir.display());
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    visit(&path, found);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "html") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let mut rest = text.as_str();
                while let Some(at) = rest.find("|safe") {
                    let open = rest[..at].rfind("{{").unwrap_or(0);
                    let expression = rest[open..at].trim_start_matches("{{").trim_start_matches('-');
                    found.push((path.display().to_string(), expression.trim().to_string()));
                    rest = &rest[at + 5..];
                }
            }
        }
        let mut found = Vec::new();
        visit(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
            &mut found,
        );
        assert!(!found.is_empty(), "the highlights and the JSON-LD are there");
        for (file, expression) in &found {
            assert!(
                UNESCAPED.contains(&expression.as_str()),
                "{file}: `{expression}|safe` is not a Highlight or SafeJson"
            );
        }
    }
}
