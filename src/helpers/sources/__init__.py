"""The data sources: one HTTP transport (:mod:`.http`: retries, deadline, raw cache, errors),
the Kolada and Eurostat clients on it, their local replays (:mod:`.replay`), and the choice
between the live APIs and the recordings (:mod:`.live`)."""
