"""zoudiff: the differential test tool that compares Slate's public API with Zou 1.0.97's.

See docs/differential.md.
"""
