"""Discovery: the query language, facets, full text and the semantic-tag vocabulary.

A domain package: logic and the SQL it needs, no HTTP. The service layer
(:mod:`modelatlas.registry`) opens the transactions and calls in here.
"""
