"""Replaying the ticker pages on past days: each forecast is the model's answer for the prices
cut at its as_of, so no later price leaks in; and the commands that run it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import orjson
import pandas as pd
import pytest

from tests.record.test_migrations import HEAD
from tests.support.loop import run
from tickercast import cli
from tickercast.cli.record import model_client, score_sentence, summary_sentence
from tickercast.contract import iso_dates
from tickercast.data.embedded import EmbeddedProvider
from tickercast.record import db, queries
from tickercast.record.scorer import ScoreRun
from tickercast.web.forecasts import model_series
from tickercast.web.model_client import model_request
from tickercast.web.replay import replay, replay_days
from tickercast.web.series import answer_rows

PRICES = EmbeddedProvider().history("AAPL")
FRAME = PRICES.frame
DAYS = replay_days(FRAME.index, dt.date(2012, 6, 1), dt.date(2012, 6, 30), 7)


async def replay_and_ask(mock: bool, frame: pd.DataFrame) -> tuple[list, list[dict]]:
    """The replayed forecasts of DAYS, and the model's own answers for the prices to each day
    (asked without the replay's code)."""
    async with model_client(mock) as model:
        prices = dataclasses.replace(PRICES, frame=frame)
        replayed = await replay(model, prices, DAYS, "calibrated")
        answers = []
        for day in DAYS:
            cut = frame.loc[: frame.index[day]]
            series = model_series(cut)
            body = model_request(
                iso_dates(pd.DatetimeIndex(series.index)),
                series.tolist(),
                "XNYS",
                0.8,
                "calibrated",
                periods=60,
            )
            answers.append(orjson.loads(await model.answer("forecast", body)))
    return replayed, answers


def check_equal(replayed: list, answers: list[dict]) -> None:
    """Each replayed forecast is the model's answer as the page shows it (six digits)."""
    assert len(replayed) == len(DAYS) == len(answers) >= 3
    for shown, answer, day in zip(replayed, answers, DAYS, strict=True):
        assert shown.as_of == FRAME.index[day].date()
        assert shown.kind == "replayed"
        rows = answer_rows(answer)
        assert [s.yhat for s in shown.steps] == [r["yhat"] for r in rows]
        assert [s.yhat_upper for s in shown.steps] == [r["yhat_upper"] for r in rows]
        assert [str(s.ds) for s in shown.steps] == list(answer["ds"].values())
        assert [s.yhat for s in shown.steps] == pytest.approx(list(answer["yhat"].values()))


def later_prices_changed(frame: pd.DataFrame) -> pd.DataFrame:
    """The same prices to the last replayed day, and wild ones after it."""
    changed = frame.copy()
    after = changed.index > changed.index[DAYS[-1]]
    changed.loc[after, ["close", "adj_close"]] *= 3.0
    return changed


def test_replay_days_take_every_nth_session_in_the_range() -> None:
    days = pd.bdate_range("2024-01-01", periods=20)
    picked = replay_days(days, dt.date(2024, 1, 3), dt.date(2024, 1, 20), 5)
    assert [str(days[i].date()) for i in picked] == ["2024-01-03", "2024-01-10", "2024-01-17"]


def test_a_replayed_forecast_is_the_models_answer_for_the_prices_to_its_day() -> None:
    replayed, answers = run(replay_and_ask(True, FRAME))
    check_equal(replayed, answers)
    again, _ = run(replay_and_ask(True, later_prices_changed(FRAME)))
    assert [s.key() for s in again] == [s.key() for s in replayed]
    assert [(s.steps, s.last_price) for s in again] == [(s.steps, s.last_price) for s in replayed]


@pytest.mark.slow
def test_with_real_prophet_no_later_price_leaks_in() -> None:
    replayed, answers = run(replay_and_ask(False, FRAME))
    check_equal(replayed, answers)
    assert replayed[0].model_version.startswith("fast/")
    again, _ = run(replay_and_ask(False, later_prices_changed(FRAME)))
    assert [s.steps for s in again] == [s.steps for s in replayed]


def test_the_commands_migrate_record_and_score(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    assert cli.main(["db", "upgrade"]) == 0
    assert f"revision {HEAD}" in capsys.readouterr().out
    args = ["record", "AAPL", "--from", "2012-06-01", "--to", "2012-08-31", "--every", "10"]
    assert cli.main([*args, "--mock"]) == 0
    out = capsys.readouterr().out
    assert "AAPL calibrated: 7 forecasts replayed, 7 new" in out
    assert "tickercast record: 420 prices scored" in out
    # Read as a sentence: two decimals for MASE, one for the share, thousands separated.
    assert re.search(
        r"  AAPL calibrated: 7 forecasts, MASE \d\.\d\d, the 80% band held \d{1,3}\.\d% of "
        r"420 prices(, weighted interval score \d\.\d\d× the random walk's)?\n",
        out,
    ), out
    assert cli.main(["score"]) == 0
    assert (
        "tickercast score: 0 prices scored; the totals of 0 groups brought up to date"
        in capsys.readouterr().out
    )
    engine = db.make_engine(postgres_url)
    record = queries.summary(engine, "AAPL", "calibrated")
    engine.dispose()
    assert record is not None
    assert (record["kind"], record["forecasts"], record["scored"]) == ("replayed", 7, 7 * 60)
    assert postgres_url.split("@")[0] not in out  # the URL, password and all, is never printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--every", "0"], "--every must be at least 1"),
        (["--from", "2013-01-01", "--to", "2012-01-01"], "--to is before --from"),
    ],
)
def test_record_refuses_a_range_that_cannot_be(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base = {"--from": "2012-01-01", "--to": "2012-02-01", "--every": "5"}
    given = dict(zip(args[::2], args[1::2], strict=True))
    flat = [x for k, v in {**base, **given}.items() for x in (k, v)]
    assert cli.main(["record", "AAPL", *flat]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "tickercast-record.sqlite3").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["AAPL", "--source", "nowhere"], "no price source 'nowhere'"),
        (["NOSUCH"], "NOSUCH"),
    ],
)
def test_record_names_what_it_cannot_find_and_stores_nothing(
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    days = ["--from", "2012-01-01", "--to", "2012-02-01", "--mock"]
    assert cli.main(["record", *args, *days]) == 1
    assert message in capsys.readouterr().err
    engine = db.open_engine(url)
    assert queries.ranking(engine) == []
    engine.dispose()


def test_the_commands_summaries_read_as_sentences() -> None:
    row = {
        **{"ticker": "AAPL", "method": "calibrated", "forecasts": 1250, "scored": 2670},
        **{"mase": 0.99999, "coverage": 0.904869, "interval_width": 0.8, "wis_ratio": 0.9312},
    }
    assert summary_sentence(row) == (
        "AAPL calibrated: 1,250 forecasts, MASE 1.00, the 80% band held 90.5% of 2,670 prices, "
        "weighted interval score 0.93× the random walk's"
    )
    unscored = {**row, "forecasts": 1, "scored": 0, "mase": None, "coverage": None}
    assert (
        summary_sentence(unscored) == "AAPL calibrated: 1 forecast, none of their prices known yet"
    )
    assert score_sentence(ScoreRun(2670, 1)) == (
        "tickercast score: 2,670 prices scored; the totals of 1 group brought up to date"
    )
