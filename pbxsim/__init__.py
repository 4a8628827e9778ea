"""A simulated Asterisk (AMI server + FastAGI client) for demo, tests and benchmarks.

Not for production code: it is the other side of the wire that `ami/` and `agi/` talk to.
"""

from pbxsim.config import PbxSimConfig
from pbxsim.pbx import PbxSim
from pbxsim.population import CalleeBehaviour, Distribution, PopulationModel

__all__ = ["CalleeBehaviour", "Distribution", "PbxSim", "PbxSimConfig", "PopulationModel"]
