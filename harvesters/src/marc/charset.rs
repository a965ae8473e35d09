//! Turning the bytes of an ISO 2709 field into text: UTF-8, GB18030 (and so GBK and
//! GB 2312, its subsets) and MARC-8.
//!
//! Fields are decoded one at a time, whole (indicators and subfield delimiters included):
//! the delimiters are ASCII control bytes that cannot occur inside a multi-byte character in
//! any of these encodings, so splitting the decoded text gives the same subfields as splitting
//! the bytes, and one invalid byte names the field it is in.
//!
//! MARC-8 is decoded in full, as ISO 2022 with two graphic sets: G0 (bytes 0x21–0x7E,
//! ASCII by default) and G1 (0xA1–0xFE, ANSEL extended Latin by default). Escape sequences
//! lock another set into G0 or G1 until the next one: CJK (EACC, three bytes a character),
//! basic and extended Cyrillic, basic Greek, basic Hebrew, basic and extended Arabic, Greek
//! symbols, subscripts and superscripts. Their code tables (the Library of Congress's,
//! extracted from pymarc by `harvesters/tools/gen_marc8_tables.py`) are a committed binary
//! file searched in place. MARC-8 writes a combining mark *before* its base character,
//! Unicode after it, so marks are moved behind it and the result is put in NFC. A byte that
//! is no character of the set in force, an unknown or cut-off escape sequence, or a field
//! that ends inside an EACC character is an error with its offset, so the record is
//! quarantined rather than garbled.

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

/// The MARC-8 code tables of every set but ASCII: the Library of Congress MARC-8 code tables
/// (MARC 21 specifications, character sets part 3), extracted from pymarc 5.4.0's
/// `marc8_mapping` by `harvesters/tools/gen_marc8_tables.py`, which documents the layout:
/// sorted 8-byte entries of set final byte, 3-byte position (each byte in its 7-bit form),
/// flags (bit 0: combining) and 3-byte Unicode scalar value. A binary search over 130 KB of
/// static bytes costs nothing at start-up and little at compile time, where a `match` over
/// 16,000 EACC characters would cost both.
static MARC8_TABLES: &[u8] = include_bytes!("marc8_tables.bin");
const MARC8_ENTRY_LEN: usize = 8;

/// Basic Latin (ASCII): the default G0 set, decoded directly rather than from the table.
const MARC8_ASCII: u8 = b'B';
/// Extended Latin (ANSEL): the default G1 set.
const MARC8_ANSEL: u8 = b'E';
/// East Asian Character Code (CJK): the only MARC-8 set with more than one byte (three) per
/// character.
const MARC8_EACC: u8 = b'1';

/// The MARC-8 character sets by the final byte of the escape sequence that designates them,
/// or `None` for a final byte that is no MARC-8 set.
fn marc8_set_name(final_byte: u8) -> Option<&'static str> {
    Some(match final_byte {
        MARC8_ASCII => "basic Latin (ASCII)",
        MARC8_ANSEL => "extended Latin (ANSEL)",
        MARC8_EACC => "CJK (EACC)",
        b'N' => "basic Cyrillic",
        b'Q' => "extended Cyrillic",
        b'S' => "basic Greek",
        b'2' => "basic Hebrew",
        b'3' => "basic Arabic",
        b'4' => "extended Arabic",
        b'g' => "Greek symbols",
        b'b' => "subscripts",
        b'p' => "superscripts",
        _ => return None,
    })
}

/// The character at 7-bit `position` of the set `final_byte`, and whether it is a combining
/// mark.
fn marc8_table_entry(final_byte: u8, position: u32) -> Option<(char, bool)> {
    let (entries, _) = MARC8_TABLES.as_chunks::<MARC8_ENTRY_LEN>();
    let key = u32::from(final_byte) << 24 | position;
    let index = entries
        .binary_search_by_key(&key, |&[set, a, b, c, ..]| u32::from_be_bytes([set, a, b, c]))
        .ok()?;
    let &[.., flags, x, y, z] = entries.get(index)?;
    let c = char::from_u32(u32::from_be_bytes([0, x, y, z]))?;
    Some((c, flags & 1 != 0))
}

/// The two graphic sets of ISO 2022 that MARC-8 uses: G0 is reached by the bytes 0x21–0x7E,
/// G1 by 0xA1–0xFE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GraphicSet {
    G0,
    G1,
}

/// Reads the escape sequence at `at` (which holds ESC): the graphic set it designates, the
/// final byte of the set it puts there and the sequence's length.
///
/// MARC-8 has two kinds. ISO 2022 designations are ESC, intermediates, final byte: `(` or `,`
/// designate G0, `)` or `-` G1, and a leading `$` marks a multibyte set (`ESC $ 1`, or
/// `ESC $ , 1`, is EACC as G0); a trailing `!` (as in `ESC ) ! E`, ANSEL's ISO registration)
/// is accepted. MARC's own short forms `ESC g`, `ESC b` and `ESC p` put Greek symbols,
/// subscripts or superscripts in G0, and `ESC s` returns G0 to ASCII. All of them lock: the
/// set stays until the next escape sequence or the end of the field.
fn marc8_escape(bytes: &[u8], at: usize) -> Result<(GraphicSet, u8, usize), String> {
    let rest = bytes.get(at + 1..).unwrap_or_default();
    let intermediates = rest.iter().take_while(|b| (0x20..=0x2F).contains(*b)).count();
    let final_byte = match rest.get(intermediates) {
        Some(&b @ 0x30..=0x7E) => b,
        Some(&b) => {
            return Err(format!(
                "is not valid MARC-8 (escape sequence at offset {at} ends with byte 0x{b:02X})"
            ));
        }
        None => {
            return Err(format!(
                "is not valid MARC-8 (escape sequence at offset {at} is cut off by the end of the field)"
            ));
        }
    };
    let length = intermediates + 2;
    let unknown = || {
        let sequence: String = bytes
            .get(at..at + length)
            .unwrap_or_default()
            .iter()
            .map(|&b| {
                if b == 0x1B {
                    "ESC".to_owned()
                } else {
                    char::from(b).to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        format!("is not valid MARC-8 (unknown escape sequence {sequence} at offset {at})")
    };
    let mut intermediate = rest.get(..intermediates).unwrap_or_default();
    if let [head @ .., b'!'] = intermediate {
        intermediate = head;
    }
    let graphic = match intermediate {
        [] => {
            return match final_byte {
                b's' => Ok((GraphicSet::G0, MARC8_ASCII, length)),
                b'g' | b'b' | b'p' => Ok((GraphicSet::G0, final_byte, length)),
                _ => Err(unknown()),
            };
        }
        [b'(' | b','] | [b'$'] | [b'$', b','] => GraphicSet::G0,
        [b')' | b'-'] | [b'$', b')' | b'-'] => GraphicSet::G1,
        _ => return Err(unknown()),
    };
    if marc8_set_name(final_byte).is_none() {
        return Err(unknown());
    }
    Ok((graphic, final_byte, length))
}

/// Decodes MARC-8 text: ASCII and ANSEL, the default G0 and G1 sets every field starts in,
/// and every other MARC-8 set an escape sequence designates (EACC, Cyrillic, Greek, Hebrew,
/// Arabic, Greek symbols, subscripts, superscripts).
fn decode_marc8(bytes: &[u8]) -> Result<String, String> {
    let mut out = String::with_capacity(bytes.len() + 8);
    // Combining marks read so far, waiting for the character they belong to: MARC-8 writes
    // them before it, Unicode after it.
    let mut pending: Vec<char> = Vec::new();
    let mut g0 = MARC8_ASCII;
    let mut g1 = MARC8_ANSEL;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let set = match b {
            0x1B => {
                let (graphic, set, length) = marc8_escape(bytes, i)?;
                match graphic {
                    GraphicSet::G0 => g0 = set,
                    GraphicSet::G1 => g1 = set,
                }
                i += length;
                continue;
            }
            0x00..=0x1F | 0x7F => {
                // Control bytes (delimiters) end any run of diacritics that had no
                // character: the marks stay in the subfield they were written in.
                out.extend(pending.drain(..));
                out.push(char::from(b));
                i += 1;
                continue;
            }
            0x20 => {
                // Space is one byte in every set, EACC included (no EACC character starts
                // with 0x20), and carries the diacritics written before it.
                out.push(' ');
                out.extend(pending.drain(..));
                i += 1;
                continue;
            }
            0x88 | 0x89 => {
                // Non-sorting begin/end: not text.
                i += 1;
                continue;
            }
            0x8D | 0x8E => {
                out.push(if b == 0x8D { '\u{200D}' } else { '\u{200C}' });
                i += 1;
                continue;
            }
            0x21..=0x7E => g0,
            0xA1..=0xFE => g1,
            _ => return Err(format!("is not valid MARC-8 (byte 0x{b:02X} at offset {i})")),
        };
        let width = if set == MARC8_EACC { 3 } else { 1 };
        let name = || marc8_set_name(set).unwrap_or("unknown");
        let Some(code) = bytes.get(i..i + width) else {
            return Err(format!(
                "is not valid MARC-8 (the field ends inside a {} character at offset {i})",
                name()
            ));
        };
        // Every byte of a character lies in the same half (G0 low, G1 high), and the bytes
        // after the first may be 0x20 but not control bytes.
        let high = b & 0x80;
        let mut position = 0;
        let mut valid = true;
        for &byte in code {
            valid &= byte & 0x80 == high && (0x20..0x7F).contains(&(byte & 0x7F));
            position = position << 8 | u32::from(byte & 0x7F);
        }
        let entry = match set {
            MARC8_ASCII => Some((char::from(b & 0x7F), false)),
            _ if valid => marc8_table_entry(set, position),
            _ => None,
        };
        let Some((c, combining)) = entry else {
            let hex: String = code.iter().map(|b| format!("{b:02X}")).collect();
            return Err(format!(
                "is not valid MARC-8 (0x{hex} at offset {i} is not a character of the {} set)",
                name()
            ));
        };
        if combining {
            pending.push(c);
        } else {
            out.push(c);
            out.extend(pending.drain(..));
        }
        i += width;
    }
    out.extend(pending.drain(..));
    if out.is_ascii() {
        Ok(out)
    } else {
        Ok(out.nfc().collect())
    }
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

    /// 静夜思 and 李白 as EACC triples.
    const JING_YE_SI: &[u8] = b"\x33\x5F\x73\x21\x38\x7E\x21\x3E\x2E";
    const LI_BAI: &[u8] = b"\x21\x43\x73\x21\x4C\x7D";

    fn marc8(parts: &[&[u8]]) -> Result<String, String> {
        Charset::Marc8.decode(&parts.concat())
    }

    #[test]
    fn marc8_eacc_is_decoded_three_bytes_a_character() {
        assert_eq!(marc8(&[b"\x1b$1", JING_YE_SI]).unwrap(), "静夜思");
        // A whole 245 field: ASCII indicators and delimiters, EACC subfields, escapes back
        // to ASCII (ISO 2022 `ESC ( B` and MARC's `ESC s`), the `$,` form of the designation
        // and a one-byte space inside EACC text.
        let field = marc8(&[
            b"10\x1fa\x1b$1",
            JING_YE_SI,
            b"\x1b(B /\x1fc\x1b$,1",
            LI_BAI,
            b" ",
            b"\x21\x43\x21\x21\x43\x5B",
            b"\x1bs (701-762)",
        ])
        .unwrap();
        assert_eq!(field, "10\x1fa静夜思 /\x1fc李白 明月 (701-762)");
        // EACC designated as G1 is reached through the same positions with the high bit set.
        assert_eq!(marc8(&[b"x\x1b$)1\xB3\xDF\xF3y"]).unwrap(), "x静y");
        // The default G1 (ANSEL) still works while EACC is G0.
        assert_eq!(marc8(&[b"\x1b$1", LI_BAI, b"\xA1"]).unwrap(), "李白Ł");
    }

    #[test]
    fn marc8_cyrillic_greek_hebrew_arabic_and_the_small_sets() {
        assert_eq!(
            marc8(&[b"\x1b(N\x6D\x4F\x53\x4B\x57\x41\x1b(B 1990"]).unwrap(),
            "Москва 1990"
        );
        // Extended Cyrillic as G1, next to basic Cyrillic as G0.
        assert_eq!(marc8(&[b"\x1b(N\x49\x1b)Q\xC1\xC4"]).unwrap(), "иђё");
        assert_eq!(marc8(&[b"\x1b(S\x52\x6F\x6A\x75\x72\x77"]).unwrap(), "Ομηρος");
        assert_eq!(marc8(&[b"\x1b(2\x79\x6C\x65\x6D"]).unwrap(), "שלום");
        assert_eq!(marc8(&[b"\x1b(3\x63\x4A\x47\x48"]).unwrap(), "كتاب");
        assert_eq!(marc8(&[b"H\x1bb\x32\x1bsO x\x1bp\x32"]).unwrap(), "H₂O x²");
        assert_eq!(marc8(&[b"\x1bg\x61\x62\x63\x1bs!"]).unwrap(), "αβγ!");
        // ANSEL designated with the ISO registration's extra `!`.
        assert_eq!(marc8(&[b"\x1b(N\x49\x1b)!E\xA1"]).unwrap(), "иŁ");
    }

    #[test]
    fn marc8_combining_marks_follow_their_base_in_every_set() {
        // Greek's own combining acute (0x22) before alpha; ANSEL's breve (G1) before
        // Cyrillic и; a Hebrew point (patah, 0x40) before bet, which has no precomposed form.
        assert_eq!(marc8(&[b"\x1b(S\x22\x61"]).unwrap(), "\u{3AC}");
        assert_eq!(marc8(&[b"\x1b(N\xE6\x49"]).unwrap(), "й");
        assert_eq!(marc8(&[b"\x1b(2\x40\x61"]).unwrap(), "\u{5D1}\u{5B7}");
        // A mark with no base before a delimiter stays in its own subfield.
        assert_eq!(marc8(&[b"1\xE2\x1fbc"]).unwrap(), "1\u{301}\x1fbc");
    }

    #[test]
    fn marc8_invalid_bytes_and_escapes_are_errors_with_offsets() {
        let err = marc8(&[b"ab\x1b$1\x7E\x7E\x7E"]).unwrap_err();
        assert!(
            err.contains("0x7E7E7E at offset 5") && err.contains("CJK (EACC)"),
            "{err}"
        );
        let err = marc8(&[b"ab\x1b$1\x21\x30"]).unwrap_err();
        assert!(
            err.contains("ends inside a CJK (EACC) character at offset 5"),
            "{err}"
        );
        // A delimiter cannot be part of an EACC character.
        let err = marc8(&[b"\x1b$1\x21\x1f\x21"]).unwrap_err();
        assert!(err.contains("0x211F21 at offset 3"), "{err}");
        let err = marc8(&[b"abc\x1b$"]).unwrap_err();
        assert!(err.contains("offset 3 is cut off"), "{err}");
        let err = marc8(&[b"abc\x1b"]).unwrap_err();
        assert!(err.contains("offset 3 is cut off"), "{err}");
        let err = marc8(&[b"ab\x1b(\x1fa"]).unwrap_err();
        assert!(err.contains("offset 2 ends with byte 0x1F"), "{err}");
        let err = marc8(&[b"\x1b(Z"]).unwrap_err();
        assert!(
            err.contains("unknown escape sequence ESC ( Z at offset 0"),
            "{err}"
        );
        let err = marc8(&[b"\x1bN\x41"]).unwrap_err();
        assert!(err.contains("unknown escape sequence ESC N"), "{err}");
        // A position the set leaves empty.
        let err = marc8(&[b"\x1bg\x64"]).unwrap_err();
        assert!(
            err.contains("0x64 at offset 2 is not a character of the Greek symbols set"),
            "{err}"
        );
        let err = marc8(&[b"abc\xFF"]).unwrap_err();
        assert!(err.contains("0xFF at offset 3"), "{err}");
    }

    #[test]
    fn marc8_tables_are_sorted_and_complete() {
        let (entries, rest) = MARC8_TABLES.as_chunks::<MARC8_ENTRY_LEN>();
        assert!(rest.is_empty());
        let keys: Vec<u32> = entries
            .iter()
            .map(|&[set, a, b, c, ..]| u32::from_be_bytes([set, a, b, c]))
            .collect();
        assert!(
            keys.windows(2).all(|w| w[0] < w[1]),
            "entries not strictly sorted"
        );
        let eacc = entries.iter().filter(|e| e[0] == MARC8_EACC).count();
        assert_eq!(eacc, 15_739);
        assert!(entries.iter().all(|e| marc8_set_name(e[0]).is_some()));
        assert_eq!(marc8_table_entry(MARC8_EACC, 0x213064), Some(('人', false)));
        assert_eq!(marc8_table_entry(MARC8_ANSEL, 0x62), Some(('\u{301}', true)));
        assert_eq!(marc8_table_entry(MARC8_EACC, 0x7E7E7E), None);
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
