"""Screening: direct hits (sanctions, labels, hub indicators) and indirect exposure of addresses."""
