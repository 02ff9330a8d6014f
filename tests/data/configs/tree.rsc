/ip firewall address-list
add address=10.5.0.0/24 list=office
add address=10.6.0.10-10.6.0.11 list=guest
/ip firewall mangle
add action=mark-packet chain=forward dst-address-list=office new-packet-mark=office-dl passthrough=no
add action=mark-packet chain=forward src-address-list=office new-packet-mark=office-ul passthrough=no
add action=mark-packet chain=forward dst-address-list=guest new-packet-mark=guest-dl passthrough=no
add action=mark-packet chain=forward src-address-list=guest new-packet-mark=guest-ul passthrough=no
/queue tree add name=download parent=global max-limit=40M;
/queue tree add name=upload parent=global max-limit=10M;
/queue tree add name=office-dl parent=download packet-mark=office-dl limit-at=20M max-limit=40M priority=1;
/queue tree add name=guest-dl parent=download packet-mark=guest-dl limit-at=5M max-limit=30M priority=8 queue=pcq-download-default;
/queue tree add name=office-ul parent=upload packet-mark=office-ul limit-at=5M max-limit=10M priority=1;
/queue tree add name=guest-ul parent=upload packet-mark=guest-ul limit-at=1M max-limit=5M priority=8;
