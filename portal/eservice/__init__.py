"""Electronic service (电子送达) as plain rules on values.

``seals``: which seal on a document an agency serves counts as that agency's. The services
store deliveries and consents; these modules decide.
"""
