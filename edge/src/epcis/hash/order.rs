//! The canonical property orders of the pre-hash string: the event's standard fields (after
//! `eventType`) with how each is written, the fields left out, and the orders within a sensor
//! element's metadata and reports.

/// How a standard field is written.
#[derive(Clone, Copy)]
pub(super) enum Shape {
    Time,
    Plain,
    Id,
    Vocab(&'static str),
    Epcs,
    Quantities,
    Persistent,
    Place,
    Typed(&'static str),
    Sensors,
    Ilmd,
}

/// The canonical property order (after `eventType`).
pub(super) const ORDER: &[(&str, Shape)] = &[
    ("eventTime", Shape::Time),
    ("eventTimeZoneOffset", Shape::Plain),
    ("epcList", Shape::Epcs),
    ("parentID", Shape::Id),
    ("inputEPCList", Shape::Epcs),
    ("childEPCs", Shape::Epcs),
    ("quantityList", Shape::Quantities),
    ("childQuantityList", Shape::Quantities),
    ("inputQuantityList", Shape::Quantities),
    ("outputEPCList", Shape::Epcs),
    ("outputQuantityList", Shape::Quantities),
    ("action", Shape::Plain),
    ("transformationID", Shape::Id),
    ("bizStep", Shape::Vocab("BizStep-")),
    ("disposition", Shape::Vocab("Disp-")),
    ("persistentDisposition", Shape::Persistent),
    ("readPoint", Shape::Place),
    ("bizLocation", Shape::Place),
    ("bizTransactionList", Shape::Typed("bizTransaction")),
    ("sourceList", Shape::Typed("source")),
    ("destinationList", Shape::Typed("destination")),
    ("sensorElementList", Shape::Sensors),
    ("ilmd", Shape::Ilmd),
];

/// Fields that are not part of the hash (metadata set downstream, or left out: see the module doc).
pub(super) const IGNORED: &[&str] = &[
    "@context",
    "type",
    "eventID",
    "recordTime",
    "certificationInfo",
    "errorDeclaration",
];

pub(super) const SENSOR_METADATA: &[&str] = &[
    "time",
    "startTime",
    "endTime",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "bizRules",
];

pub(super) const SENSOR_REPORT: &[&str] = &[
    "type",
    "exception",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "time",
    "microorganism",
    "chemicalSubstance",
    "value",
    "component",
    "stringValue",
    "booleanValue",
    "hexBinaryValue",
    "uriValue",
    "minValue",
    "maxValue",
    "meanValue",
    "sDev",
    "percRank",
    "percValue",
    "uom",
    "coordinateReferenceSystem",
];
