/queue tree
add max-limit=10M name=wan parent=global
add name=voice packet-mark=voice parent=wan priority=[ :pick "12" 0 ]
