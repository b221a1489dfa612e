# syntax=docker/dockerfile:1
# inavd: multi-stage build, non-root, read-only root filesystem friendly (state lives in /data).
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# a C compiler for the compiled decision path (mypyc, `inavd.native`); it stays in this stage
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
RUN python -m venv /opt/inavd
COPY pyproject.toml setup.py README.md ./
COPY src ./src
# as `make` does: the dependencies and mypyc first, then the package compiled against them (the
# build fails here if it is not compiled), then the compiler's own packages out again; last, what
# start-up would rebuild, kept beside the bytecode (the image writes none at run time:
# `inavd.startup_cache`)
RUN INAVD_PURE_PYTHON=1 /opt/inavd/bin/pip install --no-cache-dir '.[native]' \
 && /opt/inavd/bin/pip install --no-cache-dir --no-build-isolation --no-deps --force-reinstall . \
 && /opt/inavd/bin/python -c "import sys, inavd.native as n; sys.exit(n.state()[0] != 'compiled')" \
 && /opt/inavd/bin/pip uninstall -y mypy mypy_extensions librt pathspec pandas-stubs types-PyYAML \
 && /opt/inavd/bin/python -m inavd.warm_caches

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
