//! `omo.catalog.v1.CatalogService` over [`crate::catalog::Catalog`].

use omo_proto::catalog::catalog_service_server::CatalogService;
use omo_proto::catalog::{GetChangesRequest, GetChangesResponse, UpsertRequest, UpsertResponse};
use tonic::{Request, Response, Status};

use crate::catalog::{Catalog, CatalogInput};
use crate::identity::{AdminAuth, StoreAuth};

/// The catalog service.
#[derive(Clone)]
pub struct CatalogApi {
    catalog: Catalog,
    auth: StoreAuth,
    admin: AdminAuth,
}

impl CatalogApi {
    /// Serve this catalog: `GetChanges` only to stores that pass `auth`, `Upsert` only to
    /// callers that pass `admin`.
    pub fn new(catalog: Catalog, auth: StoreAuth, admin: AdminAuth) -> Self {
        Self {
            catalog,
            auth,
            admin,
        }
    }
}

#[tonic::async_trait]
impl CatalogService for CatalogApi {
    async fn get_changes(
        &self,
        request: Request<GetChangesRequest>,
    ) -> Result<Response<GetChangesResponse>, Status> {
        self.auth.check(&request, &request.get_ref().store_id)?;
        let r = request.into_inner();
        let changes = self.catalog.changes_all(r.since_version, r.limit).await?;
        Ok(Response::new(GetChangesResponse {
            products: changes.products,
            latest_version: changes.latest_version,
            promotions: changes.promotions,
            campaigns: changes.campaigns,
            reached_version: changes.reached_version,
        }))
    }

    async fn upsert(
        &self,
        request: Request<UpsertRequest>,
    ) -> Result<Response<UpsertResponse>, Status> {
        self.admin.check(&request)?;
        let r = request.into_inner();
        let input = CatalogInput {
            products: r.products,
            promotions: r.promotions,
            campaigns: r.campaigns,
        };
        let (changed, latest_version) = self.catalog.upsert_all(&input).await?;
        Ok(Response::new(UpsertResponse {
            changed,
            latest_version,
        }))
    }
}
