"""TCP latency and throughput formulas the fluid backend applies per flow.

- Mathis, Semke, Mahdavi and Ott 1997, "The macroscopic behavior of the TCP congestion
  avoidance algorithm" (CCR 27(3)), eq. (3): rate <= MSS/RTT * C/sqrt(p), C = sqrt(3/2)
  (periodic loss, one ACK per segment).
- Cardwell, Savage and Anderson 2000, "Modeling TCP latency" (INFOCOM), section II: the data
  sent in the initial slow start (eq. 5) and its duration (eqs. 1-4 and 10),

      E[d_ss] = (1 - (1 - p)^d)(1 - p)/p + 1          (segments; d when p = 0)
      E[W_ss] = E[d_ss](gamma - 1)/gamma + w1/gamma
      E[T_ss] = RTT * log_gamma(E[d_ss](gamma - 1)/w1 + 1)                  if E[W_ss] <= W_max
              = RTT * (log_gamma(W_max/w1) + 1
                       + (E[d_ss] - (gamma W_max - w1)/(gamma - 1))/W_max)  otherwise

  with gamma = 1 + 1/b, b segments acknowledged per ACK, w1 the initial window and W_max the
  receiver's window in segments. What follows slow start is sent at the steady rate.

A `PathModel` holds, per site and application, what a flow needs from these: its rate cap
(window/RTT and Mathis, for all its parallel connections) and the extra time it spends
before the fluid model moves its bytes (handshakes, then slow start beyond what the cap
would have carried in the same time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MATHIS_C = math.sqrt(1.5)  # Mathis et al. 1997, eq. (3), periodic loss, no delayed ACKs


def mathis_bps(mss_bytes: float, rtt_s: float, loss: float) -> float:
    """Mathis et al. 1997 eq. (3): the congestion-avoidance rate bound, bits/s (inf at p=0)."""
    if loss <= 0:
        return math.inf
    return mss_bytes * 8.0 / rtt_s * MATHIS_C / math.sqrt(loss)


def slow_start_segments(segments: float, loss: float) -> float:
    """Cardwell et al. 2000 eq. (5): expected segments sent in the initial slow start."""
    if loss <= 0:
        return segments
    return min(segments, (1.0 - (1.0 - loss) ** segments) * (1.0 - loss) / loss + 1.0)


def slow_start_s(
    segments: float, rtt_s: float, w1: float, w_max: float, gamma: float = 1.5
) -> float:
    """Cardwell et al. 2000 eqs. (1)-(4), (10): time to send `segments` in slow start
    (initial window w1, receiver window w_max segments, window growth gamma per round)."""
    if segments <= 0:
        return 0.0
    w_ss = segments * (gamma - 1.0) / gamma + w1 / gamma
    if w_ss <= w_max:
        return rtt_s * math.log(segments * (gamma - 1.0) / w1 + 1.0, gamma)
    reached = (gamma * w_max - w1) / (gamma - 1.0)  # segments sent until the window is full
    return rtt_s * (math.log(w_max / w1, gamma) + 1.0 + (segments - reached) / w_max)


@dataclass(frozen=True, slots=True)
class TcpPath:
    """One site's path for one application: what every flow of it pays."""

    rtt_s: float
    cap_bps: float  # goodput bits/s the flow's connections can carry at most (inf: no cap)
    mss_bytes: float
    w1: float  # initial window, segments
    w_max: float  # receive window per connection, segments
    loss: float
    handshake_rtts: float
    gamma: float

    def setup_s(self, size_bytes: float) -> float:
        """Seconds a flow of this size spends beyond size/cap: handshakes, and slow start
        less what the capped rate would have carried meanwhile (never below 0)."""
        segments = math.ceil(size_bytes / self.mss_bytes)
        loss = self.loss
        d_ss = segments if loss <= 0 else slow_start_segments(segments, loss)
        t_ss = slow_start_s(d_ss, self.rtt_s, self.w1, self.w_max, self.gamma)
        at_cap = d_ss * self.mss_bytes * 8.0 / self.cap_bps
        handshakes = self.handshake_rtts * self.rtt_s
        return handshakes + t_ss - at_cap if t_ss > at_cap else handshakes


def tcp_path(
    rtt_s: float,
    loss: float,
    mss_bytes: float,
    window_bytes: float,
    connections: int,
    w1: float = 10.0,
    handshake_rtts: float = 2.0,
    gamma: float = 1.5,
) -> TcpPath:
    """The path of one application at one site: its cap is `connections` times the smaller
    of window/RTT and the Mathis bound (each connection sees the path's loss)."""
    per_connection = min(window_bytes * 8.0 / rtt_s, mathis_bps(mss_bytes, rtt_s, loss))
    return TcpPath(
        rtt_s=rtt_s,
        cap_bps=connections * per_connection,
        mss_bytes=mss_bytes,
        w1=w1 * connections,
        w_max=window_bytes / mss_bytes * connections,
        loss=loss,
        handshake_rtts=handshake_rtts,
        gamma=gamma,
    )
