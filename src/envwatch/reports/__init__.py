"""Documents built from stored data for people to read offline: PDF (``pdf``)."""
