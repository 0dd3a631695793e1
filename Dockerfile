# Valuechain: the web app (`valuechain serve`) and, from the same image, its worker
# (`valuechain worker`; see compose.yaml). Not built in this project's CI (no Docker
# engine there); tests/test_deploy_files.py checks it against .ci/run, the lock and
# the app instead.
FROM python:3.11-slim

# PDF reports: WeasyPrint draws text with Pango, and the charts name Liberation Sans.
# The same packages .ci/run installs for the tests that render PDFs.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-liberation \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN useradd --create-home --uid 10001 valuechain
WORKDIR /app

# The locked dependencies first (their own layer: a code change does not reinstall
# them), every file checked against its hash; then the project without dependencies.
COPY requirements/app.lock requirements/app.lock
RUN pip install --require-hashes -r requirements/app.lock
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN pip install --no-deps .

USER valuechain
EXPOSE 8000
# The process answers (web/probe.py); no curl in the slim image, so Python asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# Migrations run on first use; several containers may start at once (PostgreSQL
# serialises the first migration with an advisory lock).
CMD ["valuechain", "serve", "--host", "0.0.0.0", "--port", "8000", "--log-format", "json"]
