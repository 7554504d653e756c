"""Helpers for tests that drive the real thing: a `streamlit run` server, Chromium, websockets.

- ``wait``: ``wait_until(predicate, timeout, interval)``, polling with a deadline instead of sleeps.
- ``server``: ``StreamlitServer``, a real ``streamlit run`` on a free port, and ``free_port()``.
- ``browser``: Debian's Chromium through Playwright (``launch_chromium``), no download needed.
- ``ws_client``: ``StreamlitWsClient``, many lightweight sessions speaking Streamlit's protocol.
- ``proxy``: ``TcpProxy``, a loopback relay whose ``drop()`` makes a real network blip.
- ``event_log``: ``EventWriter`` (app side) and ``EventLog`` (test side), a JSON-lines channel
  through which a test app reports what happened on the server.
- ``fixtures``: the pytest fixtures over these (imported by ``tests/conftest.py``).
"""
