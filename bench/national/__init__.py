"""National-scale end-to-end benchmark: a proportional sample of the national distribution through the real
logistics and notifications services (``python -m bench national --fraction F``)."""
