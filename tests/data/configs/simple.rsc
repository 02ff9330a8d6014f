# sep/02/2023 by RouterOS 6.48
/queue simple
add max-limit=100M/200M name=ALL target=""
add limit-at=5M/10M max-limit=20M/50M name="Kantor \"Pusat\"" parent=ALL priority=\
    2/2 target=10.1.0.0/24,10.1.1.0/24
add limit-at=1M/2M max-limit=10M/20M name=Sekolah parent=ALL queue=\
    default-small/pcq-dl target=10.2.0.0/24 burst-limit=12M/24M
add max-limit=5M/5M name=Overlap parent=ALL target=10.1.1.0/24
add max-limit=1M/1M name=Off parent=ALL target=10.9.0.0/24 disabled=yes
/queue type
add kind=pcq name=pcq-dl pcq-classifier=dst-address pcq-rate=2M pcq-limit=50KiB
/queue simple
set 2 max-limit=15M/25M
set [ find name=Overlap ] priority=8/8
