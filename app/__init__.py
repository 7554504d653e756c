"""The reference app's page parts: pages under ``pages/`` read top to bottom, helpers live here."""
