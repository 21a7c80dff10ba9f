"""Untrusted file → ``RawBook``: the boundary where hostile bytes stop.

Everything here is about reading a file somebody sent without being hurt by
it (zip bombs, huge grids, XML entities, crashing parsers, hangs), and about
saying in Chinese why a file was not read. The result is cells as the file
holds them (``raw.RawBook``) or a ``raw.FileFailure``; nothing is interpreted.

The boundary: modules of ``intake`` import only the standard library, the
parsers (python-calamine, openpyxl, xlrd, olefile, defusedxml) and each other,
never another part of ``zg_excel`` (rules, roster, schema, model, values,
issues, ...). What a return *means* (columns, units, dates, points) is decided
above it, in ``returns.py``; the limits arrive as an ``IntakeLimits`` value.
``tests/test_layers.py`` checks this.
"""
