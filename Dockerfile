# syntax=docker/dockerfile:1
# inavd: multi-stage build, non-root, read-only root filesystem friendly (state lives in /data).
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/inavd
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/inavd/bin/pip install --no-cache-dir .

FROM python:3.11-slim-bookworm
ENV PATH=/opt/inavd/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    INAVD_RUN__DATA_DIR=/data
RUN groupadd --system --gid 10001 inavd \
 && useradd --system --uid 10001 --gid inavd --home-dir /data --no-create-home inavd \
 && mkdir -p /data && chown inavd:inavd /data
COPY --from=build /opt/inavd /opt/inavd
COPY config /etc/inavd
WORKDIR /data
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8787
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request as u; sys.exit(0 if u.urlopen('http://127.0.0.1:8787/healthz', timeout=4).status == 200 else 1)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["inavd", "run"]
CMD ["--config", "/etc/inavd/docker.toml"]
