"""Local stand-ins for the APIs: Kolada v3 over the recorded snapshot (:mod:`.kolada`) and
Eurostat's statistics API over its recording (:mod:`.eurostat`), served on one port by
:class:`~.server.ReplayServer` with fault injection."""

from helpers.sources.replay.server import Faults, ReplayServer

__all__ = ["Faults", "ReplayServer"]
