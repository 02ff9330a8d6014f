#!/bin/sh
# a literal HTB tree: downloads on eth1 by destination, uploads on eth0 by source
TC=/sbin/tc
sudo $TC qdisc del dev eth1 root 2>/dev/null || true
sudo $TC qdisc replace dev eth1 root handle 1: htb default 30
$TC class add dev eth1 parent 1: classid 1:1 htb rate 100mbit ceil 100mbit
$TC class add dev eth1 parent 1:1 classid 1:10 htb \
    rate 30mbit ceil 100mbit prio 1 quantum 30000
$TC class add dev eth1 parent 1:1 classid 1:20 htb rate 10Mbit ceil 50mbit prio 2; $TC qdisc add dev eth1 parent 1:20 fq_codel
tc filter add dev eth1 parent 1: protocol ip prio 1 u32 match ip dst 192.168.10.0/24 flowid 1:10
tc filter add dev eth1 parent 1: protocol ip prio 1 u32 match ip dst 192.168.20.0/24 flowid 1:20
tc qdisc add dev eth0 root handle 1: htb
tc class add dev eth0 parent 1: classid 1:1 htb rate ${UPLINK}
tc class add dev eth0 parent 1:1 classid 1:10 htb rate 2500kbps ceil 20mbit
tc class add dev eth0 parent 1:1 classid 1:20 htb rate 5mbit ceil 20mbit
tc filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip src 192.168.10.0/24 flowid 1:10
tc filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip src 192.168.20.0/24 flowid 1:20
