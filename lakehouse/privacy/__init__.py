"""Personal data: the token vault, erasure and its receipts."""
