"""The demand model: users as SimPy processes in a closed loop with the network."""
