# may/14/2024 09:12:40 by RouterOS 7.12.1
# An example written for netlab's README (not a real router): the communications office of a
# small regency shapes one 100 Mbit/s uplink with one simple queue per site under a parent
# queue. limit-at and max-limit are upload/download, from the site's side.
/queue type
add kind=pcq name=pcq-hotspot-down pcq-classifier=dst-address pcq-rate=2M
/queue simple
add name=UPLINK target=10.10.0.0/16 max-limit=100M/100M comment="ISP dedicated 100M"
add name="Setda" parent=UPLINK target=10.10.1.0/24 limit-at=4M/12M max-limit=8M/20M \
    priority=1/1
add name="Dinas Pendidikan" parent=UPLINK target=10.10.2.0/24 limit-at=3M/8M \
    max-limit=6M/15M priority=2/2
add name="Dinas Kesehatan" parent=UPLINK target=10.10.3.0/24 limit-at=3M/8M \
    max-limit=6M/15M priority=2/2
add name="RSUD dr. Murjani" parent=UPLINK target=10.10.4.0/24 limit-at=4M/12M \
    max-limit=8M/20M priority=1/1
add name="Bappeda" parent=UPLINK target=10.10.5.0/24 limit-at=2M/5M max-limit=4M/10M
add name="Kec. Baamang" parent=UPLINK target=10.10.11.0/24 limit-at=1M/3M max-limit=2M/5M \
    priority=3/3
add name="Kec. Mentawa Baru Ketapang" parent=UPLINK target=10.10.12.0/24 limit-at=1M/3M \
    max-limit=2M/5M priority=3/3
add name="Hotspot Taman Kota" parent=UPLINK target=10.10.20.0/22 limit-at=1M/2M \
    max-limit=4M/10M priority=8/8 queue=default-small/pcq-hotspot-down
