"""The service layer the control plane calls: plain async functions over a session factory."""
