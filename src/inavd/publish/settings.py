"""`[mqtt]` configuration. Credentials and the control secret come from the environment only
(INAVD_MQTT__USERNAME, INAVD_MQTT__PASSWORD, INAVD_MQTT__CONTROL__SECRET)."""

# Annotations evaluated as written (no `from __future__ import annotations`): pydantic would
# otherwise compile each one from its string when the model class is made (≈ 4 ms a start).
import socket
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from inavd.redact import redact


class Strict(BaseModel):
    # same policy as inavd.settings.Strict (not imported: settings imports this module)
    model_config = ConfigDict(extra="forbid", frozen=True)


def _hostname() -> str:
    return socket.gethostname().split(".")[0] or "inavd"


class MqttControlSettings(Strict):
    enabled: bool = False  # remote control is opt-in
    secret: str = ""  # HMAC-SHA256 key; environment only
    max_skew_s: float = Field(30.0, gt=0)  # commands older/newer than this are refused


class MqttTlsSettings(Strict):
    enabled: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    insecure: bool = False  # skip host name verification (test brokers only)


class MqttSettings(Strict):
    enabled: bool = False
    url: str = "mqtt://127.0.0.1:1883"
    topic_prefix: str = Field("inavd", pattern=r"^[^#+]+$")
    instance: str = Field(default_factory=_hostname, pattern=r"^[^/#+]+$")
    username: str = ""
    password: str = ""
    keepalive_s: int = Field(15, ge=5, le=600)
    queue_max: int = Field(10_000, gt=0)  # QoS 1 events kept while the broker is away
    backoff_initial_s: float = Field(0.5, gt=0)
    backoff_max_s: float = Field(30.0, gt=0)
    publish_timeout_s: float = Field(5.0, gt=0)
    flush_interval_s: float = Field(0.1, ge=0)  # one publishing round at most this often
    tls: MqttTlsSettings = MqttTlsSettings()
    control: MqttControlSettings = MqttControlSettings()

    @field_validator("url")
    @classmethod
    def _url_ok(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError("expected mqtt://host[:port] or mqtts://host[:port]")
        return v

    @property
    def login(self) -> tuple[str | None, str | None]:
        """(user, password): the environment's, else those written inside the URL."""
        parts = urlsplit(self.url)
        user = self.username or parts.username or None
        password = self.password or (parts.password if not self.username else None) or None
        return user, password

    @property
    def safe_url(self) -> str:
        """The URL as it may be logged: a password inside it masked."""
        return redact(self.url)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (8883 if parts.scheme == "mqtts" else 1883)

    @property
    def use_tls(self) -> bool:
        return self.tls.enabled or urlsplit(self.url).scheme == "mqtts"
