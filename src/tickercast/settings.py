"""Settings from the environment, read once by each service's factory.

Every field here is an environment variable of the same name in upper case, and every one is
listed in the README's settings table (a test keeps the two in step). Secrets have no default.
"""

from __future__ import annotations

import os

from limits import parse as parse_rate
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tickercast.runtime.logs import LogFormat
from tickercast.runtime.networks import parse_networks

# The track record's database when DATABASE_URL is unset: a SQLite file in the working folder.
DEFAULT_DATABASE_URL = "sqlite:///tickercast-record.sqlite3"


class _Base(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    redis_url: str | None = Field(
        default=None, description="Redis for the shared cache and rate limits; unset: in-process."
    )
    log_level: str = Field(default="INFO", description="Python log level.")
    log_format: LogFormat = Field(
        default="auto",
        description="Log lines: `json` (one object a line), `text` (short lines for a person), "
        "`auto`: text when stderr is a terminal, else JSON.",
    )
    max_requests: int = Field(
        default=5_000, ge=0, description="Requests a worker serves before it is replaced; 0: never."
    )
    max_requests_jitter: int = Field(
        default=500, ge=0, description="Up to this many more, at random, so workers differ."
    )


class ModelSettings(_Base):
    """The model service (`tickercast model`)."""

    model_api_keys: SecretStr = Field(
        description="Comma-separated keys the model service accepts (required; no default)."
    )
    model_max_rows: int = Field(default=20_000, ge=2, description="Most rows in one request.")
    model_max_periods: int = Field(default=3_650, ge=1, description="Largest `periods`.")
    model_max_body_bytes: int = Field(
        default=4_000_000, ge=1_000, description="Largest request body, in bytes."
    )
    model_batch_max_series: int = Field(
        default=1_000, ge=1, description="Most series in one batch (400 above)."
    )
    model_batch_max_rows: int = Field(
        default=1_250_000,
        ge=2,
        description="Most rows in one batch, all series together (400 above).",
    )
    model_batch_max_bytes: int = Field(
        default=32_000_000,
        ge=1_000,
        description="Largest batch request body, in bytes (413 above).",
    )
    model_fit_timeout: float = Field(
        default=60.0, gt=0, description="Seconds one fit may run before the answer is 503."
    )
    model_fit_slots: int = Field(
        default=0, ge=0, description="Fits run at once by all workers together; 0: one per core."
    )
    model_queue_size: int = Field(
        default=4, ge=0, description="Requests a worker holds waiting for a fit before 503."
    )
    model_rate_limit: str = Field(
        default="auto",
        description="Milliseconds of CPU (one core) per key computing forecasts (`limits` "
        "syntax, e.g. `90000/minute`); `auto`: three quarters of what the fit slots compute.",
    )
    model_request_rate_limit: str = Field(
        default="30000/minute", description="Requests per key, cached answers included."
    )
    model_cache_ttl: int = Field(
        default=7 * 24 * 3600, ge=0, description="Seconds a cached forecast is kept; 0: no cache."
    )
    model_cache_max_items: int = Field(
        default=2_000, ge=1, description="Most cached forecasts (per process without Redis)."
    )
    model_cache_max_mb: int = Field(
        default=32, ge=1, description="Most megabytes of forecasts a worker caches in memory."
    )
    model_mock: bool = Field(
        default=False, description="Answer with the cheap deterministic mock instead of Prophet."
    )
    model_key_failure_limit: str = Field(
        default="10/minute",
        description="Wrong keys one client may send (`limits` syntax) before keyless or wrongly "
        "keyed requests from it get 429.",
    )
    model_trusted_proxies: str | None = Field(
        default=None,
        description="Comma-separated IPs/CIDRs of proxies whose X-Forwarded-For names the client.",
    )
    model_worker_header: bool = Field(
        default=False, description="Send `X-Worker` (host:pid) with each forecast and ready answer."
    )

    @field_validator("model_api_keys")
    @classmethod
    def _keys_not_blank(cls, value: SecretStr) -> SecretStr:
        if not [k for k in value.get_secret_value().split(",") if k.strip()]:
            raise ValueError("MODEL_API_KEYS holds no key")
        return value

    @field_validator("model_rate_limit")
    @classmethod
    def _rate_is_auto_or_a_rate(cls, value: str) -> str:
        if value.strip().lower() != "auto":
            try:
                parse_rate(value)
            except ValueError:
                raise ValueError(f"MODEL_RATE_LIMIT {value!r} is neither auto nor a rate") from None
        return value

    @field_validator("model_trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str | None) -> str | None:
        parse_networks(value or "")  # ValueError names the entry that is not an address
        return value

    @property
    def fit_slots(self) -> int:
        return self.model_fit_slots or os.cpu_count() or 1

    @property
    def api_keys(self) -> list[bytes]:
        raw = self.model_api_keys.get_secret_value()
        return [k.strip().encode() for k in raw.split(",") if k.strip()]


class ProviderSettings(_Base):
    """The price providers (the web app, `tickercast score` and `tickercast record`)."""

    nasdaq_data_link_api_key: SecretStr | None = Field(
        default=None, description="Enables Nasdaq Data Link prices."
    )
    nasdaq_data_link_table: str = Field(
        default="WIKI/PRICES", description="Nasdaq Data Link table with daily prices."
    )
    nasdaq_data_link_url: str = Field(
        default="https://data.nasdaq.com", description="Nasdaq Data Link base URL."
    )
    tiingo_api_key: SecretStr | None = Field(default=None, description="Enables Tiingo prices.")
    tiingo_url: str = Field(default="https://api.tiingo.com", description="Tiingo base URL.")
    provider_timeout: float = Field(
        default=15.0, gt=0, description="Seconds to wait for an online price provider."
    )
    yahoo_prices: bool = Field(
        default=True,
        description="Prices from Yahoo Finance, no key (for personal use: off on a public site).",
    )
    yahoo_proxy: SecretStr | None = Field(
        default=None, description="A proxy for Yahoo's hosts (`http://host:port`); unset: none."
    )
    yahoo_ca_bundle: str | None = Field(
        default=None,
        description="A CA bundle file to trust for Yahoo's hosts (a TLS-inspecting proxy's); "
        "unset: the usual ones.",
    )
    yahoo_cache_dir: str | None = Field(
        default=None,
        description="A writable folder for yfinance's own files; unset: one in the temp folder.",
    )
    price_time_budget: float = Field(
        default=4.0,
        gt=0,
        description="Seconds all price sources together may take for one ticker before the "
        "page answers with what it has.",
    )
    refresh_tickers: str | None = Field(
        default=None,
        description="Comma-separated tickers `tickercast refresh` warms besides those viewed "
        "in the last week.",
    )


class RecordSettings(ProviderSettings):
    """The track record: where it is kept (the web app, `tickercast db`, `score`, `record`)."""

    database_url: SecretStr | None = Field(
        default=None,
        description="The track record's database (PostgreSQL in production); unset: a SQLite "
        "file, tickercast-record.sqlite3 in the working folder.",
    )
    record_buffer_max: int = Field(
        default=10_000,
        ge=1,
        description="Most shown forecasts held while the database is down (then the oldest drop).",
    )

    @property
    def record_url(self) -> str:
        return self.database_url.get_secret_value() if self.database_url else DEFAULT_DATABASE_URL


class ReplaySettings(RecordSettings):
    """`tickercast record`: the record's settings, and the model service when one is named
    (the web app's MODEL_API_URL and MODEL_API_KEY; unset: a model in the command's process)."""

    model_api_url: SecretStr | None = Field(
        default=None, description="Where the model service answers; unset: in this process."
    )
    model_api_key: SecretStr = Field(
        default=SecretStr(""), description="The key sent to the model service."
    )


class WebSettings(RecordSettings):
    """The web app (`tickercast web`): the record's and the providers' settings and its own."""

    # A secret: the URL may carry a password (http://user:pw@host/).
    model_api_url: SecretStr = Field(description="Where the model service answers (required).")
    model_api_key: SecretStr = Field(description="The key sent to the model service (required).")
    model_api_timeout: float = Field(
        default=25.0,
        gt=0,
        description="Seconds the app waits for one forecast (under a router's 30 s, as Heroku's).",
    )
    model_api_retries: int = Field(
        default=2, ge=0, description="Retries of a model call that failed on the wire."
    )
    model_answer_cache_ttl: int = Field(
        default=24 * 3600, ge=0, description="Seconds the web app keeps a model answer; 0: never."
    )
    upload_max_bytes: int = Field(
        default=2_000_000, ge=1_000, description="Largest CSV a user may upload, in bytes."
    )
    upload_max_rows: int = Field(
        default=20_000,
        ge=2,
        description="Most rows in a series a user posts (at most the model's MODEL_MAX_ROWS).",
    )
    watchlist_default: str = Field(
        default="AAPL,MSFT,GOOG,IBM,FB",
        description="Comma-separated tickers of the watchlist the home page and /watch show "
        "until a visitor keeps their own (the default: the sample data's five, which answer "
        "offline).",
    )
