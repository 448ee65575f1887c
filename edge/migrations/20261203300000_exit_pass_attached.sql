-- When the cloud took the sale's exit pass (PaymentService.AttachExitPass), so the paying
-- wallet's app shows it; '' until then (the edge keeps trying across cloud outages and restarts).
ALTER TABLE sales ADD COLUMN pass_attached_at TEXT NOT NULL DEFAULT '';

CREATE INDEX sales_pass_unattached ON sales (paid_at) WHERE pass_attached_at = '';
