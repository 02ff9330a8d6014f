"""Studies: what runs simulations to answer a question (optimise, gate, what-if, sweep,
emulate and validate, calibrate), with the worker pool and probe queue they share."""
