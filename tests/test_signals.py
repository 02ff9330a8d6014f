"""A Ctrl-C or SIGTERM during an emulation is never lost (sim/backends/mininet/cleanup.py).

Python drops an exception raised while a finalizer runs, so a signal that lands there would
let the run go on: an emulation once ignored Ctrl-C for the rest of its 10-minute window.
`signals_raise` records the signal, and the backend's poller raises again between events.
"""

from __future__ import annotations

import os
import signal

import pytest

from sim.backends.mininet import cleanup


class SignalledWhileFinalized:
    """Sends a signal to this process from its finalizer, so the handler runs in there."""

    def __init__(self, signum: int) -> None:
        self.signum = signum

    def __del__(self) -> None:
        os.kill(os.getpid(), self.signum)
        for _ in range(10_000):  # the handler runs at one of these steps, inside __del__
            pass


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize(
    ("signum", "raised"),
    [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, cleanup.Terminated)],
)
def test_a_signal_lost_in_a_finalizer_is_raised_again(signum: int, raised: type) -> None:
    with cleanup.signals_raise():
        try:
            SignalledWhileFinalized(signum)  # dropped at once; its exception is ignored
        except raised:
            pytest.fail("the exception was not lost, so this cannot show the fallback")
        with pytest.raises(raised):
            cleanup.raise_if_signalled()
    cleanup.raise_if_signalled()  # outside the block nothing is pending


def test_no_signal_nothing_raised() -> None:
    with cleanup.signals_raise():
        cleanup.raise_if_signalled()
