"""Configuration: defaults, the environment, the instance file, production safety."""

import pytest

from dsr import create_app
from dsr.config import DEV_SECRET_KEY, ConfigError, from_environment

DATA_KEY = "5a" * 32
#: and names how it sends emails and text messages
BACKENDS = {"MAIL_BACKEND": "outbox", "SMS_BACKEND": "outbox"}
#: settings: the database is incidental
pytestmark = pytest.mark.sqlite_only


def test_production_refuses_the_development_secret(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"DSR_ENV": "production", "SECRET_KEY": DEV_SECRET_KEY})


def test_production_starts_with_a_real_secret_and_hides_dev_pages(make_app):
    app = make_app(DSR_ENV="production", SECRET_KEY="x" * 40, DSR_DATA_KEY=DATA_KEY, **BACKENDS)
    assert app.test_client().get("/dev/outbox").status_code == 404


def test_environment_variables_are_read():
    env = {"DATABASE_URL": "sqlite:///x.db", "SMTP_PORT": "2525", "UNRELATED": "1"}
    assert from_environment(env) == {"SQLALCHEMY_DATABASE_URI": "sqlite:///x.db", "SMTP_PORT": 2525}


def test_missing_instance_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        create_app({"DSR_CONFIG": str(tmp_path / "missing.toml")})


def test_broken_instance_file_names_the_problem(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[controller\nname = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        create_app({"DSR_CONFIG": str(path)})


def test_production_refuses_to_start_without_a_data_key(make_app):
    with pytest.raises(ConfigError, match="DSR_DATA_KEY: set the master key"):
        make_app(DSR_ENV="production", SECRET_KEY="x" * 40, **BACKENDS)


@pytest.mark.parametrize(("backend", "real"), [("MAIL_BACKEND", "smtp"), ("SMS_BACKEND", "http")])
def test_production_names_how_it_sends_messages(make_app, backend, real):
    settings = {"DSR_ENV": "production", "SECRET_KEY": "x" * 40, "DSR_DATA_KEY": DATA_KEY}
    settings.update(BACKENDS)
    del settings[backend]
    with pytest.raises(ConfigError, match=f"{backend} is not set.*{backend}={real}"):
        make_app(**settings)
    assert make_app().config[backend] == "outbox"  # development writes them to the outbox


@pytest.mark.parametrize(
    ("key", "message"),
    [("short", "must be 32 bytes"), ("Zz" * 32, "must be 32 bytes written as 64 hex digits")],
)
def test_a_malformed_data_key_is_refused_in_any_mode(make_app, key, message):
    with pytest.raises(ConfigError, match=f"DSR_DATA_KEY {message}"):
        make_app(DSR_DATA_KEY=key)


@pytest.mark.parametrize("name", ["RESULTS_RETENTION_DAYS", "REQUESTS_RETENTION_DAYS"])
@pytest.mark.parametrize("days", [0, -3, True])
def test_retention_periods_are_whole_days(make_app, name, days):
    with pytest.raises(ConfigError, match=f"{name} must be a whole number of days"):
        make_app(**{name: days})


def test_data_at_rest_settings_come_from_the_environment():
    env = {"DSR_DATA_KEY": DATA_KEY, "RESULTS_RETENTION_DAYS": "7", "REQUESTS_RETENTION_DAYS": "90"}
    assert from_environment(env) == {
        "DSR_DATA_KEY": DATA_KEY,
        "RESULTS_RETENTION_DAYS": 7,
        "REQUESTS_RETENTION_DAYS": 90,
    }
