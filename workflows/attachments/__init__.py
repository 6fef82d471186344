"""Files attached to cases: type checked by content, images stripped of metadata, stored by
SHA-256 outside the web root, read back only by those who may see the case (``store``)."""
