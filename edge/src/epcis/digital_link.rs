//! GS1 identifiers as the event hash needs them (pure): EPC URNs (`urn:epc:id:sgtin:...`) turned
//! into canonical GS1 Digital Link URIs, and Digital Link URIs constrained to `https://id.gs1.org`
//! with only the qualifiers the hash keeps.

/// GS1 keys (AIs) a Digital Link path may start with, and the qualifiers kept after each.
const DL_KEYS: &[(&str, &[&str])] = &[
    ("00", &[]),
    ("01", &["21", "10", "235"]),
    ("253", &[]),
    ("255", &[]),
    ("401", &[]),
    ("402", &[]),
    ("414", &["254"]),
    ("417", &[]),
    ("8003", &[]),
    ("8004", &[]),
    ("8006", &["21", "10"]),
    ("8010", &["8011"]),
    ("8017", &[]),
    ("8018", &[]),
];

/// A GS1 Digital Link URI on any domain, as a constrained canonical one (`https://id.gs1.org`,
/// no query string, only the most fine-grained key qualifier). None if it is not Digital Link.
pub fn constrain_digital_link(uri: &str) -> Option<String> {
    let rest = uri
        .strip_prefix("https://")
        .or_else(|| uri.strip_prefix("http://"))?;
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (_, path) = rest.split_once('/')?;
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // The primary key may follow a path prefix of the domain's own: find the first key AI.
    let start = segments
        .iter()
        .position(|s| DL_KEYS.iter().any(|(k, _)| k == s))?;
    let segments = &segments[start..];
    if segments.len() < 2 || !segments.len().is_multiple_of(2) {
        return None;
    }
    let (key, qualifiers) = DL_KEYS.iter().find(|(k, _)| *k == segments[0])?;
    let mut value = segments[1].to_string();
    if *key == "01" && value.len() < 14 && value.bytes().all(|b| b.is_ascii_digit()) {
        value = format!("{value:0>14}");
    }
    let mut out = format!("https://id.gs1.org/{key}/{value}");
    // Keep the first allowed qualifier present (the finest level of identification).
    let pairs: Vec<(&str, &str)> = segments[2..]
        .chunks(2)
        .map(|pair| (pair[0], pair[1]))
        .collect();
    for q in qualifiers.iter() {
        if let Some((_, v)) = pairs.iter().find(|(ai, _)| ai == q) {
            out.push_str(&format!("/{q}/{v}"));
            break;
        }
    }
    Some(out)
}

/// An EPC pure-identity or class URN as a canonical GS1 Digital Link URI (sgtin, sscc, sgln,
/// lgtin, pgln, giai). None for other schemes.
pub fn epc_urn_to_digital_link(urn: &str) -> Option<String> {
    let (scheme, body) = urn
        .strip_prefix("urn:epc:id:")
        .or_else(|| urn.strip_prefix("urn:epc:class:"))?
        .split_once(':')?;
    let parts: Vec<&str> = body.split('.').collect();
    let dl = |path: String| Some(format!("https://id.gs1.org/{path}"));
    match (scheme, parts.as_slice()) {
        ("sgtin", [company, item, serial]) => {
            dl(format!("01/{}/21/{serial}", gtin_of(company, item)?))
        }
        ("lgtin", [company, item, lot]) => dl(format!("01/{}/10/{lot}", gtin_of(company, item)?)),
        ("sscc", [company, serial]) => {
            let (ext, rest) = serial.split_at(serial.len().min(1));
            dl(format!(
                "00/{}",
                with_check_digit(&format!("{ext}{company}{rest}"))?
            ))
        }
        ("sgln", [company, location, extension]) => {
            let gln = with_check_digit(&format!("{company}{location}"))?;
            if *extension == "0" || extension.is_empty() {
                dl(format!("414/{gln}"))
            } else {
                dl(format!("414/{gln}/254/{extension}"))
            }
        }
        ("pgln", [company, party]) => dl(format!(
            "417/{}",
            with_check_digit(&format!("{company}{party}"))?
        )),
        ("giai", [company, asset]) => dl(format!("8004/{company}{asset}")),
        _ => None,
    }
}

fn gtin_of(company: &str, item: &str) -> Option<String> {
    let (indicator, rest) = item.split_at(item.len().min(1));
    with_check_digit(&format!("{indicator}{company}{rest}"))
}

pub(crate) use omo_contract::gs1::with_check_digit;
