"""Shaping configurations that already exist, read into netlab's own types.

A reader per format turns files into one typed model of the shaping in force
(`inforce.ShapingInForce`): RouterOS (`routeros`, over `rsc_lexer`, `rsc_menus`, `rsc_types`,
`rsc_marks`, `rsc_simple`, `rsc_tree`), Linux tc (`tc_script`, `tc_show`, both into
`tc_tree`) and LibreQoS (`libreqos`, `shaped_devices`); `pairing` makes circuits of per-
direction leaves, `rates` reads units, `ids` makes netlab identifiers, `text` reads files.
`to_plan` and `to_sites` turn the model into a ShapingPlan and topology sites; `importer` is
the entry point (`read_config`, `import_config`, `imported_topology`). Nothing read from a
file is ever executed.
"""
