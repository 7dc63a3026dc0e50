-- A workspace's billing plan, by the name `billing.plans` gives it in the server's
-- configuration; NULL means the server's default plan (`billing.plan`). Operators assign
-- plans from the command line; no API can change its own workspace's plan.
ALTER TABLE workspaces ADD COLUMN plan TEXT;
