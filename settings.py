"""Every setting of the product, read from the environment in one place.

`Settings.from_env()` is the only reader of `os.environ`; everything else receives a `Settings`.
Outside the sandbox, empty or well-known WeChat secrets are refused so that a misconfigured
production instance fails at start instead of answering WeChat with a guessable token.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

EncryptMode = Literal["plain", "compatible", "safe"]

ROOT = Path(__file__).resolve().parent

# Fixed identities of the sandbox's fake official account. They are public on purpose: the
# sandbox never talks to WeChat, and tests and demos must be able to sign requests with them.
SANDBOX_APPID = "wx5a7d9e0c1b2f3a40"
SANDBOX_SECRET = "sandbox-secret-not-for-production"  # noqa: S105
SANDBOX_TOKEN = "sandboxtoken"  # noqa: S105
SANDBOX_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SANDBOX_SECRET_KEY = "sandbox-session-secret-key-not-for-production"  # noqa: S105

_WEAK_SECRETS = {"", "changeme", "secret", "token", SANDBOX_SECRET, SANDBOX_TOKEN,
                 SANDBOX_SECRET_KEY}

# Template messages the product sends; each maps to a WECHAT_TEMPLATE_<KEY> variable.
TEMPLATE_KEYS = (
    "APPLICATION_STATUS",
    "NOTICE_NEW",
    "NOTICE_REMINDER",
    "SAFETY_TASK_NEW",
    "SAFETY_TASK_REMINDER",
)


class SettingsError(ValueError):
    """A setting is missing or unsafe; the message names it."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    wechat_appid: str
    wechat_secret: str
    wechat_token: str
    wechat_aes_key: str | None
    wechat_aes_key_previous: str | None
    wechat_encrypt_mode: EncryptMode
    wechat_timestamp_tolerance: int
    wechat_api_base: str
    wechat_oauth_base: str
    public_base_url: str
    secret_key: str
    host: str
    port: int
    workers: int
    sandbox: bool
    templates: Mapping[str, str] = field(default_factory=dict)
    data_dir: Path = ROOT / "data"
    upload_max_bytes: int = 10 * 1024 * 1024
    # The outbox worker runs inside `serve` unless turned off (e.g. when dedicated
    # `python server.py worker` processes do the sending).
    run_worker: bool = True
    # How long the callback waits for a handler before answering `success` (WeChat gives 5 s).
    callback_deadline: float = 4.0
    sms_gateway: str = "log"
    # Extra latency of every sandbox WeChat API answer, to make benchmarks look like WeChat.
    sandbox_latency_ms: int = 0

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def https(self) -> bool:
        return self.public_base_url.startswith("https://")

    def template_id(self, key: str) -> str:
        return self.templates.get(key, "")

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        sandbox = env.get("SANDBOX", "0") == "1"
        host = env.get("HOST", "127.0.0.1")
        port = int(env.get("PORT", "8000"))
        public = env.get("PUBLIC_BASE_URL", f"http://{host}:{port}").rstrip("/")
        data_dir = Path(env.get("DATA_DIR", str(ROOT / "data")))

        def pick(name: str, sandbox_value: str) -> str:
            return env.get(name) or (sandbox_value if sandbox else "")

        aes_key = env.get("WECHAT_AES_KEY") or (SANDBOX_AES_KEY if sandbox else None)
        mode_default: EncryptMode = "safe" if aes_key else "plain"
        mode = env.get("WECHAT_ENCRYPT_MODE", mode_default)
        if mode not in ("plain", "compatible", "safe"):
            raise SettingsError(f"WECHAT_ENCRYPT_MODE must be plain, compatible or safe: {mode!r}")
        if mode != "plain" and not aes_key:
            raise SettingsError("WECHAT_ENCRYPT_MODE needs WECHAT_AES_KEY")

        # In the sandbox the WeChat bases point at the fake WeChat mounted in this very app.
        api_base = env.get("WECHAT_API_BASE") or (
            f"{public}/sandbox" if sandbox else "https://api.weixin.qq.com")
        oauth_base = env.get("WECHAT_OAUTH_BASE") or (
            f"{public}/sandbox" if sandbox else "https://open.weixin.qq.com")

        settings = cls(
            database_url=env.get("DATABASE_URL") or f"sqlite://{data_dir / 'wuye.sqlite3'}",
            redis_url=env.get("REDIS_URL") or None,
            wechat_appid=pick("WECHAT_APPID", SANDBOX_APPID),
            wechat_secret=pick("WECHAT_SECRET", SANDBOX_SECRET),
            wechat_token=pick("WECHAT_TOKEN", SANDBOX_TOKEN),
            wechat_aes_key=aes_key,
            wechat_aes_key_previous=env.get("WECHAT_AES_KEY_PREVIOUS") or None,
            wechat_encrypt_mode=mode,  # type: ignore[arg-type]
            wechat_timestamp_tolerance=int(env.get("WECHAT_TIMESTAMP_TOLERANCE", "300")),
            wechat_api_base=api_base.rstrip("/"),
            wechat_oauth_base=oauth_base.rstrip("/"),
            public_base_url=public,
            secret_key=pick("SECRET_KEY", SANDBOX_SECRET_KEY),
            host=host,
            port=port,
            workers=int(env.get("WORKERS", "1")),
            sandbox=sandbox,
            templates={key: env.get(f"WECHAT_TEMPLATE_{key}", f"sandbox-{key.lower()}"
                                    if sandbox else "") for key in TEMPLATE_KEYS},
            data_dir=data_dir,
            upload_max_bytes=int(env.get("UPLOAD_MAX_BYTES", str(10 * 1024 * 1024))),
            run_worker=env.get("RUN_WORKER", "1") == "1",
            callback_deadline=float(env.get("CALLBACK_DEADLINE", "4.0")),
            sms_gateway=env.get("SMS_GATEWAY", "sandbox" if sandbox else "log"),
            sandbox_latency_ms=int(env.get("SANDBOX_LATENCY_MS", "0")),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse unsafe production settings; the sandbox may use its public test secrets."""
        if self.sandbox:
            return
        for name, value in (("WECHAT_APPID", self.wechat_appid),
                            ("WECHAT_SECRET", self.wechat_secret),
                            ("WECHAT_TOKEN", self.wechat_token),
                            ("SECRET_KEY", self.secret_key)):
            if value.strip().lower() in _WEAK_SECRETS or value == SANDBOX_APPID:
                raise SettingsError(f"{name} is empty or a default value; set it (or SANDBOX=1)")
        if len(self.secret_key) < 32:
            raise SettingsError("SECRET_KEY must be at least 32 characters")
        missing = [k for k in TEMPLATE_KEYS if not self.templates.get(k)]
        if missing:
            raise SettingsError("template IDs missing: "
                                + ", ".join(f"WECHAT_TEMPLATE_{k}" for k in missing))
