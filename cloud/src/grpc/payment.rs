//! `omo.payment.v1.PaymentService` over [`crate::payments::Payments`].

use omo_proto::payment::payment_service_server::PaymentService;
use omo_proto::payment::{
    AttachExitPassRequest, AttachExitPassResponse, AuthorizeRequest, AuthorizeResponse,
    CancelRequest, CancelResponse, QueryRequest, QueryResponse, RefundRequest, RefundResponse,
};
use tonic::{Request, Response, Status};

use super::payment_to_proto;
use crate::identity::StoreAuth;
use crate::payments::{AuthorizeInput, Payments};

/// The payment service.
#[derive(Clone)]
pub struct PaymentApi {
    payments: Payments,
    auth: StoreAuth,
}

impl PaymentApi {
    /// Serve payments with these rules, to stores that pass `auth`.
    pub fn new(payments: Payments, auth: StoreAuth) -> Self {
        Self { payments, auth }
    }
}

#[tonic::async_trait]
impl PaymentService for PaymentApi {
    async fn authorize(
        &self,
        request: Request<AuthorizeRequest>,
    ) -> Result<Response<AuthorizeResponse>, Status> {
        self.auth.check(&request, &request.get_ref().store_id)?;
        let r = request.into_inner();
        let input = AuthorizeInput {
            store_id: r.store_id,
            order_id: r.order_id,
            amount_fen: r.amount_fen,
            payment_code: r.payment_code,
            description: r.description,
            coupon_ids: r.coupon_ids,
            pre_coupon_fen: r.pre_coupon_fen,
            coupon_shares: r
                .coupon_shares
                .into_iter()
                .map(|s| crate::coupons::Share {
                    coupon_id: s.coupon_id,
                    base_fen: s.base_fen,
                    discount_fen: s.discount_fen,
                })
                .collect(),
        };
        let (row, _replayed) = self.payments.authorize(&input).await?;
        Ok(Response::new(AuthorizeResponse {
            payment: Some(payment_to_proto(&row)),
        }))
    }

    async fn query(
        &self,
        request: Request<QueryRequest>,
    ) -> Result<Response<QueryResponse>, Status> {
        self.auth.check(&request, &request.get_ref().store_id)?;
        let r = request.into_inner();
        let row = self.payments.query(&r.store_id, &r.order_id).await?;
        Ok(Response::new(QueryResponse {
            payment: Some(payment_to_proto(&row)),
        }))
    }

    async fn cancel(
        &self,
        request: Request<CancelRequest>,
    ) -> Result<Response<CancelResponse>, Status> {
        self.auth.check(&request, &request.get_ref().store_id)?;
        let r = request.into_inner();
        let row = self
            .payments
            .cancel(&r.store_id, &r.order_id, &r.reason)
            .await?;
        Ok(Response::new(CancelResponse {
            payment: Some(payment_to_proto(&row)),
        }))
    }

    async fn refund(
        &self,
        request: Request<RefundRequest>,
    ) -> Result<Response<RefundResponse>, Status> {
        self.auth.check(&request, &request.get_ref().store_id)?;
        let r = request.into_inner();
        let (row, refund) = self
            .payments
            .refund(
                &r.store_id,
                &r.order_id,
                &r.refund_id,
                r.amount_fen,
                &r.reason,
            )
            .await?;
        Ok(Response::new(RefundResponse {
            payment: Some(payment_to_proto(&row)),
            refund_id: refund.refund_id,
            refund_fen: refund.amount_fen,
        }))
    }

    async fn attach_exit_pass(
        &self,
        request: Request<AttachExitPassRequest>,
    ) -> Result<Response<AttachExitPassResponse>, Status> {
        self.auth.check(&request, &request.get_ref().store_id)?;
        let r = request.into_inner();
        let payment_id = self
            .payments
            .attach_exit_pass(&r.store_id, &r.order_id, &r.exit_pass)
            .await?;
        Ok(Response::new(AttachExitPassResponse { payment_id }))
    }
}
