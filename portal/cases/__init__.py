"""Cases: what a case is and what may happen in it, as plain rules on values.

``codes`` (the case code and its QR token), ``intake`` (reading a case the agency registers),
``events`` (stage events and their data), ``rules`` (which event may follow which),
``deadlines`` (every period a case starts, counted by the legal calendar) and ``rights``
(which of a party's rights are open now). The services store and load cases; these modules
decide.
"""
