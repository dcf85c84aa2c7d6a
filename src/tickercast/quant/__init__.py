"""Pure numbers: calendars, the random walk and its band, volatility, scoring.

Imports nothing of the project but `tickercast.errors`."""
