//! Omo's gRPC contracts, generated from `proto/omo/<area>/v1/*.proto` at build time.
//!
//! | module | package | who serves it |
//! | --- | --- | --- |
//! | [`payment`] | `omo.payment.v1` | cloud: barcode-pay Authorize / Query / Cancel / Refund |
//! | [`catalog`] | `omo.catalog.v1` | cloud: the versioned product catalog edges replicate |
//! | [`shopper`] | `omo.shopper.v1` | cloud: the phone app's wallet API |
//! | [`store`] | `omo.store.v1` | cloud: where stores are and how far they deliver |
//!
//! [`FILE_DESCRIPTOR_SET`] feeds tonic-reflection so `grpcurl` can list the services.

/// `omo.payment.v1`: barcode-pay payments.
pub mod payment {
    tonic::include_proto!("omo.payment.v1");
}

/// `omo.catalog.v1`: products and their versioned change stream.
pub mod catalog {
    tonic::include_proto!("omo.catalog.v1");
}

/// `omo.shopper.v1`: the phone app's wallet API.
pub mod shopper {
    tonic::include_proto!("omo.shopper.v1");
}

/// `omo.store.v1`: the directory of stores.
pub mod store {
    tonic::include_proto!("omo.store.v1");
}

/// The encoded `FileDescriptorSet` of every Omo proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("omo_descriptor");
