"""Configuration: defaults, the environment, the instance file, production safety."""

import pytest

from dsr import create_app
from dsr.config import DEV_SECRET_KEY, ConfigError, from_environment

#: settings: the database is incidental
pytestmark = pytest.mark.sqlite_only


def test_production_refuses_the_development_secret(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"DSR_ENV": "production", "SECRET_KEY": DEV_SECRET_KEY})


def test_production_starts_with_a_real_secret_and_hides_dev_pages(make_app):
    app = make_app(DSR_ENV="production", SECRET_KEY="x" * 40)
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
