"""Shaping configurations that already exist, read into netlab's own types.

A reader per format turns files into one typed model of the shaping in force
(`inforce.ShapingInForce`): `routeros` (with `rsc_lexer`, `rsc_menus`, `rsc_queues`), `tc`
(`tc_script`, `tc_show`, `tc_tree`) and `libreqos` (`shaped_devices`). `to_plan` and
`to_sites` turn that model into a ShapingPlan and the sites of a topology; `importer` is the
entry point (`read_config`, `import_config`). Nothing read from a file is ever executed.
"""
