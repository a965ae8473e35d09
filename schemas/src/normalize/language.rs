//! Language names and codes to ISO 639.

/// Languages by ISO 639-1 code (or ISO 639-2/3 where there is no 639-1 code), with the
/// names and codes sources use for them: ISO 639-2/B and /T, ISO 639-3, English and Chinese
/// names. Matching is case-insensitive.
const LANGUAGES: &[(&str, &[&str])] = &[
    (
        "zh",
        &[
            "zh",
            "chi",
            "zho",
            "cmn",
            "chinese",
            "mandarin",
            "中文",
            "汉语",
            "汉文",
            "华语",
            "普通话",
            "中文简体",
            "简体中文",
            "中文繁体",
            "繁体中文",
            "国语",
        ],
    ),
    ("en", &["en", "eng", "english", "英文", "英语"]),
    ("bo", &["bo", "tib", "bod", "tibetan", "藏文", "藏语"]),
    (
        "mn",
        &[
            "mn",
            "mon",
            "khk",
            "mongolian",
            "蒙古文",
            "蒙文",
            "蒙古语",
            "蒙语",
        ],
    ),
    (
        "ug",
        &[
            "ug",
            "uig",
            "uighur",
            "uyghur",
            "维吾尔文",
            "维吾尔语",
            "维文",
            "维语",
        ],
    ),
    ("kk", &["kk", "kaz", "kazakh", "哈萨克文", "哈萨克语"]),
    ("ii", &["ii", "iii", "yi", "nuosu", "彝文", "彝语"]),
    ("za", &["za", "zha", "zhuang", "壮文", "壮语"]),
    ("ko", &["ko", "kor", "korean", "朝鲜文", "朝鲜语", "韩文", "韩语"]),
    ("ja", &["ja", "jpn", "japanese", "日文", "日语"]),
    ("ru", &["ru", "rus", "russian", "俄文", "俄语"]),
    ("fr", &["fr", "fre", "fra", "french", "法文", "法语"]),
    ("de", &["de", "ger", "deu", "german", "德文", "德语"]),
    ("es", &["es", "spa", "spanish", "西班牙文", "西班牙语"]),
    ("it", &["it", "ita", "italian", "意大利文", "意大利语"]),
    ("ar", &["ar", "ara", "arabic", "阿拉伯文", "阿拉伯语"]),
    ("la", &["la", "lat", "latin", "拉丁文", "拉丁语"]),
    ("sa", &["sa", "san", "sanskrit", "梵文", "梵语"]),
    ("mnc", &["mnc", "manchu", "满文", "满语"]),
    ("txg", &["txg", "tangut", "西夏文"]),
    (
        "lzh",
        &["lzh", "literary chinese", "classical chinese", "文言文", "古汉语"],
    ),
    ("mul", &["mul", "multiple languages", "多语种", "多语言"]),
    ("und", &["und", "undetermined", "未知"]),
];

/// Normalises a language name or code: ISO 639-1/2/3 codes, BCP 47 tags (`zh-CN`,
/// `zh-Hans`) and English or Chinese names become the ISO 639-1 code where one exists
/// (`zh`, `en`, `bo`, `mn`, `ug`, …), else the ISO 639-2/3 code (`mnc` for Manchu). Anything
/// else is kept, trimmed and lowercased.
///
/// ```
/// use jincheng_schemas::normalize_language;
/// assert_eq!(normalize_language("chi"), "zh");
/// assert_eq!(normalize_language("zh-Hans-CN"), "zh");
/// assert_eq!(normalize_language("藏文"), "bo");
/// assert_eq!(normalize_language("Klingon"), "klingon");
/// ```
pub fn normalize_language(text: &str) -> String {
    let lower = text.trim().to_lowercase();
    if let Some(code) = lookup(&lower) {
        return code.to_owned();
    }
    // A BCP 47 tag: the primary subtag decides (`zh-CN`, `en_US`, `zh-Hant-TW`).
    if let Some((primary, _)) = lower.split_once(['-', '_'])
        && primary.len() <= 3
        && primary.bytes().all(|b| b.is_ascii_lowercase())
        && let Some(code) = lookup(primary)
    {
        return code.to_owned();
    }
    lower
}

fn lookup(lower: &str) -> Option<&'static str> {
    LANGUAGES
        .iter()
        .find(|(_, names)| names.contains(&lower))
        .map(|(code, _)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_become_iso_639() {
        for (text, want) in [
            ("chi", "zh"),
            ("ZHO", "zh"),
            ("zh", "zh"),
            ("中文", "zh"),
            (" 汉语 ", "zh"),
            ("zh-CN", "zh"),
            ("zh_TW", "zh"),
            ("zh-Hant-TW", "zh"),
            ("eng", "en"),
            ("EN", "en"),
            ("en-US", "en"),
            ("Tib", "bo"),
            ("bod", "bo"),
            ("藏文", "bo"),
            ("mon", "mn"),
            ("蒙古文", "mn"),
            ("uig", "ug"),
            ("维吾尔文", "ug"),
            ("jpn", "ja"),
            ("fre", "fr"),
            ("满文", "mnc"),
            ("西夏文", "txg"),
            ("Klingon", "klingon"),
            ("x-private", "x-private"),
            ("", ""),
        ] {
            assert_eq!(normalize_language(text), want, "{text:?}");
        }
    }
}
