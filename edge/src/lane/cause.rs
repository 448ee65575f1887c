//! Why a lane stepped: the [`Cause`] recorded with each transition (`lane_transitions.cause`),
//! published with the lane's state and counted on the board. Its text is fixed by [`Cause::as_str`].

use serde::{Serialize, Serializer};

/// What made the lane change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    // A scan or a code presented.
    ItemScanned,
    ScanIgnored,
    BadScan,
    UnknownProduct,
    PriceOnTheCodeRefused,
    CouponScanned,
    CouponIgnored,
    UnknownCoupon,
    CouponRepeated,
    // The bagging scale and the clock.
    Weight,
    WeightUnstable,
    OwnBag,
    Tick,
    TimeOut,
    // Paying.
    PaymentCodeScanned,
    PaymentCodeWhileBlocked,
    PaymentCodeWithEmptyBasket,
    PaymentCodeBeforeBagging,
    StaleWalletCoupons,
    AmountFixed,
    StalePaymentAnswer,
    PaymentSucceeded,
    PaymentPending,
    PaymentUnknown,
    PaymentDeclined,
    PaymentCancelled,
    // The gate.
    GateOpened,
    GatePassage,
    GateAlert,
    // An attendant or a manager.
    InterventionCleared,
    ItemVoided,
    PriceOverridden,
    GateOpenedByHand,
    OutOfService,
    OwnBagAllowed,
    BasketCancelled,
    LaneReset,
    BackInService,
    OperatorCommandRefused,
}

impl Cause {
    /// The cause as it is stored and published.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::ItemScanned => "item scanned",
            Cause::ScanIgnored => "scan ignored",
            Cause::BadScan => "bad scan",
            Cause::UnknownProduct => "unknown product",
            Cause::PriceOnTheCodeRefused => "price on the code refused",
            Cause::CouponScanned => "coupon scanned",
            Cause::CouponIgnored => "coupon ignored",
            Cause::UnknownCoupon => "unknown coupon",
            Cause::CouponRepeated => "coupon repeated",
            Cause::Weight => "weight",
            Cause::WeightUnstable => "weight unstable",
            Cause::OwnBag => "own bag",
            Cause::Tick => "tick",
            Cause::TimeOut => "time-out",
            Cause::PaymentCodeScanned => "payment code scanned",
            Cause::PaymentCodeWhileBlocked => "payment code while blocked",
            Cause::PaymentCodeWithEmptyBasket => "payment code with empty basket",
            Cause::PaymentCodeBeforeBagging => "payment code before bagging",
            Cause::StaleWalletCoupons => "stale wallet coupons",
            Cause::AmountFixed => "amount fixed",
            Cause::StalePaymentAnswer => "stale payment answer",
            Cause::PaymentSucceeded => "payment succeeded",
            Cause::PaymentPending => "payment pending",
            Cause::PaymentUnknown => "payment unknown",
            Cause::PaymentDeclined => "payment declined",
            Cause::PaymentCancelled => "payment cancelled",
            Cause::GateOpened => "gate opened",
            Cause::GatePassage => "gate passage",
            Cause::GateAlert => "gate alert",
            Cause::InterventionCleared => "intervention cleared",
            Cause::ItemVoided => "item voided",
            Cause::PriceOverridden => "price overridden",
            Cause::GateOpenedByHand => "gate opened by hand",
            Cause::OutOfService => "out of service",
            Cause::OwnBagAllowed => "own bag allowed",
            Cause::BasketCancelled => "basket cancelled",
            Cause::LaneReset => "lane reset",
            Cause::BackInService => "back in service",
            Cause::OperatorCommandRefused => "operator command refused",
        }
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Cause {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
