//! Controlled vocabularies: institution types, resource types, Lanzhou's districts, levels.
//!
//! Each term has a stable machine value (what the API and the config use) and a Chinese
//! label (what citizens see). Parsing accepts both, so a curator's CSV saying `博物馆` and a
//! config saying `museum` mean the same thing.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A term that is not in a controlled vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {vocabulary} {term:?}; expected one of: {expected}")]
pub struct UnknownTerm {
    /// Which vocabulary was asked (`institution type`, `district`, …).
    pub vocabulary: &'static str,
    /// The term as given.
    pub term: String,
    /// The accepted machine values, comma separated.
    pub expected: String,
}

/// Declares a vocabulary enum with machine values, Chinese labels and extra aliases.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident, $vocab:literal {
            $($(#[$vmeta:meta])* $variant:ident = $value:literal, $label:literal $(| $alias:literal)*;)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $value)] $variant,)+
        }

        impl $name {
            /// Every term, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable machine value used in the API, the config and the index.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $value,)+ }
            }

            /// The Chinese label shown to people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownTerm;

            /// Accepts the machine value, the Chinese label or a known alias.
            fn from_str(s: &str) -> Result<Self, UnknownTerm> {
                let s = s.trim();
                $(
                    if s.eq_ignore_ascii_case($value) || s == $label $(|| s.eq_ignore_ascii_case($alias))* {
                        return Ok($name::$variant);
                    }
                )+
                Err(UnknownTerm {
                    vocabulary: $vocab,
                    term: s.to_string(),
                    expected: [$($value),+].join(", "),
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use vocabulary;

vocabulary! {
    /// What kind of public cultural institution holds a record.
    InstitutionType, "institution type" {
        Library = "library", "图书馆";
        Museum = "museum", "博物馆" | "纪念馆";
        ArtGallery = "art_gallery", "美术馆" | "art gallery" | "画院";
        CulturalCentre = "cultural_centre", "文化馆" | "cultural center" | "文化中心" | "文化站";
    }
}

vocabulary! {
    /// Lanzhou's five districts, three counties and the new area. Serialised by Chinese name,
    /// which is how every Lanzhou system writes them.
    District, "district" {
        Chengguan = "城关区", "城关区" | "chengguan";
        Qilihe = "七里河区", "七里河区" | "qilihe";
        Xigu = "西固区", "西固区" | "xigu";
        Anning = "安宁区", "安宁区" | "anning";
        Honggu = "红古区", "红古区" | "honggu";
        Yongdeng = "永登县", "永登县" | "yongdeng";
        Gaolan = "皋兰县", "皋兰县" | "gaolan";
        Yuzhong = "榆中县", "榆中县" | "yuzhong";
        LanzhouNewArea = "兰州新区", "兰州新区" | "lanzhou new area" | "xinqu";
    }
}

vocabulary! {
    /// The administrative level of an institution, from the province (甘肃省图书馆, whose
    /// collections serve Lanzhou too) down to villages.
    #[derive(Default)]
    Level, "level" {
        Province = "province", "省级";
        #[default]
        City = "city", "市级";
        County = "county", "县区级" | "district";
        Township = "township", "乡镇（街道）" | "乡镇" | "街道";
        Village = "village", "村（社区）" | "村" | "社区";
    }
}

vocabulary! {
    /// What a record describes. Harvesters map source terms here and keep the original in
    /// [`crate::Record::resource_type_original`].
    #[derive(Default)]
    ResourceType, "resource type" {
        Book = "book", "图书" | "text" | "专著" | "普通图书" | "monograph";
        AncientBook = "ancient_book", "古籍" | "线装书";
        Periodical = "periodical", "期刊" | "报纸" | "serial" | "newspaper";
        Manuscript = "manuscript", "手稿" | "写本" | "档案";
        Rubbing = "rubbing", "拓片" | "碑帖";
        Map = "map", "地图" | "舆图";
        Image = "image", "图像" | "照片" | "still image" | "stillimage" | "photograph";
        Artefact = "artefact", "文物" | "藏品" | "physical object" | "physicalobject" | "object" | "artifact";
        Artwork = "artwork", "艺术品" | "美术作品" | "书画" | "绘画" | "书法";
        Audio = "audio", "音频" | "sound" | "有声读物";
        Video = "video", "视频" | "moving image" | "movingimage";
        Event = "event", "活动" | "展览" | "讲座" | "演出";
        #[default]
        Other = "other", "其他";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_parse_from_value_label_and_alias() {
        assert_eq!("museum".parse::<InstitutionType>(), Ok(InstitutionType::Museum));
        assert_eq!("博物馆".parse::<InstitutionType>(), Ok(InstitutionType::Museum));
        assert_eq!(
            "Cultural Center".parse::<InstitutionType>(),
            Ok(InstitutionType::CulturalCentre)
        );
        assert_eq!("榆中县".parse::<District>(), Ok(District::Yuzhong));
        assert_eq!("拓片".parse::<ResourceType>(), Ok(ResourceType::Rubbing));
    }

    #[test]
    fn unknown_term_names_the_choices() {
        let err = "zoo".parse::<InstitutionType>().unwrap_err();
        assert_eq!(err.term, "zoo");
        assert!(
            err.to_string()
                .contains("library, museum, art_gallery, cultural_centre")
        );
    }

    #[test]
    fn nine_districts_serialise_by_chinese_name() {
        assert_eq!(District::ALL.len(), 9);
        for d in District::ALL {
            let json = serde_json::to_string(d).unwrap();
            assert_eq!(json, format!("\"{}\"", d.label()));
            assert_eq!(d.as_str().parse::<District>(), Ok(*d));
        }
    }
}
