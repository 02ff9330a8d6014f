"""The berita acara of an acceptance trial: the record both parties sign, in Bahasa Indonesia
with English beside it, that prints on at most two A4 pages (acceptance.html's first part).

It holds blanks for the number, the day, place and date, and for each party's name, position
(jabatan), NIP and organisation (typed on the page or written by hand on the print); the
trial's period with its days off by name, the purchase and the sharing policy in plain words,
the verdict, every check with its threshold and counts, a line per day and the failed checks.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from sim.analysis.acceptance import CHECKS, FAIL, HOLIDAY, NA, PASS, WEEKEND, Acceptance

# Each policy and `schedule` in plain words (a test holds this to POLICY_NAMES).
POLICY_WORDS = {
    "equal-static": ("Batas tetap sama rata", "equal fixed caps"),
    "weighted-static": ("Batas tetap menurut bobot", "fixed caps by weight"),
    "htb-equal": (
        "Jaminan sama rata, sisa kapasitas boleh dipinjam",
        "equal guarantees, spare capacity borrowed",
    ),
    "htb-weighted": (
        "Jaminan menurut bobot, sisa kapasitas dibagi menurut bobot",
        "guarantees by weight, spare capacity shared by weight",
    ),
    "htb-priority": ("Jaminan per tingkat prioritas", "guarantees by priority tier"),
    "max-min": ("Bagi rata tanpa jaminan (max-min)", "max-min fair sharing, no guarantees"),
    "deployed": (
        "Pengaturan yang berlaku di router (diimpor)",
        "the shaping in force on the router (imported)",
    ),
    "plugin": ("Kebijakan tambahan dari pengguna (plug-in)", "a user's policy (plug-in)"),
    "schedule": ("Kebijakan terjadwal menurut hari dan jam", "scheduled by day and hour"),
}
CHECK_WORDS = {
    "busy_satisfaction": (
        "Kepuasan jam sibuk: data terkirim / diminta (per hari dan lokasi)",
        "busy satisfaction: delivered / asked (per day and site)",
    ),
    "guarantee": (
        "Jaminan: laju tercapai / laju dijamin atau diminta, yang lebih kecil (per hari dan "
        "lokasi)",
        "guarantee: achieved rate / the lesser of guaranteed and asked (per day and site)",
    ),
    "evenness_per_day": (
        "Pemerataan antar lokasi, indeks Jain (per hari)",
        "evenness across sites, Jain's index (per day)",
    ),
    "evenness_per_site": (
        "Pemerataan antar hari, indeks Jain (per lokasi)",
        "evenness across days, Jain's index (per site)",
    ),
}
DAY_WORDS = {
    "working": ("hari kerja", "working day"),
    WEEKEND: ("akhir pekan", "weekend"),
    HOLIDAY: ("libur", "holiday"),
}
HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
VERDICT_WORDS = {PASS: ("LULUS", "PASSED"), FAIL: ("TIDAK LULUS", "FAILED")}
MAX_LISTED = 10  # failed checks listed; the page's tables below have them all
STYLE = """
.berita { border: 1px solid #bbb; padding: 1.2em 1.6em; font-size: 0.95em; }
.berita h1 { font-size: 1.35em; text-align: center; margin: 0; }
.berita .sub { text-align: center; margin: 0 0 0.6em 0; }
.berita p { margin: 0.45em 0; }
.berita table { width: 100%; margin: 0.3em 0; font-size: 0.95em; }
.berita td, .berita th { text-align: left; padding: 0.15em 0.45em; vertical-align: top; }
.berita td.n, .berita th.n { text-align: right; }
.en { color: #555; font-style: italic; }
.blank { display: inline-block; min-width: 14em; border-bottom: 1px dotted #333; }
.blank.short { min-width: 8em; }
.verdict { font-size: 1.2em; font-weight: bold; }
.pass { color: #1a7f37; } .fail { color: #c62828; } .na { color: #777; }
.berita .parties { width: auto; } .berita .parties td { border: none; padding: 0.05em 0.45em; }
.parties td:first-child { width: 1.5em; } .days td:first-child { white-space: nowrap; }
.closing { break-inside: avoid; }
.signatures { display: flex; gap: 3em; margin-top: 0.8em; }
.signatures > div { flex: 1; }
.signatures .space { height: 4.2em; }
@page { size: A4; margin: 13mm 15mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 9pt; }
  .screen { display: none !important; }
  .berita { border: none; padding: 0; font-size: 1em; }
  .berita table { font-size: 0.95em; }
  .berita tr, .berita li { break-inside: avoid; }
}
"""


def berita_acara(data: Acceptance, failed: list[str]) -> str:
    """The record as an HTML section; `failed` has one line per failed check."""
    return (
        "<section class='berita'>"
        "<h1>BERITA ACARA UJI TERIMA LAYANAN JARINGAN</h1>"
        "<p class='sub en'>Record of the acceptance trial of the network service</p>"
        f"<p>Nomor <span class='en'>/ number</span>: {_blank()}</p>"
        f"<p>Pada hari ini {_blank('short')} tanggal {_blank('short')} bertempat di "
        f"{_blank()}, kami yang bertanda tangan di bawah ini: <span class='en'>on the day and "
        "date above, at the place above, we the undersigned:</span></p>"
        f"{_parties()}"
        "<p>menyatakan bahwa uji terima layanan telah dilaksanakan dengan hasil sebagai "
        "berikut: <span class='en'>declare that the acceptance trial of the service was held "
        "with the following result:</span></p>"
        f"{_facts(data)}{_checks(data)}{_days(data)}{_failures(failed)}"
        "<div class='closing'><p>Demikian berita acara ini dibuat dengan sebenarnya untuk "
        "dipergunakan sebagaimana mestinya. <span class='en'>This record is made truthfully, "
        "to be used as needed.</span></p>"
        f"<p>Tempat, tanggal <span class='en'>/ place, date</span>: {_blank()}</p>"
        f"{_signatures()}</div></section>"
    )


def _blank(size: str = "") -> str:
    """A blank to fill: typed on the page before printing, or written on the print."""
    return f"<span class='blank {size}' contenteditable='true'></span>"


def _pair(bahasa: str, english: str) -> str:
    return f"{escape(bahasa)} <span class='en'>/ {escape(english)}</span>"


def _party(number: str, role: str, english: str) -> str:
    """A party's blanks (name, NIP, position, agency), numbered, then its role."""
    fields = [("Nama", "name"), ("NIP", "NIP"), ("Jabatan", "position"), ("Instansi", "agency")]
    rows = [
        f"<tr><td>{number if i == 0 else ''}</td><td>{_pair(*f)}</td><td>: {_blank()}</td></tr>"
        for i, f in enumerate(fields)
    ]
    rows.append(f"<tr><td></td><td colspan='2'>{_pair(role, english)}</td></tr>")
    return "".join(rows)


def _parties() -> str:
    rows = _party(
        "1.", "selanjutnya disebut PIHAK PERTAMA (penyedia jasa)", "the FIRST PARTY (provider)"
    ) + _party("2.", "selanjutnya disebut PIHAK KEDUA (pengguna jasa)", "the SECOND PARTY (user)")
    return f"<table class='parties'>{rows}</table>"


def _period(data: Acceptance) -> str:
    """The period, its day count and its days by type, holidays by name."""
    types = [d.day_type for d in data.days_summary]
    parts = [
        f"{types.count(kind)} {_pair(*DAY_WORDS[kind])}" for kind in DAY_WORDS if types.count(kind)
    ]
    named = [f"{_date(d.day)} {escape(d.holiday)}" for d in data.days_summary if d.holiday]
    holidays = f"<br>{_pair('hari libur', 'holidays')}: {'; '.join(named)}" if named else ""
    days = data.days
    return (
        f"{_date(days[0])} &ndash; {_date(days[-1])}, {len(days)} {_pair('hari', 'days')}: "
        f"{', '.join(parts)}{holidays}"
    )


def _facts(data: Acceptance) -> str:
    bahasa, english = POLICY_WORDS.get(data.policy, (data.policy, data.policy))
    verdict = VERDICT_WORDS[data.verdict]
    rows = [
        (_pair("Skenario", "scenario"), escape(data.scenario)),
        (_pair("Periode uji", "trial period"), _period(data)),
        (_pair("Kapasitas dibeli", "capacity purchased"), f"{data.purchase_mbps:g} Mbit/s"),
        (
            _pair("Kebijakan pembagian", "sharing policy"),
            f"{_pair(bahasa, english)} (<code>{escape(data.policy)}</code>)",
        ),
        (
            _pair("Hasil", "result"),
            f"<span class='verdict {data.verdict}'>{_pair(*verdict)}</span>",
        ),
    ]
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<table class='facts'>{body}</table>"


def _checks(data: Acceptance) -> str:
    """Each check: threshold and counts; what "not applicable" means below the table."""
    head = (
        f"<tr><th>{_pair('Pemeriksaan', 'check')}</th><th class='n'>{_pair('ambang', 'min.')}"
        f"</th><th class='n'>{_pair('lulus', 'passed')}</th><th class='n'>"
        f"{_pair('gagal', 'failed')}</th><th class='n'>{_pair('tidak berlaku', 'n/a')}</th></tr>"
    )
    rows = []
    for name in CHECKS:
        count = data.counts_by_check[name]
        threshold = data.thresholds[name.split("_per_")[0]]
        rows.append(
            f"<tr><td>{_pair(*CHECK_WORDS[name])}</td><td class='n'>&ge; {threshold:g}</td>"
            f"<td class='n'>{count[PASS]}</td><td class='n'>{count[FAIL]}</td>"
            f"<td class='n'>{count[NA]}</td></tr>"
        )
    note = _pair(
        "Tidak berlaku: hari tanpa jam sibuk bagi jenis lokasinya (kantor dan kecamatan pada "
        "akhir pekan dan hari libur) atau tanpa permintaan data",
        "not applicable: a day without busy hours for the site's kind (offices and "
        "sub-districts on weekends and holidays) or without demand",
    )
    return f"<table class='checks'>{head}{''.join(rows)}</table><p>{note}.</p>"


def _days(data: Acceptance) -> str:
    """One line a day: its type or holiday, evenness across sites, its checks' counts."""
    head = (
        f"<tr><th>{_pair('Tanggal', 'date')}</th><th>{_pair('Keterangan', 'day type')}</th>"
        f"<th class='n'>{_pair('pemerataan antar lokasi', 'evenness')}</th>"
        f"<th class='n'>{_pair('lulus', 'passed')}</th><th class='n'>"
        f"{_pair('gagal', 'failed')}</th><th class='n'>{_pair('tidak berlaku', 'n/a')}</th></tr>"
    )
    rows = []
    for day in data.days_summary:
        found = [c for cell in data.cells if cell.day == day.day for c in cell.criteria.values()]
        found.append(day.evenness)
        counts = [sum(c.verdict == v for c in found) for v in (PASS, FAIL, NA)]
        kind = escape(day.holiday or DAY_WORDS[day.day_type][0])  # one line a day
        value = day.evenness.value
        even = "&ndash;" if value is None else f"{value:.3f}"
        rows.append(
            f"<tr><td>{_date(day.day)}</td><td>{kind}</td>"
            f"<td class='n {_css(day.evenness.verdict)}'>{even}</td>"
            + "".join(f"<td class='n'>{n}</td>" for n in counts)
            + "</tr>"
        )
    return f"<table class='days'>{head}{''.join(rows)}</table>"


def _failures(failed: list[str]) -> str:
    title = _pair("Pemeriksaan yang gagal", "checks that failed")
    if not failed:
        return f"<p><b>{title}</b>: {_pair('tidak ada', 'none')}.</p>"
    items = "".join(f"<li>{escape(line)}</li>" for line in failed[:MAX_LISTED])
    if len(failed) > MAX_LISTED:
        more = _pair("lainnya, lihat tabel di halaman ini", "more, see the tables on this page")
        items += f"<li>{len(failed) - MAX_LISTED} {more}</li>"
    return f"<p><b>{title}</b> ({len(failed)}):</p><ul>{items}</ul>"


def _signatures() -> str:
    parties = [("PIHAK PERTAMA", "first party"), ("PIHAK KEDUA", "second party")]
    blocks = "".join(
        f"<div><b>{_pair(*party)}</b><br>{_pair('Jabatan', 'position')}: {_blank('short')}"
        f"<div class='space'></div>{_pair('Nama', 'name')}: {_blank('short')}<br>"
        f"NIP: {_blank('short')}</div>"
        for party in parties
    )
    return f"<div class='signatures'>{blocks}</div>"


def _date(day: str) -> str:
    """A date with its Indonesian weekday: Selasa 2022-02-01."""
    return f"{HARI[dt.date.fromisoformat(day).weekday()]} {day}"


def _css(verdict: str) -> str:
    return "na" if verdict == NA else verdict
