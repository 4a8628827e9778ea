"""A simulated Asterisk (AMI server + FastAGI client) for demo, tests and benchmarks."""
