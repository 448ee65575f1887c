//! The MQTT topics of one rider: what it reports on and where it receives its assignments.

/// The MQTT topic riders report on.
pub fn rider_events(rider: &str) -> String {
    format!("omo/v1/riders/{rider}/events")
}

/// The MQTT topic a rider receives assignments on.
pub fn rider_dispatch(rider: &str) -> String {
    format!("omo/v1/riders/{rider}/dispatch")
}
