# The REST API (`atlas serve`) in a container: slim Python, a non-root user, the store on a
# volume (or a PostgreSQL URL in ATLAS_STORAGE_PATH: see compose.yaml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY atlas_tui ./atlas_tui
COPY screens ./screens
# The package with its server extras (their versions come from pyproject.toml), then a user
# of its own with a home, and the data folder.
# hadolint ignore=DL3013
RUN pip install ".[serve,postgres]" \
    && groupadd --system --gid 10001 atlas \
    && useradd --system --uid 10001 --gid atlas --create-home --home-dir /home/atlas atlas \
    && mkdir /data \
    && chown atlas:atlas /data

USER 10001:10001
WORKDIR /home/atlas
# The data folder holds the store (a file by default), its backups, the Idempotency-Key
# records, and for a PostgreSQL store (a postgresql:// URL) the local folder named for it.
ENV HOME=/home/atlas \
    XDG_DATA_HOME=/data \
    ATLAS_STORAGE_PATH=/data/atlas.json
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["atlas", "serve", "--host", "0.0.0.0", "--log-format", "json"]
