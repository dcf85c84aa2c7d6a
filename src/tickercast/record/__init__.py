"""The track record: every forecast the site shows, kept once and scored when its day comes.

tables      the tables (SQLAlchemy Core); migrations/ beside them (Alembic)
db          one engine from a URL, and migrating it
store       storing shown forecasts (one row per forecast, views counted apart)
scorer      scoring every step whose price is known, and the totals pages read
queries     the few reads the pages and the JSON API make
buffer      forecasts shown while the database is down, written when it is back

The web app and the command line use it; it never imports the web app, and the model service
never uses it.
"""
