"""Văn bản đi: drafting, review route, signing, issuing with an ND30 number, dispatch."""
