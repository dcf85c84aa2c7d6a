"""The forecasting model service: Prophet behind the wire contract of docs/contract.md."""
