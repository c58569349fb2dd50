"""Pure view-models of the console: what each page shows, computed from the services' API answers."""
