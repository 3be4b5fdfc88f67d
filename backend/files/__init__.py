"""Files: content-addressed bytes (blobstore.py), tus uploads (uploads.py, tus.py), downloads
(downloads.py), previews (previews.py) and the worker that makes them and collects garbage
(worker.py). PROTOCOL.md, "Files", is the contract; docs/architecture.md tells the story."""
