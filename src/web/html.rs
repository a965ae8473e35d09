//! HTML escaping, the one guard between catalogue data and the pages.

/// `text` with `&`, `<`, `>`, `"` and `'` replaced by entities: safe in element content and
/// in quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The indexer's highlight HTML, if it is what the indexer promises: escaped text with
/// `<em>` and `</em>` as the only tags. Anything else is escaped whole, so a bug in the
/// indexer can never become markup on the page.
pub(crate) fn highlight(html: &str) -> String {
    let mut rest = html;
    let mut safe = true;
    while let Some(at) = rest.find(['<', '>']) {
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("<em>").or_else(|| tail.strip_prefix("</em>")) {
            rest = after;
        } else {
            safe = false;
            break;
        }
    }
    if safe { html.to_string() } else { escape(html) }
}

/// A JSON value made safe inside `<script type="application/ld+json">`: `<`, `>` and `&`
/// only ever occur inside JSON strings, where their `\u` escapes mean the same, so no
/// `</script>` or `<!--` can end the element early.
pub(crate) fn json_in_script(value: &serde_json::Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
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
    }

    #[test]
    fn highlights_keep_only_em() {
        assert_eq!(highlight("<em>靜夜思</em> &amp; x"), "<em>靜夜思</em> &amp; x");
        assert_eq!(
            highlight("<em>a</em><script>"),
            "&lt;em&gt;a&lt;/em&gt;&lt;script&gt;"
        );
    }

    #[test]
    fn json_cannot_close_the_script() {
        let value = serde_json::json!({"name": "</script><script>alert(1)</script>"});
        let text = json_in_script(&value);
        assert!(!text.contains('<'));
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn only_web_urls_are_linked() {
        assert_eq!(safe_url(" https://a.cn/x "), Some("https://a.cn/x"));
        assert_eq!(safe_url("javascript:alert(1)"), None);
        assert_eq!(safe_url("//evil.example"), None);
        assert_eq!(safe_url("/images/a.jpg"), Some("/images/a.jpg"));
    }
}
