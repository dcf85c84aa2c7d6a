"""The web app: pages, charts and the JSON API around the model service (see `app`)."""
