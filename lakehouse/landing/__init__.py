"""The landing zone where it is not a local folder (S3), and how extractors deliver files into it."""
