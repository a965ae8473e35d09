//! Parse + map throughput of the MARC readers on about 10 MB of generated records each:
//! MARC21 ISO 2709 (UTF-8), CNMARC ISO 2709 (GB18030) and MARCXML.
//!
//! `cargo bench -p jincheng-harvesters --bench marc`; criterion reports throughput in MiB/s
//! (the middle figure of `thrpt` is its point estimate). The records are shaped like the
//! peers' synthetic Chinese catalogue (title, names, ISBN, publication, extent, summary,
//! subjects, 中图法 class, holdings), made here from a fixed seed so the bench needs nothing
//! outside the repository.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use encoding_rs::GB18030;
use jincheng_harvesters::{ItemOutcome, MarcFormat, MarcOptions, read_iso2709, read_marcxml};

const TARGET_BYTES: usize = 10 * 1024 * 1024;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let n = items.len() as u64;
        items[(self.next() % n) as usize]
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const PLACES: &[&str] = &["敦煌", "江南", "长安", "洛阳", "徽州", "兰州", "金陵", "巴蜀"];
const PERIODS: &[&str] = &["先秦", "秦汉", "隋唐", "宋代", "明代", "清代", "民国"];
const TOPICS: &[(&str, &str)] = &[
    ("瓷器", "K876.3"),
    ("书法", "J292.1"),
    ("唐诗", "I222.742"),
    ("园林", "TU986.62"),
];
const NAMES: &[&str] = &["王伟", "李静", "张明远", "刘晓燕", "陈思", "欧阳海"];
const BRANCHES: &[&str] = &["总馆", "七里河分馆", "安宁分馆", "少儿分馆"];

/// One generated record: (tag, indicators, subfields) or (tag, control data).
type Fields = Vec<(&'static str, Option<&'static str>, Vec<(char, String)>)>;

fn record(rng: &mut Rng, n: usize, unimarc: bool) -> Fields {
    let place = rng.pick(PLACES);
    let period = rng.pick(PERIODS);
    let (topic, clc) = TOPICS[rng.below(TOPICS.len() as u64) as usize];
    let title = format!("{place}{period}{topic}研究");
    let author = rng.pick(NAMES).to_owned();
    let year = 1990 + rng.below(35);
    let summary = format!(
        "本书系统梳理了{period}{place}{topic}的发展脉络与地域特征。全书收录相关文物与文献图版{}余幅，并附详细考释与年表。\
         作者结合近年考古新发现与传世文献，对{topic}的源流、工艺与审美作了深入探讨。",
        rng.below(800)
    );
    let isbn = "9787101000016".to_owned();
    let control = |tag, data: String| (tag, None, vec![(' ', data)]);
    let mut fields: Fields = vec![
        control("001", format!("B{n:08}")),
        control("005", "20240519031842.0".into()),
    ];
    let holdings = 1 + rng.below(3) as usize;
    if unimarc {
        fields.push(("010", Some("  "), vec![('a', isbn), ('d', "CNY38.00".into())]));
        fields.push((
            "100",
            Some("  "),
            vec![('a', "20240519d2001    em y0chiy0120    ea".into())],
        ));
        fields.push(("101", Some("0 "), vec![('a', "chi".into())]));
        fields.push((
            "200",
            Some("1 "),
            vec![('a', title), ('f', format!("{author}著"))],
        ));
        fields.push((
            "210",
            Some("  "),
            vec![
                ('a', "北京".into()),
                ('c', "中华书局".into()),
                ('d', year.to_string()),
            ],
        ));
        fields.push((
            "215",
            Some("  "),
            vec![('a', "430页".into()), ('c', "图".into()), ('d', "29cm".into())],
        ));
        fields.push(("330", Some("  "), vec![('a', summary)]));
        fields.push((
            "606",
            Some("0 "),
            vec![
                ('a', topic.into()),
                ('x', "研究".into()),
                ('y', "中国".into()),
                ('z', period.into()),
            ],
        ));
        fields.push(("690", Some("  "), vec![('a', clc.into()), ('v', "5".into())]));
        fields.push(("701", Some(" 0"), vec![('a', author), ('4', "著".into())]));
        for h in 0..holdings {
            fields.push((
                "905",
                Some("  "),
                vec![
                    ('a', format!("B{h}")),
                    ('b', format!("BC{n:08}{h}")),
                    ('d', clc.into()),
                    ('e', "12".into()),
                ],
            ));
        }
    } else {
        fields.push((
            "008",
            None,
            vec![(' ', "240519s2001    cc a          001 0 chi d".into())],
        ));
        fields.push(("020", Some("  "), vec![('a', isbn), ('c', "CNY38.00".into())]));
        fields.push(("084", Some("  "), vec![('a', clc.into()), ('2', "clc".into())]));
        fields.push(("100", Some("0 "), vec![('a', author.clone()), ('e', "著".into())]));
        fields.push((
            "245",
            Some("10"),
            vec![('a', format!("{title} /")), ('c', format!("{author}著"))],
        ));
        fields.push((
            "260",
            Some("  "),
            vec![
                ('a', "北京 :".into()),
                ('b', "中华书局,".into()),
                ('c', year.to_string()),
            ],
        ));
        fields.push((
            "300",
            Some("  "),
            vec![
                ('a', "430页 :".into()),
                ('b', "图 ;".into()),
                ('c', "29cm".into()),
            ],
        ));
        fields.push(("520", Some("  "), vec![('a', summary)]));
        fields.push((
            "650",
            Some(" 7"),
            vec![
                ('a', topic.into()),
                ('x', "研究".into()),
                ('z', "中国".into()),
                ('y', period.into()),
            ],
        ));
        for _ in 0..holdings {
            let branch = rng.pick(BRANCHES);
            fields.push((
                "852",
                Some("  "),
                vec![
                    ('b', branch.into()),
                    ('h', clc.into()),
                    ('i', "12".into()),
                    ('p', format!("BC{n:08}")),
                    ('z', "在架".into()),
                ],
            ));
        }
    }
    fields
}

fn iso2709(fields: &Fields, leader: &str, gb18030: bool) -> Vec<u8> {
    let encode = |text: &str| -> Vec<u8> {
        if gb18030 {
            GB18030.encode(text).0.into_owned()
        } else {
            text.as_bytes().to_vec()
        }
    };
    let (mut directory, mut data) = (Vec::new(), Vec::new());
    for (tag, indicators, subfields) in fields {
        let start = data.len();
        match indicators {
            None => data.extend(encode(&subfields[0].1)),
            Some(indicators) => {
                data.extend_from_slice(indicators.as_bytes());
                for (code, value) in subfields {
                    data.push(0x1F);
                    data.push(*code as u8);
                    data.extend(encode(value));
                }
            }
        }
        data.push(0x1E);
        directory.extend_from_slice(format!("{tag}{:04}{start:05}", data.len() - start).as_bytes());
    }
    directory.push(0x1E);
    let base = 24 + directory.len();
    let total = base + data.len() + 1;
    let mut out = format!("{total:05}{}{base:05}{}", &leader[5..12], &leader[17..]).into_bytes();
    out.extend(directory);
    out.extend(data);
    out.push(0x1D);
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;")
}

fn marcxml(fields: &Fields, leader: &str) -> String {
    let mut out = format!("<record><leader>{leader}</leader>");
    for (tag, indicators, subfields) in fields {
        match indicators {
            None => out.push_str(&format!(
                r#"<controlfield tag="{tag}">{}</controlfield>"#,
                escape(&subfields[0].1)
            )),
            Some(ind) => {
                let (i1, i2) = ind.split_at(1);
                out.push_str(&format!(r#"<datafield tag="{tag}" ind1="{i1}" ind2="{i2}">"#));
                for (code, value) in subfields {
                    out.push_str(&format!(
                        r#"<subfield code="{code}">{}</subfield>"#,
                        escape(value)
                    ));
                }
                out.push_str("</datafield>");
            }
        }
    }
    out.push_str("</record>\n");
    out
}

struct Corpus {
    marc21: Vec<u8>,
    cnmarc_gb18030: Vec<u8>,
    marcxml: Vec<u8>,
}

fn corpus() -> Corpus {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut marc21, mut cnmarc, mut xml) = (Vec::new(), Vec::new(), String::new());
    xml.push_str(
        r#"<?xml version="1.0" encoding="UTF-8"?><collection xmlns="http://www.loc.gov/MARC21/slim">"#,
    );
    let mut n = 0;
    while marc21.len() < TARGET_BYTES || cnmarc.len() < TARGET_BYTES || xml.len() < TARGET_BYTES {
        n += 1;
        let m21 = record(&mut rng, n, false);
        if marc21.len() < TARGET_BYTES {
            marc21.extend(iso2709(&m21, "00000nam a2200000 i 4500", false));
        }
        if xml.len() < TARGET_BYTES {
            xml.push_str(&marcxml(&m21, "00000nam a2200000 i 4500"));
        }
        if cnmarc.len() < TARGET_BYTES {
            cnmarc.extend(iso2709(
                &record(&mut rng, n, true),
                "00000nam0 2200000   450 ",
                true,
            ));
        }
    }
    xml.push_str("</collection>");
    Corpus {
        marc21,
        cnmarc_gb18030: cnmarc,
        marcxml: xml.into_bytes(),
    }
}

/// Reads everything and checks that every record was mapped (a bench of quarantines would
/// measure the wrong thing).
fn mapped(items: impl Iterator<Item = jincheng_harvesters::HarvestedItem>) -> usize {
    let mut count = 0;
    for item in items {
        assert!(
            matches!(item.outcome, ItemOutcome::Record(_)),
            "{:?}",
            item.outcome
        );
        count += 1;
        black_box(item);
    }
    count
}

fn bench(c: &mut Criterion) {
    let corpus = corpus();
    let options = |format| MarcOptions {
        format,
        source_id: "bench".into(),
        institution: "lzlib".into(),
        ..MarcOptions::default()
    };
    let marc21 = options(MarcFormat::Marc21);
    let cnmarc = options(MarcFormat::Cnmarc);
    let mut group = c.benchmark_group("marc parse+map");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(10));

    group.throughput(Throughput::Bytes(corpus.marc21.len() as u64));
    group.bench_function("iso2709 marc21 utf-8", |b| {
        b.iter(|| mapped(read_iso2709(black_box(&corpus.marc21), &marc21)))
    });

    group.throughput(Throughput::Bytes(corpus.cnmarc_gb18030.len() as u64));
    group.bench_function("iso2709 cnmarc gb18030", |b| {
        b.iter(|| mapped(read_iso2709(black_box(&corpus.cnmarc_gb18030), &cnmarc)))
    });

    group.throughput(Throughput::Bytes(corpus.marcxml.len() as u64));
    group.bench_function("marcxml marc21", |b| {
        b.iter(|| mapped(read_marcxml(black_box(&corpus.marcxml), &marc21)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
