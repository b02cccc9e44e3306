"""The dispatcher's map console at ``/console``: one page, its scripts and small JSON feeds."""
