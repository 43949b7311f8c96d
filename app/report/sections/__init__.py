"""The parts of the report page, one module each, in the order the page shows them.

Each module turns checked inputs (:mod:`app.report.inputs`) into one HTML fragment; the page
(:mod:`app.report.page`) puts the fragments together.
"""
