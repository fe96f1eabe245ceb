"""Names of dimension values: shipped names, tidy defaults, empty values, config overrides."""

from __future__ import annotations

from config.app_config import AppConfig
from kpi_engine.dimnames import DimensionNames, normalise, tidy


def test_shipped_names_in_both_languages():
    names = DimensionNames()
    assert names.display("region", "north", "en") == "North"
    assert names.display("region", "north", "th") == "ภาคเหนือ"
    assert names.display("team", "smb", "th") == "SMB"
    assert names.display("team", "midmarket", "en") == "Mid-market"


def test_values_without_an_entry_are_tidied_not_invented():
    names = DimensionNames()
    assert names.display("team", "ops", "en") == "OPS"
    assert names.display("segment", "large-enterprise", "th") == "Large-enterprise"
    assert names.display("product", "ERP Cloud", "th") == "ERP Cloud"
    assert tidy("inside_sales") == "Inside sales"


def test_an_empty_value_names_its_dimension():
    names = DimensionNames()
    assert names.display("channel", "", "en") == "no channel"
    assert names.display("channel", "(none)", "en") == "no channel"
    assert names.display("channel", None, "th") == "ไม่ระบุช่องทาง"


def test_typed_forms_map_names_and_aliases_to_the_stored_value():
    forms = DimensionNames().typed_forms("region")
    assert forms[normalise("กทม.")] == "bangkok"
    assert forms[normalise("ภาคเหนือ")] == "north"
    assert forms[normalise("North-East")] == "northeast"


def test_config_overrides_and_adds():
    cfg = AppConfig.model_validate({"display_names": {
        "team": {"smb": {"en": "Small business", "aliases": ["small biz"]},
                 "inside": {"en": "Inside sales", "th": "ขายทางโทรศัพท์"}}}})
    names = DimensionNames(cfg.display_names)
    assert names.display("team", "smb", "en") == "Small business"
    assert names.display("team", "smb", "th") == "SMB"  # the shipped Thai name stays
    assert names.display("team", "inside", "th") == "ขายทางโทรศัพท์"
    forms = names.typed_forms("team")
    assert forms["small biz"] == "smb" and forms["sme"] == "smb"
