"""One thin adapter per vendor: a route table, renderers and an error map."""
