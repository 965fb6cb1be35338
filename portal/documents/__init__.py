"""Documents the portal issues as PDF: one Chinese A4 builder (``portal.documents.pdf``) and
one module per document (the verification report now; service receipts and consent
confirmations later). They render bytes; sealing them is ``portal.notary``'s job."""
