"""Pure pacing math: how many calls to launch now. No I/O, no clock."""

from pacing.config import PacerConfig
from pacing.pacer import Pacer, PacerStats
from pacing.snapshot import Snapshot

__all__ = ["Pacer", "PacerConfig", "PacerStats", "Snapshot"]
