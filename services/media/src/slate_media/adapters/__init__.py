"""Media's adapters to the world outside its database: object storage (``storage``),
ffmpeg and Pillow (``processing``), streamed multipart uploads (``uploads``), file
responses with ranges and caching (``downloads``) and the JetStream work queue of
preview jobs (``jobs``). Domain code calls them; they know nothing of the domain."""
