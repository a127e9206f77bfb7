"""Console services: the logic behind each screen, calling only hub, trace, screening and report APIs."""
