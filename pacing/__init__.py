"""Pure pacing math: how many calls to launch now. No I/O, no clock."""
