//! The demo's configuration file: one institution and one OAI-PMH source per collection.

use std::fmt::Write as _;

use crate::samples::Collection;

/// The TOML config, minus `data_dir` and `[server]`, which the app sets itself.
pub(crate) fn config_toml(base_url: &str, collections: &[Collection]) -> String {
    let base = base_url.trim_end_matches('/');
    let mut toml = String::from(
        "# Jincheng demo: SAMPLE collections (fictional, for demonstration only),\n\
         # served by the demo's own OAI-PMH provider and harvested like any real source.\n",
    );
    for collection in collections {
        let i = &collection.institution;
        let _ = write!(
            toml,
            "\n[[institutions]]\nid = {}\nname = {}\ntype = {}\ndistrict = {}\nlevel = {}\n",
            quoted(&i.id),
            quoted(&i.name),
            quoted(&i.institution_type),
            quoted(&i.district),
            quoted(&i.level),
        );
    }
    for collection in collections {
        let id = &collection.institution.id;
        let _ = write!(
            toml,
            "\n[[sources]]\nid = {}\ninstitution = {}\nprotocol = \"oai-pmh\"\nurl = {}\nmetadata_prefix = \"oai_dc\"\n",
            quoted(&format!("{id}-oai")),
            quoted(id),
            quoted(&format!("{base}/demo/{id}/oai")),
        );
    }
    crate::files::config_toml(&mut toml, base, quoted);
    toml
}

/// A TOML basic string.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_a_toml_parser() {
        let nasty = "a\"b\\c\nd\u{1}e 兰州";
        let doc: toml::Table = toml::from_str(&format!("x = {}", quoted(nasty))).unwrap();
        assert_eq!(doc["x"].as_str(), Some(nasty));
    }
}
