//! The shopper's web app, served at `/app/` (an installable PWA: `cloud/app/`, nothing from a
//! CDN), and its API: `POST /app/api/{method}` with the method's request message as JSON, and
//! the wallet's app token as `Authorization: Bearer …`, exactly as the gRPC call carries it.
//!
//! The API is the gRPC shopper service itself ([`ShopperApi`], and the store directory's
//! public NearbyStores): each call is handed to the
//! same method with the same metadata, so its rules (who may call, what is checked, what is
//! idempotent) have one implementation. Only the phone's methods are bridged: enroll, wallet,
//! delivery address, confirm a payment, campaigns and coupons, products, delivery orders,
//! receipts. The funding
//! authority's TopUp and ListFundingMovements are not reachable from the web at all.
//!
//! Who may call what: anyone may enroll (an empty wallet, as over gRPC); every other method
//! answers only the holder of that wallet's app token (401 otherwise). The app never acts as a
//! store: ListCoupons with a `store_id` (a lane's call) is refused here. No cookies, so no
//! cross-site request can act for a shopper; pages carry a Content-Security-Policy that allows
//! only this origin's scripts.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use omo_proto::shopper::ListCouponsRequest;
use omo_proto::shopper::shopper_service_server::ShopperService;
use omo_proto::store::store_directory_server::StoreDirectory;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tonic::{Code, Status};

use crate::grpc::shopper::ShopperApi;
use crate::grpc::store::StoreDirectoryApi;

/// The services the app's API hands calls to.
#[derive(Clone)]
pub struct AppApi {
    pub shopper: ShopperApi,
    pub directory: StoreDirectoryApi,
}

/// The app's files: (path under `/app/`, content type, bytes).
const FILES: &[(&str, &str, &str)] = &[
    (
        "",
        "text/html; charset=utf-8",
        include_str!("../app/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../app/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../app/app.css"),
    ),
    (
        "qrcode.js",
        "text/javascript; charset=utf-8",
        include_str!("../app/qrcode.js"),
    ),
    (
        "jsqr.js",
        "text/javascript; charset=utf-8",
        include_str!("../app/jsqr.js"),
    ),
    (
        "sw.js",
        "text/javascript; charset=utf-8",
        include_str!("../app/sw.js"),
    ),
    (
        "manifest.webmanifest",
        "application/manifest+json",
        include_str!("../app/manifest.webmanifest"),
    ),
    ("icon.svg", "image/svg+xml", include_str!("../app/icon.svg")),
];

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
                   script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

/// `/app/`, its files and its API.
pub fn routes(api_services: AppApi) -> Router {
    Router::new()
        .route(
            "/app",
            get(|| async { axum::response::Redirect::permanent("/app/") }),
        )
        .route("/app/", get(|| file("")))
        .route(
            "/app/{file}",
            get(|Path(name): Path<String>| file_named(name)),
        )
        .route("/app/api/{method}", post(api))
        .with_state(api_services)
}

async fn file_named(name: String) -> Response {
    file(&name).await
}

async fn file(name: &str) -> Response {
    let Some((_, content_type, body)) = FILES.iter().find(|(path, _, _)| *path == name) else {
        return (StatusCode::NOT_FOUND, "no such file\n").into_response();
    };
    let mut response = (*body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The app's files change with a release: the service worker asks the network first.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// One call of the shopper service, by its snake_case name.
async fn api(
    State(services): State<AppApi>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let s = &services.shopper;
    match method.as_str() {
        "enroll" => bridge(&headers, &body, |r| s.enroll(r)).await,
        "get_wallet" => bridge(&headers, &body, |r| s.get_wallet(r)).await,
        "set_delivery_address" => bridge(&headers, &body, |r| s.set_delivery_address(r)).await,
        "confirm_payment" => bridge(&headers, &body, |r| s.confirm_payment(r)).await,
        "claim_coupon" => bridge(&headers, &body, |r| s.claim_coupon(r)).await,
        "list_coupons" => {
            // A lane asks with its store_id (and the store's credentials); the app never does.
            let call = |r: tonic::Request<ListCouponsRequest>| async move {
                if !r.get_ref().store_id.is_empty() {
                    return Err(Status::invalid_argument(
                        "store_id is for lanes, not the app",
                    ));
                }
                s.list_coupons(r).await
            };
            bridge(&headers, &body, call).await
        }
        "list_campaigns" => bridge(&headers, &body, |r| s.list_campaigns(r)).await,
        "list_products" => bridge(&headers, &body, |r| s.list_products(r)).await,
        "place_delivery_order" => bridge(&headers, &body, |r| s.place_delivery_order(r)).await,
        "get_delivery_order" => bridge(&headers, &body, |r| s.get_delivery_order(r)).await,
        "list_receipts" => bridge(&headers, &body, |r| s.list_receipts(r)).await,
        // Public, as over gRPC: which stores are near a position, and whether they deliver.
        "nearby_stores" => bridge(&headers, &body, |r| services.directory.nearby_stores(r)).await,
        _ => error(StatusCode::NOT_FOUND, "not_found", "no such method"),
    }
}

/// Parses the JSON request, carries the caller's `Authorization` over as gRPC metadata, calls
/// the service and answers its message as JSON (or its error).
async fn bridge<Req, Resp, Fut>(
    headers: &HeaderMap,
    body: &[u8],
    call: impl FnOnce(tonic::Request<Req>) -> Fut,
) -> Response
where
    Req: DeserializeOwned,
    Resp: Serialize,
    Fut: Future<Output = Result<tonic::Response<Resp>, Status>>,
{
    let message: Req = match serde_json::from_slice(body) {
        Ok(message) => message,
        Err(e) => return error(StatusCode::BAD_REQUEST, "invalid_argument", &e.to_string()),
    };
    let mut request = tonic::Request::new(message);
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
    {
        request.metadata_mut().insert("authorization", value);
    }
    match call(request).await {
        Ok(response) => axum::Json(response.into_inner()).into_response(),
        Err(status) => status_error(&status),
    }
}

fn status_error(status: &Status) -> Response {
    let (http, name) = match status.code() {
        Code::InvalidArgument | Code::OutOfRange => (StatusCode::BAD_REQUEST, "invalid_argument"),
        Code::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
        Code::PermissionDenied => (StatusCode::FORBIDDEN, "permission_denied"),
        Code::NotFound => (StatusCode::NOT_FOUND, "not_found"),
        Code::AlreadyExists | Code::Aborted => (StatusCode::CONFLICT, "conflict"),
        Code::FailedPrecondition => (StatusCode::CONFLICT, "failed_precondition"),
        Code::ResourceExhausted => (StatusCode::TOO_MANY_REQUESTS, "resource_exhausted"),
        Code::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    };
    error(http, name, status.message())
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "error": code, "message": message })),
    )
        .into_response()
}
