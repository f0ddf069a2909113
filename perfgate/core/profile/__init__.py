"""Traffic modelling from access logs (pure): templates, bots, sessions, personas, arrivals, k6."""
