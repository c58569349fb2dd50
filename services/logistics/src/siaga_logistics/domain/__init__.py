"""Pure logistics domain: catalogue, planning, the shipment state machine, proof of delivery, delay
severity and readiness. No I/O here."""
