"""Plain names and units of the code names people read: objectives and sharing policies.

One table, so the command line, the pages and the JSON files (summary.json's objectives,
recommendation.json's `objective_labels`) say the same thing: "95th-percentile download
time, s" beside `download_fct_p95_s`. Each objective also has its name in Bahasa Indonesia
for the berita acara, and each policy its plain words in both languages.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.shaping.policies import POLICIES


@dataclass(frozen=True)
class Label:
    """What a figure is in plain words, its unit, and the same in Bahasa Indonesia."""

    label: str
    unit: str
    bahasa: str

    def text(self) -> str:
        """ "95th-percentile download time, s": the label and unit as one column reads them."""
        return f"{self.label}, {self.unit}"


LABEL_KEYS = ("label", "unit")  # what objective_fields adds to a row of the JSON
SHARE = "share of time"
SATISFACTION = "share of bytes"
# Every key of [optimize.objectives] (a test holds this to the schema's fields): the
# objectives, and the setting that says which hours they read.
OBJECTIVES = {
    "busy_fraction": Label(
        "busy windows: hours at least this share of the kind's busiest",
        "share of the peak",
        "Jam sibuk: jam dengan aktivitas sekurangnya porsi ini dari jam tersibuk",
    ),
    "office_busy_hour_satisfaction": Label(
        "busy-hour satisfaction that 95 % of offices reach",
        SATISFACTION,
        "Kepuasan jam sibuk yang dicapai 95 % kantor",
    ),
    "essential_satisfaction": Label(
        "worst essential site's satisfaction", SATISFACTION, "Kepuasan terendah layanan esensial"
    ),
    "worst_office_satisfaction": Label(
        "worst office's satisfaction", SATISFACTION, "Kepuasan kantor terendah"
    ),
    "worst_hotspot_satisfaction": Label(
        "worst hotspot's satisfaction", SATISFACTION, "Kepuasan hotspot terendah"
    ),
    "worst_subdistrict_satisfaction": Label(
        "worst sub-district's satisfaction", SATISFACTION, "Kepuasan kecamatan terendah"
    ),
    "web_fct_p95_s": Label(
        "95th-percentile web page load time", "s", "Waktu muat halaman web persentil ke-95"
    ),
    "download_fct_p95_s": Label(
        "95th-percentile download time", "s", "Waktu unduh persentil ke-95"
    ),
    "paced_at_rate_share": Label(
        "calls and video: time at the needed rate",
        SHARE,
        "Panggilan dan video: porsi waktu pada laju yang dibutuhkan",
    ),
    "call_at_rate_share": Label(
        "video calls: time at the needed rate",
        SHARE,
        "Panggilan video: porsi waktu pada laju yang dibutuhkan",
    ),
    "video_at_rate_share": Label(
        "streaming video: time at the needed rate",
        SHARE,
        "Video streaming: porsi waktu pada laju yang dibutuhkan",
    ),
    "jain_index": Label(
        "evenness across sites (Jain's index)", "index 0-1", "Pemerataan antar lokasi (indeks Jain)"
    ),
}

# In plain words, Bahasa Indonesia then English: the policies that are no declared Policy (the
# built-ins carry their own words, sim.shaping.policies.POLICIES).
POLICY_WORDS = {
    "plugin": ("Kebijakan tambahan dari pengguna (plug-in)", "a user's policy (plug-in)"),
    "schedule": ("Kebijakan terjadwal menurut hari dan jam", "scheduled by day and hour"),
}


def objective_label(name: str) -> Label:
    """The objective's label; an unknown name (a newer file) reads as itself, unit unknown."""
    return OBJECTIVES.get(name, Label(name.replace("_", " "), "-", name.replace("_", " ")))


def objective_fields(name: str) -> dict[str, str]:
    """{"label": ..., "unit": ...}: what the JSON files add beside an objective's name."""
    found = objective_label(name)
    return dict(zip(LABEL_KEYS, (found.label, found.unit), strict=True))


def policy_words(name: str) -> tuple[str, str]:
    """The policy in plain words (Bahasa Indonesia, English); an unknown name as itself."""
    declared = POLICIES.get(name)
    if declared is not None:
        return declared.words
    return POLICY_WORDS.get(name, (name, name))
