//! Turning the bytes of an ISO 2709 field into text: UTF-8, GB18030 (and so GBK and
//! GB 2312, its subsets) and MARC-8.
//!
//! Fields are decoded one at a time, whole (indicators and subfield delimiters included):
//! the delimiters are ASCII control bytes that cannot occur inside a multi-byte character in
//! any of these encodings, so splitting the decoded text gives the same subfields as splitting
//! the bytes, and one invalid byte names the field it is in.
//!
//! MARC-8 is supported for its default sets, basic Latin (ASCII) and ANSEL extended Latin with
//! its combining diacritics; MARC-8 writes a diacritic *before* its base letter, Unicode after
//! it, so they are reordered and the result is put in NFC. Other MARC-8 sets (CJK EACC,
//! Cyrillic, Greek, Hebrew, Arabic, sub/superscripts) are not decoded: a field that switches to
//! one is an error naming the set, so the record is quarantined rather than garbled.

use encoding_rs::{DecoderResult, GB18030};
use unicode_normalization::UnicodeNormalization;

/// The character encoding of one record's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Charset {
    Utf8,
    Marc8,
    Gb18030,
}

impl Charset {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Charset::Utf8 => "UTF-8",
            Charset::Marc8 => "MARC-8",
            Charset::Gb18030 => "GB18030",
        }
    }

    /// Decodes `bytes`, or explains (byte offset and value) why they are not valid text in
    /// this charset.
    pub(crate) fn decode(self, bytes: &[u8]) -> Result<String, String> {
        match self {
            Charset::Utf8 => match std::str::from_utf8(bytes) {
                Ok(text) => Ok(text.to_owned()),
                Err(e) => {
                    let at = e.valid_up_to();
                    Err(format!(
                        "is not valid UTF-8 (byte {} at offset {at})",
                        hex_byte(bytes.get(at))
                    ))
                }
            },
            Charset::Gb18030 => decode_gb18030(bytes),
            Charset::Marc8 => decode_marc8(bytes),
        }
    }
}

fn hex_byte(byte: Option<&u8>) -> String {
    byte.map_or_else(|| "(end)".to_owned(), |b| format!("0x{b:02X}"))
}

fn decode_gb18030(bytes: &[u8]) -> Result<String, String> {
    // Fast path: pure ASCII needs no decoder.
    if bytes.is_ascii() {
        return Ok(String::from_utf8_lossy(bytes).into_owned());
    }
    let mut decoder = GB18030.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len() * 3 + 16);
    let mut out = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, true);
    match result {
        DecoderResult::InputEmpty => Ok(out),
        DecoderResult::Malformed(bad, after) => {
            let at = read.saturating_sub(usize::from(bad) + usize::from(after));
            Err(format!(
                "is not valid GB18030/GBK (byte {} at offset {at})",
                hex_byte(bytes.get(at))
            ))
        }
        DecoderResult::OutputFull => Err("could not be decoded as GB18030 (output buffer full)".into()),
    }
}

/// The record's bytes as text for a quarantine report: decoded in `charset` where they
/// decode, with every byte that does not written as `\xNN`, so nothing is hidden.
pub(crate) fn raw_text(bytes: &[u8], charset: Charset) -> String {
    match charset {
        Charset::Gb18030 => raw_gb18030(bytes),
        // MARC-8 text is shown as its ASCII with the rest escaped: a quarantined MARC-8
        // record is one we could not decode.
        Charset::Marc8 => bytes
            .iter()
            .fold(String::with_capacity(bytes.len()), |mut out, &b| {
                if b.is_ascii() {
                    out.push(char::from(b));
                } else {
                    out.push_str(&format!("\\x{b:02X}"));
                }
                out
            }),
        Charset::Utf8 => {
            let mut out = String::with_capacity(bytes.len());
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                for b in chunk.invalid() {
                    out.push_str(&format!("\\x{b:02X}"));
                }
            }
            out
        }
    }
}

fn raw_gb18030(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    let mut rest = bytes;
    let mut decoder = GB18030.new_decoder_without_bom_handling();
    loop {
        let capacity = decoder
            .max_utf8_buffer_length_without_replacement(rest.len())
            .unwrap_or(rest.len() * 3 + 16);
        out.reserve(capacity);
        let (result, read) = decoder.decode_to_string_without_replacement(rest, &mut out, true);
        match result {
            DecoderResult::InputEmpty => return out,
            DecoderResult::Malformed(bad, after) => {
                let start = read.saturating_sub(usize::from(bad) + usize::from(after));
                for b in rest
                    .get(start..read.saturating_sub(usize::from(after)))
                    .unwrap_or_default()
                {
                    out.push_str(&format!("\\x{b:02X}"));
                }
                rest = rest
                    .get(read.saturating_sub(usize::from(after))..)
                    .unwrap_or_default();
                decoder = GB18030.new_decoder_without_bom_handling();
            }
            DecoderResult::OutputFull => {
                rest = rest.get(read..).unwrap_or_default();
            }
        }
        if rest.is_empty() {
            return out;
        }
    }
}

/// The escape sequences MARC-8 uses to switch character sets, by their final byte(s), for
/// error messages.
fn marc8_set_name(designation: &[u8]) -> &'static str {
    match designation {
        [b'1', ..] | [b'$', b'1', ..] => "CJK (EACC)",
        [b'N', ..] => "basic Cyrillic",
        [b'Q', ..] => "extended Cyrillic",
        [b'S', ..] => "basic Greek",
        [b'2', ..] => "basic Hebrew",
        [b'3', ..] => "basic Arabic",
        [b'4', ..] => "extended Arabic",
        [b'g', ..] => "Greek symbols",
        [b'b', ..] => "subscripts",
        [b'p', ..] => "superscripts",
        _ => "an unknown set",
    }
}

/// Decodes MARC-8 text that uses only ASCII and ANSEL (the sets every MARC-8 record starts
/// in, and the only ones most Western records ever use).
fn decode_marc8(bytes: &[u8]) -> Result<String, String> {
    let mut out = String::with_capacity(bytes.len() + 8);
    // Combining marks read so far, waiting for the letter they belong to.
    let mut pending: Vec<char> = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            0x1B => {
                // ESC ( B, ESC ( E, ESC s … switch back to the default sets: harmless. Anything
                // else switches to a set we do not decode.
                let designation = bytes.get(i + 1..(i + 4).min(bytes.len())).unwrap_or_default();
                let (to_default, length) = match designation {
                    [b'(', b'B', ..] | [b')', b'E', ..] | [b',', b'B', ..] | [b'-', b'E', ..] => (true, 3),
                    [b's', ..] => (true, 2),
                    _ => (false, 0),
                };
                if !to_default {
                    let set = designation
                        .iter()
                        .position(|c| !matches!(c, b'(' | b')' | b',' | b'-' | b'$'))
                        .and_then(|p| designation.get(p..))
                        .unwrap_or_default();
                    return Err(format!(
                        "switches to the MARC-8 {} character set at offset {i}, which is not supported",
                        marc8_set_name(set)
                    ));
                }
                i += length;
                continue;
            }
            0x00..=0x7F => {
                // Control bytes (delimiters) end any run of diacritics that had no letter.
                out.push(char::from(b));
                out.extend(pending.drain(..));
            }
            0x88 | 0x89 => {} // non-sorting begin/end: not text
            0x8D => out.push('\u{200D}'),
            0x8E => out.push('\u{200C}'),
            _ => {
                if let Some(mark) = ansel_combining(b) {
                    pending.push(mark);
                } else if let Some(c) = ansel_spacing(b) {
                    out.push(c);
                    out.extend(pending.drain(..));
                } else {
                    return Err(format!("is not valid MARC-8 (byte 0x{b:02X} at offset {i})"));
                }
            }
        }
        i += 1;
    }
    out.extend(pending.drain(..));
    if out.is_ascii() {
        Ok(out)
    } else {
        Ok(out.nfc().collect())
    }
}

/// ANSEL's spacing characters (0xA1–0xC8).
fn ansel_spacing(b: u8) -> Option<char> {
    Some(match b {
        0xA1 => 'Ł',
        0xA2 => 'Ø',
        0xA3 => 'Đ',
        0xA4 => 'Þ',
        0xA5 => 'Æ',
        0xA6 => 'Œ',
        0xA7 => 'ʹ',
        0xA8 => '·',
        0xA9 => '♭',
        0xAA => '®',
        0xAB => '±',
        0xAC => 'Ơ',
        0xAD => 'Ư',
        0xAE => 'ʼ',
        0xB0 => 'ʻ',
        0xB1 => 'ł',
        0xB2 => 'ø',
        0xB3 => 'đ',
        0xB4 => 'þ',
        0xB5 => 'æ',
        0xB6 => 'œ',
        0xB7 => 'ʺ',
        0xB8 => 'ı',
        0xB9 => '£',
        0xBA => 'ð',
        0xBC => 'ơ',
        0xBD => 'ư',
        0xC0 => '°',
        0xC1 => 'ℓ',
        0xC2 => '℗',
        0xC3 => '©',
        0xC4 => '♯',
        0xC5 => '¿',
        0xC6 => '¡',
        0xC7 => 'ß',
        0xC8 => '€',
        _ => return None,
    })
}

/// ANSEL's combining diacritics (0xE0–0xFE), as Unicode combining characters.
fn ansel_combining(b: u8) -> Option<char> {
    Some(match b {
        0xE0 => '\u{0309}',
        0xE1 => '\u{0300}',
        0xE2 => '\u{0301}',
        0xE3 => '\u{0302}',
        0xE4 => '\u{0303}',
        0xE5 => '\u{0304}',
        0xE6 => '\u{0306}',
        0xE7 => '\u{0307}',
        0xE8 => '\u{0308}',
        0xE9 => '\u{030C}',
        0xEA => '\u{030A}',
        0xEB => '\u{FE20}',
        0xEC => '\u{FE21}',
        0xED => '\u{0315}',
        0xEE => '\u{030B}',
        0xEF => '\u{0310}',
        0xF0 => '\u{0327}',
        0xF1 => '\u{0328}',
        0xF2 => '\u{0323}',
        0xF3 => '\u{0324}',
        0xF4 => '\u{0325}',
        0xF5 => '\u{0333}',
        0xF6 => '\u{0332}',
        0xF7 => '\u{0326}',
        0xF8 => '\u{031C}',
        0xF9 => '\u{032E}',
        0xFA => '\u{FE22}',
        0xFB => '\u{FE23}',
        0xFE => '\u{0313}',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marc8_diacritics_precede_their_letter_and_come_out_composed() {
        // "Café Dvořák" in MARC-8: acute before e, caron before r, acute before a.
        let bytes = b"Caf\xE2e Dvo\xE9r\xE2ak \xA1\xB1\xC3";
        assert_eq!(Charset::Marc8.decode(bytes).unwrap(), "Café Dvořák Łł©");
        assert_eq!(Charset::Marc8.decode(b"plain \x1b(Btext").unwrap(), "plain text");
    }

    #[test]
    fn marc8_sets_we_do_not_decode_are_named() {
        let err = Charset::Marc8.decode(b"abc\x1b$1\x21\x30\x21").unwrap_err();
        assert!(err.contains("CJK (EACC)"), "{err}");
        let err = Charset::Marc8.decode(b"abc\x1b(N\x41").unwrap_err();
        assert!(err.contains("Cyrillic"), "{err}");
        let err = Charset::Marc8.decode(b"abc\xFF").unwrap_err();
        assert!(err.contains("0xFF"), "{err}");
    }

    #[test]
    fn gb18030_errors_point_at_the_byte() {
        let (good, _, _) = GB18030.encode("西藏秦汉");
        assert_eq!(Charset::Gb18030.decode(&good).unwrap(), "西藏秦汉");
        let mut bad = good.to_vec();
        bad.insert(2, 0x81);
        bad.insert(3, 0x20);
        let err = Charset::Gb18030.decode(&bad).unwrap_err();
        assert!(err.contains("offset 2"), "{err}");
        assert!(
            raw_text(&bad, Charset::Gb18030).starts_with("西\\x81"),
            "{}",
            raw_text(&bad, Charset::Gb18030)
        );
    }

    #[test]
    fn utf8_errors_point_at_the_byte() {
        let err = Charset::Utf8.decode(b"ab\xC3(").unwrap_err();
        assert!(err.contains("0xC3 at offset 2"), "{err}");
        assert_eq!(raw_text(b"ab\xC3(", Charset::Utf8), "ab\\xC3(");
    }
}
