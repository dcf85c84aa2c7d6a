"""`tickercast`: one command for every process of the project.

tickercast model   the forecasting model service
tickercast web     the web app, reaching the model service at MODEL_API_URL
tickercast up      both on this machine, for a first run
tickercast refresh ask ahead for the forecasts and backtests the ticker pages will ask for;
                   with --universe, forecast and record every ticker of a universe (its shard)
tickercast db      migrate the track record's database (`tickercast db upgrade`)
tickercast score   score every stored forecast whose prices are now known
tickercast record  replay the ticker pages on past days into the track record, and score them
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence

from tickercast import __version__


def _model_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("model", help="serve the forecasting model service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9000)
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--mock", action="store_true", help="cheap deterministic forecasts, no Prophet")
    p.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)  # `up`: stop when it has gone
    p.set_defaults(func=_run_model)


def _run_model(args: argparse.Namespace) -> int:
    from tickercast.cli.model_server import serve

    return serve(args.host, args.port, args.workers, args.mock, parent=args.parent_pid)


def _web_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("web", help="serve the web app (needs MODEL_API_URL and MODEL_API_KEY)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)  # `up`: stop when it has gone
    p.set_defaults(func=_run_web)


def _run_web(args: argparse.Namespace) -> int:
    from tickercast.cli.web_server import serve

    return serve(args.host, args.port, args.workers, parent=args.parent_pid)


def _up_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("up", help="run the model service and the web app together")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--mock", action="store_true", help="use the mock model (no Prophet)")
    p.set_defaults(func=_run_up)


def _run_up(args: argparse.Namespace) -> int:
    from tickercast.cli.up import up

    return up(host=args.host, port=args.port, mock=args.mock)


def _refresh_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "refresh",
        help="fetch prices and ask for the forecasts and backtests the pages will ask for "
        "(the web app's settings)",
    )
    p.add_argument("tickers", nargs="*", metavar="TICKER", help="default: every listed ticker")
    p.add_argument(
        "--concurrency",
        type=int,
        default=4,
        help="pages at a time (default 4); with --universe, price fetches at a time",
    )
    p.add_argument(
        "--periods",
        type=int,
        nargs="+",
        metavar="H",
        help="forecast horizons in sessions (default: the ticker page's)",
    )
    p.add_argument(
        "--windows",
        nargs="+",
        metavar="W",
        help="history windows (default: the ticker page's)",
    )
    p.add_argument(
        "--methods",
        nargs="+",
        metavar="M",
        help="forecast methods, calibrated or prophet (default: the ticker page's)",
    )
    p.add_argument(
        "--universe",
        metavar="FILE",
        help="the nightly run: forecast every ticker of this universe (a CSV file, or sp500 "
        "for the shipped S&P 500) through the batch API, record them as nightly and score "
        "what the new prices settle",
    )
    p.add_argument(
        "--shard",
        default="0/1",
        metavar="I/N",
        help="with --universe: take shard I of N (auto/N: I from JOB_COMPLETION_INDEX); "
        "default 0/1, the whole universe",
    )
    p.add_argument(
        "--backtests",
        action="store_true",
        help="with --universe: warm each ticker page's backtest too (50 origins: about 0.3 s "
        "of the model's CPU a ticker)",
    )
    p.set_defaults(func=_run_refresh)


def _run_refresh(args: argparse.Namespace) -> int:
    if args.backtests and args.universe is None:
        print(
            "tickercast refresh: --backtests goes with --universe (without it, the refresh "
            "warms every page's backtest already)",
            file=sys.stderr,
        )
        return 2
    if args.universe is not None:
        from tickercast.cli.refresh import nightly_main

        if args.tickers or args.windows or args.periods or args.methods:
            print(
                "tickercast refresh: --universe takes no tickers, --windows, --periods or "
                "--methods (it asks what the ticker page asks)",
                file=sys.stderr,
            )
            return 2
        return nightly_main(args.universe, args.shard, args.concurrency, args.backtests)
    from tickercast.cli.refresh import main

    return main(args.tickers, args.windows, args.periods, args.concurrency, args.methods)


def _db_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("db", help="the track record's database (DATABASE_URL)")
    actions = p.add_subparsers(dest="action", required=True)
    up = actions.add_parser("upgrade", help="migrate it to the newest schema (or --revision)")
    up.add_argument("--revision", default="head")
    p.set_defaults(func=_run_db)


def _run_db(args: argparse.Namespace) -> int:
    from tickercast.cli.record import upgrade

    return upgrade(args.revision)


def _score_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "score", help="score every stored forecast whose prices are now known (resumable)"
    )
    p.set_defaults(func=_run_score)


def _run_score(args: argparse.Namespace) -> int:
    from tickercast.cli.record import score

    return score()


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _record_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "record",
        help="replay the ticker pages on past sessions into the track record (as replayed), "
        "then score them; the model service at MODEL_API_URL, else one in this process",
    )
    p.add_argument("tickers", nargs="+", metavar="TICKER")
    p.add_argument("--from", dest="start", type=_date, required=True, help="first day")
    p.add_argument("--to", dest="end", type=_date, required=True, help="last day")
    p.add_argument("--every", type=int, default=5, help="every N-th session (default 5)")
    p.add_argument(
        "--methods", nargs="+", default=["calibrated"], help="forecast methods (default calibrated)"
    )
    p.add_argument(
        "--source", default="embedded", help="price source (default embedded, the sample prices)"
    )
    p.add_argument("--mock", action="store_true", help="the mock model (no Prophet)")
    p.set_defaults(func=_run_record)


def _run_record(args: argparse.Namespace) -> int:
    from tickercast.cli.record import record
    from tickercast.errors import TickercastError

    if args.every < 1:
        print("tickercast record: --every must be at least 1", file=sys.stderr)
        return 2
    if args.end < args.start:
        print("tickercast record: --to is before --from", file=sys.stderr)
        return 2
    try:
        return record(
            args.tickers, args.start, args.end, args.every, args.methods, args.source, args.mock
        )
    except TickercastError as exc:
        print(f"tickercast record: {exc.client_message}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tickercast", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"tickercast {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _model_parser(sub)
    _web_parser(sub)
    _up_parser(sub)
    _refresh_parser(sub)
    _db_parser(sub)
    _score_parser(sub)
    _record_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
