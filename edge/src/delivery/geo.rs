//! Distances and directions on the WGS 84 ellipsoid. Pure.
//!
//! Distances are geodesics computed with Karney's algorithms (`geographiclib-rs`, a port of
//! GeographicLib): accurate to about 15 nm anywhere on earth, including nearly antipodal points
//! where Vincenty's iteration fails to converge. Delivery needs metres; the margin is there so
//! that a refusal at 3000.4 m is a fact about the address, not about the formula.

use std::sync::LazyLock;

use geographiclib_rs::{DirectGeodesic, Geodesic, InverseGeodesic};
use serde::{Deserialize, Serialize};

/// The WGS 84 ellipsoid, built once (its series coefficients are computed on construction).
static WGS84: LazyLock<Geodesic> = LazyLock::new(Geodesic::wgs84);

/// A position on WGS 84, in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub lat: f64,
    pub lon: f64,
}

impl Position {
    pub fn new(lat: f64, lon: f64) -> Position {
        Position { lat, lon }
    }

    /// Whether this is a position on earth (finite, latitude within ±90, longitude within ±180).
    pub fn is_valid(&self) -> bool {
        self.lat.is_finite()
            && self.lon.is_finite()
            && (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon)
    }
}

/// The geodesic distance between two positions, in metres.
pub fn distance_m(from: Position, to: Position) -> f64 {
    WGS84.inverse(from.lat, from.lon, to.lat, to.lon)
}

/// The initial bearing (azimuth) of the geodesic from `from` to `to`, in degrees clockwise from
/// north, in (-180, 180].
pub fn bearing_deg(from: Position, to: Position) -> f64 {
    let (_s12, azi1, _azi2, _a12): (f64, f64, f64, f64) =
        WGS84.inverse(from.lat, from.lon, to.lat, to.lon);
    azi1
}

/// The position `metres` along the geodesic from `from` towards `to`; `to` itself if it is closer.
pub fn step_toward(from: Position, to: Position, metres: f64) -> Position {
    let (s12, azi1, _azi2, _a12): (f64, f64, f64, f64) =
        WGS84.inverse(from.lat, from.lon, to.lat, to.lon);
    if metres >= s12 {
        return to;
    }
    let (lat, lon): (f64, f64) = WGS84.direct(from.lat, from.lon, azi1, metres);
    Position { lat, lon }
}

/// The position `metres` from `from` on the initial bearing `bearing_deg`.
pub fn destination(from: Position, bearing_deg: f64, metres: f64) -> Position {
    let (lat, lon): (f64, f64) = WGS84.direct(from.lat, from.lon, bearing_deg, metres);
    Position { lat, lon }
}

/// The smallest angle between two bearings, in degrees (0..=180).
pub fn bearing_difference_deg(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    if d > 180.0 { 360.0 - d } else { d }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} is not within {tolerance} of {expected}"
        );
    }

    /// Karney, "Algorithms for geodesics" (J. Geodesy 87, 2013), worked example: Wellington to
    /// Salamanca on WGS 84, s12 = 19 959 679.267 m, azi1 = 161.067669986°.
    #[test]
    fn wellington_to_salamanca_matches_karneys_published_example() {
        let wellington = Position::new(-41.32, 174.81);
        let salamanca = Position::new(40.96, -5.50);
        close(distance_m(wellington, salamanca), 19_959_679.267, 0.001);
        close(bearing_deg(wellington, salamanca), 161.067_669_986, 1e-8);
    }

    /// One degree of longitude on the equator is a / 180 * pi exactly (a = 6 378 137 m).
    #[test]
    fn a_degree_of_longitude_on_the_equator_is_the_semi_major_axis_arc() {
        let expected = 6_378_137.0 * std::f64::consts::PI / 180.0;
        close(
            distance_m(Position::new(0.0, 0.0), Position::new(0.0, 1.0)),
            expected,
            1e-6,
        );
    }

    /// The meridian arc from the equator to 1°N on WGS 84 is 110 574.389 m (standard tables).
    #[test]
    fn a_degree_of_latitude_at_the_equator_is_110574_metres() {
        close(
            distance_m(Position::new(0.0, 0.0), Position::new(1.0, 0.0)),
            110_574.389,
            0.001,
        );
    }

    /// Nearly antipodal points, where Vincenty's method does not converge: still a distance, and
    /// no more than half the meridian (20 003 931.46 m).
    #[test]
    fn nearly_antipodal_points_still_have_a_distance() {
        let d = distance_m(Position::new(0.0, 0.0), Position::new(0.5, 179.7));
        assert!(d > 19_900_000.0 && d < 20_003_931.46, "{d}");
    }

    #[test]
    fn stepping_toward_a_point_moves_that_far_and_stops_there() {
        let store = Position::new(31.2304, 121.4737);
        let far = destination(store, 45.0, 3_000.0);
        close(distance_m(store, far), 3_000.0, 1e-6);
        let mid = step_toward(store, far, 1_000.0);
        close(distance_m(store, mid), 1_000.0, 1e-6);
        close(distance_m(mid, far), 2_000.0, 1e-6);
        assert_eq!(step_toward(store, far, 5_000.0), far);
    }

    #[test]
    fn bearing_differences_wrap_around_north() {
        close(bearing_difference_deg(350.0, 10.0), 20.0, 1e-12);
        close(bearing_difference_deg(-170.0, 170.0), 20.0, 1e-12);
        close(bearing_difference_deg(0.0, 180.0), 180.0, 1e-12);
    }
}
