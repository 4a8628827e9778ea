# The dialer service: `dialer run` (engine, FastAGI server, AMI clients and the HTTP API).
# Migrations are applied at start by deploy/docker-entrypoint.sh. See docker-compose.yml for
# a complete stack with PostgreSQL, Mosquitto and Asterisk.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/dialer
COPY pyproject.toml README.md ./
COPY dialer ./dialer
COPY pacing ./pacing
COPY compliance ./compliance
COPY ami ./ami
COPY agi ./agi
COPY api ./api
COPY pbxsim ./pbxsim
COPY migrations ./migrations
RUN /opt/dialer/bin/pip install .

FROM python:3.11-slim
LABEL org.opencontainers.image.title="asterisk-predictive-dialer" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later"
RUN groupadd --system --gid 10001 dialer \
    && useradd --system --uid 10001 --gid dialer --home-dir /var/lib/dialer --create-home \
       --shell /usr/sbin/nologin dialer
COPY --from=build /opt/dialer /opt/dialer
COPY deploy/docker-entrypoint.sh /usr/local/bin/dialer-entrypoint
ENV PATH=/opt/dialer/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DIALER_DATA_DIR=/var/lib/dialer \
    DIALER_HTTP__HOST=0.0.0.0 \
    DIALER_HTTP__PORT=8080
WORKDIR /var/lib/dialer
USER dialer
# 8080: HTTP API, dashboard and agent console; 4573: FastAGI for Asterisk.
EXPOSE 8080 4573
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('DIALER_HTTP__PORT', '8080'), timeout=4)"]
ENTRYPOINT ["dialer-entrypoint"]
CMD ["dialer", "run"]
