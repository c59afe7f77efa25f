"""The reports, one module or package each. A report module registers its parameter model with
``@register_report("<name>")`` and builds the report's figures and tables as
``helpers.rendering.notebook.Figure``/``Table`` values; it neither displays nor writes files.
The build layer finds every module here by scanning this package (``helpers.build.registry``).
"""
