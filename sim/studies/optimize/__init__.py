"""The purchase-and-split optimiser: the cheapest purchase whose split meets the objectives.

Structure instead of brute force: for a given policy, more capacity does not hurt the
objectives (monotonicity; the probes check it and report violations), so the smallest
purchase that meets them is found by bisection on the Mbps grid (`bisection`), galloping from
an anchor (the growth and sensitivity searches from the need `prediction.predicted_need`
expects, so most settle in two purchases). A purchase meets the objectives when the figures
averaged over the seeds do (`probes.judge`: the objectives are about expected service, not one
lucky day); the per-seed figures are kept to show the spread. Prices are tiered (`finance`:
the price per Mbps falls with size), so a larger purchase can cost less: the cheapest
feasible purchase is the per-policy minimum or the first grid point of a cheaper tier above
it. The answer is then confirmed on fresh seeds (stepped up a grid point at a time until they
agree) and the next cheaper option on the price table is tried on them.

Every search (per policy, per growth factor, per varied assumption) is an asyncio task
(`searches`) that advances as soon as its own probes are in, and phases that do not need each
other's answers run side by side (growth beside the confirmation; the price-tier edges beside
the sensitivities), all on one `ProbeQueue` of worker processes that simulates each distinct
probe once: the search semantics are those of one search at a time, and so is the answer.

`recommend.recommend` does all of it and returns a `Recommendation` (what recommendation.json
holds), with the scenario at the answer, ready for the final full run; `frontier` and
`sensitivity` write up what was found around it. Every point simulated is the scenario itself
changed by its typed `with_*` methods, so the policy searched, confirmed and recommended is
the scenario's own, parameters included.
"""
