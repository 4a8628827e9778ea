"""AMI connections to Asterisk: parser, client, typed events and actions."""
