"""Rendering: what a notebook shows (:mod:`.notebook`, :mod:`.captions`, :mod:`.figures`,
:mod:`.tables`, :mod:`.table_data`) and how an executed notebook becomes Swedish HTML and PDF
(:mod:`.cleaning`, :mod:`.html`, :mod:`.markdown`, :mod:`.pdf`, :mod:`.export`,
:mod:`.provenance`, templates in ``templates/``)."""
