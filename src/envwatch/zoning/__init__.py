"""三线一单 zoning: environmental control units and their access lists.

``geometry`` (pure): polygons with holes, the border rule, a bounding-box
grid index. ``access`` (pure): the four dimensions of an access list and the
verdict on an industry. ``units`` (pure): reading a GeoJSON FeatureCollection.
``store``: import, pre-check and the mismatches of registered enterprises.
"""
