/queue simple
add max-limit=10M/10M name=a target=10.0.0.0/24
set 4 max-limit=20M/20M
