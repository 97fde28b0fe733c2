"""Views, split by audience: archive (public readers)."""
