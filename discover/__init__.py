"""``python app.py discover``: probe a backend and write a commented starter config."""
