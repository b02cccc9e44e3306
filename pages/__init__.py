"""Web pages for people with a browser: login, the staff home, the customer portal."""
