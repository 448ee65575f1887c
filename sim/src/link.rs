//! The lane's payment client wired to the world: its requests put on the network (each copy
//! that survives scheduled, with the lane's RPC time-out running), served by the cloud where they
//! arrive, and their answers, time-outs and sleeps handed back to the client only while the lane
//! still waits for them (a later answer, or one for a crashed process, is dropped, as a finished
//! or dead tonic call drops it).

use omo_edge::lane::LaneEvent;

use omo_edge::payment::{Step, Then};

use crate::cloud::Rpc;
use crate::payer::Payer;
use crate::world::{Event, World};

impl World {
    pub(crate) fn with_payer(&mut self, lane: usize, f: impl FnOnce(&mut Payer) -> Step) {
        let step = match self.edge.lanes.get_mut(lane).and_then(|l| l.payer.as_mut()) {
            Some(payer) => f(payer),
            None => return,
        };
        self.pay(lane, step);
    }

    /// The payment client's move: its progress told to the lane, then what it does next.
    pub fn pay(&mut self, lane: usize, step: Step) {
        let epoch = self.edge.epoch;
        let now = self.queue.now_ms();
        if let Some(outcome) = step.progress {
            let Some(order_id) = self.edge.lanes[lane]
                .payer
                .as_ref()
                .map(|p| p.order_id().to_string())
            else {
                return;
            };
            self.lane_step(lane, LaneEvent::Payment { order_id, outcome });
        }
        match step.then {
            Then::Send(rpc) => {
                let req = self.next_id();
                self.sides[lane].req = Some(req);
                self.trace.line(format!(
                    "{now} L{lane} send {} {}",
                    rpc.name(),
                    rpc.order_id()
                ));
                self.transmit(Event::AtCloud(lane, epoch, req, Box::new(rpc)));
                let timeout = self.edge.payment.rpc_timeout_ms;
                self.queue.after(timeout, Event::Timeout(lane, epoch, req));
            }
            Then::Sleep(pause) => {
                let wake = self.next_id();
                self.sides[lane].wake = Some(wake);
                let ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX);
                self.queue.after(ms, Event::Wake(lane, epoch, wake));
            }
            Then::Done(outcome) => {
                let Some(payer) = self.edge.lanes[lane].payer.take() else {
                    return;
                };
                let order_id = payer.order_id().to_string();
                self.sides[lane].req = None;
                self.sides[lane].wake = None;
                self.trace.line(format!(
                    "{now} L{lane} settled {order_id} {}",
                    kind(&outcome)
                ));
                self.lane_gave_up(&order_id, &outcome);
                self.lane_step(lane, LaneEvent::Payment { order_id, outcome });
            }
        }
    }

    /// Puts a message on the network: each copy that survives is scheduled.
    pub(crate) fn transmit(&mut self, event: Event) {
        let now = self.queue.now_ms();
        let delays = self.net.send(&mut self.rng, now);
        if delays.is_empty() {
            self.fault("message lost");
        }
        let Some((last, first)) = delays.split_last() else {
            return;
        };
        for delay in first {
            self.fault("message duplicated");
            let copy = match &event {
                Event::AtCloud(l, e, r, rpc) => Event::AtCloud(*l, *e, *r, rpc.clone()),
                Event::AtEdge(l, e, r, a) => Event::AtEdge(*l, *e, *r, a.clone()),
                _ => continue,
            };
            self.queue.after(*delay, copy);
        }
        self.queue.after(*last, event);
    }

    pub(crate) fn at_cloud(&mut self, lane: usize, epoch: u32, req: u64, rpc: Box<Rpc>) {
        let now = self.queue.now_ms();
        if !self.net.arrives(now) {
            self.fault("message lost");
            return;
        }
        self.cloud.set_time(now);
        let answer = self.cloud.handle(&rpc);
        if let Ok(Some(payment)) = &answer {
            self.cloud_says(payment, !matches!(*rpc, Rpc::Query(_)));
        }
        self.transmit(Event::AtEdge(lane, epoch, req, Box::new(answer)));
    }
}

/// An outcome's kind, for the trace.
pub fn kind(outcome: &omo_edge::lane::PaymentOutcome) -> &'static str {
    use omo_edge::lane::PaymentOutcome as O;
    match outcome {
        O::Succeeded { .. } => "succeeded",
        O::Pending { .. } => "pending",
        O::Declined { .. } => "declined",
        O::Cancelled { .. } => "cancelled",
        O::Unreachable { .. } => "unreachable",
    }
}
