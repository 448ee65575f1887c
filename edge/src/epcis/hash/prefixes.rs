//! Identifiers and vocabulary normalised for the hash: CURIE prefixes (GS1's standard ones and
//! those the event's `@context` defines), bare CBV words as their Web URIs, EPC URNs as
//! canonical Digital Links.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::epcis::digital_link::{constrain_digital_link, epc_urn_to_digital_link};

/// CURIE prefixes: GS1's standard ones and those the event's `@context` defines.
pub(super) struct Prefixes(BTreeMap<String, String>);

impl Prefixes {
    pub(super) fn from_context(context: Option<&Value>) -> Prefixes {
        let mut map: BTreeMap<String, String> = [
            ("gs1", "https://gs1.org/voc/"),
            ("cbv", "https://ref.gs1.org/cbv/"),
            ("epcis", "https://ref.gs1.org/epcis/"),
            ("cbvmda", "urn:epcglobal:cbv:mda:"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut add = |object: &Map<String, Value>| {
            for (k, v) in object {
                if let Some(iri) = v.as_str().or_else(|| v.get("@id").and_then(Value::as_str)) {
                    map.insert(k.clone(), iri.to_string());
                }
            }
        };
        match context {
            Some(Value::Object(object)) => add(object),
            Some(Value::Array(values)) => values
                .iter()
                .filter_map(Value::as_object)
                .for_each(&mut add),
            _ => {}
        }
        Prefixes(map)
    }

    /// A CBV value: bare words become `https://ref.gs1.org/cbv/{kind}{word}`.
    pub(super) fn vocab(&self, value: &str, kind: &str) -> String {
        let value = value.trim();
        if !value.contains(':') && !value.is_empty() {
            return format!("https://ref.gs1.org/cbv/{kind}{value}");
        }
        self.id(value)
    }

    /// A sensor measurement type: bare words are GS1 Web Vocabulary terms.
    pub(super) fn measurement(&self, value: &str) -> String {
        let value = value.trim();
        if !value.contains(':') && !value.is_empty() {
            return format!("https://gs1.org/voc/{value}");
        }
        self.id(value)
    }

    /// An identifier or other URI value, normalised.
    pub(super) fn id(&self, value: &str) -> String {
        let value = value.trim();
        if let Some(rest) = value.strip_prefix("urn:epcglobal:cbv:") {
            for (urn, web) in [
                ("bizstep:", "BizStep-"),
                ("disp:", "Disp-"),
                ("btt:", "BTT-"),
                ("sdt:", "SDT-"),
                ("er:", "ER-"),
            ] {
                if let Some(word) = rest.strip_prefix(urn) {
                    return format!("https://ref.gs1.org/cbv/{web}{word}");
                }
            }
            return value.to_string();
        }
        if value.starts_with("urn:epc:") {
            return epc_urn_to_digital_link(value).unwrap_or_else(|| value.to_string());
        }
        if value.starts_with("http://") || value.starts_with("https://") {
            return constrain_digital_link(value).unwrap_or_else(|| value.to_string());
        }
        if let Some((prefix, local)) = value.split_once(':')
            && let Some(iri) = self.0.get(prefix)
            && !local.starts_with("//")
        {
            return format!("{iri}{local}");
        }
        value.to_string()
    }

    /// `prefix:local` as `{namespace}local` (a namespace's trailing `:` dropped).
    pub(super) fn element_name(&self, key: &str) -> String {
        if let Some((prefix, local)) = key.split_once(':')
            && let Some(iri) = self.0.get(prefix)
        {
            return format!("{{{}}}{local}", iri.trim_end_matches(':'));
        }
        key.to_string()
    }
}
