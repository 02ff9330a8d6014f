"""Call quality by the ITU-T G.107 E-model (06/2015): the R-factor and MOS.

R = Ro - Is - Id - Ie,eff + A (G.107 eq. 7-1), every term as G.107 section 7 defines it,
with its Table 3 default values for everything but the three a path sets: the mouth-to-ear
delay Ta, the packet loss Ppl and the codec (Ie, Bpl). The echo path delays follow the usual
VoIP reading T = Ta and Tr = 2 Ta. At the defaults R = 93.2 (G.107 section 7.7). MOS from R
is G.107 Annex B, eq. B-4.
"""

from __future__ import annotations

import math

# G.107 Table 3 defaults
SLR, RLR, STMR, LSTR = 8.0, 2.0, 15.0, 18.0
DS = DR = 3.0
TELR, WEPL = 65.0, 110.0
QDU = 1.0
NC, NFOR, PS, PR = -70.0, -64.0, 35.0, 35.0
MT, ST = 100.0, 1.0


def _lg(x: float) -> float:
    return math.log10(x)


def _noise() -> float:
    """No (eq. 7-3): the total noise power, from circuit, room and floor noise."""
    olr = SLR + RLR
    nos = PS - SLR - DS - 100 + 0.004 * (PS - olr - DS - 14) ** 2
    pre = PR + 10 * _lg(1 + 10 ** ((10 - LSTR) / 10))
    nor = RLR - 121 + pre + 0.008 * (pre - 35) ** 2
    nfo = NFOR + RLR
    return 10 * _lg(sum(10 ** (n / 10) for n in (NC, nos, nor, nfo)))


def _simultaneous(ro: float, no: float, t: float) -> float:
    """Is (eqs. 7-8 to 7-17): loudness, sidetone and quantizing impairments."""
    olr = SLR + RLR
    xolr = olr + 0.2 * (64 + no - RLR)
    iolr = 20 * ((1 + (xolr / 8) ** 8) ** (1 / 8) - xolr / 8)
    stmro = -10 * _lg(10 ** (-STMR / 10) + math.exp(-t / 4) * 10 ** (-TELR / 10))
    ist = (
        12 * (1 + ((stmro - 13) / 6) ** 8) ** (1 / 8)
        - 28 * (1 + ((stmro + 1) / 19.4) ** 35) ** (1 / 35)
        - 13 * (1 + ((stmro - 3) / 33) ** 13) ** (1 / 13)
        + 29
    )
    q = 37 - 15 * _lg(QDU)
    g = 1.07 + 0.258 * q + 0.0602 * q**2
    y = (ro - 100) / 15 + 46 / 8.4 - g / 9
    z = 46 / 30 - g / 40
    iq = 15 * _lg(1 + 10**y + 10**z)
    return iolr + ist + iq


def _delay(ro: float, no: float, t: float, tr: float, ta: float) -> float:
    """Id = Idte + Idle + Idd (eqs. 7-18 to 7-29): talker echo, listener echo, pure delay."""
    roe = -1.5 * (no - RLR)
    terv = TELR - 40 * _lg((1 + t / 10) / (1 + t / 150)) + 6 * math.exp(-0.3 * t**2)
    re = 80 + 2.5 * (terv - 14)
    idte = ((roe - re) / 2 + math.sqrt((roe - re) ** 2 / 4 + 100) - 1) * (1 - math.exp(-t))
    rle = 10.5 * (WEPL + 7) * (tr + 1) ** -0.25
    idle = (ro - rle) / 2 + math.sqrt((ro - rle) ** 2 / 4 + 169)
    idd = 0.0
    if ta > MT:
        x = _lg(ta / MT) / _lg(2)
        six = 6 * ST
        idd = 25 * ((1 + x**six) ** (1 / six) - 3 * (1 + (x / 3) ** six) ** (1 / six) + 2)
    return idte + idle + idd


def r_factor(
    ta_ms: float = 0.0, loss_pct: float = 0.0, ie: float = 0.0, bpl: float = 4.3, burst: float = 1
) -> float:
    """The E-model's R for mouth-to-ear delay `ta_ms`, random packet loss `loss_pct` and a
    codec's Ie and Bpl (G.711 with packet-loss concealment: Ie 0, Bpl 25.1, G.113 App. I)."""
    no = _noise()
    ro = 15 - 1.5 * (SLR + no)
    t, tr = ta_ms, 2 * ta_ms
    ie_eff = ie + (95 - ie) * loss_pct / (loss_pct / burst + bpl)
    return ro - _simultaneous(ro, no, t) - _delay(ro, no, t, tr, ta_ms) - ie_eff


def mos(r: float) -> float:
    """G.107 Annex B eq. (B-4): MOS (conversational quality) from R."""
    if r <= 0:
        return 1.0
    if r >= 100:
        return 4.5
    return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6
