"""The config's and the environment's error types, apart from the pydantic models that raise them: a
command catches them without paying for pydantic's import (`kpibot ask` never loads it when the
config was validated before, kpibot/startup.py)."""


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the field."""


class SettingsError(ValueError):
    """An environment variable (or .env line) that cannot be used; the message names it."""
