"""Measures (SPEC §8): London periods, the counts behind each chart, the XmR engine and its SVG charts."""
