# The service's image: the same `web` and `worker` commands as the Procfile, as a non-root
# user, dependencies pinned by deploy/constraints.txt. Build: docker build -t bot .
# Run web and worker from compose.yaml (or one container each, same environment).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BOT_ENV=production \
    PROMETHEUS_MULTIPROC_DIR=/run/bot-metrics \
    BOT_FLOWS_DIR=/app/flows \
    BOT_LOCALES_DIR=/app/locales \
    BOT_VAR_DIR=/app/var \
    PORT=8000

# gettext: msgfmt compiles the translation catalogs at build time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext curl \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system bot && useradd --system --gid bot --home-dir /app --shell /usr/sbin/nologin bot

WORKDIR /app
COPY deploy/constraints.txt deploy/constraints.txt
COPY pyproject.toml README.md babel.cfg Procfile ./
COPY bot bot
RUN pip install -c deploy/constraints.txt .
COPY flows flows
COPY locales locales
RUN bot i18n compile && bot flows validate \
    && mkdir -p /run/bot-metrics /app/var && chown bot:bot /run/bot-metrics /app/var

USER bot

EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${PORT}/readyz" || exit 1

# The Procfile's web line, listening on all interfaces of the container.
CMD ["sh", "-c", "exec gunicorn 'bot.web.app:create_app()' --config python:bot.web.serving --bind 0.0.0.0:${PORT} --control-socket ${BOT_VAR_DIR:-var}/gunicorn-${PORT:-5000}.ctl --timeout 10 --graceful-timeout 5 --workers 2 --worker-class gevent --worker-connections 500"]
