"""Digest, alert and scheduler config: a mistake fails at load with the field named, not on Monday."""

from __future__ import annotations

import tomllib

import pytest

from config.app_config import DEFAULT_CONFIG_PATH, AppConfig, ConfigError
from kpi_engine.config_check import load_config


def test_the_shipped_defaults_are_the_models_defaults():
    shipped = load_config()
    assert shipped.alerts == AppConfig().alerts
    assert shipped.digests == AppConfig().digests and shipped.scheduler == AppConfig().scheduler
    raw = tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    assert [r["id"] for r in raw["alerts"]["rules"]] == ["cac_spike", "retention_drop"]
    cac, ret = shipped.alerts.rules
    assert (cac.kpi, cac.grain, [c.type for c in cac.conditions]) == ("cac", "week", ["vs_median", "anomaly"])
    assert cac.conditions[0].periods == 8 and cac.conditions[0].above_pct == 25
    assert (ret.kpi, ret.grain) == ("retention", "quarter")
    assert ret.conditions[0].down_pp == 5 and ret.conditions[1].below == 0.85
    assert shipped.digests[0].cron == "0 9 * * mon" and shipped.scheduler.misfire_grace_hours == 12


RULE = '[[alerts.rules]]\nid = "r"\nkpi = "{kpi}"\n{extra}\nconditions = [{cond}]\n'


@pytest.mark.parametrize("kpi,extra,cond,message", [
    ("nope", "", '{type = "threshold", above = 1}', "unknown KPI 'nope'"),
    ("cac", 'per = "team"', '{type = "threshold", above = 1}', "cannot be broken down by 'team'"),
    ("revenue", "", '{type = "change", down_pp = 5}', "up_pp/down_pp are for ratio KPIs"),
    ("revenue", "", '{type = "change"}', "set up_pct, down_pct, up_pp or down_pp"),
    ("revenue", "", '{type = "vs_median", periods = 2, above_pct = 5}', "periods"),
    ("revenue", "", '{type = "sometimes"}', "type"),
    ("win_rate", 'filter = { channel = "x" }', '{type = "threshold", below = 0.1}', "no filter 'channel'"),
    ("revenue", 'mention = "everyone"', '{type = "threshold", above = 1}', "use <!here>"),
    ("revenue", "for = 0", '{type = "threshold", above = 1}', "for"),
    ("cac", "", '{type = "vs_target", below_pct = 90}', ""),  # CAC has a level target: allowed
])
def test_bad_rules_are_refused_at_load_with_the_field(tmp_path, kpi, extra, cond, message):
    p = tmp_path / "c.toml"
    p.write_text(RULE.format(kpi=kpi, extra=extra, cond=cond), encoding="utf-8")
    if not message:
        load_config(p)
        return
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert str(p) in str(err.value) and "alerts" in str(err.value) and message in str(err.value)


@pytest.mark.parametrize("toml,message", [
    ('[[digests]]\ncron = "every monday"\n', "not a cron line"),
    ('[[digests]]\nkpis = ["revenue", "nope"]\n', "unknown KPI 'nope'"),
    ('[[digests]]\nid = "Weekly Digest"\n', "lowercase"),
    ('[alerts]\ncron = "0 25 * * *"\n', "not a cron line"),
    ('[[alerts.rules]]\nid = "a"\nkpi = "revenue"\nconditions = [{type = "threshold", above = 1}]\n'
     '[[alerts.rules]]\nid = "a"\nkpi = "cac"\nconditions = [{type = "threshold", above = 1}]\n', "used twice"),
    ('[scheduler]\nmisfire_grace_hours = -1\n', "misfire_grace_hours"),
])
def test_bad_schedules_are_refused_at_load(tmp_path, toml, message):
    p = tmp_path / "c.toml"
    p.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(p)


def test_two_digests_with_one_id_are_refused_when_the_scheduler_is_built():
    from schedules.service import build_jobs

    cfg = AppConfig.model_validate({"digests": [{"id": "a"}, {"id": "a", "lang": "th"}]})
    with pytest.raises(ValueError, match="used twice"):
        build_jobs(cfg)
