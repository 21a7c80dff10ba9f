"""``zg-excel serve``: units upload their returns from a browser and see at once what will be scored.

* :mod:`.settings` — ``serve.toml`` of the working folder (limits, with defaults in code).
* :mod:`.tokens` — personal links: random tokens, stored only as sha256 hashes; the links file.
* :mod:`.store` — the content-hash cache of read workbooks, the inbox index, storing an upload
  and its audit line, the office's standings snapshot, and ``run_merge`` (one at a time, under
  the working folder's lock).
* :mod:`.app` — the Flask application (pages rendered on the server; no JavaScript needed).
* :mod:`.server` — cheroot, with TLS when a certificate is given.

Everything the server keeps lives in the working folder's ``网页报送/`` folder, which no merge
reads; accepted uploads go to ``inbox/<unit>/``.
"""

