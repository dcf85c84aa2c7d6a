"""tickercast: stock forecasts with uncertainty, from a Prophet model service and a web app."""

__version__ = "0.2.0"
