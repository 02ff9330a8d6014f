"""What latency does to each site's service: page loads, call quality and video at its rate,
from the site's path (sim/model/paths.py) and the G.107 E-model (sim/analysis/emodel.py).
"""

from __future__ import annotations

import numpy as np

from sim.analysis.emodel import mos, r_factor
from sim.analysis.flows import CUT, STATUS_CODES, FlowArrays, at_rate_share, percentiles
from sim.analysis.summary import SiteLatency
from sim.model.paths import site_paths
from sim.run import RunRecord

PAGE_APP = "web"  # a web transfer is one page with its objects (sim/model/demand.py)
CALL_APP = "video_call"
VIDEO_APP = "streaming"
GOOD_CALL_MOS = 3.6  # G.107 Annex B: R 70 (MOS 3.6) is where some users become dissatisfied
CODEC_IE, CODEC_BPL = 0.0, 25.1  # G.711 with packet-loss concealment (G.113 Appendix I)


def call_mos(rtt_s: float, loss: float, shortfall: np.ndarray, extra_ms: float) -> np.ndarray:
    """G.107 MOS of calls on a path: mouth-to-ear delay = RTT/2 + voice frame + de-jitter
    buffer; loss = the path's plus each call's shortfall from its rate (lost as late)."""
    ta = rtt_s * 500.0 + extra_ms
    loss_pct = np.minimum(100.0, (loss + shortfall) * 100.0)
    distinct, back = np.unique(loss_pct, return_inverse=True)
    scores = np.array([mos(r_factor(ta, p, CODEC_IE, CODEC_BPL)) for p in distinct])
    return scores[back] if scores.size else scores


def site_latency(record: RunRecord, flows: FlowArrays) -> dict[str, SiteLatency]:
    """Per site: RTT and loss, web page-load p50/p95, call MOS and video at its rate."""
    network = record.scenario.spec.network
    paths = site_paths(record.scenario)
    app_id = {name: i for i, name in enumerate(flows.apps)}
    ended = flows.status != STATUS_CODES["active"]
    out = {}
    for column, site in enumerate(record.site_ids):
        here = (flows.site == column) & ended
        pages = here & (flows.app == app_id.get(PAGE_APP, -1)) & (flows.status != CUT)
        calls = here & (flows.app == app_id.get(CALL_APP, -1))
        shortfall = 1.0 - flows.delivered[calls] / np.maximum(flows.offered[calls], 1e-9)
        path = paths[site]
        scores = call_mos(
            path.rtt_s,
            path.loss,
            np.clip(shortfall, 0.0, 1.0),
            network.packet_ms + network.jitter_buffer_ms,
        )
        p50, p95 = percentiles(flows.ran_s[pages], (50, 95))
        out[site] = SiteLatency(
            rtt_ms=path.rtt_s * 1000.0,
            loss_pct=path.loss * 100.0,
            pages=int(pages.sum()),
            page_load_p50_s=p50,
            page_load_p95_s=p95,
            calls=int(calls.sum()),
            call_mos=float(scores.mean()) if scores.size else None,
            good_call_share=float((scores >= GOOD_CALL_MOS).mean()) if scores.size else None,
            video_at_rate_share=at_rate_share(
                flows, here & (flows.app == app_id.get(VIDEO_APP, -1))
            ),
        )
    return out
