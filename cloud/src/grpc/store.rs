//! `omo.store.v1.StoreDirectory` over [`crate::delivery::Directory`].

use omo_proto::store::store_directory_server::StoreDirectory;
use omo_proto::store::{NearbyStore, NearbyStoresRequest, NearbyStoresResponse, StoreProfile};
use tonic::{Request, Response, Status};

use crate::delivery::{Directory, directory};
use crate::identity::StoreAuth;

/// The store directory service.
#[derive(Clone)]
pub struct StoreDirectoryApi {
    directory: Directory,
    auth: StoreAuth,
}

impl StoreDirectoryApi {
    /// Serve this directory; `Announce` only from stores that pass `auth`, for themselves.
    pub fn new(directory: Directory, auth: StoreAuth) -> Self {
        Self { directory, auth }
    }
}

fn to_proto(p: directory::StoreProfile) -> StoreProfile {
    StoreProfile {
        store_id: p.store_id,
        name: p.name,
        lat: p.lat,
        lon: p.lon,
        delivery_radius_m: p.delivery_radius_m,
        announced_at: p.announced_at,
    }
}

#[tonic::async_trait]
impl StoreDirectory for StoreDirectoryApi {
    async fn announce(
        &self,
        request: Request<StoreProfile>,
    ) -> Result<Response<StoreProfile>, Status> {
        self.auth.check(&request, &request.get_ref().store_id)?;
        let r = request.into_inner();
        let stored = self
            .directory
            .announce(directory::StoreProfile {
                store_id: r.store_id,
                name: r.name,
                lat: r.lat,
                lon: r.lon,
                delivery_radius_m: r.delivery_radius_m,
                announced_at: String::new(),
            })
            .await?;
        Ok(Response::new(to_proto(stored)))
    }

    async fn nearby_stores(
        &self,
        request: Request<NearbyStoresRequest>,
    ) -> Result<Response<NearbyStoresResponse>, Status> {
        let r = request.into_inner();
        let limit = match r.limit {
            0 => 10,
            n => n.min(100) as usize,
        };
        let stores = self
            .directory
            .nearby(r.lat, r.lon, limit)
            .await?
            .into_iter()
            .map(|(profile, distance)| NearbyStore {
                delivers: distance <= f64::from(profile.delivery_radius_m),
                distance_m: directory::round_m(distance),
                store: Some(to_proto(profile)),
            })
            .collect();
        Ok(Response::new(NearbyStoresResponse { stores }))
    }
}
