"""Background work with Huey: idempotent reconcilers per account (import orders, push stock,
confirm shipments), scheduled periodically. Empty until the first job lands."""
