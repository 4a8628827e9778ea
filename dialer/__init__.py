"""The dialer runtime: campaigns, hopper, call and agent state, persistence, CLI."""
