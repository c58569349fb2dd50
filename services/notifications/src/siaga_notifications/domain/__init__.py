"""Pure alerting rules: fingerprints, routing tree, grouping, inhibition, silences, escalation, rendering.

Nothing here performs I/O; handlers load what a decision needs and store what it returns."""
